/**
 * The README's "Write an agent" example (lambdas/agents/meanrev/handler.ts, copied verbatim from
 * the README) runs through defineAgent on the real data: it computes its figure, and when MSFT is
 * 3 % under its 20-bar mean it buys through the pre-trade checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handler as meanrevAgent } from '../../lambdas/agents/meanrev/handler';
import { listCycleOrders } from '../../lambdas/shared/trading/ledger';
import { loadMarketData, createReplayFeed } from '../../lambdas/shared/trading/market-data';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { DOW_FILE } from '../trading/support';
import { agentInput, clearLedger, throughGateway, useEnv } from './support';

let db: TestDynamo;
const meanrev = throughGateway({
  get doc() {
    return db.doc;
  },
  get tables() {
    return db.tables;
  },
} as TestDynamo)(meanrevAgent);
beforeAll(async () => {
  db = await startDynalite('meanrev');
  useEnv(db);
});
afterAll(() => db.stop());

test('the file is the README example, verbatim', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const source = readFileSync(join(__dirname, '..', '..', 'lambdas', 'agents', 'meanrev', 'handler.ts'), 'utf8');
  expect(readme).toContain(source.trim());
});

test('runs on the real data and orders only when MSFT is 3 % under its 20-bar mean', async () => {
  await clearLedger(db);
  const table = loadMarketData(DOW_FILE);
  // Cycle N sees bar 260 + N - 1: find the first cycle whose bar is 3 % under its mean, and one that is not.
  const deviation = (bar: number) => {
    const closes = createReplayFeed(table, bar).history('MSFT', 20) as number[];
    const mean = closes.reduce((a, b) => a + b, 0) / closes.length;
    return closes[closes.length - 1] / mean - 1;
  };
  const dipSeq = Array.from({ length: 400 }, (_, i) => i + 1).find((seq) => deviation(259 + seq) < -0.03)!;
  const calmSeq = Array.from({ length: 400 }, (_, i) => i + 1).find((seq) => deviation(259 + seq) > 0)!;
  const calm = await meanrev(agentInput('meanrev', { cycleId: 'c-calm', cycleSeq: calmSeq }));
  expect(calm.status).toBe('SUCCEEDED');
  expect(calm.metrics.deviationFraction).toBeCloseTo(deviation(259 + calmSeq), 10);
  expect(await listCycleOrders(db.doc, db.tables.Ledger, 'c-calm')).toEqual([]);
  const dip = await meanrev(agentInput('meanrev', { cycleId: 'c-dip', cycleSeq: dipSeq }));
  expect(dip.status).toBe('SUCCEEDED');
  expect(await listCycleOrders(db.doc, db.tables.Ledger, 'c-dip')).toEqual([
    expect.objectContaining({ agent: 'meanrev', symbol: 'MSFT', side: 'BUY', qty: 10, status: 'FILLED' }),
  ]);
});
