/**
 * The agent worker pool: bundling, warm reuse, errors by name, a crashed worker, termination at the
 * timeout, output capture, and threads parked by a closed pool re-used as new sandboxes.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentWorkerPool, bundleAgentWorker, bundleWorkerHost } from '../../local/agent-workers';
import { lambdaContext } from '../../local/lambda-adapter';
import { SimClock } from '../../local/sim-clock';
import { parkedWorkerCount, terminateParkedWorkers } from '../../local/worker-parking';

const ENTRY = join(__dirname, '..', 'fixtures', 'worker-probe-agent.ts');
jest.setTimeout(30_000);

describe('AgentWorkerPool', () => {
  let pool: AgentWorkerPool;
  let clock: SimClock;
  let host: string;
  const output: Array<{ text: string; stream: string }> = [];
  const ctx = () => lambdaContext({ name: 'probe', arn: 'arn:aws:lambda:local:000000000000:function:probe', timeoutSeconds: 30 }, clock);

  beforeAll(async () => {
    clock = new SimClock({ startMs: 0, timeScale: 1000 });
    const bundle = await bundleAgentWorker(ENTRY);
    expect(await bundleAgentWorker(ENTRY)).toBe(bundle); // same content, same file
    host = await bundleWorkerHost();
    pool = new AgentWorkerPool({ bundle, host, functionName: 'probe', env: { PROBE: '1' }, clock, onOutput: (text, stream) => output.push({ text, stream }) });
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
    const other = new AgentWorkerPool({ bundle: await bundleAgentWorker(ENTRY), host, functionName: 'probe', env: {}, clock, onOutput: () => undefined });
    await other.close();
    await expect(other.invoke({ mode: 'ok' }, ctx())).rejects.toMatchObject({ name: 'LocalRuntimeClosed' });
  });
});

describe('parked threads (worker-parking.ts)', () => {
  let clock: SimClock;
  const ctx = () => lambdaContext({ name: 'probe', arn: 'arn:aws:lambda:local:000000000000:function:probe', timeoutSeconds: 30 }, clock);
  beforeAll(() => (clock = new SimClock({ startMs: 0, timeScale: 1000 })));
  afterAll(async () => {
    await terminateParkedWorkers();
    clock.dispose();
  });

  it("a closed pool parks its idle thread; the next pool's sandbox runs on it with fresh module state and exactly its own environment", async () => {
    await terminateParkedWorkers();
    const [bundle, host] = await Promise.all([bundleAgentWorker(ENTRY), bundleWorkerHost()]);
    const first = new AgentWorkerPool({ bundle, host, functionName: 'a', env: { PROBE: 'first', OTHER: 'x' }, clock, onOutput: () => undefined });
    await first.invoke({ mode: 'count' }, ctx());
    const { threadId } = (await first.invoke({ mode: 'count' }, ctx())) as { threadId: number };
    await first.close();
    expect(parkedWorkerCount()).toBe(1);

    // Another function of the same code does not get the thread; the same function does.
    const other = new AgentWorkerPool({ bundle, host, functionName: 'b', env: {}, clock, onOutput: () => undefined });
    expect(((await other.invoke({ mode: 'count' }, ctx())) as { threadId: number }).threadId).not.toBe(threadId);
    await other.close();
    expect(parkedWorkerCount()).toBe(2);
    const second = new AgentWorkerPool({ bundle, host, functionName: 'a', env: { PROBE: 'second' }, clock, onOutput: () => undefined });
    expect(await second.invoke({ mode: 'count' }, ctx())).toEqual({ invocations: 1, threadId }); // the same thread, a new module
    expect(await second.invoke({ mode: 'env' }, ctx())).toEqual({ probe: 'second', threadId }); // OTHER is gone
    expect(second.coldStarts).toBe(1);
    expect(parkedWorkerCount()).toBe(1);
    await second.close();
    await terminateParkedWorkers();
    expect(parkedWorkerCount()).toBe(0);
  });

  it("a parked thread whose leftover timer throws is dropped, not the process; a re-used thread's leftover output is not the new runtime's", async () => {
    await terminateParkedWorkers();
    const [bundle, host] = await Promise.all([bundleAgentWorker(ENTRY), bundleWorkerHost()]);
    const thrower = new AgentWorkerPool({ bundle, host, functionName: 't', env: {}, clock, onOutput: () => undefined });
    await thrower.invoke({ mode: 'late-throw' }, ctx());
    await thrower.close();
    expect(parkedWorkerCount()).toBe(1);
    await new Promise((r) => setTimeout(r, 400)); // the leftover timer throws in the parked thread
    expect(parkedWorkerCount()).toBe(0);

    const first = new AgentWorkerPool({ bundle, host, functionName: 'l', env: {}, clock, onOutput: () => undefined });
    const { threadId } = (await first.invoke({ mode: 'late-log' }, ctx())) as { threadId: number };
    await first.close();
    const seen: string[] = [];
    const next = new AgentWorkerPool({ bundle, host, functionName: 'l', env: {}, clock, onOutput: (text) => seen.push(text) });
    expect(((await next.invoke({ mode: 'count' }, ctx())) as { threadId: number }).threadId).toBe(threadId);
    await new Promise((r) => setTimeout(r, 400)); // the earlier sandbox's timer prints in the re-used thread
    expect(seen.join('')).not.toContain('late');
    await next.close();
    await terminateParkedWorkers();
  });

  it('a thread that ran out its timeout or crashed is not parked', async () => {
    await terminateParkedWorkers();
    const [bundle, host] = await Promise.all([bundleAgentWorker(ENTRY), bundleWorkerHost()]);
    const pool = new AgentWorkerPool({ bundle, host, functionName: 'a', env: {}, clock, onOutput: () => undefined });
    await expect(pool.invoke({ mode: 'exit' }, ctx())).rejects.toMatchObject({ name: 'Runtime.ExitError' });
    const abort = new AbortController();
    const hung = pool.invoke({ mode: 'hang' }, ctx(), abort.signal);
    abort.abort();
    await expect(hung).rejects.toMatchObject({ name: 'States.Timeout' });
    await pool.close();
    expect(parkedWorkerCount()).toBe(0);
  });

  it("an agent whose module throws at load fails each invocation with the load's error and is loaded again at the next", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bad-agent-'));
    const entry = join(dir, 'bad-agent.ts');
    writeFileSync(entry, "const e = new Error('no config at load'); e.name = 'InitFailed'; throw e;\nexport const handler = async () => 1;\n");
    const [bundle, host] = await Promise.all([bundleAgentWorker(entry, dir), bundleWorkerHost(dir)]);
    const pool = new AgentWorkerPool({ bundle, host, functionName: 'bad', env: {}, clock, onOutput: () => undefined });
    await expect(pool.invoke({}, ctx())).rejects.toMatchObject({ name: 'InitFailed', message: 'no config at load' });
    await expect(pool.invoke({}, ctx())).rejects.toMatchObject({ name: 'InitFailed' });
    expect(pool.coldStarts).toBe(1); // the same sandbox, its init re-run
    await pool.close();
  });
});
