/**
 * Event-driven cycles (`cycle.triggers`): one EventBridge rule per trigger on the default event bus;
 * a matching event starts an execution of the cycle state machine with the input
 * `{ source: 'event', trigger, group, eventId: <aws.events.event.id>, eventTime }`. "Plan cycle"
 * claims `event:<trigger>:<event id>` as the slot (EventBridge delivers at least once: a
 * redelivery is a skipped duplicate) and applies the group's overlap policy, like a schedule slot.
 *
 * Failed starts are retried by EventBridge (`retryAttempts`, `maxEventAge`) and then land in the
 * schedules' dead-letter queue, which already alarms people.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { OrchestratorConfig } from '../config/schema';

/** Props of {@link CycleTriggers}. */
export interface CycleTriggersProps {
  /** Validated config: `cycle.triggers`, the agent groups. */
  readonly config: OrchestratorConfig;
  /** Stack name: prefix of the rule names (`<stack>-<trigger>`, EventBridge: up to 64 characters). */
  readonly stackName: string;
  /** The cycle state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /** Where failed starts go after the retries. */
  readonly deadLetterQueue: sqs.IQueue;
}

/** The group a trigger starts cycles for: its `group`, else the fleet's only group (the schema requires one otherwise). */
export function triggerGroup(config: OrchestratorConfig, trigger: OrchestratorConfig['cycle']['triggers'][number]): string {
  return trigger.group ?? config.agents.find((a) => a.enabled)!.group;
}

/** One rule per `cycle.triggers` entry (none by default). */
export class CycleTriggers extends Construct {
  /** Rules in `cycle.triggers` order. */
  public readonly rules: ReadonlyArray<events.Rule>;

  constructor(scope: Construct, id: string, props: CycleTriggersProps) {
    super(scope, id);
    const { config } = props;
    this.rules = config.cycle.triggers.map((t) => {
      const group = triggerGroup(config, t);
      return new events.Rule(this, `Trigger-${t.name}`, {
        ruleName: `${props.stackName}-${t.name}`.slice(0, 64),
        description: `Starts a cycle for agent group "${group}" on matching events (cycle.triggers "${t.name}")`,
        eventPattern: t.eventPattern as events.EventPattern,
        targets: [
          new targets.SfnStateMachine(props.stateMachine, {
            input: events.RuleTargetInput.fromObject({
              source: 'event',
              trigger: t.name,
              group,
              eventId: events.EventField.eventId,
              eventTime: events.EventField.time,
            }),
            deadLetterQueue: props.deadLetterQueue,
            retryAttempts: 5,
            maxEventAge: Duration.seconds(Math.max(60, config.cycle.cadenceMinutes * 60)),
          }),
        ],
      });
    });
  }
}
