/**
 * Working orders in the order gateway (DynamoDB Local): a limit order that does not cross rests,
 * reserves buying power, fills at its limit on the bar that crosses it (no look-ahead), expires
 * after its DAY, is cancelled by IOC or cancel-all; a fill and a cancel of the same order, raced,
 * never both win. The ledger identity (with reservations) holds throughout.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { CONTROL_KEY } from '../../lambdas/shared/control-read';
import { createOrderGateway, type GatewayOrder } from '../../lambdas/shared/trading/gateway';
import { getOrder, listBooks, listFills, listWorkingOrders, readAccount, reconcileLedger, replayFills } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData, type MarketTable } from '../../lambdas/shared/trading/market-data';
import type { TradingSettings } from '../../lambdas/shared/settings';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { clearLedger } from '../agents/support';
import { DOW_FILE, testSettings } from './support';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('gateway-working');
});
afterAll(() => db.stop());

const table: MarketTable = loadMarketData(DOW_FILE);
const settings = testSettings();
const gw = (bar: number, s: TradingSettings = settings) =>
  createOrderGateway({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings: s, feed: createReplayFeed(table, bar) });
const close = (symbol: string, bar: number) => table.prices[symbol][bar]!;
/** First bar after `from` whose close is below (BUY) / above (SELL) `price`, and one where it is not. */
const firstBar = (symbol: string, from: number, test: (c: number) => boolean) =>
  Array.from({ length: 300 }, (_, i) => from + 1 + i).find((b) => test(close(symbol, b)))!;
const req = (o: Partial<GatewayOrder>): GatewayOrder => ({
  cycleId: 'c',
  agent: 'resting',
  clientOrderId: '1',
  symbol: 'KO',
  side: 'BUY',
  qty: 100,
  mode: 'normal',
  riskVerdict: 'OK',
  ...o,
});

async function identity(): Promise<void> {
  const [account, books, fills, working] = await Promise.all([
    readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd),
    listBooks(db.doc, db.tables.Ledger),
    listFills(db.doc, db.tables.Ledger),
    listWorkingOrders(db.doc, db.tables.Ledger),
  ]);
  expect(reconcileLedger(account, books, replayFills(fills, settings.startingCashUsd), working)).toEqual([]);
}

beforeEach(async () => {
  await clearLedger(db);
  await db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted: false, mode: 'normal', cycleSeq: 0, version: 0, audit: [] } }),
  );
});

test('a BUY limit under the close rests (reserving cash), then fills at its limit on the next bar that crosses it', async () => {
  // Find a bar b where KO's next close is below today's close x 0.99: a limit at 0.99 x close(b) crosses at b + 1.
  const b = Array.from({ length: 400 }, (_, i) => 261 + i).find((x) => close('KO', x + 1) <= Math.round(close('KO', x) * 0.99 * 100) / 100)!;
  const limit = Math.round(close('KO', b) * 0.99 * 100) / 100;
  const d = await gw(b).submit(req({ cycleId: `c${b}`, limitPrice: limit }));
  expect(d.order).toMatchObject({ status: 'WORKING', timeInForce: 'DAY', price: limit });
  expect((await readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd)).reservedCashUsd).toBeCloseTo(100 * limit, 6);
  await identity();
  // The same bar never fills it (no look-ahead: its session is the next bar).
  expect(await gw(b).matchWorking('normal')).toMatchObject({ filled: 0, working: 1 });
  expect(await gw(b + 1).matchWorking('normal')).toMatchObject({ filled: 1, working: 0 });
  const fills = await listFills(db.doc, db.tables.Ledger);
  expect(fills).toEqual([expect.objectContaining({ symbol: 'KO', side: 'BUY', qty: 100, price: limit, barIndex: b + 1 })]);
  expect((await getOrder(db.doc, db.tables.Ledger, `c${b}`, 'resting', '1'))!.status).toBe('FILLED');
  const account = await readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd);
  expect(account.reservedCashUsd).toBeCloseTo(0, 6);
  expect(account.cash).toBeCloseTo(settings.startingCashUsd - 100 * limit, 6);
  await identity();
});

test('a DAY order not filled in its session expires; IOC that is not marketable is cancelled at once; GTC keeps resting', async () => {
  const b = 300;
  const far = Math.round(close('GE', b) * 0.96 * 100) / 100; // 4 % under: inside the 5 % collar
  const g = gw(b);
  expect((await g.submit(req({ cycleId: 'day', symbol: 'GE', limitPrice: far }))).order.status).toBe('WORKING');
  expect((await g.submit(req({ cycleId: 'gtc', symbol: 'GE', limitPrice: far, timeInForce: 'GTC' }))).order.status).toBe('WORKING');
  expect((await g.submit(req({ cycleId: 'ioc', symbol: 'GE', limitPrice: far, timeInForce: 'IOC' }))).order).toMatchObject({
    status: 'CANCELLED',
    reason: expect.stringMatching(/IOC/),
  });
  const crossed = firstBar('GE', b, (c) => c <= far);
  expect(crossed).toBeGreaterThan(b + 2); // a quiet stretch: the DAY order's session passes unfilled
  await gw(b + 1).matchWorking('normal');
  expect(await gw(b + 2).matchWorking('normal')).toMatchObject({ expired: 1, working: 1 });
  expect((await getOrder(db.doc, db.tables.Ledger, 'day', 'resting', '1'))!.status).toBe('EXPIRED');
  expect((await listWorkingOrders(db.doc, db.tables.Ledger)).map((w) => w.cycleId)).toEqual(['gtc']);
  await identity();
});

test('a limit order far from the market is refused by the collar, resting or not', async () => {
  const d = await gw(300).submit(req({ cycleId: 'far', symbol: 'KO', limitPrice: Math.round(close('KO', 300) * 0.5 * 100) / 100 }));
  expect(d.rejectedBy).toBe('priceCollar');
  expect(await listWorkingOrders(db.doc, db.tables.Ledger)).toEqual([]);
});

test('reserved buying power counts: working BUYs hold the cash that minCash protects', async () => {
  const s = testSettings({ startingCashUsd: 50_000 }, { minCashUsd: 10_000, maxPositionUsd: 1e9, maxOrderNotionalUsd: 1e9 });
  const b = 300;
  const limit = Math.round(close('MMM', b) * 0.97 * 100) / 100;
  const qty = Math.floor(30_000 / limit);
  expect((await gw(b, s).submit(req({ cycleId: 'r1', symbol: 'MMM', qty, limitPrice: limit }))).order.status).toBe('WORKING');
  // 30,000 reserved of 50,000: another 15,000 buy would leave 5,000 < 10,000.
  const second = await gw(b, s).submit(req({ cycleId: 'r2', symbol: 'KO', qty: Math.floor(15_000 / close('KO', b)) }));
  expect(second.rejectedBy).toBe('minCash');
});

test.each([0, 1, 2, 3, 4])('round %i: a fill and a cancel of the same working order, raced, never both win', async () => {
  const b = Array.from({ length: 400 }, (_, i) => 261 + i).find((x) => close('KO', x + 1) <= Math.round(close('KO', x) * 0.99 * 100) / 100)!;
  const limit = Math.round(close('KO', b) * 0.99 * 100) / 100;
  await gw(b).submit(req({ cycleId: 'race', limitPrice: limit }));
  const [m, cancelled] = await Promise.all([gw(b + 1).matchWorking('normal'), gw(b + 1).cancelAll('operator drill')]);
  expect(m.filled + cancelled).toBe(1);
  const status = (await getOrder(db.doc, db.tables.Ledger, 'race', 'resting', '1'))!.status;
  expect(status).toBe(m.filled ? 'FILLED' : 'CANCELLED');
  expect((await listFills(db.doc, db.tables.Ledger)).length).toBe(m.filled);
  expect(await listWorkingOrders(db.doc, db.tables.Ledger)).toEqual([]);
  await identity();
});

test('halted: no working order fills; cancel-all empties the book of working orders and releases the reservations', async () => {
  const b = Array.from({ length: 400 }, (_, i) => 261 + i).find((x) => close('KO', x + 1) <= Math.round(close('KO', x) * 0.99 * 100) / 100)!;
  const limit = Math.round(close('KO', b) * 0.99 * 100) / 100;
  await gw(b).submit(req({ cycleId: 'h', limitPrice: limit }));
  await gw(b).submit(req({ cycleId: 'h', clientOrderId: '2', symbol: 'GE', limitPrice: Math.round(close('GE', b) * 0.98 * 100) / 100 }));
  await db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted: true, mode: 'normal', cycleSeq: 0, version: 1, audit: [] } }),
  );
  expect((await gw(b + 1).matchWorking('normal')).filled).toBe(0);
  expect(await gw(b + 1).cancelAll('kill switch')).toBe(2);
  expect(await listWorkingOrders(db.doc, db.tables.Ledger)).toEqual([]);
  expect((await readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd)).reservedCashUsd).toBeCloseTo(0, 6);
  expect(await listFills(db.doc, db.tables.Ledger)).toEqual([]);
  await identity();
});
