/**
 * Deploy day, read from the synthesized template: a fresh deploy does not halt itself, a failed
 * first deploy or a destroy + deploy does not collide with retained resources, a redeploy keeps a
 * halt, and authority to loosen control comes from IAM.
 */
import { resourcesOfType, synth, type Synthesized } from './template-helpers';

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
    for (const [, a] of toMaster) expect({ name: a.Properties.AlarmName, missing: a.Properties.TreatMissingData }).toEqual({ name: a.Properties.AlarmName, missing: 'notBreaching' });
  });

  it('every alarm that invokes the Master depends on the permission that lets CloudWatch invoke it', () => {
    const [[permId]] = resourcesOfType(s.template, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'lambda.alarms.cloudwatch.amazonaws.com');
    for (const [, a] of resourcesOfType(s.template, 'AWS::CloudWatch::Alarm').filter(([, x]) => invokesMaster(x))) {
      expect({ name: a.Properties.AlarmName, dependsOn: a.DependsOn }).toEqual({ name: a.Properties.AlarmName, dependsOn: expect.arrayContaining([permId]) });
    }
  });

  it('no retained resource has a fixed physical name (a generated one, or one unique to the stack instance)', () => {
    const NAME_PROPS = ['Name', 'TableName', 'LogGroupName', 'QueueName', 'TopicName', 'FunctionName', 'RoleName', 'StateMachineName', 'AliasName', 'BucketName', 'AlarmName', 'DashboardName'];
    const retained = Object.entries<any>(s.template.Resources).filter(([, r]) => ['Retain', 'RetainExceptOnCreate'].includes(r.DeletionPolicy) || r.UpdateReplacePolicy === 'Retain');
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
});
