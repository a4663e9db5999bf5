/**
 * The deployed cycle definition, parsed from the synthesized template (never string-matched):
 * risk first, fails closed, every agent task caught, retry policies from the config.
 */
import { allStates, reachable, resourcesOfType, synth, type Synthesized } from './template-helpers';

const definitionOf = (s: Synthesized): { StartAt: string; States: Record<string, any> } => {
  const [[, sm]] = resourcesOfType(s.template, 'AWS::StepFunctions::StateMachine');
  expect(typeof sm.Properties.DefinitionString).toBe('string');
  return JSON.parse(sm.Properties.DefinitionString);
};
const MASTER = '${MasterFunctionArn}';
const invokesMaster = (state: any): boolean => state.Type === 'Task' && state.Parameters?.FunctionName === MASTER;

describe('cycle state machine definition', () => {
  let base: Synthesized;
  let def: { StartAt: string; States: Record<string, any> };
  beforeAll(() => {
    base = synth();
    def = definitionOf(base);
  });

  it('starts with "Plan cycle"', () => {
    expect(def.StartAt).toBe('Plan cycle');
  });

  it('runs "Assess risk" before "Run phases" on every path', () => {
    const all = reachable(def.States, def.StartAt);
    expect(all.has('Assess risk')).toBe(true);
    expect(all.has('Run phases')).toBe(true);
    const withoutRisk = reachable(def.States, def.StartAt, new Set(['Assess risk']));
    expect(withoutRisk.has('Run phases')).toBe(false);
  });

  it('retries "Assess risk" config.risk.maxRetries times with backoff rate 2', () => {
    const retry = def.States['Assess risk'].Retry as any[];
    const all = retry.find((r) => r.ErrorEquals.includes('States.ALL'));
    expect(all.MaxAttempts).toBe(base.config.risk.maxRetries);
    expect(all.MaxAttempts).toBe(3);
    expect(all.BackoffRate).toBe(2);
  });

  it('fails closed: a risk error engages the kill switch and never reaches "Run phases"', () => {
    const catches = def.States['Assess risk'].Catch as any[];
    const catchAll = catches.find((c) => c.ErrorEquals.includes('States.ALL'));
    expect(catchAll).toBeDefined();
    for (const c of catches) {
      const after = reachable(def.States, c.Next);
      expect(after.has('Run phases')).toBe(false);
      expect([...after].some((n) => invokesMaster(def.States[n]))).toBe(true);
      const ends = [...after].filter((n) => def.States[n].Type === 'Fail' || def.States[n].Type === 'Succeed');
      // Every end is a halt: a Fail (the Master unreachable) or the Succeed after a confirmed in-band halt.
      expect(ends.every((n) => def.States[n].Type === 'Fail' || n === 'Cycle stopped (halted by risk)')).toBe(true);
      expect(ends).not.toContain('Cycle complete');
    }
  });

  it('the risk verdict Choice defaults to the halt path', () => {
    const choice = Object.entries(def.States).find(([, s]) => s.Type === 'Choice' && JSON.stringify(s.Choices).includes('$.risk.assessment.verdict'));
    expect(choice).toBeDefined();
    const [, verdict] = choice!;
    const afterDefault = reachable(def.States, verdict.Default);
    expect(afterDefault.has('Run phases')).toBe(false);
    expect([...afterDefault].some((n) => invokesMaster(def.States[n]))).toBe(true);
  });

  it('every agent task catches States.ALL, and each fault-domain Map has MaxConcurrencyPath', () => {
    const states = allStates(def);
    const agentTasks = states.filter(([, s]) => s.Type === 'Task' && s.Parameters?.['FunctionName.$'] === '$.item.functionArn');
    expect(agentTasks.map(([n]) => n).sort()).toEqual(['Run critical agent', 'Run data agent', 'Run strategy agent']);
    for (const [, task] of agentTasks) {
      expect((task.Catch as any[]).some((c) => c.ErrorEquals.includes('States.ALL'))).toBe(true);
      expect(task.TimeoutSecondsPath).toBe('$.item.timeoutSeconds');
    }
    const domainMaps = states.filter(([n, s]) => s.Type === 'Map' && /^Run (data|strategy|critical) agents$/.test(n));
    expect(domainMaps).toHaveLength(3);
    for (const [, m] of domainMaps) expect(typeof m.MaxConcurrencyPath).toBe('string');
  });

  it('leaves only the four ARN placeholders for DefinitionSubstitutions, all of them substituted', () => {
    const [[, sm]] = resourcesOfType(base.template, 'AWS::StepFunctions::StateMachine');
    const placeholders = new Set([...(sm.Properties.DefinitionString as string).matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(['GatewayFunctionArn', 'MasterFunctionArn', 'RiskFunctionArn', 'SupervisorFunctionArn']);
    expect(Object.keys(sm.Properties.DefinitionSubstitutions).sort()).toEqual([
      'GatewayFunctionArn',
      'MasterFunctionArn',
      'RiskFunctionArn',
      'SupervisorFunctionArn',
    ]);
    const masterId = base.stack.lambdaFunctions.find((f) => f.role === 'master')!.logicalId;
    expect(sm.Properties.DefinitionSubstitutions.MasterFunctionArn).toEqual({ 'Fn::GetAtt': [masterId, 'Arn'] });
  });

  it('follows the config: risk.maxRetries and fault-domain retries change the rendered numbers', () => {
    const changed = synth((c) => ({ ...c, risk: { ...c.risk, maxRetries: 7 }, faultDomains: { strategy: { maxRetries: 2 } } }));
    const d = definitionOf(changed);
    expect((d.States['Assess risk'].Retry as any[]).find((r) => r.ErrorEquals.includes('States.ALL')).MaxAttempts).toBe(7);
    const strategy = allStates(d).find(([n]) => n === 'Run strategy agent')![1];
    expect((strategy.Retry as any[]).find((r) => r.ErrorEquals.includes('States.ALL')).MaxAttempts).toBe(2);
  });
});
