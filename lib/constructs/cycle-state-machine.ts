/**
 * The cycle state machine (Standard workflow): "Plan cycle" -> "Assess risk" -> "Run phases" ->
 * "Record outcomes", rendered by `lib/state-machine/definition.ts` from the config (the same
 * rendering the local runtime runs; `statemachines/cycle.asl.json` is it for the schema's defaults).
 *
 * The rendering carries the config's numbers (timeout, retry policies) as JSON numbers; only the
 * four function ARNs are left as `${...}` strings for `DefinitionSubstitutions`.
 *
 * The state machine has an explicit name so its ARN can be built with `Stack.formatArn` (see
 * {@link cycleStateMachineArn}): the Master needs that ARN and the state machine needs the
 * Master's, which would otherwise be a circular dependency.
 */
import { ArnFormat, Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { OrchestratorConfig } from '../config/schema';
import { renderCycleDefinition, type ArnPlaceholder } from '../state-machine/definition';

/** Name of the cycle state machine for a stack: `${stackName}-cycle`. */
export const cycleStateMachineName = (stackName: string): string => `${stackName}-cycle`;

/**
 * ARN of the cycle state machine, built from its name (no reference to the resource, so no
 * dependency on it): `arn:<partition>:states:<region>:<account>:stateMachine:<name>`.
 */
export function cycleStateMachineArn(stack: Stack, stateMachineName: string): string {
  return stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** ARN pattern of every execution of the state machine: `arn:...:execution:<name>:*` (executions are named per schedule slot). */
export function cycleExecutionArnPattern(stack: Stack, stateMachineName: string): string {
  return stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Name of the execution log group: `/aws/vendedlogs/states/<stateMachineName>-<stack UUID>`, the UUID
 * being the last part of `AWS::StackId` (new for every creation of the stack), so a retained log
 * group of an earlier stack instance never collides with the new one's.
 */
export function cycleLogGroupName(stateMachineName: string): string {
  return `/aws/vendedlogs/states/${stateMachineName}-${Fn.select(2, Fn.split('/', Aws.STACK_ID))}`;
}

/** Props of {@link CycleStateMachine}. */
export interface CycleStateMachineProps {
  /** Validated config: retry policies are rendered into the definition. */
  readonly config: OrchestratorConfig;
  /** Physical name (see {@link cycleStateMachineName}). */
  readonly stateMachineName: string;
  /** Supervisor function ("Plan cycle", "Record outcomes"). */
  readonly supervisor: lambda.IFunction;
  /** Risk function ("Assess risk"). */
  readonly risk: lambda.IFunction;
  /** Master function (kill switch; in-band halts). */
  readonly master: lambda.IFunction;
  /** Order gateway function ("Execute ... agent orders"). */
  readonly gateway: lambda.IFunction;
  /** Functions of every enabled agent; "Run agent" invokes them by the ARN in the plan. */
  readonly agents: ReadonlyArray<lambda.IFunction>;
  /**
   * Log retention of the execution log group.
   * @default one month (`RetentionDays.ONE_MONTH`)
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the execution log group.
   * @default `RemovalPolicy.RETAIN`
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The cycle state machine with its log group and invoke permissions. */
export class CycleStateMachine extends Construct {
  /** The state machine. Use {@link arn} rather than `stateMachine.stateMachineArn` where a dependency would be circular. */
  public readonly stateMachine: sfn.StateMachine;
  /** Its ARN built from the name (see {@link cycleStateMachineArn}). */
  public readonly arn: string;
  /** Its physical name. */
  public readonly name: string;
  /** Execution log group (level ALL, execution data included). */
  public readonly logGroup: logs.LogGroup;
  /** Whether X-Ray tracing is on (config `monitoring.tracing`, default false). */
  public readonly tracing: boolean;

  constructor(scope: Construct, id: string, props: CycleStateMachineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.name = props.stateMachineName;
    this.tracing = props.config.monitoring.tracing;
    this.arn = cycleStateMachineArn(stack, props.stateMachineName);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // Vended-logs prefix recommended by Step Functions (keeps the resource policy small), made
      // unique per stack instance: the log group is retained (retainData), so a fixed name would make
      // a destroy + deploy, or a deploy after a rolled-back create, fail with "already exists".
      logGroupName: cycleLogGroupName(props.stateMachineName),
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    const substitutions: Record<ArnPlaceholder, string> = {
      SupervisorFunctionArn: props.supervisor.functionArn,
      RiskFunctionArn: props.risk.functionArn,
      MasterFunctionArn: props.master.functionArn,
      GatewayFunctionArn: props.gateway.functionArn,
    };
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(renderCycleDefinition(props.config))),
      definitionSubstitutions: substitutions,
      // X-Ray tracing only with config monitoring.tracing (the functions then trace too).
      tracingEnabled: this.tracing,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    for (const fn of [props.supervisor, props.risk, props.master, props.gateway, ...props.agents]) fn.grantInvoke(this.stateMachine);
  }
}
