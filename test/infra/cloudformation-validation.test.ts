/**
 * aws-cdk-lib's built-in CloudFormation validation (the `@aws/cloudformation-validate` rule engine,
 * the checks CloudFormation applies to a template before it deploys it) on the stacks this app
 * synthesizes, with the feature flags of `cdk.json`: `@aws-cdk/core:validateAgainstDefaultRules`
 * makes every error fail synthesis, as `cdk synth` does.
 *
 * The rest of the suite turns the validation off (`CDK_VALIDATION=false` in test/setup.ts): it costs
 * about 2.5 s per process and 0.7 s per template, and the suite synthesizes in about 40 files. This
 * file is where it runs, on the fixture fleet and on a fleet that uses every optional resource.
 */
import { CfnResource } from 'aws-cdk-lib';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrchestratorApp } from '../../lib/app-factory';
import type { OrchestratorConfig } from '../../lib/config/schema';
import { fixtureConfig } from '../fixtures/fleet';

// Two synthesized apps, each validated by a WebAssembly engine: generous on 2 shared cores.
jest.setTimeout(60_000);

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string; description: string }[] }[];
}

let saved: string | undefined;
beforeAll(() => {
  saved = process.env.CDK_VALIDATION;
  delete process.env.CDK_VALIDATION;
});
afterAll(() => {
  if (saved !== undefined) process.env.CDK_VALIDATION = saved;
});

/** Synthesizes `config` (bundling off: validation reads the template, not the code) and returns the validation report. */
function validate(config: OrchestratorConfig, mutate?: (resources: CfnResource[]) => void): ValidationReport {
  const { app, stack } = createOrchestratorApp({ config, bundling: false, context: { alertEmail: 'ops@example.com' } });
  mutate?.(stack.node.findAll().filter((c): c is CfnResource => c instanceof CfnResource));
  const dir = app.synth().directory;
  const file = join(dir, 'validation-report.json');
  expect(existsSync(file)).toBe(true); // the validation ran
  return JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
}

const violations = (r: ValidationReport) =>
  r.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName}: ${v.severity} ${v.ruleName}: ${v.description}`));

describe('CloudFormation validation of the synthesized stack', () => {
  it('the fixture fleet: no finding of any severity', () => {
    expect(violations(validate(fixtureConfig()))).toEqual([]);
  });

  it('a fleet with an event trigger, per-agent metrics and alarms, paused groups and a second group: no finding', () => {
    const config = fixtureConfig((c) => {
      c.cycle = { ...c.cycle, triggers: [{ name: 'news', group: 'fast', eventPattern: { source: ['news.feed'] } }] };
      c.agents = [...c.agents, { name: 'scalper', group: 'fast', faultDomain: 'data', timeoutSeconds: 30, entry: 'test/fixtures/reducer-agent.ts' }];
      c.monitoring = { perAgentMetrics: true, perAgentAlarms: true };
    });
    expect(violations(validate(config))).toEqual([]);
  });

  it('an invalid property fails synthesis, naming the property and the resource (the check is live)', () => {
    expect(() =>
      validate(fixtureConfig(), (resources) => resources.find((r) => r.cfnResourceType === 'AWS::Lambda::Function')!.addPropertyOverride('MemorySize', 'lots')),
    ).toThrow(/ERROR MemorySize: 'lots' is not of type 'integer' \(CloudFormation Validate\)\n.*AgentFleet\/Agent-strategy\/Function/);
  });
});
