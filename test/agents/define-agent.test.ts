/** defineAgent, the agent contract helper, with real dynalite tables and the real market data. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { defineAgent } from '../../lambdas/shared/agent-kit/define-agent';
import { listCycleOrders } from '../../lambdas/shared/trading/ledger';
import { loadMarketData } from '../../lambdas/shared/trading/market-data';
import { DOW_FILE } from '../trading/support';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { agentInput, clearLedger, setHalted, useEnv } from './support';

/** Timestamp of bar 260, the bar cycle 1 sees with the default startBar. */
const BAR_260 = loadMarketData(DOW_FILE).timestamps[260];

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('defagent');
  useEnv(db);
});
afterAll(async () => {
  await db.stop();
});

const echo = defineAgent<{ seen: unknown; asOf: string }>({
  name: 'echo',
  outputSchema: z.object({ seen: z.unknown(), asOf: z.string() }),
  async run(ctx) {
    return { summary: `echo at ${ctx.feed.asOf}`, metrics: { deps: Object.keys(ctx.deps).length }, output: { seen: ctx.deps.upstream ?? null, asOf: ctx.feed.asOf } };
  },
});

describe('defineAgent', () => {
  it('runs the agent, stores its output for dependents with a 30-day TTL, and returns an AgentResult', async () => {
    const result = await echo(agentInput('echo', { attempt: 2 }));
    expect(result).toMatchObject({ agent: 'echo', cycleId: 'cycle-1', status: 'SUCCEEDED', summary: `echo at ${BAR_260}`, metrics: { deps: 0 }, attempt: 2 });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const stored = await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId: 'cycle-1', sk: 'OUTPUT#echo' } }));
    expect(stored.Item!.output).toEqual({ seen: null, asOf: BAR_260 });
    const days = (stored.Item!.expiresAt - Date.now() / 1000) / 86_400;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('hands dependencies\' outputs of this cycle to run', async () => {
    await db.doc.send(new PutCommand({ TableName: db.tables.Cycles, Item: { cycleId: 'cycle-deps', sk: 'OUTPUT#upstream', output: { x: 1 } } }));
    const result = await echo(agentInput('echo', { cycleId: 'cycle-deps', dependsOn: ['upstream'] }));
    expect(result.status).toBe('SUCCEEDED');
    const stored = await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId: 'cycle-deps', sk: 'OUTPUT#echo' } }));
    expect(stored.Item!.output.seen).toEqual({ x: 1 });
  });

  it('returns SKIPPED without running when a dependency produced no output this cycle', async () => {
    const run = jest.fn();
    const agent = defineAgent({ name: 'dependent', run });
    const result = await agent(agentInput('dependent', { cycleId: 'cycle-nodeps', dependsOn: ['missing'] }));
    expect(result).toMatchObject({ status: 'SKIPPED', reason: 'dependency missing produced no output this cycle' });
    expect(run).not.toHaveBeenCalled();
  });

  it('throws AgentInputInvalid naming the field', async () => {
    await expect(echo({ ...agentInput('echo'), cycleSeq: 0 })).rejects.toMatchObject({ name: 'AgentInputInvalid', message: expect.stringMatching(/cycleSeq/) });
    await expect(echo('garbage')).rejects.toMatchObject({ name: 'AgentInputInvalid' });
  });

  it('throws AgentOutputInvalid on garbage from run or an output not matching outputSchema', async () => {
    const garbage = defineAgent({ name: 'garbage', run: async () => ({ summary: 42 }) as unknown as { summary: string } });
    await expect(garbage(agentInput('garbage'))).rejects.toMatchObject({ name: 'AgentOutputInvalid', message: expect.stringMatching(/summary/) });
    const wrong = defineAgent<{ n: number }>({ name: 'wrong', outputSchema: z.object({ n: z.number() }), run: async () => ({ summary: 'x', output: { n: 'one' } as unknown as { n: number } }) });
    await expect(wrong(agentInput('wrong'))).rejects.toMatchObject({ name: 'AgentOutputInvalid', message: expect.stringMatching(/output\.n/) });
    const nan = defineAgent({ name: 'nan', run: async () => ({ summary: 'x', metrics: { m: Number.NaN } }) });
    await expect(nan(agentInput('nan'))).rejects.toMatchObject({ name: 'AgentOutputInvalid' });
  });

  it('throws AgentTimeout when run outlasts the Lambda context\'s remaining time', async () => {
    const slow = defineAgent({ name: 'slow', run: () => new Promise<{ summary: string }>((resolve) => setTimeout(() => resolve({ summary: 'late' }), 500)) });
    const started = Date.now();
    await expect(slow(agentInput('slow'), { getRemainingTimeInMillis: () => 60 })).rejects.toMatchObject({ name: 'AgentTimeout' });
    expect(Date.now() - started).toBeLessThan(400);
  });

  it("times out at the agent's own timeout even when its (shared) function has more time left", async () => {
    // Agents sharing a code entry share one function with the longest timeout; the state machine cuts
    // this agent at its own timeoutSeconds and cannot stop the Lambda, so the agent must stop itself.
    let late: Promise<unknown> = Promise.resolve();
    const short = defineAgent({
      name: 'short',
      run: (ctx) =>
        new Promise<{ summary: string }>((resolve) => {
          setTimeout(() => {
            late = ctx.broker.placeOrder({ cycleId: 'cycle-short', agent: 'short', symbol: 'MSFT', side: 'BUY', qty: 1 }).catch((err: Error) => err.name);
            resolve({ summary: 'late' });
          }, 1_200);
        }),
    });
    const started = Date.now();
    // timeoutSeconds 1 -> deadline 900 ms (10 % reserve), although the Lambda has 300 s left.
    await expect(short(agentInput('short', { cycleId: 'cycle-short', timeoutSeconds: 1 }), { getRemainingTimeInMillis: () => 300_000 })).rejects.toMatchObject({ name: 'AgentTimeout' });
    expect(Date.now() - started).toBeLessThan(1_150);
    await new Promise((r) => setTimeout(r, 400));
    expect(await late).toBe('AgentTimeout'); // the raw broker refuses too
    expect(await listCycleOrders(db.doc, db.tables.Ledger, 'cycle-short')).toEqual([]);
  });

  it('refuses orders from a run that already timed out', async () => {
    let late: Promise<unknown> = Promise.resolve();
    const lagging = defineAgent({
      name: 'lagging',
      run: (ctx) =>
        new Promise<{ summary: string }>((resolve) => {
          setTimeout(() => {
            late = ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 1 }).catch((err: Error) => err.name);
            resolve({ summary: 'late' });
          }, 120);
        }),
    });
    await expect(lagging(agentInput('lagging', { cycleId: 'cycle-late' }), { getRemainingTimeInMillis: () => 40 })).rejects.toMatchObject({ name: 'AgentTimeout' });
    await new Promise((r) => setTimeout(r, 200));
    expect(await late).toBe('AgentTimeout');
    expect(await listCycleOrders(db.doc, db.tables.Ledger, 'cycle-late')).toEqual([]);
  });

  it('throws SystemHalted before the order when the halt flag is set', async () => {
    await clearLedger(db);
    const trader = defineAgent({
      name: 'trader',
      async run(ctx) {
        await ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 1 });
        return { summary: 'ordered' };
      },
    });
    await setHalted(db, true);
    try {
      await expect(trader(agentInput('trader', { cycleId: 'cycle-halt' }))).rejects.toMatchObject({ name: 'SystemHalted', message: expect.stringMatching(/test halt/) });
      expect(await listCycleOrders(db.doc, db.tables.Ledger, 'cycle-halt')).toEqual([]);
    } finally {
      await setHalted(db, false);
    }
    expect((await trader(agentInput('trader', { cycleId: 'cycle-halt' }))).status).toBe('SUCCEEDED');
    expect(await listCycleOrders(db.doc, db.tables.Ledger, 'cycle-halt')).toHaveLength(1);
  });
});
