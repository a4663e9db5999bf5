/**
 * CycleStateMachine (lib/constructs/cycle-state-machine.ts) on a bare Stack: a Standard state
 * machine with its explicit name, the definition rendered from the config with the four function
 * ARNs as `DefinitionSubstitutions`, X-Ray tracing only with `monitoring.tracing`, logging ALL with execution data to a vended-logs
 * log group unique per stack instance (one month, retained by default), and lambda:InvokeFunction on
 * exactly the functions given; the name-built ARN and execution pattern helpers.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  CycleStateMachine,
  cycleExecutionArnPattern,
  cycleStateMachineArn,
  cycleStateMachineName,
  type CycleStateMachineProps,
} from '../../lib/constructs/cycle-state-machine';
import { ARN_PLACEHOLDERS, renderCycleDefinition } from '../../lib/state-machine/definition';
import { fixtureConfig } from '../fixtures/fleet';
import { flatten } from '../infra/template-helpers';

const ROLES = ['Supervisor', 'Risk', 'Master', 'Gateway', 'AgentA', 'AgentB'] as const;

const build = (extra: Partial<CycleStateMachineProps> = {}, config = fixtureConfig()) => {
  const stack = new Stack(new App(), 'S');
  const fns = Object.fromEntries(
    ROLES.map((r) => [
      r,
      new lambda.Function(stack, r, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('exports.handler = async () => ({});'),
      }),
    ]),
  ) as Record<(typeof ROLES)[number], lambda.Function>;
  const cycle = new CycleStateMachine(stack, 'Cycle', {
    config,
    stateMachineName: cycleStateMachineName('Fleet'),
    supervisor: fns.Supervisor,
    risk: fns.Risk,
    master: fns.Master,
    gateway: fns.Gateway,
    agents: [fns.AgentA, fns.AgentB],
    ...extra,
  });
  const template = Template.fromStack(stack);
  const [sm] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const id = (fn: lambda.Function) => stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return { stack, cycle, template, config, sm, fns, id };
};

describe('CycleStateMachine', () => {
  it('a Standard state machine named <stack>-cycle, not traced by default, logging ALL with execution data to its log group', () => {
    const { sm, stack, cycle, template } = build();
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(cycle.tracing).toBe(false);
    expect(sm.Properties.TracingConfiguration?.Enabled ?? false).toBe(false);
    expect(sm.Properties).toMatchObject({
      StateMachineName: 'Fleet-cycle',
      StateMachineType: 'STANDARD',
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [
          { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [stack.getLogicalId(cycle.logGroup.node.defaultChild as logs.CfnLogGroup), 'Arn'] } } },
        ],
      },
    });
    expect(cycle.name).toBe('Fleet-cycle');
  });

  it('monitoring.tracing on: X-Ray tracing on the state machine', () => {
    const { sm, cycle } = build(
      {},
      fixtureConfig((c) => void (c.monitoring = { ...c.monitoring, tracing: true })),
    );
    expect(cycle.tracing).toBe(true);
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it("the definition is the config's rendering, with only the four function ARNs substituted", () => {
    const { sm, config, fns, id } = build();
    expect(JSON.parse(sm.Properties.DefinitionString)).toEqual(renderCycleDefinition(config));
    expect(sm.Properties.DefinitionSubstitutions).toEqual({
      SupervisorFunctionArn: { 'Fn::GetAtt': [id(fns.Supervisor), 'Arn'] },
      RiskFunctionArn: { 'Fn::GetAtt': [id(fns.Risk), 'Arn'] },
      MasterFunctionArn: { 'Fn::GetAtt': [id(fns.Master), 'Arn'] },
      GatewayFunctionArn: { 'Fn::GetAtt': [id(fns.Gateway), 'Arn'] },
    });
    expect(Object.keys(sm.Properties.DefinitionSubstitutions).sort()).toEqual([...ARN_PLACEHOLDERS].sort());
  });

  it("follows the config: another risk retry policy changes the rendered definition (the config's numbers are JSON numbers)", () => {
    const config = fixtureConfig((c) => (c.risk = { ...c.risk, maxRetries: 1 }));
    const { sm } = build({}, config);
    const def = JSON.parse(sm.Properties.DefinitionString);
    expect(def).toEqual(renderCycleDefinition(config));
    expect(def).not.toEqual(renderCycleDefinition(fixtureConfig()));
    expect(def.States['Assess risk'].Retry).toContainEqual(expect.objectContaining({ MaxAttempts: 1 }));
  });

  it('the role may invoke the supervisor, risk, Master, gateway and every agent given (and their versions), nothing else', () => {
    const { template, fns, id, sm } = build();
    const roleId = sm.Properties.RoleArn['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as any[]);
    const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction');
    const resources = invoke.flatMap((s) => s.Resource).map(flatten);
    expect(resources.sort()).toEqual(ROLES.flatMap((r) => [`<GetAtt:${id(fns[r])}.Arn>`, `<GetAtt:${id(fns[r])}.Arn>:*`]).sort());
    for (const s of invoke) expect(s.Effect).toBe('Allow');
  });

  it('the log group is /aws/vendedlogs/states/<name>-<stack UUID>, one month, retained by default', () => {
    const { template } = build();
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const [lg] = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(lg).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { RetentionInDays: 30 } });
    expect(lg.Properties.LogGroupName).toEqual({
      'Fn::Join': ['', ['/aws/vendedlogs/states/Fleet-cycle-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }]],
    });
  });

  it('logRetention and logRemovalPolicy override the defaults', () => {
    const { template } = build({ logRetention: logs.RetentionDays.ONE_YEAR, logRemovalPolicy: RemovalPolicy.DESTROY });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: { RetentionInDays: 365 } });
  });

  it('arn is built from the name (no reference to the resource) and equals the ARN the state machine gets', () => {
    const { stack, cycle } = build();
    expect(flatten(stack.resolve(cycle.arn))).toBe('arn:aws:states:REGION:ACCOUNT:stateMachine:Fleet-cycle');
    expect(JSON.stringify(stack.resolve(cycle.arn))).not.toContain(stack.getLogicalId(cycle.stateMachine.node.defaultChild as never));
    expect(flatten(stack.resolve(cycleStateMachineArn(stack, 'X-cycle')))).toBe('arn:aws:states:REGION:ACCOUNT:stateMachine:X-cycle');
    expect(flatten(stack.resolve(cycleExecutionArnPattern(stack, 'X-cycle')))).toBe('arn:aws:states:REGION:ACCOUNT:execution:X-cycle:*');
  });
});
