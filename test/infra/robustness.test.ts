/**
 * Template properties that keep the deployed system from hanging, retrying forever, or losing
 * alerts: the execution timeout, agent timeouts never retried, the alert topic open to this stack's
 * alarms, and a function that keeps its identity when a second agent starts sharing its code.
 */
import { resourcesOfType, synth } from './template-helpers';

const definitionOf = (template: Record<string, any>) => {
  const [[, sm]] = resourcesOfType(template, 'AWS::StepFunctions::StateMachine');
  return JSON.parse(sm.Properties.DefinitionString);
};

/** Every Task state, in nested Map/Parallel bodies too. */
function tasks(states: Record<string, any>): Array<[string, any]> {
  return Object.entries(states).flatMap(([name, st]) => [
    ...(st.Type === 'Task' ? [[name, st] as [string, any]] : []),
    ...(st.ItemProcessor ? tasks(st.ItemProcessor.States) : []),
    ...(st.Branches ?? []).flatMap((b: any) => tasks(b.States)),
  ]);
}

describe('robustness of the synthesized stack', () => {
  const s = synth();
  const definition = definitionOf(s.template);

  it('times an execution out after two cadences, at least an hour (Standard workflows otherwise run up to a year)', () => {
    expect(definition.TimeoutSeconds).toBe(3600);
    expect(definitionOf(synth((c) => ({ ...c, cycle: { cadenceMinutes: 60 } })).template).TimeoutSeconds).toBe(7200);
  });

  it("never retries an agent's timeout, whether Step Functions (States.Timeout) or defineAgent (AgentTimeout) raises it", () => {
    const agentTasks = tasks(definition.States).filter(([name]) => /^Run \w+ agent$/.test(name));
    expect(agentTasks.map(([n]) => n).sort()).toEqual(['Run critical agent', 'Run data agent', 'Run strategy agent']);
    for (const [, task] of agentTasks) {
      const first = task.Retry[0];
      expect(first).toEqual({
        ErrorEquals: ['States.Timeout', 'AgentTimeout', 'AgentInputInvalid', 'AgentOutputInvalid', 'AgentResultTooLarge', 'SystemHalted'],
        MaxAttempts: 0,
      });
    }
  });

  it("lets only this stack's alarms publish to the alert topic (the SSL-only policy replaces SNS's default)", () => {
    const [[, policy]] = resourcesOfType(s.template, 'AWS::SNS::TopicPolicy');
    const allow = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Effect === 'Allow');
    expect(allow).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' });
    expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:AgentFleet-*');
    expect(allow.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });

  it("keeps a function's logical id when a second agent starts sharing its code entry (no replacement on update)", () => {
    const before = s.stack.lambdaFunctions.find((f) => f.agent === 'strategy')!;
    const after = synth((c) => ({
      ...c,
      agents: [...c.agents, { name: 'strategy-slow', entry: 'lambdas/agents/strategy/handler.ts', params: { fastWindow: 20, slowWindow: 60 } }],
    }));
    const shared = after.stack.lambdaFunctions.find((f) => f.entry === 'lambdas/agents/strategy/handler.ts')!;
    expect(shared.agents).toEqual(['strategy', 'strategy-slow']);
    expect(shared.logicalId).toBe(before.logicalId);
  });
});
