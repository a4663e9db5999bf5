/**
 * TEST DOUBLE: an in-memory implementation of KillSwitchPorts (a tiny scheduler + a list of
 * executions + captured notifications and events). It exists because the local runtime's
 * real scheduler/executions were not written yet when these tests were; the integrator adds
 * the same scenarios against the local runtime's ports.
 *
 * `failOn` makes a named method throw, to test partial halts.
 */
import type { KillSwitchPorts, MasterEventType, RunningExecution, ScheduleRef } from '../../lambdas/master/ports';

export class InMemoryPlatformPorts implements KillSwitchPorts {
  schedules: ScheduleRef[];
  executions: Array<RunningExecution & { status: 'RUNNING' | 'ABORTED'; cause?: string }>;
  notifications: Array<{ subject: string; message: string }> = [];
  events: Array<{ detailType: MasterEventType; detail: Record<string, unknown> }> = [];
  /** Method name -> error to throw from it. */
  failOn = new Map<keyof KillSwitchPorts, Error>();
  /** Calls per method (to assert idempotency: no writes when nothing needs changing). */
  calls: Record<string, number> = {};

  constructor(schedules: Array<Omit<ScheduleRef, 'enabled'> & { enabled?: boolean }>, runningNames: string[] = []) {
    this.schedules = schedules.map((s) => ({ enabled: true, ...s }));
    this.executions = runningNames.map((name) => ({ executionArn: `arn:aws:states:us-east-1:000000000000:execution:Cycle:${name}`, name, status: 'RUNNING' }));
  }

  private enter(method: keyof KillSwitchPorts): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const err = this.failOn.get(method);
    if (err) throw err;
  }

  arnOf(name: string): string {
    return `arn:aws:states:us-east-1:000000000000:execution:Cycle:${name}`;
  }

  async listRunningExecutions(): Promise<RunningExecution[]> {
    this.enter('listRunningExecutions');
    return this.executions
      .filter((e) => e.status === 'RUNNING')
      .map(({ executionArn, name, startDate }) => ({ executionArn, name, ...(startDate ? { startDate } : {}) }));
  }

  async stopExecution(executionArn: string, cause: string): Promise<void> {
    this.enter('stopExecution');
    const e = this.executions.find((x) => x.executionArn === executionArn);
    if (!e) throw Object.assign(new Error(`no execution ${executionArn}`), { name: 'ExecutionDoesNotExist' });
    if (e.status === 'RUNNING') {
      e.status = 'ABORTED';
      e.cause = cause;
    }
  }

  async listSchedules(): Promise<ScheduleRef[]> {
    this.enter('listSchedules');
    return this.schedules.map((s) => ({ ...s }));
  }

  async setScheduleEnabled(group: string, name: string, enabled: boolean): Promise<void> {
    this.enter('setScheduleEnabled');
    const s = this.schedules.find((x) => x.group === group && x.name === name);
    if (!s) throw Object.assign(new Error(`no schedule ${group}/${name}`), { name: 'ResourceNotFoundException' });
    s.enabled = enabled;
  }

  async notify(subject: string, message: string): Promise<void> {
    this.enter('notify');
    this.notifications.push({ subject, message });
  }

  async publishEvent(detailType: MasterEventType, detail: Record<string, unknown>): Promise<void> {
    this.enter('publishEvent');
    this.events.push({ detailType, detail });
  }
}
