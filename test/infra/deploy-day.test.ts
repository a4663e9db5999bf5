/**
 * Deploy day, read from the synthesized template: a fresh deploy does not halt itself, a failed
 * first deploy or a destroy + deploy does not collide with retained resources, a redeploy keeps a
 * halt, and authority to loosen control comes from IAM.
 */
import { renderCycleDefinition } from '../../lib/state-machine/definition';
import { allStates, resourcesOfType, synth, type Synthesized } from './template-helpers';

describe('deploy day (template)', () => {
  let s: Synthesized;
  let masterId: string;
  beforeAll(() => {
    s = synth();
    masterId = s.stack.lambdaFunctions.find((f) => f.role === 'master')!.logicalId;
  });
  const invokesMaster = (a: any): boolean => (a.Properties.AlarmActions as any[]).some((x) => x['Fn::GetAtt']?.[0] === masterId);

  it('no alarm that invokes the Master treats missing data as breaching', () => {
    const toMaster = resourcesOfType(s.template, 'AWS::CloudWatch::Alarm').filter(([, a]) => invokesMaster(a));
    expect(toMaster.length).toBeGreaterThan(5);
    for (const [, a] of toMaster)
      expect({ name: a.Properties.AlarmName, missing: a.Properties.TreatMissingData }).toEqual({ name: a.Properties.AlarmName, missing: 'notBreaching' });
  });

  it('every alarm that invokes the Master depends on the permission that lets CloudWatch invoke it', () => {
    const [[permId]] = resourcesOfType(s.template, 'AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Principal === 'lambda.alarms.cloudwatch.amazonaws.com',
    );
    for (const [, a] of resourcesOfType(s.template, 'AWS::CloudWatch::Alarm').filter(([, x]) => invokesMaster(x))) {
      expect({ name: a.Properties.AlarmName, dependsOn: a.DependsOn }).toEqual({ name: a.Properties.AlarmName, dependsOn: expect.arrayContaining([permId]) });
    }
  });

  it('no retained resource has a fixed physical name (a generated one, or one unique to the stack instance)', () => {
    const NAME_PROPS = [
      'Name',
      'TableName',
      'LogGroupName',
      'QueueName',
      'TopicName',
      'FunctionName',
      'RoleName',
      'StateMachineName',
      'AliasName',
      'BucketName',
      'AlarmName',
      'DashboardName',
    ];
    const retained = Object.entries<any>(s.template.Resources).filter(
      ([, r]) => ['Retain', 'RetainExceptOnCreate'].includes(r.DeletionPolicy) || r.UpdateReplacePolicy === 'Retain',
    );
    expect(retained.length).toBeGreaterThan(4);
    const stackUnique = (v: unknown): boolean => JSON.stringify(v).includes('"AWS::StackId"');
    for (const [id, r] of retained) {
      for (const prop of NAME_PROPS) {
        const v = r.Properties?.[prop];
        if (v === undefined) continue;
        expect({ id, prop, fixed: !stackUnique(v) }).toEqual({ id, prop, fixed: false });
      }
    }
    // The two named before: the execution log group (unique per stack id) and the schedule group (deleted with the stack).
    const [[, logs]] = resourcesOfType(s.template, 'AWS::Logs::LogGroup').filter(([id]) => id.startsWith('CycleLogs'));
    expect(stackUnique(logs.Properties.LogGroupName)).toBe(true);
    const [[, group]] = resourcesOfType(s.template, 'AWS::Scheduler::ScheduleGroup');
    expect(group.DeletionPolicy).toBe('Delete');
  });

  it('a redeploy re-applies a halt: Custom::ReapplyHalt is served by the Master, after every schedule, keyed on their properties', () => {
    const [[, cr]] = resourcesOfType(s.template, 'Custom::ReapplyHalt');
    expect(cr.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [masterId, 'Arn'] });
    const scheduleIds = resourcesOfType(s.template, 'AWS::Scheduler::Schedule').map(([id]) => id);
    expect(cr.DependsOn).toEqual(expect.arrayContaining(scheduleIds));
    // A change to a schedule changes the fingerprint, so CloudFormation sends the Master an Update.
    const other = synth((c) => ({ ...c, cycle: { ...c.cycle!, cadenceMinutes: 30 } }));
    const [[, cr2]] = resourcesOfType(other.template, 'Custom::ReapplyHalt');
    expect(cr2.Properties.SchedulesFingerprint).not.toBe(cr.Properties.SchedulesFingerprint);
    expect(synth().template.Resources).toHaveProperty(
      [resourcesOfType(s.template, 'Custom::ReapplyHalt')[0][0], 'Properties', 'SchedulesFingerprint'],
      cr.Properties.SchedulesFingerprint,
    );
  });

  it('only the operator function can resume, and neither the alarms nor the state machine role can invoke it', () => {
    const operatorId = s.stack.lambdaFunctions.find((f) => f.role === 'operator')!.logicalId;
    const [[, url]] = resourcesOfType(s.template, 'AWS::Lambda::Url');
    expect(url.Properties).toEqual({ AuthType: 'AWS_IAM', TargetFunctionArn: { 'Fn::GetAtt': [operatorId, 'Arn'] } });
    const refsOperator = (v: unknown): boolean => JSON.stringify(v).includes(`"${operatorId}"`);
    for (const [, p] of resourcesOfType(s.template, 'AWS::Lambda::Permission')) {
      expect({ principal: p.Properties.Principal, operator: refsOperator(p.Properties.FunctionName) }).toEqual({
        principal: p.Properties.Principal,
        operator: false,
      });
    }
    const smRole = s.template.Resources[s.stack.getLogicalId(s.stack.cycle.stateMachine.role.node.defaultChild as any)];
    expect(smRole.Type).toBe('AWS::IAM::Role');
    const smPolicies = Object.values<any>(s.template.Resources).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles).includes(s.stack.getLogicalId(s.stack.cycle.stateMachine.role.node.defaultChild as any)),
    );
    expect(smPolicies.length).toBeGreaterThan(0);
    for (const p of smPolicies) expect(refsOperator(p.Properties.PolicyDocument)).toBe(false);
    // Alarms never target it.
    for (const [, a] of resourcesOfType(s.template, 'AWS::CloudWatch::Alarm')) expect(refsOperator(a.Properties.AlarmActions)).toBe(false);
  });

  it('the Master has reserved concurrency, so agents cannot throttle the kill switch', () => {
    expect(s.template.Resources[masterId].Properties.ReservedConcurrentExecutions).toBe(5);
    // A new account (concurrency limit 10) cannot reserve any: killSwitch.masterReservedConcurrency 0 reserves none.
    const none = synth((c) => ({ ...c, killSwitch: { masterReservedConcurrency: 0 } }));
    const id = none.stack.lambdaFunctions.find((f) => f.role === 'master')!.logicalId;
    expect(none.template.Resources[id].Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('each agent and risk function times out 5 s after its task, so the task timeout (never retried for agents) fires first', () => {
    for (const f of s.stack.lambdaFunctions.filter((x) => x.role === 'agent' || x.role === 'risk')) {
      const task =
        f.role === 'risk' ? s.config.risk.timeoutSeconds : Math.max(...s.config.agents.filter((a) => f.agents?.includes(a.name)).map((a) => a.timeoutSeconds));
      expect({ fn: f.logicalId, timeout: s.template.Resources[f.logicalId].Properties.Timeout }).toEqual({ fn: f.logicalId, timeout: task + 5 });
    }
  });

  it('least privilege: risk cannot delete or batch-write the Ledger; the supervisor cannot put, delete or batch-write Control', () => {
    const actionsOn = (role: 'risk' | 'supervisor', tableId: string): string[] => {
      const fnId = s.stack.lambdaFunctions.find((f) => f.role === role)!.logicalId;
      const roleId = s.template.Resources[fnId].Properties.Role['Fn::GetAtt'][0];
      return Object.values<any>(s.template.Resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
        .flatMap((r) => r.Properties.PolicyDocument.Statement)
        .filter((st: any) => JSON.stringify(st.Resource).includes(`"${tableId}"`))
        .flatMap((st: any) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    };
    const tableId = (name: string) => s.stack.getLogicalId((s.stack.tables.tables as any)[name].node.defaultChild);
    const risk = actionsOn('risk', tableId('Ledger'));
    expect(risk).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
    expect(risk.filter((a) => ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'].includes(a))).toEqual([]);
    const sup = actionsOn('supervisor', tableId('Control'));
    expect(sup).toEqual(expect.arrayContaining(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(sup.filter((a) => ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'].includes(a))).toEqual([]);
  });

  it("every lambda:invoke task retries Lambda.ClientExecutionTimeoutException (AWS's recommended service-error list), or retries States.ALL", () => {
    const tasks = allStates(renderCycleDefinition(s.config) as any).filter(([, st]) => st.Type === 'Task' && String(st.Resource).includes('lambda:invoke'));
    expect(tasks.length).toBeGreaterThan(5);
    for (const [name, st] of tasks) {
      const retriers = (st.Retry ?? []) as Array<{ ErrorEquals: string[] }>;
      const covered = retriers.some((r) => r.ErrorEquals.includes('States.ALL') || r.ErrorEquals.includes('Lambda.ClientExecutionTimeoutException'));
      const serviceRetriers = retriers.filter((r) => r.ErrorEquals.some((e) => e.startsWith('Lambda.')));
      expect({
        name,
        covered,
        serviceRetriersComplete: serviceRetriers.every((r) => r.ErrorEquals.includes('Lambda.ClientExecutionTimeoutException')),
      }).toEqual({ name, covered: true, serviceRetriersComplete: true });
    }
  });
});
