/** The paper broker against a real dynalite: idempotent orders, fills applied once, rejections recorded. */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPaperBroker, type PaperBroker } from '../../lambdas/shared/trading/broker';
import { ACCOUNT_KEY, getOrCreateAccount, getOrder, listCycleOrders, orderId, putOrderIfAbsent, type OrderItem } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from './support';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('broker');
});
afterAll(async () => {
  await db.stop();
});

// Bar 260 of the Dow file; each test uses its own Ledger by clearing the account first.
const feed = createReplayFeed(loadMarketData(DOW_FILE), 260);
const msft = feed.priceAt('MSFT')!;

async function freshBroker(limits: Parameters<typeof testSettings>[1] = {}, mode: 'normal' | 'safe' = 'normal'): Promise<PaperBroker> {
  await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item: { ...ACCOUNT_KEY, cash: 1_000_000, positions: {}, version: 0, fillSeq: 0, applied: {} } }));
  return createPaperBroker({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings: testSettings({}, limits), feed, mode });
}

describe('paper broker', () => {
  it('creates the account on first use with the starting cash', async () => {
    const acc = await getOrCreateAccount(db.doc, db.tables.Ledger, 1_000_000);
    expect(acc.cash).toBe(1_000_000);
    expect(acc.positions).toEqual({});
  });

  it('fills at the current close and is idempotent under retry: one fill, cash debited once', async () => {
    const broker = await freshBroker();
    const req = { cycleId: 'c-idem', agent: 'trading', symbol: 'MSFT', side: 'BUY' as const, qty: 100 };
    const first = await broker.placeOrder(req);
    expect(first.order.status).toBe('FILLED');
    expect(first.order.price).toBe(msft);
    expect(first.replayed).toBe(false);
    const second = await broker.placeOrder(req);
    expect(second.replayed).toBe(true);
    expect(second.order.orderId).toBe(first.order.orderId);
    const acc = await getOrCreateAccount(db.doc, db.tables.Ledger, 1_000_000);
    expect(acc.cash).toBeCloseTo(1_000_000 - 100 * msft, 6);
    expect(acc.positions.MSFT).toEqual({ qty: 100, avgPrice: msft });
    expect(acc.fillSeq).toBe(1);
  });

  it('applies a fill once even if the order write succeeded and the account write is retried', async () => {
    const broker = await freshBroker();
    // Simulate a crash after the order record and before the account write.
    const pending: OrderItem = {
      orderId: orderId('c-crash', 'copybot', 'IBM'), cycleId: 'c-crash', agent: 'copybot', symbol: 'IBM', side: 'BUY', qty: 10,
      status: 'PENDING_FILL', price: feed.priceAt('IBM')!, notionalUsd: 10 * feed.priceAt('IBM')!, barIndex: 260, asOf: feed.asOf, createdAt: 'now',
    };
    expect(await putOrderIfAbsent(db.doc, db.tables.Ledger, pending)).toBe(true);
    // The retried agent asks again: the broker finishes the fill.
    const retried = await broker.placeOrder({ cycleId: 'c-crash', agent: 'copybot', symbol: 'IBM', side: 'BUY', qty: 10 });
    expect(retried).toMatchObject({ replayed: true, order: { status: 'FILLED' } });
    // Applying the same fill again (a second retry of the account write) changes nothing.
    expect(await broker.applyFillOnce(pending)).toBe(false);
    await broker.placeOrder({ cycleId: 'c-crash', agent: 'copybot', symbol: 'IBM', side: 'BUY', qty: 10 });
    const acc = await getOrCreateAccount(db.doc, db.tables.Ledger, 1_000_000);
    expect(acc.positions.IBM.qty).toBe(10);
    expect(acc.cash).toBeCloseTo(1_000_000 - pending.notionalUsd, 6);
    expect((await getOrder(db.doc, db.tables.Ledger, 'c-crash', 'copybot', 'IBM'))!.status).toBe('FILLED');
  });

  it('concurrent fills on one account all land (version check, retry from fresh state)', async () => {
    const broker = await freshBroker();
    const symbols = ['AA', 'KO', 'GE', 'XOM', 'JNJ'];
    await Promise.all(symbols.map((symbol) => broker.placeOrder({ cycleId: 'c-conc', agent: 'trading', symbol, side: 'BUY', qty: 10 })));
    const acc = await getOrCreateAccount(db.doc, db.tables.Ledger, 1_000_000);
    const spent = symbols.reduce((s, sym) => s + 10 * feed.priceAt(sym)!, 0);
    expect(Object.keys(acc.positions).sort()).toEqual([...symbols].sort());
    expect(acc.cash).toBeCloseTo(1_000_000 - spent, 6);
    expect(acc.version).toBe(5);
  });

  it('records a rejected order with the check that rejected it, and never fills it', async () => {
    const broker = await freshBroker();
    const qty = Math.ceil(25_001 / msft);
    const out = await broker.placeOrder({ cycleId: 'c-rej', agent: 'trading', symbol: 'MSFT', side: 'BUY', qty });
    expect(out.rejectedBy).toBe('maxOrderNotional');
    const stored = await getOrder(db.doc, db.tables.Ledger, 'c-rej', 'trading', 'MSFT');
    expect(stored).toMatchObject({ status: 'REJECTED', rejectedBy: 'maxOrderNotional' });
    expect((await getOrCreateAccount(db.doc, db.tables.Ledger, 1)).cash).toBe(1_000_000);
  });

  it('rejects a different order for the same cycle/agent/symbol as a duplicate', async () => {
    const broker = await freshBroker();
    await broker.placeOrder({ cycleId: 'c-dup', agent: 'trading', symbol: 'KO', side: 'BUY', qty: 5 });
    const dup = await broker.placeOrder({ cycleId: 'c-dup', agent: 'trading', symbol: 'KO', side: 'BUY', qty: 6 });
    expect(dup.rejectedBy).toBe('duplicateOrder');
    expect((await getOrCreateAccount(db.doc, db.tables.Ledger, 1)).positions.KO.qty).toBe(5);
  });

  it('counts this cycle\'s orders in the Ledger for the order-rate limits', async () => {
    const broker = await freshBroker({ maxOrdersPerAgentPerCycle: 2, maxOrdersPerCycle: 3 });
    const place = (agent: string, symbol: string) => broker.placeOrder({ cycleId: 'c-rate', agent, symbol, side: 'BUY', qty: 1 });
    expect((await place('a', 'AA')).rejectedBy).toBeUndefined();
    expect((await place('a', 'KO')).rejectedBy).toBeUndefined();
    expect((await place('a', 'GE')).rejectedBy).toBe('maxOrdersPerAgentPerCycle');
    expect((await place('b', 'GE')).rejectedBy).toBeUndefined();
    expect((await place('b', 'XOM')).rejectedBy).toBe('maxOrdersPerCycle');
    const orders = await listCycleOrders(db.doc, db.tables.Ledger, 'c-rate');
    expect(orders.filter((o) => o.status === 'FILLED')).toHaveLength(3);
    expect(orders.filter((o) => o.status === 'REJECTED')).toHaveLength(2);
  });

  it('rejects on the halt flag (consistent read of the control item) and in safe mode only reduces', async () => {
    const broker = await freshBroker({}, 'safe');
    const buy = await broker.placeOrder({ cycleId: 'c-safe', agent: 'trading', symbol: 'AA', side: 'BUY', qty: 1 });
    expect(buy.rejectedBy).toBe('safeMode');
    await db.doc.send(new PutCommand({ TableName: db.tables.Control, Item: { pk: 'control', halted: true, mode: 'normal', cycleSeq: 1, version: 1, audit: [] } }));
    try {
      const halted = await (await freshBroker()).placeOrder({ cycleId: 'c-halt', agent: 'trading', symbol: 'AA', side: 'BUY', qty: 1 });
      expect(halted.rejectedBy).toBe('haltFlag');
    } finally {
      await db.doc.send(new PutCommand({ TableName: db.tables.Control, Item: { pk: 'control', halted: false, mode: 'normal', cycleSeq: 1, version: 2, audit: [] } }));
    }
  });
});
