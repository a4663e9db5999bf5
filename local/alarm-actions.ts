/**
 * What happens locally when an alarm changes state: its actions, as CloudWatch runs them.
 *
 * - an action naming the Master function invokes it with the event CloudWatch sends a Lambda
 *   alarm action ({@link alarmLambdaEvent}), counting `AWS/Lambda` Invocations and Errors for it;
 *   a Master that throws is recorded as a notification (CloudWatch does not retry);
 * - an SNS topic action records the message SNS would carry ({@link alarmSnsMessage});
 * - other actions are ignored (this stack has none).
 */
import type { DeployedAlarm, AlarmTransition } from './alarms';
import type { Notification } from './report';

/**
 * The event CloudWatch passes to a Lambda alarm action (CloudWatch User Guide, "Lambda alarm
 * actions"): source `aws.cloudwatch`, the alarm's ARN, and `alarmData` with the new and previous
 * states and the metric configuration.
 */
export function alarmLambdaEvent(a: DeployedAlarm, t: AlarmTransition): Record<string, unknown> {
  const ts = new Date(t.at).toISOString();
  return {
    source: 'aws.cloudwatch',
    alarmArn: `arn:aws:cloudwatch:local:000000000000:alarm:${a.name}`,
    accountId: '000000000000',
    time: ts,
    region: 'local',
    alarmData: {
      alarmName: a.name,
      state: { value: t.to, reason: t.reason, timestamp: ts },
      previousState: { value: t.from, reason: '', timestamp: ts },
      configuration: {
        description: a.description ?? '',
        metrics: [
          {
            id: 'm1',
            metricStat: { metric: { namespace: a.namespace, name: a.metricName, dimensions: a.dims }, period: a.periodS, stat: a.statistic },
            returnData: true,
          },
        ],
      },
    },
  };
}

/** The notification an SNS alarm action produces: subject `<STATE>: "<alarm>"` (cut to SNS's 100 characters), the alarm message JSON. */
export function alarmSnsMessage(a: DeployedAlarm, t: AlarmTransition): Notification {
  const ts = new Date(t.at).toISOString();
  return {
    channel: 'sns',
    at: ts,
    subject: `${t.to}: "${a.name}"`.slice(0, 100),
    message: JSON.stringify({ AlarmName: a.name, NewStateValue: t.to, OldStateValue: t.from, NewStateReason: t.reason, StateChangeTime: ts }),
  };
}

/** Options of {@link createAlarmActions}. */
export interface AlarmActionsOptions {
  readonly alarms: readonly DeployedAlarm[];
  /** The Master function's local ARN and an invoker (with the runtime's Lambda context), when the template has one. */
  readonly master?: { readonly arn: string; readonly name: string; invoke(event: unknown): Promise<unknown> };
  /** Records an `AWS/Lambda` datapoint (Invocations, Errors) at the simulated time. */
  readonly putLambdaMetric: (name: 'Invocations' | 'Errors', functionName: string, value: number) => void;
  /** Simulated ISO time. */
  readonly simIso: () => string;
  /** Where notifications and transitions go. */
  readonly notifications: Notification[];
  readonly transitions: AlarmTransition[];
}

/**
 * Builds the runner of alarm actions.
 * @returns `run(transition)`: records the transition, then runs the actions of its new state in order.
 */
export function createAlarmActions(opts: AlarmActionsOptions): (t: AlarmTransition) => Promise<void> {
  const byName = new Map(opts.alarms.map((a) => [a.name, a]));
  return async (t) => {
    const a = byName.get(t.alarm);
    opts.transitions.push(t);
    if (!a) return;
    const actions = t.to === 'ALARM' ? a.alarmActions : t.to === 'OK' ? a.okActions : [];
    for (const arn of actions) {
      const master = opts.master;
      if (master && arn === master.arn) {
        opts.putLambdaMetric('Invocations', master.name, 1);
        try {
          await master.invoke(alarmLambdaEvent(a, t));
          opts.putLambdaMetric('Errors', master.name, 0);
        } catch (err) {
          opts.putLambdaMetric('Errors', master.name, 1);
          opts.notifications.push({
            channel: 'master',
            at: opts.simIso(),
            subject: `Master failed on alarm ${a.name}`,
            message: `${(err as Error).name}: ${(err as Error).message}`,
          });
        }
      } else if (arn.startsWith('arn:aws:sns:')) {
        opts.notifications.push(alarmSnsMessage(a, t));
      }
    }
  };
}
