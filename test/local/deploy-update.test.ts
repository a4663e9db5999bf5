/** The deploy as the runtime replays it: schedules from the template, what a delivery starts, saved states on an update, custom resource requests. */
import { applySavedScheduleStates, customResourceRequest, masterCustomResources, scheduledExecution, schedulesFromTemplate } from '../../local/deploy-update';
import { LocalTemplate, type CfnTemplate } from '../../local/template';

const MASTER = 'arn:aws:lambda:local:000000000000:function:Master';
const template: CfnTemplate = {
  Resources: {
    Cycle: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: 'cycle-default',
        ScheduleExpression: 'rate(15 minutes)',
        State: 'DISABLED',
        Target: {
          Arn: 'arn:aws:scheduler:::aws-sdk:sfn:startExecution',
          Input: JSON.stringify({
            StateMachineArn: 'sm',
            Name: 'c-<aws.scheduler.execution-id>',
            Input: '{"trigger":{"scheduledTime":"<aws.scheduler.scheduled-time>"}}',
          }),
        },
      },
    },
    Reapply: { Type: 'Custom::ReapplyHalt', Properties: { ServiceToken: MASTER, Version: 2 } },
    Other: { Type: 'Custom::Other', Properties: { ServiceToken: 'arn:aws:lambda:local:000000000000:function:Else' } },
  },
};
const tpl = new LocalTemplate(template);

describe('deploy update', () => {
  it('reads schedules from the template with their State, group default and timezone UTC', () => {
    expect(schedulesFromTemplate(tpl)).toEqual([
      {
        name: 'cycle-default',
        group: 'default',
        expression: 'rate(15 minutes)',
        timezone: 'UTC',
        state: 'DISABLED',
        targetArn: 'arn:aws:scheduler:::aws-sdk:sfn:startExecution',
        input: (template.Resources.Cycle.Properties!.Target as { Input: string }).Input,
      },
    ]);
  });

  it('a universal sfn:startExecution target names the execution and passes Input; a templated target passes the input itself', () => {
    const [s] = schedulesFromTemplate(tpl);
    expect(scheduledExecution(s, '2026-01-05T14:45:00Z', 'x1')).toEqual({ name: 'c-x1', input: { trigger: { scheduledTime: '2026-01-05T14:45:00Z' } } });
    const templated = { ...s, targetArn: 'arn:aws:states:local:000000000000:stateMachine:Cycle', input: '{"at":"<aws.scheduler.scheduled-time>"}' };
    expect(scheduledExecution(templated, 'T', 'x2')).toEqual({ name: 'x2', input: { at: 'T' } });
  });

  it('an unchanged schedule keeps its saved State; a changed one keeps the template State', () => {
    const mine = schedulesFromTemplate(tpl).map((s) => ({ ...s, state: 'ENABLED' as const }));
    applySavedScheduleStates(
      mine,
      [{ group: 'default', name: 'cycle-default', state: 'DISABLED', fingerprint: 'old' }],
      new Map([['default/cycle-default', 'new']]),
    );
    expect(mine[0].state).toBe('ENABLED');
    applySavedScheduleStates(
      mine,
      [{ group: 'default', name: 'cycle-default', state: 'DISABLED', fingerprint: 'same' }],
      new Map([['default/cycle-default', 'same']]),
    );
    expect(mine[0].state).toBe('DISABLED');
  });

  it("the Master's custom resources get Create when new, Update with the physical id otherwise", () => {
    const resources = masterCustomResources(template, tpl, MASTER, (id) => `fp-${id}`);
    expect(resources).toEqual([{ id: 'Reapply', type: 'Custom::ReapplyHalt', fingerprint: 'fp-Reapply' }]);
    expect(customResourceRequest(resources[0], undefined, 'AgentFleet', 7)).toEqual({
      RequestType: 'Create',
      ResponseURL: 'local://cloudformation/Reapply',
      StackId: 'arn:aws:cloudformation:local:000000000000:stack/AgentFleet/00000000-0000-0000-0000-000000000000',
      RequestId: 'local-7',
      LogicalResourceId: 'Reapply',
      ResourceType: 'Custom::ReapplyHalt',
    });
    expect(customResourceRequest(resources[0], 'fp-old', 'AgentFleet', 8)).toMatchObject({ RequestType: 'Update', PhysicalResourceId: 'reapply-halt' });
  });
});
