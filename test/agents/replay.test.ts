/**
 * A replay of the shipped fleet (the fixture test/fixtures/fleet.ts) over 15 daily bars of the
 * Dow Jones 30 file: risk first, then strategy, sentiment, copybot, then trading, as the state
 * machine orders them (REDUCE => safe mode). The fleet must trade, never HALT on its own fills,
 * keep order counts within the per-agent limit, and leave a ledger the risk engine can value.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import config from '../fixtures/fleet';
import { handler as copybot } from '../../lambdas/agents/copybot/handler';
import { handler as sentiment } from '../../lambdas/agents/sentiment/handler';
import { handler as strategy } from '../../lambdas/agents/strategy/handler';
import { handler as trading } from '../../lambdas/agents/trading/handler';
import { createRiskHandler } from '../../lambdas/risk/handler';
import { tradingPortsFromEnv } from '../../lambdas/shared/trading/runtime';
import { tradingSettingsFromConfig } from '../../lib/config/lambda-settings';
import { validateConfig } from '../../lib/config/schema';
import { listCycleOrders, readAccount } from '../../lambdas/shared/trading/ledger';
import { createReplayFeed, loadMarketData, resolveStartBar } from '../../lambdas/shared/trading/market-data';
import { valuePortfolio } from '../../lambdas/shared/trading/portfolio';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE } from '../trading/support';
import { agentInput, throughGateway } from './support';

let db: TestDynamo;
const cfg = validateConfig(config);
const settings = tradingSettingsFromConfig(cfg);
beforeAll(async () => {
  db = await startDynalite('replay');
  Object.assign(process.env, db.env, { TRADING_SETTINGS: JSON.stringify(settings), MARKET_DATA_FILE: DOW_FILE });
});
afterAll(async () => {
  await db.stop();
});

const run = throughGateway({
  get doc() {
    return db.doc;
  },
  get tables() {
    return db.tables;
  },
} as TestDynamo);
const risk = (event: unknown) => createRiskHandler(tradingPortsFromEnv(process.env, db.doc))(event);
const handlers = { strategy: run(strategy), sentiment: run(sentiment), copybot: run(copybot), trading: run(trading) } as const;

it('runs 15 cycles of the default fleet on real data without a HALT', async () => {
  const verdicts: string[] = [];
  let lastEquity = 0;
  for (let seq = 1; seq <= 15; seq++) {
    const cycleId = `replay-${seq}`;
    const a = await risk({ cycleId, cycleSeq: seq, mode: 'normal' });
    verdicts.push(a.verdict);
    expect(a.verdict).not.toBe('HALT');
    lastEquity = a.metrics.equityUsd;
    const mode = a.verdict === 'REDUCE' ? 'safe' : 'normal';
    for (const name of ['strategy', 'sentiment', 'copybot', 'trading'] as const) {
      const agent = cfg.agents.find((x) => x.name === name)!;
      const r = await handlers[name](
        agentInput(name, { cycleId, cycleSeq: seq, mode, riskVerdict: a.verdict as 'OK' | 'REDUCE', params: agent.params, dependsOn: agent.dependsOn }),
      );
      expect(r.status).toBe('SUCCEEDED');
    }
    const orders = await listCycleOrders(db.doc, db.tables.Ledger, cycleId);
    for (const name of ['copybot', 'trading']) {
      expect(orders.filter((o) => o.agent === name && o.status !== 'REJECTED').length).toBeLessThanOrEqual(settings.limits.maxOrdersPerAgentPerCycle);
    }
    if (mode === 'safe') {
      // safe mode: every filled order this cycle reduced a position, i.e. was a SELL for these long-only agents
      expect(orders.filter((o) => o.status === 'FILLED' && o.side === 'BUY')).toEqual([]);
    }
  }
  expect(verdicts[0]).toBe('OK');
  const snaps = await db.doc.send(
    new QueryCommand({ TableName: db.tables.Ledger, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'EQUITY' } }),
  );
  expect(snaps.Items).toHaveLength(15);
  // The ledger values at the last bar to the equity the risk gate reported (fills at the close do not change equity).
  const acc = await readAccount(db.doc, db.tables.Ledger, settings.startingCashUsd);
  const dow = loadMarketData(DOW_FILE);
  const feed = createReplayFeed(dow, resolveStartBar(settings.startBar, dow.timestamps.length) + 14);
  const prices = Object.fromEntries(Object.keys(acc.positions).map((s) => [s, feed.priceAt(s)!]));
  expect(Object.keys(acc.positions).length).toBeGreaterThan(0);
  expect(valuePortfolio(acc, prices).equityUsd).toBeCloseTo(lastEquity, 4);
});
