/** The agent worker pool: bundling, warm reuse, errors by name, a crashed worker, termination at the timeout, output capture. */
import { join } from 'node:path';
import { AgentWorkerPool, bundleAgentWorker } from '../../local/agent-workers';
import { lambdaContext } from '../../local/lambda-adapter';
import { SimClock } from '../../local/sim-clock';

const ENTRY = join(__dirname, '..', 'fixtures', 'worker-probe-agent.ts');
jest.setTimeout(30_000);

describe('AgentWorkerPool', () => {
  let pool: AgentWorkerPool;
  let clock: SimClock;
  const output: Array<{ text: string; stream: string }> = [];
  const ctx = () => lambdaContext({ name: 'probe', arn: 'arn:aws:lambda:local:000000000000:function:probe', timeoutSeconds: 30 }, clock);

  beforeAll(async () => {
    clock = new SimClock({ startMs: 0, timeScale: 1000 });
    const bundle = await bundleAgentWorker(ENTRY);
    expect(await bundleAgentWorker(ENTRY)).toBe(bundle); // same content, same file
    pool = new AgentWorkerPool({ bundle, functionName: 'probe', env: { PROBE: '1' }, clock, onOutput: (text, stream) => output.push({ text, stream }) });
  });
  afterAll(async () => {
    await pool.close();
    clock.dispose();
  });

  it('runs the handler in a worker thread, with the Lambda context; a warm sandbox keeps its module state', async () => {
    const first = (await pool.invoke({ mode: 'ok', x: 1 }, ctx())) as { event: unknown; threadId: number; remainingMs: number };
    expect(first.event).toEqual({ mode: 'ok', x: 1 });
    expect(first.threadId).toBeGreaterThan(0); // not the main thread (0)
    expect(first.remainingMs).toBeGreaterThan(0);
    expect(first.remainingMs).toBeLessThanOrEqual(30_000);
    const a = (await pool.invoke({ mode: 'count' }, ctx())) as { invocations: number; threadId: number };
    const b = (await pool.invoke({ mode: 'count' }, ctx())) as { invocations: number; threadId: number };
    expect([b.threadId, b.invocations]).toEqual([a.threadId, a.invocations + 1]);
    expect(pool.coldStarts).toBe(1);
  });

  it("sends the worker's output to onOutput before the result", async () => {
    output.length = 0;
    await pool.invoke({ mode: 'log' }, ctx());
    const text = output.map((o) => o.text).join('');
    expect(text).toContain('"message":"probe"');
    expect(text).toContain('plain text\n');
    expect(output.every((o) => o.stream === 'stdout')).toBe(true);
  });

  it("rejects with the handler's error name and message, and the sandbox stays usable", async () => {
    await expect(pool.invoke({ mode: 'throw' }, ctx())).rejects.toMatchObject({ name: 'ProbeError', message: 'probe failed' });
    await expect(pool.invoke({ mode: 'ok' }, ctx())).resolves.toMatchObject({ event: { mode: 'ok' } });
  });

  it('a worker that exits fails its invocation with Runtime.ExitError; the next one gets a fresh worker', async () => {
    const before = pool.coldStarts;
    await expect(pool.invoke({ mode: 'exit' }, ctx())).rejects.toMatchObject({ name: 'Runtime.ExitError' });
    await expect(pool.invoke({ mode: 'ok' }, ctx())).resolves.toMatchObject({ event: { mode: 'ok' } });
    expect(pool.coldStarts).toBe(before + 1);
  });

  it('an aborted invocation (its timeout) terminates the worker', async () => {
    const abort = new AbortController();
    const hung = pool.invoke({ mode: 'hang' }, ctx(), abort.signal);
    const before = pool.coldStarts;
    setTimeout(() => abort.abort(), 50);
    await expect(hung).rejects.toMatchObject({ name: 'States.Timeout' });
    await expect(pool.invoke({ mode: 'count' }, ctx())).resolves.toMatchObject({ invocations: 1 }); // a new sandbox
    expect(pool.coldStarts).toBe(before + 1);
  });

  it('refuses invocations once closed', async () => {
    const other = new AgentWorkerPool({ bundle: await bundleAgentWorker(ENTRY), functionName: 'probe', env: {}, clock, onOutput: () => undefined });
    await other.close();
    await expect(other.invoke({ mode: 'ok' }, ctx())).rejects.toMatchObject({ name: 'LocalRuntimeClosed' });
  });
});
