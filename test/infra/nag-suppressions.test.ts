/**
 * applyNagSuppressions (lib/nag-suppressions.ts) on a small bare Stack, bundling off: the parts it
 * names (three FleetFunctions, the Master and operator among them; a traced, logging state machine
 * that invokes them; the schedules' dead-letter queue and the Master's failure queue) and, beside
 * them, resources it does not target (a plain function, a plain queue, a role with `Resource: *`, the
 * state machine invoking the plain function). The AwsSolutions and Serverless packs report each
 * acknowledged finding without the acknowledgements and none with them, while every resource outside
 * keeps its findings; each acknowledgement names one rule id and a reason, sits on the function, role
 * or queue it is about, and none is on the stack or the app.
 */
import { App, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { FleetFunction } from '../../lib/constructs/agent-function';
import { applyNagSuppressions } from '../../lib/nag-suppressions';

const SM_NAME = 'S-cycle';

/** The bare stack; `suppress` applies the module's acknowledgements. */
const build = (suppress: boolean) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S');
  // Traced, as with monitoring.tracing on (the acknowledgements with tracing off: test/infra/tracing.test.ts).
  const fleetFunction = (id: string, entry: string) => new FleetFunction(stack, id, { entry, description: id, timeoutSeconds: 30, tracing: true });
  const master = fleetFunction('Master', 'lambdas/master/handler.ts');
  const operator = fleetFunction('Operator', 'lambdas/master/operator.ts');
  const agent = fleetFunction('Agent', 'lambdas/agents/strategy/handler.ts');
  const topic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }) });
  const failureQueue = new sqs.Queue(stack, 'FailureQueue', { enforceSSL: true });
  const deadLetterQueue = new sqs.Queue(stack, 'ScheduleDlq', { enforceSSL: true });
  const stateMachine = new sfn.StateMachine(stack, 'Cycle', {
    stateMachineName: SM_NAME,
    definitionBody: sfn.DefinitionBody.fromString('{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'),
    tracingEnabled: true,
    logs: { destination: new logs.LogGroup(stack, 'CycleLogs'), level: sfn.LogLevel.ALL, includeExecutionData: true },
  });
  // The kill switch's grants that need an acknowledgement: the encrypted topic and the execution pattern.
  const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${SM_NAME}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  for (const f of [master, operator]) {
    topic.grantPublish(f.fn);
    f.fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StopExecution'], resources: [executions] }));
  }
  // Outside the acknowledgements: a plain function (also invoked by the state machine), a plain queue, a role with Resource "*".
  const outside = new lambda.Function(stack, 'Outside', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  new sqs.Queue(stack, 'OutsideQueue', { enforceSSL: true });
  const outsideRole = new iam.Role(stack, 'OutsideRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  outsideRole.addToPolicy(new iam.PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] }));
  for (const fn of [master.fn, operator.fn, agent.fn, outside]) fn.grantInvoke(stateMachine);
  if (suppress) {
    applyNagSuppressions(
      Object.assign(stack, {
        cycle: { stateMachine, name: SM_NAME, tracing: true },
        schedules: { deadLetterQueue },
        killSwitch: { fn: master.fn, failureQueue, operator },
      }),
    );
  }
  const id = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as lambda.CfnFunction);
  return { app, stack, ids: { master: id(master.fn), operator: id(operator.fn), agent: id(agent.fn), outside: id(outside) } };
};

type Built = ReturnType<typeof build>;

/** Findings of both packs as `<rule id> <construct path>`, sorted. */
const findings = (b: Built): string[] =>
  [new AwsSolutionsChecks(b.app), new ServerlessChecks(b.app)]
    .flatMap((pack) => pack.validateScope(b.stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`)))
    .sort();

/** Every acknowledgement in the tree: the construct path, the rule id (without CDK's `Annotation::` prefix) and the reason. */
const acknowledgements = (b: Built) =>
  [b.app, ...b.app.node.findAll()].flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([key, reason]) => ({ path: c.node.path, id: key.replace(/^\w+::/, ''), reason }))),
  );

const BASIC = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
const EXECUTIONS_FINDING = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${SM_NAME}:*]`;

describe('applyNagSuppressions', () => {
  let before: Built;
  let after: Built;
  let found: { before: string[]; after: string[] };
  beforeAll(() => {
    before = build(false);
    after = build(true);
    found = { before: findings(before), after: findings(after) };
  });

  /** The findings the module acknowledges in this stack, one per (rule, resource). */
  const acknowledged = (ids: Built['ids']): string[] => {
    const perFunction = (name: 'Master' | 'Operator' | 'Agent') => [
      `AwsSolutions-L1 S/${name}/Function/Resource`,
      `Serverless-LambdaDLQ S/${name}/Function/Resource`,
      `Serverless-LambdaLatestVersion S/${name}/Function/Resource`,
      `${BASIC} S/${name}/Function/ServiceRole/Resource`,
      `AwsSolutions-IAM5[Resource::*] S/${name}/Function/ServiceRole/DefaultPolicy/Resource`,
    ];
    const killSwitch = (name: 'Master' | 'Operator') => [
      `${EXECUTIONS_FINDING} S/${name}/Function/ServiceRole/DefaultPolicy/Resource`,
      `AwsSolutions-IAM5[Action::kms:GenerateDataKey*] S/${name}/Function/ServiceRole/DefaultPolicy/Resource`,
    ];
    return [
      ...perFunction('Master'),
      ...perFunction('Operator'),
      ...perFunction('Agent'),
      ...killSwitch('Master'),
      ...killSwitch('Operator'),
      'AwsSolutions-IAM5[Resource::*] S/Cycle/Role/DefaultPolicy/Resource',
      ...[ids.master, ids.operator, ids.agent].map((id) => `AwsSolutions-IAM5[Resource::<${id}.Arn>:*] S/Cycle/Role/DefaultPolicy/Resource`),
      ...['FailureQueue', 'ScheduleDlq'].flatMap((q) => [`AwsSolutions-SQS3 S/${q}/Resource`, `Serverless-SQSRedrivePolicy S/${q}/Resource`]),
    ].sort();
  };

  it('without the acknowledgements the packs report every finding the module acknowledges; with them, none of those', () => {
    const expected = acknowledged(before.ids);
    expect(expected.filter((f) => !found.before.includes(f))).toEqual([]);
    expect(found.after.filter((f) => expected.includes(f))).toEqual([]);
    // Nothing else disappears: exactly the acknowledged findings go.
    expect(found.before.filter((f) => !found.after.includes(f))).toEqual(expected);
  });

  it('a resource outside the targets still gets its findings, including the state machine invoking a function that is not a FleetFunction', () => {
    expect(found.after).toEqual(
      [
        `${BASIC} S/Outside/ServiceRole/Resource`,
        'AwsSolutions-L1 S/Outside/Resource',
        'Serverless-LambdaDLQ S/Outside/Resource',
        'Serverless-LambdaLatestVersion S/Outside/Resource',
        'Serverless-LambdaDefaultMemorySize S/Outside/Resource',
        'Serverless-LambdaDefaultTimeout S/Outside/Resource',
        'Serverless-LambdaTracing S/Outside/Resource',
        'AwsSolutions-SQS3 S/OutsideQueue/Resource',
        'Serverless-SQSRedrivePolicy S/OutsideQueue/Resource',
        'AwsSolutions-IAM5[Resource::*] S/OutsideRole/DefaultPolicy/Resource',
        `AwsSolutions-IAM5[Resource::<${after.ids.outside}.Arn>:*] S/Cycle/Role/DefaultPolicy/Resource`,
      ].sort(),
    );
  });

  it('each acknowledgement names one rule id of the packs and a reason, and matches a finding on a resource under its construct', () => {
    const acks = acknowledgements(after);
    // One acknowledgement per acknowledged finding: none covers two resources.
    expect(acks).toHaveLength(acknowledged(after.ids).length);
    for (const a of acks) {
      expect(a.id).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(a.reason.length).toBeGreaterThan(40);
      expect(found.before.some((f) => f.startsWith(`${a.id} ${a.path}/`))).toBe(true);
    }
  });

  it('no blanket acknowledgement: none on the app or the stack, each on a function, its role, the state machine role or a queue', () => {
    const paths = [...new Set(acknowledgements(after).map((a) => a.path))].sort();
    expect(paths).toEqual(
      [
        ...['Master', 'Operator', 'Agent'].flatMap((n) => [`S/${n}/Function`, `S/${n}/Function/ServiceRole`]),
        'S/Cycle/Role',
        'S/FailureQueue',
        'S/ScheduleDlq',
      ].sort(),
    );
    expect(after.app.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toEqual([]);
    expect(after.stack.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toEqual([]);
  });
});
