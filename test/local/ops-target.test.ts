/**
 * The operator command's local target: acts on the state `npm start` saved, with the real Master.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalOpsTarget } from '../../local/ops-target';
import { startLocalRuntime } from '../../local/runtime';
import { e2eConfig } from '../e2e/support';

// Four runtime starts (CPU-bound): generous on 2 cores shared with other runs.
jest.setTimeout(120_000);

describe('openLocalOpsTarget and --resume-state', () => {
  it('halts and resumes the saved system; the state persists across opens and a resumed run continues the slots', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-'));
    const config = e2eConfig();
    const rt = await startLocalRuntime({ config, stateDir: dir, quiet: true });
    const [first] = await rt.runSlots(1);
    expect(first.status).toBe('SUCCEEDED');
    await rt.close();

    const ops = await openLocalOpsTarget(dir);
    const before = await ops.status();
    expect(before.halted).toBe(false);
    expect(before.agents.map((a) => a.name)).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
    expect(before.schedules.every((s) => s.enabled)).toBe(true);
    await ops.halt('maintenance', 'operator:alice');
    const halted = await ops.status();
    expect(halted).toMatchObject({ halted: true, reason: 'maintenance', actor: 'operator:alice' });
    expect(halted.schedules.every((s) => !s.enabled)).toBe(true);
    await ops.close();

    const again = await openLocalOpsTarget(dir);
    expect((await again.status()).halted).toBe(true);
    await again.resume('maintenance done', 'operator:alice');
    const resumed = await again.status();
    expect(resumed.halted).toBe(false);
    expect(resumed.schedules.every((s) => s.enabled)).toBe(true);
    expect(resumed.audit.map((a) => a.action)).toEqual(['HALT', 'RESUME']);
    await again.close();

    const rt2 = await startLocalRuntime({ config, stateDir: dir, quiet: true, fresh: false });
    const [next] = await rt2.runSlots(1);
    expect(next.cycle).toBe(2);
    expect(next.slot).toBe('2026-01-05T14:45:00.000Z');
    expect(next.status).toBe('SUCCEEDED');
    expect((await rt2.report()).agents.trading.executions).toBe(2);
    await rt2.close();
  });

  it('refuses a directory without saved state', async () => {
    await expect(openLocalOpsTarget(mkdtempSync(join(tmpdir(), 'ops-empty-')))).rejects.toThrow(/No local state/);
  });
});
