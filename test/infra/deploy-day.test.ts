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
});
