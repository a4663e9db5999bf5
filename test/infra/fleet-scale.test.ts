/**
 * A fleet grows without the stack growing with it: agents with the same code entry share one
 * function (the payload names the agent), the supervisor's registry is a file in its asset (not
 * the 4 KB environment), and without per-agent alarms the alarm count is constant.
 */
import { readFileSync } from 'node:fs';
import { ENV } from '../../lambdas/shared/env';
import { resourcesOfType, synth } from './template-helpers';

const fleet = (k: number) =>
  synth((c) => ({
    ...c,
    monitoring: { perAgentAlarms: false },
    agents: [
      ...c.agents,
      ...Array.from({ length: k }, (_, i) => ({ name: `grid-${i}`, entry: 'bench/fixtures/synthetic-agent.ts', params: { durationMs: i } })),
    ],
  }));

describe('a fleet of 300 agents on one code entry', () => {
  const s = fleet(300);

  it('synthesizes one shared function for the 300 agents, named from the entry, serving all of them', () => {
    const shared = s.stack.lambdaFunctions.filter((f) => f.entry === 'bench/fixtures/synthetic-agent.ts');
    expect(shared).toHaveLength(1);
    expect(shared[0].agents).toHaveLength(300);
    expect(shared[0].agent).toBeUndefined();
    expect(s.template.Resources[shared[0].logicalId].Properties.FunctionName).toBe('AgentFleet-synthetic-agent');
    expect(resourcesOfType(s.template, 'AWS::Lambda::Function')).toHaveLength(5 + 4 + 1); // supervisor, risk, Master, operator, order gateway; 4 reference agents; 1 shared
  });

  it('stays under CloudFormation limits: 500 resources, and every function under 4 KB of environment', () => {
    expect(Object.keys(s.template.Resources).length).toBeLessThan(500);
    for (const [id, fn] of resourcesOfType(s.template, 'AWS::Lambda::Function')) {
      const size = JSON.stringify(fn.Properties.Environment?.Variables ?? {}).length;
      expect({ id, ok: size < 4096 }).toEqual({ id, ok: true });
    }
  });

  it("gives the supervisor's registry every agent with its function name", () => {
    const sup = s.stack.lambdaFunctions.find((f) => f.role === 'supervisor')!;
    expect(s.template.Resources[sup.logicalId].Properties.Environment.Variables[`${ENV.supervisorSettings}_FILE`]).toBe('/var/task/supervisor-settings.json');
    const registry = JSON.parse(readFileSync(sup.assetFiles!['supervisor-settings.json'], 'utf8'));
    expect(registry.agents).toHaveLength(304);
    expect(registry.agents.find((a: { name: string }) => a.name === 'grid-299')).toMatchObject({
      functionArn: 'AgentFleet-synthetic-agent',
      params: { durationMs: 299 },
    });
    expect(registry.agents.find((a: { name: string }) => a.name === 'trading')).toMatchObject({ functionArn: 'AgentFleet-trading' });
  });

  it('has the same number of alarms as a fleet of 5', () => {
    expect(resourcesOfType(s.template, 'AWS::CloudWatch::Alarm')).toHaveLength(resourcesOfType(fleet(1).template, 'AWS::CloudWatch::Alarm').length);
  });
});
