/** defineAgent, the agent contract helper, with real DynamoDB Local tables and the real market data. */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { defineAgent, numberParam } from '../../lambdas/shared/agent-kit/define-agent';
import { listCycleOrders } from '../../lambdas/shared/trading/ledger';
import { loadMarketData } from '../../lambdas/shared/trading/market-data';
import { DOW_FILE } from '../trading/support';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { agentInput, setHalted, useEnv } from './support';

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
    return {
      summary: `echo at ${ctx.feed.asOf}`,
      metrics: { deps: Object.keys(ctx.deps).length },
      output: { seen: ctx.deps.upstream ?? null, asOf: ctx.feed.asOf },
    };
  },
});

describe('defineAgent', () => {
  it('runs the agent and returns its output in the AgentResult; the agent itself writes nothing', async () => {
    const result = await echo(agentInput('echo', { attempt: 2 }));
    expect(result).toMatchObject({
      agent: 'echo',
      cycleId: 'cycle-1',
      status: 'SUCCEEDED',
      summary: `echo at ${BAR_260}`,
      metrics: { deps: 0 },
      attempt: 2,
      orders: [],
      output: { seen: null, asOf: BAR_260 },
    });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    const stored = await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId: 'cycle-1', sk: 'OUTPUT#echo' } }));
    expect(stored.Item).toBeUndefined(); // the order gateway stores outputs, under the work item's name
  });

  it("hands dependencies' outputs of this cycle to run", async () => {
    await db.doc.send(new PutCommand({ TableName: db.tables.Cycles, Item: { cycleId: 'cycle-deps', sk: 'OUTPUT#upstream', output: { x: 1 } } }));
    const result = await echo(agentInput('echo', { cycleId: 'cycle-deps', dependsOn: ['upstream'] }));
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { seen: unknown }).seen).toEqual({ x: 1 });
  });

  it('placeOrder proposes: orders are numbered in call order (30 at once with Promise.all), validated, and carried in the result', async () => {
    const burst = defineAgent({
      name: 'burst',
      async run(ctx) {
        const receipts = await Promise.all(Array.from({ length: 30 }, () => ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 1 })));
        return { summary: `${receipts.length} proposed` };
      },
    });
    const result = await burst(agentInput('burst', { cycleId: 'cycle-burst' }));
    expect(result.orders).toHaveLength(30);
    expect(result.orders!.map((o) => o.clientOrderId)).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    expect(await listCycleOrders(db.doc, db.tables.Ledger, 'cycle-burst')).toEqual([]);
    const bad = defineAgent({ name: 'bad', run: async (ctx) => (await ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 1.5 }), { summary: 'x' }) });
    await expect(bad(agentInput('bad'))).rejects.toMatchObject({ name: 'AgentOutputInvalid', message: expect.stringMatching(/order 1 is invalid at qty/) });
    const twice = defineAgent({
      name: 'twice',
      run: async (ctx) => {
        await ctx.placeOrder({ symbol: 'KO', side: 'BUY', qty: 1, clientOrderId: 'a' });
        await ctx.placeOrder({ symbol: 'GE', side: 'BUY', qty: 1, clientOrderId: 'a' });
        return { summary: 'x' };
      },
    });
    await expect(twice(agentInput('twice'))).rejects.toMatchObject({ name: 'AgentOutputInvalid', message: expect.stringMatching(/used twice/) });
  });

  it('a result over its hard limits is AgentResultTooLarge naming the limit (20,000 metrics; a 1 MB output)', async () => {
    const many = defineAgent({
      name: 'many',
      run: async () => ({ summary: 'x', metrics: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`m${i}`, i])) }),
    });
    await expect(many(agentInput('many'))).rejects.toMatchObject({
      name: 'AgentResultTooLarge',
      message: expect.stringMatching(/20000 metrics exceed the limit of 100/),
    });
    const huge = defineAgent({ name: 'huge', run: async () => ({ summary: 'x', output: 'y'.repeat(1_000_000) }) });
    await expect(huge(agentInput('huge'))).rejects.toMatchObject({ name: 'AgentResultTooLarge', message: expect.stringMatching(/outputBytes/) });
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
    const wrong = defineAgent<{ n: number }>({
      name: 'wrong',
      outputSchema: z.object({ n: z.number() }),
      run: async () => ({ summary: 'x', output: { n: 'one' } as unknown as { n: number } }),
    });
    await expect(wrong(agentInput('wrong'))).rejects.toMatchObject({ name: 'AgentOutputInvalid', message: expect.stringMatching(/output\.n/) });
    const nan = defineAgent({ name: 'nan', run: async () => ({ summary: 'x', metrics: { m: Number.NaN } }) });
    await expect(nan(agentInput('nan'))).rejects.toMatchObject({ name: 'AgentOutputInvalid' });
  });

  it("throws AgentTimeout when run outlasts the Lambda context's remaining time", async () => {
    const slow = defineAgent({ name: 'slow', run: () => new Promise<{ summary: string }>((resolve) => setTimeout(() => resolve({ summary: 'late' }), 5_000)) });
    await expect(slow(agentInput('slow'), { getRemainingTimeInMillis: () => 60 })).rejects.toMatchObject({
      name: 'AgentTimeout',
      message: expect.stringMatching(/within 54 ms/),
    });
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
            late = ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 1 }).catch((err: Error) => err.name);
            resolve({ summary: 'late' });
          }, 1_200);
        }),
    });
    // timeoutSeconds 1 -> deadline 900 ms (10 % reserve), although the Lambda has 300 s left.
    await expect(short(agentInput('short', { cycleId: 'cycle-short', timeoutSeconds: 1 }), { getRemainingTimeInMillis: () => 300_000 })).rejects.toMatchObject({
      name: 'AgentTimeout',
      message: expect.stringMatching(/within 900 ms/),
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(await late).toBe('AgentTimeout');
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
    await expect(lagging(agentInput('lagging', { cycleId: 'cycle-late' }), { getRemainingTimeInMillis: () => 40 })).rejects.toMatchObject({
      name: 'AgentTimeout',
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await late).toBe('AgentTimeout');
    expect(await listCycleOrders(db.doc, db.tables.Ledger, 'cycle-late')).toEqual([]);
  });

  it('assertNotHalted throws SystemHalted naming the halt reason while the flag is set', async () => {
    const careful = defineAgent({
      name: 'careful',
      async run(ctx) {
        await ctx.assertNotHalted();
        await ctx.placeOrder({ symbol: 'MSFT', side: 'BUY', qty: 1 });
        return { summary: 'proposed' };
      },
    });
    await setHalted(db, true);
    try {
      await expect(careful(agentInput('careful', { cycleId: 'cycle-halt' }))).rejects.toMatchObject({
        name: 'SystemHalted',
        message: expect.stringMatching(/test halt/),
      });
    } finally {
      await setHalted(db, false);
    }
    expect((await careful(agentInput('careful', { cycleId: 'cycle-halt' }))).orders).toHaveLength(1);
  });
});

describe('defineAgent params schema', () => {
  const sized = defineAgent({
    name: 'sized',
    params: z.strictObject({ positionUsd: z.number().positive().default(1_000), symbols: z.array(z.string()).default(['MSFT']) }),
    async run(ctx) {
      return { summary: `${ctx.params.positionUsd} USD in ${ctx.params.symbols.join(',')}`, output: ctx.params };
    },
  });

  it('hands run the parsed params with defaults applied', async () => {
    const result = await sized(agentInput('sized', { params: { symbols: ['IBM'] } }));
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ positionUsd: 1_000, symbols: ['IBM'] });
  });

  it('refuses a typo in params with its path (AgentInputInvalid, a deterministic failure) instead of using the default', async () => {
    await expect(sized(agentInput('sized', { params: { positonUsd: 5 } }))).rejects.toMatchObject({
      name: 'AgentInputInvalid',
      message: 'Agent sized: params are invalid at params: Unrecognized key: "positonUsd" (agents[].params in the config)',
    });
    await expect(sized(agentInput('sized', { params: { positionUsd: -1 } }))).rejects.toMatchObject({
      name: 'AgentInputInvalid',
      message: expect.stringContaining('params.positionUsd'),
    });
  });

  it('exposes the schema on the handler (synth checks the config against it); an agent without one has none', () => {
    expect(sized.paramsSchema?.safeParse({ positionUsd: 3 }).success).toBe(true);
    expect(echo.paramsSchema).toBeUndefined();
  });
});

describe('numberParam (params of an agent without a schema)', () => {
  it('reads a number, falls back when absent, and refuses a non-number with the param named', () => {
    expect(numberParam({ window: 30 }, 'window', 50)).toBe(30);
    expect(numberParam({}, 'window', 50)).toBe(50);
    expect(() => numberParam({ window: 'thirty' }, 'window', 50)).toThrow('Parameter window must be a number, got "thirty"');
  });
});
