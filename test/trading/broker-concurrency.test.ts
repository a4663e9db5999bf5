/**
 * Pre-trade capital checks hold under concurrency: orders checked against the same account read
 * are re-checked against the account they are written over, so concurrent agents cannot together
 * spend cash below the minimum (or exceed exposure) that each alone respects. Found by review: a
 * version check alone kept the arithmetic right but let four 20k orders through with 40k cash.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPaperBroker } from '../../lambdas/shared/trading/broker';
import { ACCOUNT_KEY, getOrCreateAccount, listCycleOrders } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from './support';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('broker-race');
});
afterAll(() => db.stop());

const feed = createReplayFeed(loadMarketData(DOW_FILE), 260);

test('four concurrent 20k buys with 40k cash and a 10k minimum: one fills, the others are rejected by minCash', async () => {
  await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item: { ...ACCOUNT_KEY, cash: 40_000, positions: {}, version: 0, fillSeq: 0, applied: {} } }));
  const settings = testSettings({ startingCashUsd: 40_000 }, { minCashUsd: 10_000 });
  const broker = () => createPaperBroker({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings, feed, mode: 'normal' });
  const symbols = ['KO', 'GE', 'XOM', 'JNJ'];
  const results = await Promise.all(
    symbols.map((symbol, i) => broker().placeOrder({ cycleId: 'c1', agent: `agent-${i}`, symbol, side: 'BUY', qty: Math.floor(20_000 / feed.priceAt(symbol)!) })),
  );
  const account = await getOrCreateAccount(db.doc, db.tables.Ledger, 40_000);
  expect(account.cash).toBeGreaterThanOrEqual(10_000);
  expect(results.filter((r) => r.order.status === 'FILLED')).toHaveLength(1);
  expect(results.filter((r) => r.rejectedBy === 'minCash')).toHaveLength(3);
  // The ledger agrees with what the agents were told.
  const orders = await listCycleOrders(db.doc, db.tables.Ledger, 'c1');
  expect(orders.filter((o) => o.status === 'FILLED').map((o) => o.symbol)).toEqual(results.filter((r) => r.order.status === 'FILLED').map((r) => r.order.symbol));
  expect(orders.filter((o) => o.status === 'REJECTED').every((o) => o.rejectedBy === 'minCash')).toBe(true);
  expect(Object.keys(account.positions)).toHaveLength(1);
});
