/** The order gateway (`lambdas/shared/trading/gateway.ts`) against DynamoDB Local: decisions, idempotency, named rejections, the ledger identity. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { CONTROL_KEY } from '../../lambdas/shared/control-read';
import { createOrderGateway, type GatewayOrder } from '../../lambdas/shared/trading/gateway';
import { listBooks, listCycleOrders, listFills, readAccount, reconcileLedger, replayFills } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import type { TradingSettings } from '../../lambdas/shared/settings';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from './support';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('gateway');
});
afterAll(() => db.stop());

const table = loadMarketData(DOW_FILE);
const feed = createReplayFeed(table, 260);
let seq = 0;
const order = (o: Partial<GatewayOrder> = {}): GatewayOrder => ({
  cycleId: `c${seq}`,
  agent: 'alpha',
  clientOrderId: '1',
  symbol: 'KO',
  side: 'BUY',
  qty: 10,
  mode: 'normal',
  riskVerdict: 'OK',
  ...o,
});
const gatewayFor = (settings: TradingSettings = testSettings()) =>
  createOrderGateway({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed });

async function expectLedgerIdentity(settings: TradingSettings = testSettings()): Promise<void> {
  const [account, books, fills] = await Promise.all([
    readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd),
    listBooks(db.doc, db.tables.Ledger),
    listFills(db.doc, db.tables.Ledger),
  ]);
  expect(reconcileLedger(account, books, replayFills(fills, settings.startingCashUsd))).toEqual([]);
}

beforeEach(() => {
  seq++;
});

test('a fill moves cash, the account, the agent book and writes one fill item, all at the close', async () => {
  const before = await readAccount(db.doc, db.tables.Ledger, 1_000_000);
  const d = await gatewayFor().submit(order({ qty: 100 }));
  expect(d.order).toMatchObject({ status: 'FILLED', agent: 'alpha', symbol: 'KO', qty: 100, price: feed.priceAt('KO') });
  const after = await readAccount(db.doc, db.tables.Ledger, 1_000_000);
  expect(after.cash).toBeCloseTo(before.cash - 100 * feed.priceAt('KO')!, 6);
  expect(after.fillSeq).toBe(before.fillSeq + 1);
  await expectLedgerIdentity();
});

test('the same order again (a retried gateway call) is replayed, never filled twice; a different order under the same id is a duplicate', async () => {
  const g = gatewayFor();
  await g.submit(order());
  const fills = (await listFills(db.doc, db.tables.Ledger)).length;
  const again = await g.submit(order());
  expect(again).toMatchObject({ replayed: true, order: { status: 'FILLED' } });
  const other = await g.submit(order({ qty: 11 }));
  expect(other.rejectedBy).toBe('duplicateOrder');
  expect((await listFills(db.doc, db.tables.Ledger)).length).toBe(fills);
});

test('long-only: a SELL beyond the agent book is rejected (noShort) even when another agent holds the shares; allowShort opts in', async () => {
  const g = gatewayFor();
  await g.submit(order({ agent: 'holder', symbol: 'GE', qty: 50 }));
  const sell = await g.submit(order({ agent: 'seller', symbol: 'GE', side: 'SELL', qty: 10 }));
  expect(sell.rejectedBy).toBe('noShort');
  const ownSell = await g.submit(order({ agent: 'holder', clientOrderId: '2', symbol: 'GE', side: 'SELL', qty: 20 }));
  expect(ownSell.order.status).toBe('FILLED');
  const shorter = await gatewayFor(testSettings({ allowShort: ['shorter'] })).submit(order({ agent: 'shorter', symbol: 'IBM', side: 'SELL', qty: 5 }));
  expect(shorter.order.status).toBe('FILLED');
  await expectLedgerIdentity();
});

test('nothing is admitted when the cycle verdict is HALT, whatever the agent was told', async () => {
  const d = await gatewayFor().submit(order({ riskVerdict: 'HALT' }));
  expect(d.rejectedBy).toBe('haltFlag');
  expect((await listCycleOrders(db.doc, db.tables.Ledger, `c${seq}`))[0]).toMatchObject({ status: 'REJECTED', rejectedBy: 'haltFlag' });
});

test('the halt flag and safe mode in the control item refuse orders that add risk; a reducing order passes safe mode', async () => {
  const g = gatewayFor();
  await g.submit(order({ symbol: 'MMM', qty: 20 }));
  await db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted: false, mode: 'safe', cycleSeq: 0, version: 1, audit: [] } }),
  );
  try {
    expect((await g.submit(order({ clientOrderId: '2', symbol: 'MMM', qty: 5 }))).rejectedBy).toBe('safeMode');
    expect((await g.submit(order({ clientOrderId: '3', symbol: 'MMM', side: 'SELL', qty: 5 }))).order.status).toBe('FILLED');
    await db.doc.send(
      new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted: true, mode: 'normal', cycleSeq: 0, version: 2, audit: [] } }),
    );
    expect((await g.submit(order({ clientOrderId: '4', symbol: 'MMM', side: 'SELL', qty: 5 }))).rejectedBy).toBe('haltFlag');
  } finally {
    await db.doc.send(
      new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted: false, mode: 'normal', cycleSeq: 0, version: 3, audit: [] } }),
    );
  }
});

test('a market order is collared against the previous close: a x1000 print is never traded at', async () => {
  const spiked = { ...table, prices: { ...table.prices, KO: table.prices.KO.map((p, i) => (i === 260 && p !== null ? p * 1000 : p)) } };
  const g = createOrderGateway({
    doc: db.doc,
    ledgerTable: db.tables.Ledger,
    controlTable: db.tables.Control,
    settings: testSettings({}, { maxOrderNotionalUsd: 1e12, maxPositionUsd: 1e12 }),
    feed: createReplayFeed(spiked, 260),
  });
  const d = await g.submit(order({ symbol: 'KO', qty: 1 }));
  expect(d.rejectedBy).toBe('priceCollar');
  expect(d.order.reason).toMatch(/market order/);
});

test('orders per second are paced, not dropped: 12 orders at 5/s all fill, never more than 5 in one second', async () => {
  let clock = Date.parse('2026-01-05T14:30:00.000Z');
  const settings = testSettings({}, { maxOrdersPerSecond: 5, maxOrdersPerAgentPerCycle: 100, maxOrdersPerCycle: 100 });
  const g = createOrderGateway({
    doc: db.doc,
    ledgerTable: db.tables.Ledger,
    controlTable: db.tables.Control,
    settings,
    feed,
    now: () => clock,
    sleep: async (ms) => void (clock += ms),
    random: () => 0,
  });
  const out = [];
  for (let i = 1; i <= 12; i++) out.push(await g.submit(order({ agent: 'pacer', clientOrderId: String(i), symbol: 'XOM', qty: 1 })));
  expect(out.every((d) => d.order.status === 'FILLED')).toBe(true);
  const perSecond = new Map<string, number>();
  for (const d of out) perSecond.set(d.order.createdAt.slice(0, 19), (perSecond.get(d.order.createdAt.slice(0, 19)) ?? 0) + 1);
  expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
  expect(perSecond.size).toBeGreaterThanOrEqual(3);
});
