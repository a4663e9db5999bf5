/**
 * Names and quotas fail (or adapt) at synth, not mid-deploy: CloudFormation's 500 resources, the
 * dashboard's metric quotas, schedule names after truncation, a region-unique dashboard name, and a
 * warning when nobody is subscribed to the alert topic.
 */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { scheduleRefs } from '../../lib/constructs/cycle-schedules';
import { validateConfig } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';
import { flatten, resourcesOfType, synth } from './template-helpers';

const grid = (k: number) => Array.from({ length: k }, (_, i) => ({ name: `grid-${i}`, entry: 'bench/fixtures/synthetic-agent.ts' }));

describe('quotas and names', () => {
  it('per-agent alarms past 500 resources fail at synth with the field to change, not TooManyResourcesInStack', () => {
    expect(() => synth((c) => ({ ...c, agents: [...c.agents, ...grid(160)] }))).toThrow(
      /Stack AgentFleet would have \d+ resources, over CloudFormation's limit of 500 per stack .*per-agent alarms of 164 agents: set monitoring\.perAgentAlarms: false/,
    );
    expect(() => synth((c) => ({ ...c, monitoring: { perAgentAlarms: false }, agents: [...c.agents, ...grid(160)] }))).not.toThrow();
  });

  it('the dashboard stays within 500 metrics per widget and 2,500 per dashboard for a large fleet (one SEARCH per per-agent widget)', () => {
    const s = synth((c) => ({ ...c, monitoring: { perAgentAlarms: false }, agents: [...c.agents, ...grid(600)] }));
    const [[, dash]] = resourcesOfType(s.template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.parse(flatten(dash.Properties.DashboardBody));
    const perWidget = body.widgets.map((w: any) => (w.properties.metrics ?? []).length);
    expect(Math.max(...perWidget)).toBeLessThanOrEqual(500);
    expect(perWidget.reduce((a: number, b: number) => a + b, 0)).toBeLessThanOrEqual(2500);
    const search = body.widgets.find((w: any) => w.properties.title === 'Agent success rate (%)');
    expect(JSON.stringify(search.properties.metrics)).toContain('SEARCH(\'{AgentFleet,agent,service} MetricName=\\"AgentSuccessRate\\"');
    expect(flatten(dash.Properties.DashboardBody).length).toBeLessThan(100_000);
    // A small fleet keeps one labelled series per agent.
    const small = synth();
    const [[, d2]] = resourcesOfType(small.template, 'AWS::CloudWatch::Dashboard');
    const rate = JSON.parse(flatten(d2.Properties.DashboardBody)).widgets.find((w: any) => w.properties.title === 'Agent success rate (%)');
    expect(rate.properties.metrics).toHaveLength(4);
  });

  it('the dashboard name includes the region (dashboards are account-global)', () => {
    const [[, dash]] = resourcesOfType(synth().template, 'AWS::CloudWatch::Dashboard');
    expect(flatten(dash.Properties.DashboardName)).toBe('AgentFleet-REGION-Fleet');
  });

  it('schedule names never collide after truncation to 64 characters', () => {
    const config = validateConfig({
      ...defaultConfig,
      stackName: 'A'.repeat(40),
      agents: [
        { ...defaultConfig.agents[0], group: 'rebalance-portfolio-group-one' },
        { ...defaultConfig.agents[1], group: 'rebalance-portfolio-group-two' },
      ],
    });
    const names = scheduleRefs(config, config.stackName).map((r) => r.scheduleName);
    expect(new Set(names).size).toBe(2);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(64);
    expect(names[0]).toMatch(/^A{40}-rebalance-port-[0-9a-f]{8}$/);
    expect(scheduleRefs(validateConfig(defaultConfig), 'AgentFleet')[0].scheduleName).toBe('AgentFleet-default');
  });

  it('warns at synth when the alert topic has no subscriber, and not when an e-mail is set', () => {
    const warned = synth();
    Annotations.fromStack(warned.stack).hasWarning('*', Match.stringLikeRegexp('alert topic has no subscriber'));
    const quiet = synth((c) => c, { alertEmail: 'ops@example.com' });
    Annotations.fromStack(quiet.stack).hasNoWarning('*', Match.stringLikeRegexp('alert topic has no subscriber'));
  });
});
