/**
 * `lib/state-machine/definition.ts` and `description.ts`: the definition rendered from the typed
 * description is valid ASL (asl-validator) for every kind of config, carries each config number as a
 * JSON number where it belongs, and `statemachines/cycle.asl.json` is exactly the rendering for the
 * schema's defaults. Fleets are built here; the user's config/orchestrator.config.ts is not read.
 */
import { readFileSync } from 'node:fs';
import validator from 'asl-validator';
import { FAULT_DOMAINS, validateConfig, type FaultDomain, type OrchestratorConfigInput } from '../../lib/config/schema';
import { describeCycle, faultDomainStateNames, CYCLE_STATES } from '../../lib/state-machine/description';
import {
  ARN_PLACEHOLDERS,
  CYCLE_DEFINITION_FILE,
  DEFAULT_RENDER_CONFIG,
  formatDefinitionFile,
  renderCycle,
  renderCycleDefinition,
  substituteArns,
  type AslDefinition,
} from '../../lib/state-machine/definition';

type AnyState = Record<string, any>;

/** A fleet of `k` agents spread over the fault domains, every tenth one depending on the one before. */
function fleet(k: number): NonNullable<OrchestratorConfigInput['agents']> {
  return Array.from({ length: k }, (_, i) => ({
    name: `agent-${i}`,
    faultDomain: FAULT_DOMAINS[i % FAULT_DOMAINS.length],
    dependsOn: i % 10 === 9 ? [`agent-${i - 1}`] : [],
  }));
}
const render = (input: Omit<OrchestratorConfigInput, 'agents'> & { agents?: OrchestratorConfigInput['agents'] }): AslDefinition =>
  renderCycleDefinition(validateConfig({ agents: fleet(4), ...input }));

/** asl-validator's verdict (on a copy: it adds `QueryLanguage` to the states it reads). */
function expectValidAsl(def: AslDefinition): void {
  const result = validator(structuredClone(def));
  if (!result.isValid) throw new Error(`asl-validator rejects the rendered definition:\n${result.errorsText('\n')}`);
  expect(result.isValid).toBe(true);
}

/** Every state of a definition, nested ones included, by name. */
function allStates(def: { States: Record<string, AnyState> }): Map<string, AnyState> {
  const out = new Map<string, AnyState>();
  const visit = (states: Record<string, AnyState>): void => {
    for (const [name, s] of Object.entries(states)) {
      out.set(name, s);
      if (s.ItemProcessor) visit(s.ItemProcessor.States);
      for (const b of s.Branches ?? []) visit(b.States);
    }
  };
  visit(def.States);
  return out;
}
/** The configured (States.ALL) retrier of an agent task. */
const policyRetrier = (s: AnyState): AnyState => s.Retry.find((r: AnyState) => r.ErrorEquals.includes('States.ALL'));

describe('statemachines/cycle.asl.json', () => {
  it('is the rendering for the schema defaults (regenerate with npm run render:asl)', () => {
    const expected = formatDefinitionFile(renderCycleDefinition(validateConfig(DEFAULT_RENDER_CONFIG)));
    const actual = readFileSync(CYCLE_DEFINITION_FILE, 'utf8');
    if (actual !== expected) throw new Error('statemachines/cycle.asl.json differs from the rendered definition: run `npm run render:asl` and commit the file');
    expect(actual).toBe(expected);
  });

  it('is valid ASL as it is in the repository, with numbers as numbers and only ARN placeholders left', () => {
    const file = JSON.parse(readFileSync(CYCLE_DEFINITION_FILE, 'utf8')) as AslDefinition;
    expectValidAsl(file);
    const placeholders = new Set<string>();
    const walk = (v: unknown, path: string): void => {
      if (typeof v === 'string') {
        for (const m of v.matchAll(/\$\{([^}]*)\}/g)) {
          placeholders.add(m[1]);
          // A placeholder is always the whole string (a FunctionName), never spliced into text.
          expect({ path, v }).toEqual({ path, v: `\${${m[1]}}` });
        }
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    walk(file, '$');
    expect([...placeholders].sort()).toEqual([...ARN_PLACEHOLDERS].sort());
    expect(file.TimeoutSeconds).toBe(3600);
    const risk = policyRetrier(file.States['Assess risk']);
    expect(risk).toEqual({ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 });
  });
});

describe('renderCycleDefinition', () => {
  it('is valid ASL for a large fleet (K = 200), and the agents do not change the definition', () => {
    const large = render({ agents: fleet(200), cycle: { maxWorkers: 40 } });
    expectValidAsl(large);
    expect(large).toEqual(render({ agents: fleet(1) }));
  });

  it.each(['SKIP', 'BUFFER_ONE', 'ALLOW_ALL'] as const)('is valid ASL with overlap policy %s', (overlapPolicy) => {
    expectValidAsl(render({ cycle: { overlapPolicy } }));
  });

  it('CANCEL_OTHER is refused by the schema before any definition is rendered', () => {
    expect(() => render({ cycle: { overlapPolicy: 'CANCEL_OTHER' } })).toThrow(/cycle\.overlapPolicy: CANCEL_OTHER is not supported/);
  });

  it('is valid ASL with event triggers on and off', () => {
    const on = render({ cycle: { triggers: [{ name: 'news', eventPattern: { source: ['news.feed'] } }] } });
    expectValidAsl(on);
    expect(on).toEqual(render({ cycle: { triggers: [] } }));
  });

  it('renders the cadence into the execution timeout: two cadences, at least an hour', () => {
    expect(render({ cycle: { cadenceMinutes: 15 } }).TimeoutSeconds).toBe(3600);
    const daily = render({ cycle: { cadenceMinutes: 1440 } });
    expect(daily.TimeoutSeconds).toBe(2 * 1440 * 60);
    expectValidAsl(daily);
  });

  const policies = [
    { maxRetries: 0, intervalSeconds: 1, backoffRate: 1 },
    { maxRetries: 50, intervalSeconds: 300, backoffRate: 1000 },
    { maxRetries: 7, intervalSeconds: 3, backoffRate: 1.5 },
  ];
  const cases = FAULT_DOMAINS.flatMap((domain) => policies.map((policy) => [domain, policy] as const));
  it.each(cases)("faultDomains.%s = %j: valid ASL, the numbers in that domain's agent task only", (domain, policy) => {
    const def = render({ faultDomains: { [domain]: policy } });
    expectValidAsl(def);
    const defaults = validateConfig({ agents: fleet(1) }).faultDomains;
    const states = allStates(def);
    for (const d of FAULT_DOMAINS) {
      const expected = d === domain ? policy : defaults[d];
      expect(policyRetrier(states.get(faultDomainStateNames(d).runAgent)!)).toEqual({
        ErrorEquals: ['States.ALL'],
        IntervalSeconds: expected.intervalSeconds,
        MaxAttempts: expected.maxRetries,
        BackoffRate: expected.backoffRate,
      });
    }
  });

  const riskPolicies = [
    { maxRetries: 0, intervalSeconds: 1, backoffRate: 1 },
    { maxRetries: 10, intervalSeconds: 60, backoffRate: 1000 },
    { maxRetries: 7, intervalSeconds: 3, backoffRate: 1.5 },
  ];
  it.each(riskPolicies)('risk = %j: valid ASL, the numbers in "Assess risk"', (policy) => {
    const def = render({ risk: policy });
    expectValidAsl(def);
    expect(policyRetrier(def.States['Assess risk'])).toEqual({
      ErrorEquals: ['States.ALL'],
      IntervalSeconds: policy.intervalSeconds,
      MaxAttempts: policy.maxRetries,
      BackoffRate: policy.backoffRate,
    });
  });

  it('"Run agents" has one branch per fault domain, in FAULT_DOMAINS order, each reading its own share of the phase', () => {
    const def = render({});
    const runAgents = def.States['Run phases'] as AnyState;
    const branches = runAgents.ItemProcessor.States['Run agents'].Branches as AnyState[];
    expect(branches.map((b) => b.StartAt)).toEqual(FAULT_DOMAINS.map((d) => `Run ${d} agents`));
    branches.forEach((b, i) => {
      const map = b.States[b.StartAt];
      expect(map.ItemsPath).toBe(`$.phase.${FAULT_DOMAINS[i]}`);
      expect(map.MaxConcurrencyPath).toBe(`$.phase.concurrency.${FAULT_DOMAINS[i]}`);
      expect(Object.keys(map.ItemProcessor.States)).toEqual([
        `Run ${FAULT_DOMAINS[i]} agent`,
        `Execute ${FAULT_DOMAINS[i]} agent orders`,
        `Record ${FAULT_DOMAINS[i]} agent failure`,
      ]);
    });
  });

  it('every fixed state name of the description is a state of the definition, and no state is unnamed there', () => {
    const names = new Set(allStates(render({})).keys());
    const perDomain = FAULT_DOMAINS.flatMap((d) => Object.values(faultDomainStateNames(d)));
    expect([...names].sort()).toEqual([...Object.values(CYCLE_STATES), ...perDomain].sort());
  });

  it('a fault domain added to the description renders as one more valid branch, with no change to the renderer', () => {
    const base = describeCycle(validateConfig({ agents: fleet(3) }));
    const extra = 'latency' as FaultDomain;
    const def = renderCycle({
      ...base,
      faultDomains: [
        ...base.faultDomains,
        { domain: extra, retry: { maxRetries: 2, intervalSeconds: 5, backoffRate: 3 }, states: faultDomainStateNames(extra) },
      ],
    });
    expectValidAsl(def);
    const states = allStates(def);
    expect(states.get('Run latency agents')).toMatchObject({ ItemsPath: '$.phase.latency', MaxConcurrencyPath: '$.phase.concurrency.latency' });
    expect(policyRetrier(states.get('Run latency agent')!)).toMatchObject({ MaxAttempts: 2, IntervalSeconds: 5, BackoffRate: 3 });
    expect(states.get('Run latency agent')!.Catch[0].Next).toBe('Record latency agent failure');
  });
});

describe('substituteArns', () => {
  const arns = Object.fromEntries(ARN_PLACEHOLDERS.map((p) => [p, `arn:aws:lambda:local:000000000000:function:${p}`])) as Record<
    (typeof ARN_PLACEHOLDERS)[number],
    string
  >;

  it('replaces every ARN placeholder and leaves a valid definition with no placeholder', () => {
    const def = substituteArns(render({}), arns);
    expect(JSON.stringify(def)).not.toContain('${');
    expect(def.States['Plan cycle'].Parameters).toMatchObject({ FunctionName: arns.SupervisorFunctionArn });
    expectValidAsl(def);
  });

  it('throws naming a placeholder without a value', () => {
    const { GatewayFunctionArn: _omitted, ...rest } = arns;
    expect(() => substituteArns(render({}), rest as typeof arns)).toThrow('No value for placeholder ${GatewayFunctionArn}');
  });
});
