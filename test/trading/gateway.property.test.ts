/**
 * Properties of the order path (fast-check), against the real gateway on DynamoDB Local: over random
 * sequences of orders (market and resting limits), bars, cancels and halts,
 * - cash, positions and every agent's book always equal the replay of the fills (reservations included);
 * - an order is filled or cancelled at most once, and a fill item exists exactly for FILLED orders;
 * - once the halt flag is set, no order fills; after cancel-all no order is working.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as fc from 'fast-check';
import { CONTROL_KEY } from '../../lambdas/shared/control-read';
import { createOrderGateway } from '../../lambdas/shared/trading/gateway';
import { listBooks, listCycleOrders, listFills, listWorkingOrders, readAccount, reconcileLedger, replayFills } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { clearLedger } from '../agents/support';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from './support';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('gateway-prop');
});
afterAll(() => db.stop());

const table = loadMarketData(DOW_FILE);
const SYMBOLS = ['KO', 'GE', 'IBM', 'MMM'];
const settings = testSettings({ startingCashUsd: 200_000, allowShort: [] }, { maxOrdersPerAgentPerCycle: 6, maxOrdersPerCycle: 12, minCashUsd: 20_000 });

type Step =
  | { kind: 'order'; agent: number; symbol: number; side: 'BUY' | 'SELL'; qty: number; limitOffset: number | null; tif: 'DAY' | 'GTC' | 'IOC' }
  | { kind: 'bar' }
  | { kind: 'cancelAll' }
  | { kind: 'halt' };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      agent: fc.integer({ min: 0, max: 2 }),
      symbol: fc.integer({ min: 0, max: 3 }),
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      qty: fc.integer({ min: 1, max: 300 }),
      limitOffset: fc.option(fc.double({ min: -0.04, max: 0.04, noNaN: true }), { nil: null }),
      tif: fc.constantFrom('DAY' as const, 'GTC' as const, 'IOC' as const),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'bar' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancelAll' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'halt' as const }) },
);

const setHalt = (halted: boolean) =>
  db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted, mode: 'normal', cycleSeq: 0, version: halted ? 1 : 0, audit: [] } }),
  );

test('random orders, bars, cancels and halts keep every ledger invariant', async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 18 }), async (steps) => {
      run++;
      await clearLedger(db);
      await setHalt(false);
      let bar = 280;
      let halted = false;
      let fillsAtHalt = -1;
      let seq = 0;
      const cycles = new Set<string>();
      for (const s of steps) {
        const feed = createReplayFeed(table, bar);
        const g = createOrderGateway({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed, random: () => 0.5 });
        if (s.kind === 'bar') {
          bar++;
          await createOrderGateway({
            doc: db.doc,
            ledgerTable: db.tables.Ledger,
            controlTable: db.tables.Control,
            settings,
            feed: createReplayFeed(table, bar),
          }).matchWorking('normal');
        } else if (s.kind === 'cancelAll') {
          await g.cancelAll('property test');
          expect(await listWorkingOrders(db.doc, db.tables.Ledger)).toEqual([]);
        } else if (s.kind === 'halt') {
          if (!halted) fillsAtHalt = (await listFills(db.doc, db.tables.Ledger)).length;
          halted = true;
          await setHalt(true);
        } else {
          const symbol = SYMBOLS[s.symbol];
          const close = feed.priceAt(symbol)!;
          const cycleId = `p${run}-b${bar}`;
          cycles.add(cycleId);
          await g.submit({
            cycleId,
            agent: `a${s.agent}`,
            clientOrderId: String(++seq),
            symbol,
            side: s.side,
            qty: s.qty,
            ...(s.limitOffset === null ? {} : { limitPrice: Math.round(close * (1 + s.limitOffset) * 100) / 100, timeInForce: s.tif }),
            mode: 'normal',
            riskVerdict: 'OK',
          });
        }
        // Invariant after every step: the ledger is the replay of its fills.
        const [account, books, fills, working] = await Promise.all([
          readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd),
          listBooks(db.doc, db.tables.Ledger),
          listFills(db.doc, db.tables.Ledger),
          listWorkingOrders(db.doc, db.tables.Ledger),
        ]);
        expect(reconcileLedger(account, books, replayFills(fills, settings.startingCashUsd), working)).toEqual([]);
        expect(account.cash - account.reservedCashUsd).toBeGreaterThanOrEqual(settings.limits.minCashUsd - 1e-6);
        if (halted) expect(fills.length).toBe(fillsAtHalt);
      }
      // Each order ended at most once: FILLED orders have exactly one fill item; no fill without a FILLED order.
      const fills = await listFills(db.doc, db.tables.Ledger);
      const orders = (await Promise.all([...cycles].map((c) => listCycleOrders(db.doc, db.tables.Ledger, c)))).flat();
      const filled = new Set(orders.filter((o) => o.status === 'FILLED').map((o) => o.orderId));
      expect(new Set(fills.map((f) => f.orderId))).toEqual(filled);
      expect(fills.length).toBe(filled.size);
    }),
    { numRuns: 12, seed: 20261201 /* fast-check's random seed: a fixed run */ },
  );
});
