/** The local kill switch ports (the KillSwitchPorts interface) on real local executions and schedules. */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KillSwitchPorts } from '../../lambdas/master/ports';
import { LocalExecutions } from '../../local/executions';
import { createLocalKillSwitchPorts, localMasterDeps } from '../../local/local-ports';
import type { Notification } from '../../local/report';
import type { LocalSchedule } from '../../local/schedules';
import { SimClock } from '../../local/sim-clock';

const schedule = (name: string): LocalSchedule => ({
  name,
  group: 'default',
  expression: 'rate(15 minutes)',
  timezone: 'UTC',
  state: 'ENABLED',
  targetArn: 'arn:aws:scheduler:::aws-sdk:sfn:startExecution',
  input: '{}',
});

describe('local kill switch ports', () => {
  const clock = new SimClock({ startMs: Date.parse('2026-01-05T14:30:00.000Z'), timeScale: 1000 });
  // One Task that waits until stopped: a cycle in flight. Its handler settles when the file ends, so the
  // interpreter's own timeout timer for the task is cleared (no open handle).
  let release: () => void = () => undefined;
  const inFlight = new Promise<void>((r) => (release = r));
  afterAll(() => {
    release();
    clock.dispose();
  });
  const executions = new LocalExecutions({
    definition: { StartAt: 'Run', States: { Run: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } } },
    stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:Cycle',
    clock,
    taskStates: ['Run'],
    taskHandler: () => () => inFlight,
    listLagMs: 0,
  });
  const schedules = [schedule('cycle-a'), schedule('cycle-b')];
  const notifications: Notification[] = [];
  const ports: KillSwitchPorts = createLocalKillSwitchPorts({ executions: () => executions, schedules, notifications, simIso: () => clock.iso() });

  it('lists RUNNING executions and stops one (ABORTED)', async () => {
    const exec = executions.start('cycle-1', {});
    const listed = await ports.listRunningExecutions();
    expect(listed).toEqual([{ executionArn: exec.arn, name: 'cycle-1', startDate: new Date(exec.startMs).toISOString() }]);
    await ports.stopExecution(exec.arn, 'kill switch');
    await exec.done;
    expect(exec.status).toBe('ABORTED');
    expect(await ports.listRunningExecutions()).toEqual([]);
  });

  it('lists and switches schedules; a missing one is ResourceNotFoundException', async () => {
    await ports.setScheduleEnabled('default', 'cycle-b', false);
    expect(await ports.listSchedules()).toEqual([
      { group: 'default', name: 'cycle-a', enabled: true },
      { group: 'default', name: 'cycle-b', enabled: false },
    ]);
    await expect(ports.setScheduleEnabled('default', 'nope', false)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('notify and publishEvent record SNS and EventBridge notifications at simulated time (subject cut to 100)', async () => {
    await ports.notify('x'.repeat(150), 'halted');
    await ports.publishEvent('SystemHalted', { reason: 'r' });
    expect(notifications.map((n) => [n.channel, n.subject.length, n.message])).toEqual([
      ['sns', 100, 'halted'],
      ['eventbridge', 'SystemHalted'.length, '{"reason":"r"}'],
    ]);
    expect(Date.parse(notifications[0].at)).toBeGreaterThanOrEqual(Date.parse('2026-01-05T14:30:00.000Z'));
  });

  it('localMasterDeps: the Master on these ports, order ports when the env names a Ledger, the simulated clock; CONTROL_TABLE required', async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'local', endpoint: 'http://127.0.0.1:9' }));
    const base = { executions: () => executions, schedules, notifications, simIso: () => clock.iso(), doc, masterDoc: doc, clock, cfnResponses: [] };
    const deps = localMasterDeps({ ...base, env: { CONTROL_TABLE: 'Control', LEDGER_TABLE: 'Ledger', ALARM_POLICY: '{"FleetErrors":"halt"}' } });
    expect(deps.controlTable).toBe('Control');
    expect(deps.alarmPolicy).toEqual({ FleetErrors: 'halt' });
    expect(typeof deps.ports.cancelWorkingOrders).toBe('function');
    expect(Math.abs(deps.now!() - clock.now())).toBeLessThan(5_000);
    await deps.respond!('local://cfn', { Status: 'SUCCESS' } as never);
    expect(base.cfnResponses).toEqual([{ url: 'local://cfn', body: { Status: 'SUCCESS' } }]);
    expect(() => localMasterDeps({ ...base, env: {} })).toThrow(/CONTROL_TABLE/);
  });
});
