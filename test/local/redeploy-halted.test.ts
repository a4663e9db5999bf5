/**
 * Redeploy while halted, locally: `--resume-state` re-applies the freshly synthesized template as a
 * CloudFormation update would. A changed schedule takes the template's State (ENABLED), then the
 * update reaches `Custom::ReapplyHalt` and the Master disables it again; no agent runs afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';
import { startLocalRuntime } from '../../local/runtime';

describe('redeploy while halted (local --resume-state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-redeploy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a template change re-enables the schedule, the Master re-applies the halt, and the next slots run no agent', async () => {
    const config = validateConfig(defaultConfig);
    const first = await startLocalRuntime({ config, stateDir: dir, quiet: true });
    // Time starts at the deploy, half a cadence before the first slot: the alarms exist (and are
    // evaluated at whole minutes) from 14:22:30, the first slot is the next one, 14:30.
    const [slot1] = await first.runSlots(1);
    expect(slot1).toMatchObject({ slot: '2026-01-05T14:30:00.000Z', status: 'SUCCEEDED' });
    const firstEvaluation = Math.min(...first.alarmTransitions().map((t) => t.at));
    expect(new Date(firstEvaluation).toISOString()).toBe('2026-01-05T14:23:00.000Z');
    expect(first.alarmTransitions().filter((t) => t.to === 'ALARM')).toEqual([]);
    await first.invokeOperator({ action: 'halt', reason: 'drill' }, 'operator:test');
    expect(first.schedules().map((s) => s.state)).toEqual(['DISABLED']);
    await first.close();

    // The redeploy changes the schedules (cadence 15 -> 30 min): CloudFormation updates them with State ENABLED.
    const changed = validateConfig({ ...defaultConfig, cycle: { ...defaultConfig.cycle, cadenceMinutes: 30 } });
    const second = await startLocalRuntime({ config: changed, stateDir: dir, fresh: false, quiet: true });
    try {
      const deploy = second.notifications().find((n) => n.channel === 'master' && /DEPLOY/.test(n.subject));
      expect(deploy).toBeDefined();
      const result = JSON.parse(deploy!.message);
      expect(result).toMatchObject({ action: 'DEPLOY', requestType: 'Update', halted: true, reapplied: true });
      expect(result.result.disabledSchedules).toEqual(['AgentFleet/AgentFleet-default']);
      const before = second.invocations().length;
      const slots = await second.runSlots(2);
      expect(slots.map((s) => s.status)).toEqual(['NOT_STARTED', 'NOT_STARTED']);
      expect(second.invocations().length).toBe(before);
      const report = await second.report();
      expect(report.system.halted).toBe(true);
      expect(report.schedules).toEqual([{ name: 'AgentFleet-default', state: 'DISABLED' }]);
    } finally {
      await second.close();
    }

    // Unchanged template: CloudFormation touches nothing, the Master is not called, the schedule stays disabled.
    const third = await startLocalRuntime({ config: changed, stateDir: dir, fresh: false, quiet: true });
    try {
      expect(third.notifications().filter((n) => /DEPLOY/.test(n.subject))).toEqual([]);
      expect(third.schedules().map((s) => s.state)).toEqual(['DISABLED']);
    } finally {
      await third.close();
    }
  });
});
