/**
 * Agents run isolated (worker threads): a CPU-bound agent costs only its own time. The fixture
 * fleet is the busy agent (`test/fixtures/busy-agent.ts`, a busy loop with no await, timeout 60 s)
 * and two reference agents. The runtime's clock cap is lowered to 1 s, so a busy loop of 3 s is the
 * issue-14 case (15 s of CPU against the default 10 s cap): an in-process busy loop would block the
 * event loop past the cap, the clock would then race at its time scale, and every agent would be cut
 * at its timeout. Asserted on outcomes and simulated durations only.
 */
import type { LocalRuntime } from '../../local/runtime';
import { startLocalRuntime } from '../../local/runtime';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eConfig, E2E_TIMEOUT } from './support';

jest.setTimeout(E2E_TIMEOUT);

const BUSY_MS = 3000;

describe('a CPU-bound agent in its own worker thread', () => {
  let rt: LocalRuntime;
  beforeAll(() => {
    process.env.LOCAL_LOG_LEVEL = 'INFO'; // the agents' "Agent finished" lines are INFO
  });
  afterAll(async () => {
    await rt?.close();
    delete process.env.LOCAL_LOG_LEVEL;
  });

  it('succeeds, and so does every other agent of the cycle; its simulated duration is its computing time, 1:1', async () => {
    const config = e2eConfig((c) => {
      c.agents = [
        { name: 'busy', entry: 'test/fixtures/busy-agent.ts', faultDomain: 'strategy', timeoutSeconds: 60, params: { busyMs: BUSY_MS } },
        { name: 'strategy', faultDomain: 'strategy', timeoutSeconds: 60, params: { fastWindow: 10, slowWindow: 30 } },
        { name: 'sentiment', faultDomain: 'data', timeoutSeconds: 60, params: { window: 50 } },
      ];
    });
    rt = await startLocalRuntime({
      config,

      quiet: true,
      save: false,
      activeCapMs: 1000,
      stateDir: mkdtempSync(join(tmpdir(), 'e2e-isolation-')),
    });
    const [cycle] = await rt.runSlots(1);
    expect(Object.fromEntries(cycle.agents.map((a) => [a.name, a.outcome]))).toEqual({ busy: 'SUCCEEDED', strategy: 'SUCCEEDED', sentiment: 'SUCCEEDED' });
    expect(cycle.status).toBe('SUCCEEDED');

    const agentCalls = rt.invocations().filter((i) => ['busy', 'strategy', 'sentiment'].includes(i.target));
    expect(agentCalls.map((i) => [i.target, i.outcome, i.attempt]).sort()).toEqual([
      ['busy', 'ok', 0],
      ['sentiment', 'ok', 0],
      ['strategy', 'ok', 0],
    ]);
    const busy = agentCalls.find((i) => i.target === 'busy')!;
    const simMs = busy.endMs - busy.startMs;
    // At least its computing time, and the clock did not race while it computed (scaled, it would be ~1000x its wall time).
    expect(simMs).toBeGreaterThanOrEqual(BUSY_MS);
    expect(simMs).toBeLessThan(busy.wallMs + 1000);
    expect(simMs).toBeLessThan(60_000);
    // The agent's log lines came back from its worker, stamped with simulated time.
    const finished = rt
      .handlerLogs()
      .map((l) => JSON.parse(l) as { message?: string; agent?: string; simTime?: string })
      .filter((l) => l.message === 'Agent finished');
    expect(finished.map((l) => l.agent).sort()).toEqual(['busy', 'sentiment', 'strategy']);
    const simTimeOf = (agent: string) => Date.parse(finished.find((l) => l.agent === agent)!.simTime!);
    expect(simTimeOf('busy')).toBeGreaterThanOrEqual(busy.startMs + BUSY_MS);
    expect(simTimeOf('busy')).toBeLessThanOrEqual(busy.endMs);
  });
});
