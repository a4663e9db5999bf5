/**
 * ListExecutions is eventually consistent, locally too: a stopped execution stays listed RUNNING for
 * `listLagMs` (simulated), and the Master's verification polls until the list catches up instead of
 * reporting a correct halt as incomplete.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFault } from '../../local/faults';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';
import { e2eConfig, entered } from '../e2e/support';

jest.setTimeout(60_000);

describe('ListExecutions lag', () => {
  let rt: LocalRuntime | undefined;
  afterAll(() => rt?.close());

  it('a halt of a running cycle verifies after the list catches up (lag 20 s simulated)', async () => {
    const config = e2eConfig();
    rt = await startLocalRuntime({
      config,

      faults: [parseFault('trading=timeout')],
      quiet: true,
      save: false,
      listLagMs: 20_000,
      // The halt must land while trading hangs (300 s simulated): at scale 100 that is 3 s wall, not 0.3 s, on a loaded machine.
      timeScale: 100,
      stateDir: mkdtempSync(join(tmpdir(), 'lag-')),
    });
    const running = rt.startExecution('lagging', { source: 'operator', requestedBy: 'test' });
    const started = (): boolean => entered(rt!.executionEvents('lagging')).includes('Run strategy agent:trading');
    for (let i = 0; i < 500 && !started(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(started()).toBe(true);
    const t0 = rt.clock.now();
    const halt = (await rt.invokeOperator({ action: 'halt', reason: 'lag drill' }, 'operator:test')) as Record<string, any>;
    expect(halt).toMatchObject({ action: 'HALT', changed: true, verified: { ok: true, noRunningExecutions: true }, errors: [] });
    // The stop happened at once; the verification waited (on the simulated clock) for the list to stop showing it.
    expect(halt.stoppedExecutions).toEqual([expect.stringContaining('lagging')]);
    expect(rt.clock.now() - t0).toBeGreaterThanOrEqual(20_000);
    expect((await running).status).toBe('HALTED');
  });
});
