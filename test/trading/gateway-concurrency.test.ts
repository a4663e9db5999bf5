/**
 * The order gateway under races, on DynamoDB Local, through the real gateway handler
 * (`lambdas/gateway/handler.ts`) and the real gateway: every limit is enforced by the fill's one
 * transaction, so concurrent writers can never pass it.
 *
 * How many times: each race is 50 concurrent gateway calls against one limit (10 or 30 fills, or a
 * cash / exposure cap), so 20-40 calls must lose every time; a read-then-write check lets extra
 * fills through in the first round, since the calls all read before any write lands. One round
 * each (there were two; the second cost about 10 s of a 2-core run); raise ROUNDS locally when
 * changing the fill's transaction.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createGatewayHandler } from '../../lambdas/gateway/handler';
import { CONTROL_KEY } from '../../lambdas/shared/control-read';
import type { AgentResult, ProposedOrder } from '../../lambdas/shared/contracts';
import { createOrderGateway, type GatewayOrder } from '../../lambdas/shared/trading/gateway';
import { listBooks, listCycleOrders, listFills, readAccount, reconcileLedger, replayFills } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { valuePortfolio } from '../../lambdas/shared/trading/portfolio';
import type { TradingSettings } from '../../lambdas/shared/settings';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from './support';

/** Rounds of each race (see the header: one round is 50 concurrent writers). */
const ROUNDS = 1;
let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('gateway-race');
});
afterAll(() => db.stop());

const feed = createReplayFeed(loadMarketData(DOW_FILE), 260);
const SYMBOLS = feed.symbols.filter((s) => feed.priceAt(s) !== undefined);

/** Deletes the account, books and fills so each round starts from the starting cash. */
async function resetLedger(): Promise<void> {
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const items = (await db.doc.send(new ScanCommand({ TableName: db.tables.Ledger }))).Items ?? [];
  await Promise.all(items.map((i) => db.doc.send(new DeleteCommand({ TableName: db.tables.Ledger, Key: { pk: i.pk, sk: i.sk } }))));
  await db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted: false, mode: 'normal', cycleSeq: 0, version: 0, audit: [] } }),
  );
}

async function identity(settings: TradingSettings): Promise<void> {
  const [account, books, fills] = await Promise.all([
    readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd),
    listBooks(db.doc, db.tables.Ledger),
    listFills(db.doc, db.tables.Ledger),
  ]);
  expect(reconcileLedger(account, books, replayFills(fills, settings.startingCashUsd))).toEqual([]);
}

const handlerFor = (settings: TradingSettings, doc: DynamoDBDocumentClient = db.doc) =>
  createGatewayHandler({ doc, tables: { ledger: db.tables.Ledger, control: db.tables.Control, cycles: db.tables.Cycles }, settings, feedFor: () => feed });

const resultOf = (agent: string, cycleId: string, orders: ProposedOrder[]): AgentResult => ({
  agent,
  cycleId,
  status: 'SUCCEEDED',
  summary: 'test',
  metrics: {},
  durationMs: 1,
  attempt: 0,
  orders,
  output: null,
});
const execute = (settings: TradingSettings, agent: string, cycleId: string, orders: ProposedOrder[]) =>
  handlerFor(settings)({ action: 'execute', cycleId, cycleSeq: 1, mode: 'normal', riskVerdict: 'OK', agent, result: resultOf(agent, cycleId, orders) });

const small = (i: number, symbol = SYMBOLS[i % SYMBOLS.length]): ProposedOrder => ({ clientOrderId: String(i + 1), symbol, side: 'BUY', qty: 1 });

test.each(Array.from({ length: ROUNDS }, (_, r) => r))(
  'round %i: 50 concurrent orders from one agent (50 gateway calls at once) fill exactly 10 with a limit of 10',
  async (r) => {
    await resetLedger();
    const settings = testSettings();
    const cycleId = `one-agent-${r}`;
    const out = await Promise.all(Array.from({ length: 50 }, (_, i) => execute(settings, 'greedy', cycleId, [small(i)])));
    const orders = await listCycleOrders(db.doc, db.tables.Ledger, cycleId);
    expect(orders.filter((o) => o.status === 'FILLED')).toHaveLength(10);
    expect(orders.filter((o) => o.status === 'REJECTED').every((o) => o.rejectedBy === 'maxOrdersPerAgentPerCycle')).toBe(true);
    expect(out.reduce((n, o) => n + (o.execution?.filled ?? 0), 0)).toBe(10);
    await identity(settings);
  },
);

test('one result proposing 30 orders (an agent calling ctx.placeOrder 30 times with Promise.all) fills exactly 10', async () => {
  await resetLedger();
  const settings = testSettings();
  const out = await execute(
    settings,
    'promise-all',
    'burst',
    Array.from({ length: 30 }, (_, i) => small(i, 'KO')),
  );
  expect(out.execution).toMatchObject({ proposed: 30, filled: 10, rejected: 20, rejectedBy: { maxOrdersPerAgentPerCycle: 20 } });
  expect(out.metrics).toMatchObject({ ordersPlaced: 10, ordersRejected: 20 });
  expect(out).not.toHaveProperty('orders');
});

test.each(Array.from({ length: ROUNDS }, (_, r) => r))('round %i: 5 agents x 10 concurrent orders with a cycle limit of 30 fill exactly 30', async (r) => {
  await resetLedger();
  const settings = testSettings();
  const cycleId = `five-agents-${r}`;
  await Promise.all(Array.from({ length: 50 }, (_, i) => execute(settings, `agent-${i % 5}`, cycleId, [small(i)])));
  const orders = await listCycleOrders(db.doc, db.tables.Ledger, cycleId);
  expect(orders.filter((o) => o.status === 'FILLED')).toHaveLength(30);
  for (let a = 0; a < 5; a++) expect(orders.filter((o) => o.agent === `agent-${a}` && o.status === 'FILLED').length).toBeLessThanOrEqual(10);
  await identity(settings);
});

test.each(Array.from({ length: ROUNDS }, (_, r) => r))(
  'round %i: 50 concurrent 5,000 USD buys on 100,000 never take cash below minCash nor gross exposure above its cap',
  async (r) => {
    await resetLedger();
    const settings = testSettings(
      { startingCashUsd: 100_000 },
      { minCashUsd: 10_000, maxOrdersPerAgentPerCycle: 100, maxOrdersPerCycle: 100, maxGrossExposureUsd: 70_000, reduceAtFraction: 1 },
    );
    const cycleId = `cash-${r}`;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const symbol = SYMBOLS[i % SYMBOLS.length];
        return execute(settings, `buyer-${i % 7}`, cycleId, [
          { clientOrderId: String(i + 1), symbol, side: 'BUY', qty: Math.max(1, Math.floor(5_000 / feed.priceAt(symbol)!)) },
        ]);
      }),
    );
    const account = await readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd);
    const prices = Object.fromEntries(Object.keys(account.positions).map((s) => [s, feed.priceAt(s)!]));
    expect(account.cash).toBeGreaterThanOrEqual(10_000);
    expect(valuePortfolio(account, prices).grossExposureUsd).toBeLessThanOrEqual(70_000);
    expect(account.fillSeq).toBeGreaterThan(5);
    await identity(settings);
  },
);

/** A real client with a hook before (or after) each call: the halt or the crash lands between two real DynamoDB calls. */
function hooked(
  doc: DynamoDBDocumentClient,
  hook: { before?: (n: number) => Promise<void>; after?: (n: number) => Promise<void> },
): DynamoDBDocumentClient & { calls: number } {
  const wrapped = {
    calls: 0,
    async send(cmd: Parameters<DynamoDBDocumentClient['send']>[0]) {
      const n = wrapped.calls++;
      await hook.before?.(n);
      const out = await doc.send(cmd as never);
      await hook.after?.(n);
      return out;
    },
  };
  return wrapped as unknown as DynamoDBDocumentClient & { calls: number };
}

const halt = (halted: boolean) =>
  db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted, mode: 'normal', cycleSeq: 0, version: halted ? 1 : 0, audit: [] } }),
  );
const req = (cycleId: string, agent = 'alpha'): GatewayOrder => ({
  cycleId,
  agent,
  clientOrderId: '1',
  symbol: 'KO',
  side: 'BUY',
  qty: 10,
  mode: 'normal',
  riskVerdict: 'OK',
});

test('a halt written before any DynamoDB call of a fill means no fill is recorded after it', async () => {
  await resetLedger();
  const settings = testSettings();
  const counter = hooked(db.doc, {});
  await createOrderGateway({ doc: counter, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed }).submit(req('count'));
  const calls = counter.calls;
  // The decision's batch read (order, control, account, book, counters) and the equity snapshot query, then the fill's transaction.
  expect(calls).toBeGreaterThanOrEqual(3);
  for (let k = 0; k < calls; k++) {
    await halt(false);
    const fillsBefore = (await listFills(db.doc, db.tables.Ledger)).length;
    const doc = hooked(db.doc, { before: async (n) => (n === k ? void (await halt(true)) : undefined) });
    const d = await createOrderGateway({ doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed }).submit(req(`halt-${k}`));
    expect([k, d.order.status, d.rejectedBy]).toEqual([k, 'REJECTED', 'haltFlag']);
    expect((await listFills(db.doc, db.tables.Ledger)).length).toBe(fillsBefore);
  }
  await halt(false);
});

test('a crash after any DynamoDB call of a fill leaves cash, positions and books equal to the replay of the fills; the retry fills once', async () => {
  await resetLedger();
  const settings = testSettings();
  const counter = hooked(db.doc, {});
  await createOrderGateway({ doc: counter, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed }).submit(req('count-crash'));
  for (let k = 0; k < counter.calls; k++) {
    const cycleId = `crash-${k}`;
    const doc = hooked(db.doc, {
      after: async (n) => {
        if (n === k) throw new Error(`crash after call ${k}`);
      },
    });
    await expect(
      createOrderGateway({ doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed }).submit(req(cycleId)),
    ).rejects.toThrow(/crash after call/);
    await identity(settings);
    const retried = await createOrderGateway({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed }).submit(
      req(cycleId),
    );
    expect(retried.order.status).toBe('FILLED');
    expect((await listFills(db.doc, db.tables.Ledger)).filter((f) => f.cycleId === cycleId)).toHaveLength(1);
    await identity(settings);
  }
});
