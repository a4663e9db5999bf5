/**
 * Acknowledged cdk-nag (AwsSolutions) findings, each on the narrowest construct and with the reason
 * that specific finding is acceptable. cdk-nag v3 uses CDK's `Validations.of(scope).acknowledge()`;
 * each finding id (e.g. `AwsSolutions-IAM5[Resource::*]`) is acknowledged individually.
 *
 * The infra tests run `AwsSolutionsChecks` and `ServerlessChecks` against the stack and require zero
 * unacknowledged findings.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { FleetFunction } from './constructs/agent-function';
import type { CycleSchedules } from './constructs/cycle-schedules';
import type { CycleStateMachine } from './constructs/cycle-state-machine';
import type { KillSwitch } from './constructs/kill-switch';

/**
 * The parts of the stack the acknowledgements name; `OrchestratorStack` satisfies it. Declared here
 * rather than importing `OrchestratorStack`, whose constructor calls {@link applyNagSuppressions}
 * (no import cycle; `npm run lint:layers`).
 */
interface NagSuppressionScope extends IConstruct {
  readonly cycle: Pick<CycleStateMachine, 'stateMachine' | 'name' | 'tracing'>;
  readonly schedules: Pick<CycleSchedules, 'deadLetterQueue'>;
  readonly killSwitch: Pick<KillSwitch, 'fn' | 'failureQueue' | 'operator'>;
}

const BASIC_EXECUTION_ROLE = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * Acknowledges the stack's known, reviewed cdk-nag findings. Called by the stack's constructor,
 * so `cdk synth` with the AwsSolutions pack and the tests see the same acknowledgements.
 */
export function applyNagSuppressions(stack: NagSuppressionScope): void {
  const fleetFunctions = stack.node.findAll().filter((c): c is FleetFunction => c instanceof FleetFunction);
  for (const f of fleetFunctions) {
    ack(
      f.fn,
      'Serverless-LambdaLatestVersion',
      'Node.js 22 is pinned on purpose (bundles target node22; the handlers are tested on that version); moving to a newer runtime is a deliberate, tested change.',
    );
    ack(
      f.fn,
      'Serverless-LambdaDLQ',
      f.fn === stack.killSwitch.fn
        ? 'The Master is invoked asynchronously only by alarms and CloudFormation, and those invocations have an SQS on-failure destination (EventInvokeConfig) with an alarm, which supersedes a dead-letter queue; its other invocations are synchronous.'
        : 'Invoked synchronously only (Step Functions lambda:invoke tasks, or the function URL for the operator function): a dead-letter queue applies to asynchronous invocations and would never receive anything; failures surface to the caller (Retry/Catch in the state machine).',
    );
    ack(
      f.fn,
      'AwsSolutions-L1',
      'Node.js 22 is pinned on purpose: the bundles target node22 and the local runtime/tests run the same handlers on Node 20/22; moving to a newer runtime is a deliberate, tested change, not an automatic one.',
    );
    if (f.fn.role) {
      ack(
        f.fn.role,
        BASIC_EXECUTION_ROLE,
        'AWSLambdaBasicExecutionRole only grants logs:CreateLogGroup/CreateLogStream/PutLogEvents, which every function needs to write to its log group; it grants no data access.',
      );
      if (!f.tracing) {
        ack(
          f.fn,
          'Serverless-LambdaTracing',
          'X-Ray tracing is a config choice (monitoring.tracing, default off): each function logs every invocation and emits its metrics, and tracing would add the Tracer and the X-Ray SDK to every bundle (README "Performance").',
        );
      }
      if (f.tracing) {
        ack(
          f.fn.role,
          'AwsSolutions-IAM5[Resource::*]',
          'The only Resource "*" in this policy is X-Ray (xray:PutTraceSegments, xray:PutTelemetryRecords) for active tracing; X-Ray does not support resource-level permissions.',
        );
      }
    }
  }

  const sm = stack.cycle.stateMachine;
  ack(
    sm.role,
    'AwsSolutions-IAM5[Resource::*]',
    `Resource "*" is for ${stack.cycle.tracing ? 'X-Ray tracing and ' : ''}CloudWatch Logs log delivery (logs:CreateLogDelivery, logs:DescribeResourcePolicies, ...), which do not support resource-level permissions (Step Functions logging docs).`,
  );
  if (!stack.cycle.tracing) {
    ack(
      sm,
      'Serverless-StepFunctionStateMachineXray',
      'X-Ray tracing is a config choice (monitoring.tracing, default off): the execution history and the ALL-level execution logs with data already show every state and its timing.',
    );
    ack(
      sm,
      'AwsSolutions-SF2',
      'X-Ray tracing is a config choice (monitoring.tracing, default off): the execution history and the ALL-level execution logs with data already show every state, and monitoring.tracing on turns X-Ray on for the state machine and the functions together (README "Performance").',
    );
  }
  const invoked: lambda.IFunction[] = fleetFunctions.map((f) => f.fn);
  for (const fn of invoked) {
    const logicalId = Stack.of(fn).getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    ack(
      sm.role,
      `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      "grantInvoke adds the function's own versions and aliases (<functionArn>:*), scoped to that single function.",
    );
  }

  for (const master of [stack.killSwitch.fn, stack.killSwitch.operator.fn]) {
    if (!master.role) continue;
    ack(
      master.role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stack.cycle.name}:*]`,
      'The kill switch stops and describes any running execution of the cycle state machine; executions are named per schedule slot at run time, so they can only be matched by the execution:<stateMachineName>:* pattern of this one state machine.',
    );
    ack(
      master.role,
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* (GenerateDataKey and GenerateDataKeyWithoutPlaintext) on that single key; this is what Topic.grantPublish grants.',
    );
  }

  for (const q of [stack.schedules.deadLetterQueue, stack.killSwitch.failureQueue]) {
    ack(
      q,
      'Serverless-SQSRedrivePolicy',
      'This queue is itself a dead-letter queue / on-failure destination (alarmed when not empty); redriving it to another queue adds nothing.',
    );
  }
  ack(
    stack.schedules.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue IS the dead-letter queue of the Scheduler targets (failed StartExecution calls); a dead-letter queue of a dead-letter queue adds nothing.',
  );
  ack(
    stack.killSwitch.failureQueue,
    'AwsSolutions-SQS3',
    "This queue IS the on-failure destination of the Master's asynchronous invocations; a dead-letter queue of a dead-letter queue adds nothing.",
  );
}
