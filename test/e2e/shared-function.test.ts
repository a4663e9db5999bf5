/**
 * Agents that share one function (same code entry) run as separate agents: each gets its own
 * payload, outcome and breaker, and a fault injected for one of them hits only that one.
 * Also checks that the supervisor reads its registry from the file bundled with it.
 */
import { parseFault } from '../../local/faults';
import type { LocalRuntime } from '../../local/runtime';
import { e2eConfig, start, E2E_TIMEOUT } from './support';

jest.setTimeout(E2E_TIMEOUT);

describe('three agents on one shared function', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it('runs each agent, and --fail grid-1=throw fails only grid-1', async () => {
    const config = e2eConfig((c) => {
      c.agents = Array.from({ length: 3 }, (_, i) => ({ name: `grid-${i}`, entry: 'bench/fixtures/synthetic-agent.ts', params: { durationMs: 1 } }));
    });
    rt = await start({ config, faults: [parseFault('grid-1=throw')] });
    expect(process.env.SUPERVISOR_SETTINGS).toBeUndefined();
    expect(process.env.SUPERVISOR_SETTINGS_FILE).toMatch(/supervisor-settings\.json$/);
    const [cycle] = await rt.runSlots(1);
    expect(cycle.status).toBe('SUCCEEDED');
    expect(Object.fromEntries(cycle.agents.map((a) => [a.name, a.outcome]))).toEqual({ 'grid-0': 'SUCCEEDED', 'grid-1': 'FAILED', 'grid-2': 'SUCCEEDED' });
    const fns = new Set(
      rt
        .invocations()
        .filter((i) => i.target.startsWith('grid-'))
        .map((i) => i.function),
    );
    expect(fns.size).toBe(1);
  });
});
