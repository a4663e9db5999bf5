/**
 * Reduce-only trading on the order path (issue 12), against DynamoDB Local: the per-agent daily-loss protection
 * (REDUCE for that agent only, the fleet keeps trading), rejections that name the trading state, an operator's
 * flatten (the one action admitted while HALTED; working orders cancelled first; fills attributed to each
 * book; idempotent; never oversells against a racing fill) and cancel-all through the operator function.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createMasterHandler, createOperatorHandler } from '../../lambdas/master/handler';
import { orderPortsFromEnv } from '../../lambdas/master/order-ports';
import { CONTROL_KEY, readControlItem } from '../../lambdas/shared/control-read';
import { ENV } from '../../lambdas/shared/env';
import type { TradingSettings } from '../../lambdas/shared/settings';
import { createOrderGateway, type GatewayOrder } from '../../lambdas/shared/trading/gateway';
import {
  equitySk,
  getOrder,
  listBooks,
  listFills,
  listWorkingOrders,
  readAccount,
  readBook,
  reconcileLedger,
  replayFills,
  type AgentBook,
  type AgentRiskFigures,
  type EquitySnapshot,
} from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { computeAgentFigures, selectReportedAgents } from '../../lambdas/shared/trading/risk-agents';
import { clearLedger } from '../agents/support';
import { InMemoryPlatformPorts } from '../master/in-memory-ports';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from './support';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('gateway-reduce');
});
afterAll(() => db.stop());

const BAR = 260;
const table = loadMarketData(DOW_FILE);
const feed = createReplayFeed(table, BAR);
const close = (s: string) => feed.priceAt(s)!;
const settings = testSettings({
  budgets: { loser: { allocationUsd: 100_000, maxDailyLossFraction: 0.02 }, winner: { allocationUsd: 100_000, maxDailyLossFraction: 0.02 } },
});
const gw = (s: TradingSettings = settings) =>
  createOrderGateway({ doc: db.doc, ledgerTable: db.tables.Ledger, controlTable: db.tables.Control, settings: s, feed });
const req = (o: Partial<GatewayOrder>): GatewayOrder => ({
  cycleId: 'c1',
  agent: 'loser',
  clientOrderId: '1',
  symbol: 'KO',
  side: 'BUY',
  qty: 10,
  mode: 'normal',
  riskVerdict: 'OK',
  ...o,
});
const setControl = (halted: boolean, mode: 'normal' | 'safe' = 'normal') =>
  db.doc.send(new PutCommand({ TableName: db.tables.Control, Item: { ...CONTROL_KEY, halted, mode, cycleSeq: 0, version: 0, audit: [] } }));
const figures = (pnlTodayUsd: number): AgentRiskFigures => ({
  pnlUsd: pnlTodayUsd,
  pnlTodayUsd,
  grossExposureUsd: 0,
  peakPnlUsd: 0,
  drawdownFraction: 0,
  reduceOnly: false,
});
async function putSnapshot(agents: Record<string, AgentRiskFigures>): Promise<void> {
  const snap: EquitySnapshot = {
    barIndex: BAR,
    asOf: feed.asOf,
    equityUsd: 1_000_000,
    cashUsd: 1_000_000,
    grossExposureUsd: 0,
    peakEquityUsd: 1_000_000,
    dailyPnlFraction: 0,
    drawdownFraction: 0,
    cycleId: 'c1',
    agents,
  };
  await db.doc.send(new PutCommand({ TableName: db.tables.Ledger, Item: { pk: 'EQUITY', sk: equitySk(BAR), ...snap } }));
}
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
  await setControl(false);
});

describe('per-agent daily-loss protection', () => {
  it('an agent over its daily-loss budget is in REDUCE: its buy is rejected naming REDUCE, its sell of a held position fills, and another agent keeps trading', async () => {
    const g = gw();
    expect((await g.submit(req({ qty: 40 }))).order.status).toBe('FILLED'); // before the loss: a position to reduce
    await putSnapshot({ loser: figures(-2_500), winner: figures(300) }); // limit 0.02 x 100,000 = 2,000 USD
    const buy = await g.submit(req({ clientOrderId: '2', symbol: 'MMM' }));
    expect(buy).toMatchObject({ rejectedBy: 'agentMaxDailyLoss', order: { status: 'REJECTED', tradingState: 'REDUCE' } });
    expect(buy.order.reason).toMatch(/^REDUCE: this agent lost USD 2500.00 today, over its daily-loss budget USD 2000.00/);
    expect((await g.submit(req({ clientOrderId: '3', side: 'SELL', qty: 15 }))).order.status).toBe('FILLED');
    expect((await g.submit(req({ agent: 'winner', clientOrderId: '1', symbol: 'MMM' }))).order.status).toBe('FILLED');
    // Just inside the budget: admitted again.
    await putSnapshot({ loser: figures(-1_999) });
    expect((await g.submit(req({ clientOrderId: '4', symbol: 'MMM' }))).order.status).toBe('FILLED');
    await identity();
  });

  it("at matching, a crossing working BUY of an agent in its daily-loss REDUCE is cancelled naming REDUCE; another agent's fills", async () => {
    const ko = table.prices.KO;
    const limitPrice = Math.round(ko[BAR]! * 0.98 * 100) / 100;
    const bar = Array.from({ length: 300 }, (_, i) => BAR + 1 + i).find((b) => ko[b]! <= limitPrice)!;
    const g = gw();
    for (const agent of ['loser', 'winner']) expect((await g.submit(req({ agent, limitPrice, timeInForce: 'GTC' }))).order.status).toBe('WORKING');
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.Ledger,
        Item: { pk: 'EQUITY', sk: equitySk(bar), barIndex: bar, asOf: table.timestamps[bar], agents: { loser: figures(-2_500), winner: figures(0) } },
      }),
    );
    const later = createOrderGateway({
      doc: db.doc,
      ledgerTable: db.tables.Ledger,
      controlTable: db.tables.Control,
      settings,
      feed: createReplayFeed(table, bar),
    });
    expect(await later.matchWorking('normal')).toEqual({ filled: 1, expired: 0, cancelled: 1, working: 0 });
    const loser = await getOrder(db.doc, db.tables.Ledger, 'c1', 'loser', '1');
    expect(loser).toMatchObject({ status: 'CANCELLED', reason: expect.stringMatching(/^REDUCE: loser lost USD 2500.00 today/) });
    expect((await getOrder(db.doc, db.tables.Ledger, 'c1', 'winner', '1'))?.status).toBe('FILLED');
    await identity();
  });

  it('the risk gate computes per-agent P&L today, budget used and drawdown from the running peak, and flags REDUCE', () => {
    const books: AgentBook[] = [
      {
        agent: 'loser',
        positions: { KO: { qty: 100, avgPrice: 50 } },
        cashFlowUsd: -5_000,
        fills: 1,
        reservedQty: {},
        workingQty: {},
        version: 1,
        exists: true,
      },
      { agent: 'flat', positions: {}, cashFlowUsd: 120, fills: 2, reservedQty: {}, workingQty: {}, version: 2, exists: true },
    ];
    const budgets = { loser: { allocationUsd: 10_000, maxDailyLossFraction: 0.01, maxGrossExposureUsd: 8_000 } };
    const out = computeAgentFigures(books, { KO: 48 }, { KO: 49.5 }, { loser: { ...figures(0), peakPnlUsd: 400 } }, budgets, 1_000_000);
    expect(out.loser.pnlUsd).toBeCloseTo(-200, 9); // -5,000 + 100 x 48
    expect(out.loser.pnlTodayUsd).toBeCloseTo(-150, 9); // 100 x (48 - 49.5)
    expect(out.loser.dailyLossLimitUsd).toBe(100);
    expect(out.loser.reduceOnly).toBe(true);
    expect(out.loser.budgetUsedFraction).toBeCloseTo(4_800 / 8_000, 9);
    expect(out.loser.peakPnlUsd).toBe(400);
    expect(out.loser.drawdownFraction).toBeCloseTo(600 / 10_400, 9);
    expect(out.flat).toMatchObject({ pnlUsd: 120, pnlTodayUsd: 0, grossExposureUsd: 0, peakPnlUsd: 120, drawdownFraction: 0, reduceOnly: false });
    expect(Object.keys(selectReportedAgents(out, 1))).toEqual(['loser']);
  });
});

describe('flatten', () => {
  it('while HALTED nothing else is admitted (named HALTED), but a flatten cancels every working order and closes every book, attributed to each agent', async () => {
    const g = gw(testSettings());
    await g.submit(req({ agent: 'alpha', qty: 30 }));
    await g.submit(req({ agent: 'alpha', clientOrderId: '2', symbol: 'MMM', qty: 7 }));
    await g.submit(req({ agent: 'beta', qty: 12 }));
    const resting = await g.submit(
      req({ agent: 'beta', clientOrderId: '2', symbol: 'IBM', qty: 5, limitPrice: Math.round(close('IBM') * 0.97 * 100) / 100, timeInForce: 'GTC' }),
    );
    expect(resting.order.status).toBe('WORKING');
    await setControl(true);
    const refused = await g.submit(req({ agent: 'alpha', clientOrderId: '3', side: 'SELL', qty: 1 }));
    expect(refused).toMatchObject({ rejectedBy: 'haltFlag', order: { tradingState: 'HALTED' } });
    expect(refused.order.reason).toMatch(/^HALTED: /);

    const report = await g.flatten({ flattenId: 'flatten-1', actor: 'operator:alice', reason: 'drill' });
    expect(report).toMatchObject({ workingOrdersCancelled: 1, closed: 3, notClosed: 0, barIndex: BAR });
    expect(report.positions.map((p) => [p.agent, p.symbol, p.side, p.qty]).sort()).toEqual([
      ['alpha', 'KO', 'SELL', 30],
      ['alpha', 'MMM', 'SELL', 7],
      ['beta', 'KO', 'SELL', 12],
    ]);
    for (const b of await listBooks(db.doc, db.tables.Ledger)) expect(Object.values(b.positions).every((p) => p.qty === 0)).toBe(true);
    expect(Object.values((await readAccount(db.doc, db.tables.Ledger, 1_000_000)).positions).every((p) => p.qty === 0)).toBe(true);
    expect(await listWorkingOrders(db.doc, db.tables.Ledger)).toEqual([]);
    const fills = await listFills(db.doc, db.tables.Ledger);
    expect(
      fills
        .filter((f) => f.cycleId === 'flatten-1')
        .map((f) => f.agent)
        .sort(),
    ).toEqual(['alpha', 'alpha', 'beta']);
    // Retried with the same id: nothing fills twice.
    const again = await g.flatten({ flattenId: 'flatten-1', actor: 'operator:alice', reason: 'drill' });
    expect(again.closed).toBe(0);
    expect((await listFills(db.doc, db.tables.Ledger)).length).toBe(fills.length);
    expect((await readControlItem(db.doc, db.tables.Control)).halted).toBe(true);
    await identity();
  });

  it('a flatten racing the agent selling the same position never oversells: the book ends at zero, the ledger identity holds (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      await clearLedger(db);
      const g = gw(testSettings());
      await g.submit(req({ cycleId: `r${round}`, agent: 'alpha', qty: 20 }));
      const [sell, report] = await Promise.all([
        g.submit(req({ cycleId: `r${round}`, agent: 'alpha', clientOrderId: '2', side: 'SELL', qty: 15 })),
        g.flatten({ flattenId: `flatten-r${round}`, actor: 'operator:a', reason: 'race' }),
      ]);
      const book = await readBook(db.doc, db.tables.Ledger, 'alpha');
      expect(book.positions.KO?.qty ?? 0).toBe(0);
      const sold = (sell.order.status === 'FILLED' ? 15 : 0) + report.positions.filter((p) => p.status === 'FILLED').reduce((n, p) => n + p.qty, 0);
      expect(sold).toBe(20);
      await identity();
    }
  });
});

describe('operator function: cancel-all and flatten', () => {
  function handlers() {
    process.env[ENV.tradingSettings] = JSON.stringify(testSettings());
    // The platform steps in memory, the order ports the real ones (the order gateway on DynamoDB Local).
    const ports = Object.assign(
      new InMemoryPlatformPorts([{ group: 'g', name: 's' }]),
      orderPortsFromEnv(db.doc, { [ENV.ledgerTable]: db.tables.Ledger, [ENV.controlTable]: db.tables.Control, [ENV.marketDataFile]: DOW_FILE }),
    );
    const deps = {
      ports,
      doc: db.doc,
      controlTable: db.tables.Control,
      alarmPolicy: {},
      verifyRetryDelaysMs: [],
    };
    const operatorFn = createOperatorHandler(deps);
    const op = async (body: Record<string, unknown>) => {
      const res = await operatorFn({ requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } }, body: JSON.stringify(body) });
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
    };
    return { op, master: createMasterHandler(deps) };
  }

  it('cancel-all cancels every working order without halting, audited with the count; status lists working orders', async () => {
    const g = gw(testSettings());
    for (const [agent, symbol] of [
      ['alpha', 'KO'],
      ['beta', 'MMM'],
    ])
      await g.submit(req({ agent, symbol, qty: 5, limitPrice: Math.round(close(symbol) * 0.97 * 100) / 100, timeInForce: 'GTC' }));
    const { op } = handlers();
    const status = await op({ action: 'status' });
    expect(status.body.workingOrders.map((w: { agent: string }) => w.agent).sort()).toEqual(['alpha', 'beta']);
    expect(status.body.stage).toBe('normal');
    const res = await op({ action: 'cancel-all', reason: 'venue outage' });
    expect(res).toMatchObject({ status: 200, body: { action: 'CANCEL_ALL', cancelled: 2, remaining: 0 } });
    const item = await readControlItem(db.doc, db.tables.Control);
    expect(item.halted).toBe(false);
    expect(item.audit.at(-1)).toMatchObject({
      action: 'CANCEL_ALL',
      actor: 'arn:aws:iam::1:user/alice',
      changed: true,
      reason: 'venue outage (2 working orders cancelled)',
    });
    expect(await op({ action: 'cancel-all', reason: ' ' })).toMatchObject({ status: 400, body: { error: 'OrderActionRefused' } });
  });

  it('flatten through the operator function closes positions while HALTED and is audited; the Master does not accept it', async () => {
    await gw(testSettings()).submit(req({ agent: 'alpha', qty: 9 }));
    const { op, master } = handlers();
    await master({ action: 'halt', source: 'operator', actor: 'operator:alice', reason: 'drill' });
    const res = await op({ action: 'flatten', reason: 'end of drill' });
    expect(res).toMatchObject({ status: 200, body: { action: 'FLATTEN', closed: 1, notClosed: 0, errors: [] } });
    expect((await readBook(db.doc, db.tables.Ledger, 'alpha')).positions.KO?.qty ?? 0).toBe(0);
    const item = await readControlItem(db.doc, db.tables.Control);
    expect(item.halted).toBe(true);
    expect(item.audit.at(-1)).toMatchObject({ action: 'FLATTEN', changed: true });
    await expect(master({ action: 'flatten', source: 'operator', actor: 'operator:alice', reason: 'x' })).rejects.toMatchObject({ name: 'InvalidTrigger' });
  });
});
