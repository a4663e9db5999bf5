/**
 * The kill switch against the local runtime's own scheduler and executions (no test double):
 * an operator halt while a cycle is running stops that execution, disables the schedule,
 * verifies both and audits; a second halt changes nothing but the audit trail; resume needs an
 * operator and a reason, and re-enables the schedule.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { parseFault } from '../../local/faults';
import type { LocalRuntime } from '../../local/runtime';
import { entered, start, E2E_TIMEOUT } from './support';

jest.setTimeout(E2E_TIMEOUT);

const operator = (action: string, reason: string, extra: Record<string, unknown> = {}) => ({
  action,
  source: 'operator',
  actor: 'operator:test',
  reason,
  ...extra,
});

describe('kill switch on the local scheduler and executions', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it('halts a running cycle, proves it, is idempotent, and resumes only for an operator with a reason', async () => {
    // trading hangs until its (simulated) 300 s timeout, so the cycle is still running when the halt lands
    // (time scale 100: 3 s wall for the halt to land, not 0.3 s, on a loaded machine).
    rt = await start({ faults: [parseFault('trading=timeout')], timeScale: 100 });
    const running = rt.startExecution('manual-halt-test', { source: 'operator', requestedBy: 'test' });
    for (let i = 0; i < 500 && !entered(rt.executionEvents('manual-halt-test')).includes('Run strategy agent:trading'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(entered(rt.executionEvents('manual-halt-test'))).toContain('Run strategy agent:trading');

    const halt = (await rt.invokeMaster(operator('halt', 'test: breach'))) as Record<string, any>;
    expect(halt).toMatchObject({
      action: 'HALT',
      changed: true,
      verified: { haltFlagSet: true, schedulesDisabled: true, noRunningExecutions: true, ok: true },
    });
    expect(halt.stoppedExecutions).toEqual([expect.stringContaining('manual-halt-test')]);
    expect(halt.timeToHaltMs).toEqual(expect.any(Number));
    const report = await running;
    expect(report).toMatchObject({ status: 'HALTED' });
    expect(rt.executions().find((e) => e.name === 'manual-halt-test')?.status).toBe('ABORTED');
    expect(rt.schedules().every((s) => s.state === 'DISABLED')).toBe(true);
    expect(rt.notifications().some((n) => n.channel === 'eventbridge' && n.subject === 'SystemHalted')).toBe(true);

    // A disabled schedule fires nothing.
    const slots = await rt.runSlots(2);
    expect(slots.map((s) => s.status)).toEqual(['NOT_STARTED', 'NOT_STARTED']);

    const again = (await rt.invokeMaster(operator('halt', 'test: again'))) as Record<string, any>;
    expect(again).toMatchObject({ changed: false, verified: { ok: true } });

    // Resume is the operator function's alone (IAM-authenticated); the Master refuses it even from an operator payload.
    await expect(rt.invokeMaster(operator('resume', 'test: cleared'))).rejects.toMatchObject({ name: 'ResumeRefused' });
    await expect(rt.invokeOperator({ action: 'resume', reason: '' }, 'operator:test')).rejects.toMatchObject({ name: 'ResumeRefused' });
    await expect(rt.invokeMaster({ action: 'resume', source: 'cycle', actor: 'cycle:x', reason: 'auto' })).rejects.toThrow();
    const resume = (await rt.invokeOperator({ action: 'resume', reason: 'test: cleared' }, 'operator:test')) as Record<string, any>;
    expect(resume).toMatchObject({ action: 'RESUME', changed: true });
    expect(rt.schedules().every((s) => s.state === 'ENABLED')).toBe(true);

    const control = (await rt.doc.send(new GetCommand({ TableName: rt.tableEnv.CONTROL_TABLE, Key: { pk: 'control' }, ConsistentRead: true }))).Item!;
    expect(control.halted).toBe(false);
    expect(control.audit.map((a: { action: string; changed: boolean; reason: string }) => [a.action, a.changed, a.reason])).toEqual([
      ['HALT', true, 'test: breach'],
      ['HALT', false, 'already halted: test: again'],
      ['RESUME', true, 'test: cleared'],
    ]);
  });
});
