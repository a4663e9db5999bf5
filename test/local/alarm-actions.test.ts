/** Alarm actions: the Master invoked with CloudWatch's Lambda alarm event, SNS messages, Lambda metrics, a failing Master recorded. */
import { alarmLambdaEvent, alarmSnsMessage, createAlarmActions } from '../../local/alarm-actions';
import type { DeployedAlarm, AlarmTransition } from '../../local/alarms';
import type { Notification } from '../../local/report';

const MASTER = 'arn:aws:lambda:local:000000000000:function:Master';
const TOPIC = 'arn:aws:sns:local:000000000000:alerts';
const spec = (over: Partial<DeployedAlarm> = {}): DeployedAlarm => ({
  name: 'FleetErrors',
  namespace: 'AgentFleet',
  metricName: 'AgentErrors',
  dims: { service: 'agent-fleet' },
  statistic: 'Sum',
  periodS: 60,
  evaluationPeriods: 1,
  datapointsToAlarm: 1,
  threshold: 1,
  comparison: 'GreaterThanOrEqualToThreshold',
  treatMissing: 'notBreaching',
  alarmActions: [MASTER, TOPIC],
  okActions: [TOPIC],
  description: 'errors',
  ...over,
});
const t = (to: AlarmTransition['to'], from: AlarmTransition['from'] = 'OK'): AlarmTransition => ({
  alarm: 'FleetErrors',
  from,
  to,
  at: Date.parse('2026-01-05T14:31:00.000Z'),
  reason: 'Threshold crossed',
});

describe('alarm actions', () => {
  it("the Master's event is CloudWatch's Lambda alarm action event", () => {
    const e = alarmLambdaEvent(spec(), t('ALARM')) as {
      source: string;
      alarmArn: string;
      alarmData: { alarmName: string; state: { value: string; timestamp: string }; previousState: { value: string } };
    };
    expect(e.source).toBe('aws.cloudwatch');
    expect(e.alarmArn).toBe('arn:aws:cloudwatch:local:000000000000:alarm:FleetErrors');
    expect(e.alarmData).toMatchObject({
      alarmName: 'FleetErrors',
      state: { value: 'ALARM', timestamp: '2026-01-05T14:31:00.000Z' },
      previousState: { value: 'OK' },
    });
  });

  it('ALARM invokes the Master (Invocations 1, Errors 0) then notifies SNS; OK runs the OK actions only', async () => {
    const invoked: unknown[] = [];
    const metrics: string[] = [];
    const notifications: Notification[] = [];
    const transitions: AlarmTransition[] = [];
    const run = createAlarmActions({
      alarms: [spec()],
      master: { arn: MASTER, name: 'Master', invoke: async (e) => void invoked.push(e) },
      putLambdaMetric: (name, fn, v) => metrics.push(`${fn}.${name}=${v}`),
      simIso: () => 'T',
      notifications,
      transitions,
    });
    await run(t('ALARM'));
    expect(invoked).toHaveLength(1);
    expect(metrics).toEqual(['Master.Invocations=1', 'Master.Errors=0']);
    expect(notifications).toEqual([alarmSnsMessage(spec(), t('ALARM'))]);
    expect(JSON.parse(notifications[0].message)).toMatchObject({ AlarmName: 'FleetErrors', NewStateValue: 'ALARM', OldStateValue: 'OK' });
    await run(t('OK', 'ALARM'));
    expect(invoked).toHaveLength(1);
    expect(notifications.map((n) => n.subject)).toEqual(['ALARM: "FleetErrors"', 'OK: "FleetErrors"']);
    expect(transitions).toHaveLength(2);
  });

  it('a Master that throws counts an Error and is recorded; the later actions still run', async () => {
    const metrics: string[] = [];
    const notifications: Notification[] = [];
    const run = createAlarmActions({
      alarms: [spec()],
      master: {
        arn: MASTER,
        name: 'Master',
        invoke: async () => {
          const e = new Error('flag write failed');
          e.name = 'KillSwitchIncomplete';
          throw e;
        },
      },
      putLambdaMetric: (name, fn, v) => metrics.push(`${fn}.${name}=${v}`),
      simIso: () => 'T',
      notifications,
      transitions: [],
    });
    await run(t('ALARM'));
    expect(metrics).toEqual(['Master.Invocations=1', 'Master.Errors=1']);
    expect(notifications.map((n) => [n.channel, n.subject])).toEqual([
      ['master', 'Master failed on alarm FleetErrors'],
      ['sns', 'ALARM: "FleetErrors"'],
    ]);
    expect(notifications[0].message).toBe('KillSwitchIncomplete: flag write failed');
  });
});
