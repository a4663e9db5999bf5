/**
 * Config refuses the questionable (issue 15): each case is an error with its field path, or a
 * warning where it is legitimate but surprising. Plus the cycle-control fields and their defaults.
 */
import { join } from 'node:path';
import { checkConfig, configErrors, configWarnings, dataErrors, paramsErrors, retryChainSeconds } from '../../lib/config/checks';
import { ConfigError, validateConfig, type OrchestratorConfigInput } from '../../lib/config/schema';
import { supervisorSettingsFromConfig } from '../../lib/config/lambda-settings';
import defaultConfig from '../fixtures/fleet';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createOrchestratorApp, type CreateOrchestratorAppOptions } from '../../lib/app-factory';

const synthTemplate = (opts: CreateOrchestratorAppOptions): Record<string, any> => {
  const { app, stack } = createOrchestratorApp(opts);
  return app.synth().getStackByName(stack.stackName).template as Record<string, any>;
};

const REPO = join(__dirname, '..', '..');
const base = (patch: (c: OrchestratorConfigInput) => void = () => undefined) => {
  const c = JSON.parse(JSON.stringify(defaultConfig)) as OrchestratorConfigInput;
  patch(c);
  return c;
};
const issuesOf = (raw: unknown): { path: string; message: string }[] => {
  try {
    validateConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
};

describe('cycle control fields', () => {
  it('defaults: overlap policy SKIP for every group, lateness one cadence; the supervisor settings carry them', () => {
    const cfg = validateConfig(base());
    expect(cfg.cycle).toMatchObject({ overlapPolicy: 'SKIP', groups: {}, maxLatenessSeconds: 900 });
    expect(supervisorSettingsFromConfig(cfg, Object.fromEntries(cfg.agents.map((a) => [a.name, `arn:${a.name}`])))).toMatchObject({
      overlapPolicies: { default: 'SKIP' },
      maxLatenessSeconds: 900,
      cycleTimeoutSeconds: 3600,
    });
  });
  it('a per-group policy overrides the default; an unknown group and CANCEL_OTHER are refused with their paths', () => {
    const cfg = validateConfig(base((c) => (c.cycle = { ...c.cycle, groups: { default: { overlapPolicy: 'ALLOW_ALL' } } })));
    expect(supervisorSettingsFromConfig(cfg, Object.fromEntries(cfg.agents.map((a) => [a.name, 'arn'])))).toMatchObject({
      overlapPolicies: { default: 'ALLOW_ALL' },
    });
    expect(issuesOf(base((c) => (c.cycle = { ...c.cycle, groups: { nightly: { overlapPolicy: 'SKIP' } } })))).toEqual([
      { path: 'cycle.groups.nightly', message: 'no enabled agent is in group "nightly" (groups: default)' },
    ]);
    expect(issuesOf(base((c) => (c.cycle = { ...c.cycle, overlapPolicy: 'CANCEL_OTHER' })))).toEqual([
      { path: 'cycle.overlapPolicy', message: expect.stringMatching(/CANCEL_OTHER is not supported yet/) },
    ]);
    expect(issuesOf(base((c) => (c.cycle = { ...c.cycle, maxLatenessSeconds: 30_000 })))[0].path).toBe('cycle.maxLatenessSeconds');
  });
  it('plan, record and schedule are reserved agent names (fault targets)', () => {
    expect(issuesOf(base((c) => c.agents.push({ name: 'plan' })))).toEqual([{ path: 'agents[4].name', message: expect.stringMatching(/"plan" is reserved/) }]);
  });
});

describe('config refuses the questionable', () => {
  it('windowSize < minimumRuns: the failure-rate rule could never apply', () => {
    expect(issuesOf(base((c) => (c.breaker = { windowSize: 5, minimumRuns: 8 })))).toEqual([
      { path: 'breaker.minimumRuns', message: expect.stringMatching(/at most breaker.windowSize \(5\)/) },
    ]);
  });
  it('tradingHours with start == end', () => {
    expect(issuesOf(base((c) => (c.agents[0].tradingHours = { timezone: 'America/New_York', start: '09:30', end: '09:30' })))).toEqual([
      { path: 'agents[0].tradingHours.end', message: expect.stringMatching(/equals start \(09:30\): the window is empty/) },
    ]);
  });
  it('retry chains longer than the execution timeout: an error naming the fault domain; the default fleet passes', () => {
    expect(retryChainSeconds(300, { maxRetries: 10, intervalSeconds: 1, backoffRate: 2 })).toBe(1023 + 7 + 300);
    expect(configErrors(validateConfig(base()))).toEqual([]);
    const long = validateConfig(base((c) => (c.faultDomains = { data: { maxRetries: 12 } })));
    expect(configErrors(long)).toEqual([
      {
        path: 'faultDomains.data.maxRetries',
        message: expect.stringMatching(
          /a group "default" cycle takes \d+ s \(slowest: sentiment, 300 s per attempt\), longer than the execution timeout \(3600 s\)/,
        ),
      },
    ]);
    expect(() => checkConfig(long, REPO)).toThrow(/faultDomains.data.maxRetries/);
  });
  it('a critical domain with retries: a warning (legitimate, surprising)', () => {
    expect(configWarnings(validateConfig(base()))).toEqual([]);
    expect(configWarnings(validateConfig(base((c) => (c.faultDomains = { critical: { maxRetries: 2 } }))))).toEqual([
      { path: 'faultDomains.critical.maxRetries', message: expect.stringMatching(/fail-stop by design/) },
    ]);
  });
  it('a universe symbol missing from the market data: an error with its index', () => {
    const cfg = validateConfig(base((c) => (c.portfolio = { universe: ['IBM', 'NOPE', 'KO'] })));
    expect(dataErrors(cfg, REPO)).toEqual([
      { path: 'portfolio.universe[1]', message: '"NOPE" is not a column of data/market/dowjones30-daily.csv (the risk gate would HALT every cycle)' },
    ]);
    expect(() => checkConfig(cfg, REPO)).toThrow(ConfigError);
  });
});

describe('event-driven cycles (cycle.triggers)', () => {
  const trigger = { name: 'earnings', eventPattern: { source: ['acme.news'], 'detail-type': ['Earnings'] } };
  it('each trigger is an EventBridge rule whose target starts the cycle with { source: event, trigger, group, eventId, eventTime }', () => {
    const t = synthTemplate({ config: validateConfig(base((c) => (c.cycle = { ...c.cycle, triggers: [trigger] }))), bundling: false });
    const rules = Object.entries<any>(t.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0];
    const [smId] = Object.entries<any>(t.Resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')!;
    expect(rule.Properties).toMatchObject({ Name: 'AgentFleet-earnings', State: 'ENABLED', EventPattern: trigger.eventPattern });
    const target = rule.Properties.Targets[0];
    expect(target.Arn).toEqual({ Ref: smId });
    expect(target.InputTransformer.InputPathsMap).toEqual({ id: '$.id', time: '$.time' });
    expect(JSON.parse(target.InputTransformer.InputTemplate.replace('<id>', '"E"').replace('<time>', '"T"'))).toEqual({
      source: 'event',
      trigger: 'earnings',
      group: 'default',
      eventId: 'E',
      eventTime: 'T',
    });
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 5 });
    expect(target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/^SchedulesDeadLetterQueue/);
  });
  it('a stack with a trigger passes the AwsSolutions cdk-nag pack with zero findings', () => {
    const { app, stack } = createOrchestratorApp({ config: validateConfig(base((c) => (c.cycle = { ...c.cycle, triggers: [trigger] }))), bundling: false });
    app.synth();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? r.resourceLogicalId}`))).toEqual([]);
  });
  it('refuses an empty pattern, a duplicate name, and a missing group when the fleet has several', () => {
    expect(issuesOf(base((c) => (c.cycle = { ...c.cycle, triggers: [{ name: 'x', eventPattern: {} }] })))).toEqual([
      { path: 'cycle.triggers[0].eventPattern', message: 'must not be empty (it would match nothing)' },
    ]);
    expect(issuesOf(base((c) => (c.cycle = { ...c.cycle, triggers: [trigger, trigger] })))).toEqual([
      { path: 'cycle.triggers[1].name', message: 'duplicate trigger "earnings"' },
    ]);
    const twoGroups = base((c) => {
      c.agents[0].group = 'fast';
      c.cycle = { ...c.cycle, triggers: [trigger] };
    });
    expect(issuesOf(twoGroups)).toEqual([{ path: 'cycle.triggers[0].group', message: expect.stringMatching(/^required: the fleet has 2 groups/) }]);
  });
});

describe("agents' params against the schema each agent declares (defineAgent({ params }))", () => {
  const fleet = (params: Record<string, unknown>) =>
    validateConfig({
      stackName: 'ParamsCheck',
      agents: [
        { name: 'strategy', faultDomain: 'strategy', timeoutSeconds: 60 },
        { name: 'sentiment', faultDomain: 'data', timeoutSeconds: 60 },
        { name: 'trading', faultDomain: 'strategy', dependsOn: ['strategy', 'sentiment'], timeoutSeconds: 60, params },
        // No declared schema: not checked (the README's example agent reads params freely).
        { name: 'free', faultDomain: 'data', timeoutSeconds: 60, entry: 'test/fixtures/promise-all-agent.ts', params: { anything: 1 } },
      ],
    });
  it('a typo or an out-of-range value is an error naming agents[i].params.<key>; synth refuses it', () => {
    expect(paramsErrors(fleet({ positionUsd: 1_000, minBreadth: 0.5 }), REPO)).toEqual([]);
    const bad = fleet({ positonUsd: 1_000, minBreadth: 1.5 });
    expect(paramsErrors(bad, REPO)).toEqual([
      { path: 'agents[2].params.minBreadth', message: expect.stringMatching(/expected number to be <=1 \(agent trading\)$/) },
      { path: 'agents[2].params', message: 'Unrecognized key: "positonUsd" (agent trading)' },
    ]);
    expect(() => checkConfig(bad, REPO)).toThrow(/agents\[2\]\.params: Unrecognized key: "positonUsd"/);
  });
});
