/** The reference agents (real handler modules) on the real Dow Jones 30 data, each result executed by the real order gateway on DynamoDB Local. */
import { handler as copybotAgent } from '../../lambdas/agents/copybot/handler';
import { handler as sentimentAgent } from '../../lambdas/agents/sentiment/handler';
import { handler as strategyAgent } from '../../lambdas/agents/strategy/handler';
import { handler as tradingAgent } from '../../lambdas/agents/trading/handler';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { sentimentOutputSchema, strategyOutputSchema } from '../../lambdas/shared/agent-kit/reference-outputs';
import { maCrossover } from '../../lambdas/shared/trading/indicators';
import { listCycleOrders, readAccount } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from '../trading/support';
import { agentInput, clearLedger, throughGateway, useEnv } from './support';

let db: TestDynamo;
const run = throughGateway({
  get doc() {
    return db.doc;
  },
  get tables() {
    return db.tables;
  },
} as TestDynamo);
const [copybot, sentiment, strategy, trading] = [copybotAgent, sentimentAgent, strategyAgent, tradingAgent].map(run);
beforeAll(async () => {
  db = await startDynalite('refagents');
  useEnv(db);
});
afterAll(async () => {
  await db.stop();
});

const table = loadMarketData(DOW_FILE);
const output = async (cycleId: string, agent: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId, sk: `OUTPUT#${agent}` } }))).Item!.output;

async function runUpstream(cycleId: string, cycleSeq = 1) {
  await strategy(agentInput('strategy', { cycleId, cycleSeq, params: { fastWindow: 10, slowWindow: 30 } }));
  await sentiment(agentInput('sentiment', { cycleId, cycleSeq, params: { window: 50 } }));
}
const tradingInput = (cycleId: string, extra: Parameters<typeof agentInput>[1] = {}) =>
  agentInput('trading', { cycleId, dependsOn: ['strategy', 'sentiment'], params: { positionUsd: 20_000, minBreadth: 0.4 }, ...extra });

describe('reference agents on real data', () => {
  it('strategy: SMA(10)/SMA(30) crossover signal per symbol at bar 260', async () => {
    const result = await strategy(agentInput('strategy', { cycleId: 'c-strat', params: { fastWindow: 10, slowWindow: 30 } }));
    const out = strategyOutputSchema.parse(await output('c-strat', 'strategy'));
    expect(Object.keys(out.signals)).toHaveLength(30);
    expect(out.asOf).toBe(table.timestamps[260]);
    const feed = createReplayFeed(table, 260);
    for (const s of ['MSFT', 'IBM', 'KO']) expect(out.signals[s]).toBe(maCrossover(feed.history(s, 31), 10, 30)!.signal);
    expect(result.metrics.signalsBuy + result.metrics.signalsSell + result.metrics.signalsHold).toBe(30);
    expect(result.metrics.signalsBuy).toBeGreaterThan(0);
  });

  it('sentiment: breadth and advances/declines over the 30 symbols', async () => {
    await sentiment(agentInput('sentiment', { cycleId: 'c-sent', params: { window: 50 } }));
    const out = sentimentOutputSchema.parse(await output('c-sent', 'sentiment'));
    expect(out.advances + out.declines + out.unchanged).toBe(30);
    expect(out.breadth).toBeGreaterThanOrEqual(0);
    expect(out.breadth).toBeLessThanOrEqual(1);
    // bar 260 vs 259, counted directly from the file
    const ups = table.symbols.filter((s) => table.prices[s][260]! > table.prices[s][259]!).length;
    expect(out.advances).toBe(ups);
  });

  it('trading: orders BUY signals through the pre-trade checks; a retry of the same cycle fills nothing twice', async () => {
    await clearLedger(db);
    await runUpstream('c-trade');
    const signals = strategyOutputSchema.parse(await output('c-trade', 'strategy')).signals;
    const buys = Object.values(signals).filter((s) => s === 'BUY').length;
    const first = await trading(tradingInput('c-trade'));
    expect(first.status).toBe('SUCCEEDED');
    expect(first.metrics.ordersPlaced).toBeGreaterThan(0);
    // One order per BUY signal, at most the per-agent-per-cycle throttle (the rest wait for a later cycle).
    expect(buys).toBeGreaterThan(testSettings().limits.maxOrdersPerAgentPerCycle);
    expect(first.metrics.ordersPlaced + first.metrics.ordersRejected).toBe(testSettings().limits.maxOrdersPerAgentPerCycle);
    expect(first.summary).toMatch(/^proposed \d+ orders?; .*; orders: \d+ filled, \d+ rejected/);
    const after1 = await readAccount(db.doc, db.tables.Ledger, 1_000_000);
    const orders = await listCycleOrders(db.doc, db.tables.Ledger, 'c-trade');
    const filled = orders.filter((o) => o.status === 'FILLED');
    expect(filled).toHaveLength(first.metrics.ordersPlaced);
    expect(after1.cash).toBeCloseTo(1_000_000 - filled.reduce((s, o) => s + o.notionalUsd, 0), 6);
    for (const o of orders.filter((x) => x.status === 'REJECTED')) expect(o.rejectedBy).toEqual(expect.any(String));

    // The same cycle again: ids already used are replayed or refused as duplicates, the rate limit holds; nothing fills twice.
    const retry = await trading(tradingInput('c-trade', { attempt: 1 }));
    expect(retry.metrics.ordersPlaced).toBe(0);
    const after2 = await readAccount(db.doc, db.tables.Ledger, 1_000_000);
    expect(after2.cash).toBe(after1.cash);
    expect(after2.fillSeq).toBe(after1.fillSeq);
  });

  it('trading in safe mode only reduces: no buys from a flat account', async () => {
    await clearLedger(db);
    await runUpstream('c-safe');
    const result = await trading(tradingInput('c-safe', { mode: 'safe', riskVerdict: 'REDUCE' }));
    expect(result.metrics).toMatchObject({ ordersIntended: 0 });
    expect(result.metrics.ordersPlaced ?? 0).toBe(0);
    expect(result.summary).toMatch(/safe mode/);
  });

  it('trading is SKIPPED when strategy produced nothing this cycle', async () => {
    const result = await trading(tradingInput('c-none'));
    expect(result).toMatchObject({ status: 'SKIPPED', reason: 'dependency strategy produced no output this cycle' });
  });

  it('copybot: rebalances to the target weights with resting DAY limit orders (0.5 % through the close), and not again while they work', async () => {
    await clearLedger(db);
    const params = { targetWeights: ['MSFT:0.02', 'IBM:0.01', 'KO:0.01'], rebalanceThreshold: 0.005 };
    const first = await copybot(agentInput('copybot', { cycleId: 'c-copy-1', params }));
    expect(first.metrics).toMatchObject({ ordersProposed: 3, ordersWorking: 3, ordersPlaced: 0 });
    const msft = table.prices.MSFT[260]!;
    const working = (await listCycleOrders(db.doc, db.tables.Ledger, 'c-copy-1')).find((o) => o.symbol === 'MSFT')!;
    // target 0.02 x 1,000,000 = 20,000 USD => trunc(20,000 / close) shares, limit 0.5 % under the close
    expect(working).toMatchObject({
      status: 'WORKING',
      side: 'BUY',
      qty: Math.trunc(20_000 / msft),
      timeInForce: 'DAY',
      limitPrice: Math.round(msft * 0.995 * 100) / 100,
    });
    const second = await copybot(agentInput('copybot', { cycleId: 'c-copy-2', cycleSeq: 2, params }));
    expect(second.metrics.ordersProposed ?? 0).toBe(0); // no proposal: no order figures in the state
    expect(second.summary).toMatch(/^0 of 3 weights drifted/);
  });

  it('copybot: an order beyond a limit is rejected and named in the summary', async () => {
    await clearLedger(db);
    useEnv(db, testSettings({}, { maxPositionUsd: 15_000 }));
    try {
      const result = await copybot(
        agentInput('copybot', { cycleId: 'c-copy-lim', params: { targetWeights: ['MSFT:0.02', 'KO:0.01'], rebalanceThreshold: 0.005 } }),
      );
      expect(result.metrics).toMatchObject({ ordersWorking: 1, ordersRejected: 1 });
      expect(result.summary).toMatch(/orders: 0 filled, 1 working, 1 rejected \(maxPosition\)/);
    } finally {
      useEnv(db);
    }
  });
});
