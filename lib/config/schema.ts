/**
 * The orchestrator's configuration: one typed, validated object that the CDK app,
 * the Lambdas (through environment variables) and the local runtime all read.
 *
 * Defaults are the specification's (docs/requirements.md): risk first with 3 retries and backoff rate 2.0, 4 parallel
 * workers, a 300 s timeout per agent, a 15-minute cycle, agents `trading`,
 * `strategy`, `copybot` and `sentiment` behind the `risk` gate.
 *
 * Lambdas do
 * not import this module (they receive the resolved values as environment variables
 * or in the cycle plan) so that the zod schema is not bundled twice.
 */
import * as z from 'zod';
import {
  FAULT_DOMAIN_DEFAULT_MAX_RETRIES,
  FAULT_DOMAIN_NAMES,
  OVERLAP_POLICIES as CONTRACT_OVERLAP_POLICIES,
  paramsSchema,
  perFaultDomain,
} from '../../lambdas/shared/contracts';
import { agentBudgetSchema, riskLimitsSchema } from '../../lambdas/shared/settings';
import { findDependencyCycle } from '../../lambdas/shared/supervision/phases';

/** Names are DNS-ish identifiers: they become parts of Lambda names, metric dimensions and item keys. */
const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Fault domains (R-FAULT-DOMAINS; the list is `FAULT_DOMAIN_NAMES` in `lambdas/shared/contracts.ts`). Each maps to one retry policy in the state machine.
 * - `data`: retried on every error except a timeout (the timeout is the agent's time budget), up to `faultDomains.data.maxRetries` (default 10).
 * - `strategy`: retried up to `faultDomains.strategy.maxRetries` (default 5).
 * - `critical`: fail-stop: the agent's own errors are never retried (`faultDomains.critical.maxRetries`
 *   default 0); a failure escalates to the Master, which halts the system.
 * Every domain also retries Lambda service errors (throttling, `Lambda.ServiceException`, ...) 3 times,
 * because those are the platform's transient faults, not the agent's.
 */
export const FAULT_DOMAINS = FAULT_DOMAIN_NAMES;
/** One of {@link FAULT_DOMAINS}. */
export type FaultDomain = (typeof FAULT_DOMAINS)[number];

/** Overlap policies (`lambdas/shared/contracts.ts`; see docs/supervision.md "Exactly one cycle per slot"). */
export const OVERLAP_POLICIES = CONTRACT_OVERLAP_POLICIES;

/** A trading-hours window evaluated by the supervisor at planning time. Outside it the agent is SKIPPED with the reason. */
export const tradingHoursSchema = z
  .object({
    /** IANA timezone, e.g. `America/New_York`. */
    timezone: z.string().refine(isValidTimeZone, { message: 'must be an IANA timezone such as America/New_York' }),
    /** Local opening time `HH:MM` (24 h), inclusive. */
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'),
    /** Local closing time `HH:MM` (24 h), exclusive. */
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)'),
    /** ISO weekdays the window applies to (1 = Monday .. 7 = Sunday). Default Monday to Friday. */
    weekdays: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
  })
  .strict();

/** One registered agent. */
export const agentSchema = z
  .object({
    /** Unique agent name (`^[a-z][a-z0-9-]{0,39}$`); `risk` is reserved for the risk gate, `plan`, `record` and `schedule` for fault injection. */
    name: z.string().regex(NAME, 'must match ^[a-z][a-z0-9-]{0,39}$'),
    /** Disabled agents are not deployed as part of the fan-out and never run. Default true. */
    enabled: z.boolean().default(true),
    /** Schedule group: each group gets its own EventBridge Scheduler schedule. Default `default`. */
    group: z.string().regex(NAME, 'must match ^[a-z][a-z0-9-]{0,39}$').default('default'),
    /** Names of agents whose output this agent reads. Determines the phases (topological levels). Default none. */
    dependsOn: z.array(z.string()).default([]),
    /** Fault domain, one of `data | strategy | critical`. Default `strategy`. */
    faultDomain: z.enum(FAULT_DOMAINS).default('strategy'),
    /**
     * Per-agent timeout in seconds (default 300, R-AGENT-TIMEOUT): the task's timeout; the function's is 5 s longer so the
     * task's fires first. At most 895 (Lambda's own limit is 900 s, AWS Lambda quota).
     */
    timeoutSeconds: z.number().int().positive().max(895).default(300),
    /** Lambda memory in MB. Default 256. */
    memoryMb: z.number().int().min(128).max(10240).default(256),
    /** Optional trading-hours condition, evaluated at planning time. */
    tradingHours: tradingHoursSchema.optional(),
    /**
     * Handler module for this agent, relative to the repo root, e.g. `lambdas/agents/trading/handler.ts`.
     * Default `lambdas/agents/<name>/handler.ts`.
     */
    entry: z.string().optional(),
    /** Parameters handed to the agent in every cycle. Numeric ones may be tuned by the supervisor within ±20 %. */
    /** Agent parameters (`paramsSchema`); the agent's own `params` schema checks them at synth (`lib/config/checks.ts`). The supervisor may scale numeric ones within ±20 % (R-PARAM-BOUNDS); strings and booleans pass unchanged. */
    params: paramsSchema.default({}),
    /** May this agent sell beyond its own position (open a short)? Every agent is long-only unless this is true (pre-trade check `noShort`). Default false. */
    allowShort: z.boolean().default(false),
    /**
     * The agent's own risk budget inside the fleet's limits, checked on its own book by the order gateway in the same
     * transaction as the fleet's limits (issue 12; nautilus_trader#4419 account-level budgets per strategy). Default none.
     */
    /** The agent's own risk budget (`agentBudgetSchema`, `lambdas/shared/settings.ts`, shared with the order gateway). Default none. */
    budget: agentBudgetSchema.strict().optional(),
  })
  .strict();

/** Retry policy of one fault domain (see {@link FAULT_DOMAINS}). */
const retryPolicySchema = z
  .object({
    /** Retries after the first attempt. 0 means fail-stop. */
    maxRetries: z.number().int().min(0).max(50),
    /** First retry interval in seconds. */
    intervalSeconds: z.number().int().min(1).max(300).default(1),
    /** Multiplier of the interval per retry (default 2.0, R-FAULT-DOMAINS). Step Functions allows 1.0 .. 1000 (ASL spec, BackoffRate >= 1.0). */
    backoffRate: z.number().min(1).max(1000).default(2),
  })
  .strict();

/** The whole configuration. */
export const orchestratorConfigSchema = z
  .object({
    /** Stack name and prefix of physical names. Default `AgentFleet`. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,100}$/, 'must be a valid CloudFormation stack name')
      .default('AgentFleet'),
    cycle: z
      .object({
        /** Minutes between cycles (default 15, R-CADENCE). EventBridge Scheduler's finest rate is 1 minute. */
        cadenceMinutes: z.number().int().min(1).max(1440).default(15),
        /** IANA timezone of the schedules. Default `UTC`. */
        timezone: z.string().refine(isValidTimeZone, { message: 'must be an IANA timezone such as America/New_York' }).default('UTC'),
        /** Agents run at most this many at once in a phase (default 4, R-MAX-WORKERS). Inline Map runs at most 40 iterations concurrently (AWS quota). */
        maxWorkers: z.number().int().min(1).max(40).default(4),
        /** Days a cycle report is kept before DynamoDB TTL removes it. Default 30. */
        reportRetentionDays: z.number().int().min(1).max(3650).default(30),
        /**
         * What a slot does while its group still has a cycle running (Temporal Schedules' overlap
         * policies): `SKIP` skips and reports it, `BUFFER_ONE` lets it wait for the running cycle (at
         * most one waits), `ALLOW_ALL` lets cycles overlap. Default `SKIP`. `CANCEL_OTHER` is refused:
         * stopping another execution from the cycle is not built yet.
         */
        overlapPolicy: z.enum(OVERLAP_POLICIES).default('SKIP'),
        /** Per agent group: `{ overlapPolicy }` overriding `cycle.overlapPolicy`. Keys must be groups of enabled agents. Default `{}`. */
        groups: z.record(z.string(), z.object({ overlapPolicy: z.enum(OVERLAP_POLICIES) }).strict()).default({}),
        /**
         * A slot delivered more than this many seconds after its scheduled time is skipped as late
         * (EventBridge Scheduler retries a failed start for up to 24 h, and a late cycle would trade
         * on an old bar). Default one cadence. At most 6 h: the slot claims of that long are kept in
         * one DynamoDB item per group (400 KB item limit).
         */
        maxLatenessSeconds: z.number().int().min(1).max(21_600).optional(),
        /**
         * Event-driven cycles: each trigger is an EventBridge rule on the default bus whose matching
         * events start a cycle for `group` (default: the fleet's only group), through the same slot
         * claim (one event id is one slot) and overlap policy. `eventPattern` is an EventBridge event
         * pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html).
         * Default none.
         */
        triggers: z
          .array(
            z
              .object({
                /** Trigger name (`^[a-z][a-z0-9-]{0,39}$`), part of the rule name. */
                name: z.string().regex(NAME, 'must match ^[a-z][a-z0-9-]{0,39}$'),
                group: z.string().optional(),
                eventPattern: z.record(z.string(), z.unknown()).refine((p) => Object.keys(p).length > 0, 'must not be empty (it would match nothing)'),
              })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    risk: z
      .object({
        /** Retries of "Assess risk" after the first attempt (default 3, R-RISK-FIRST). */
        maxRetries: z.number().int().min(0).max(10).default(3),
        /** Backoff rate between risk retries (default 2.0, R-RISK-FIRST). */
        backoffRate: z.number().min(1).max(1000).default(2),
        /** First risk retry interval in seconds. Default 2. */
        intervalSeconds: z.number().int().min(1).max(60).default(2),
        /**
         * Handler module of the risk gate, relative to the repo root. Default `lambdas/risk/handler.ts`
         * (the reference risk engine). Bring your own by pointing here; it must return a RiskAssessment.
         */
        entry: z.string().min(1).default('lambdas/risk/handler.ts'),
        /** Timeout of one risk attempt in seconds (the function's is 5 s longer). At most 895 (Lambda: 900). Default 60. */
        timeoutSeconds: z.number().int().positive().max(895).default(60),
        /**
         * Pre-trade and portfolio limits, in USD or fractions (0.05 = 5 %): `riskLimitsSchema` of
         * `lambdas/shared/settings.ts`, the one declaration the risk Lambda and the order gateway parse too.
         * See `lambdas/shared/trading/pre-trade-checks.ts` and docs/risk.md.
         */
        limits: riskLimitsSchema.strict().prefault({}),
        /** Historical VaR / CVaR window in bars. Default 250. */
        varWindow: z.number().int().min(20).max(5000).default(250),
        /** VaR / CVaR confidence level as a fraction. Default 0.95. */
        varConfidence: z.number().gt(0.5).lt(1).default(0.95),
      })
      .strict()
      .prefault({}),
    breaker: z
      .object({
        /** Consecutive failures that open the breaker (default 5, R-BREAKER). */
        failureThreshold: z.number().int().min(1).max(100).default(5),
        /** Runs in the sliding window for the failure-rate rule (M). Default 10. */
        windowSize: z.number().int().min(2).max(100).default(10),
        /** Failure rate over the last M runs that opens the breaker, as a fraction. Default 0.5. */
        failureRateThreshold: z.number().gt(0).max(1).default(0.5),
        /** Minimum runs in the window before the failure-rate rule applies. Default 10. */
        minimumRuns: z.number().int().min(1).max(100).default(10),
        /**
         * OPEN wait after the first trip, seconds. Must exceed one cadence, or the next cycle would
         * already probe and an OPEN breaker would never skip a cycle. Default two cadences
         * (1,800 s at the default 15 minutes).
         */
        openSeconds: z.number().int().min(1).optional(),
        /** Growth of the OPEN wait per consecutive trip. Default 2. */
        backoffMultiplier: z.number().min(1).max(10).default(2),
        /** Cap of the OPEN wait, seconds. Default the larger of 14,400 (4 h) and 8 OPEN waits. */
        maxOpenSeconds: z.number().int().min(1).optional(),
      })
      .strict()
      .prefault({}),
    supervisor: z
      .object({
        /** Escalate to the Master when at least this fraction of enabled agents have OPEN breakers (default 0.5). */
        maxOpenBreakerFraction: z.number().gt(0).max(1).default(0.5),
        /** Maximum relative change the supervisor may make to a numeric parameter (autonomy boundary R-PARAM-BOUNDS: 0.2 = ±20 %). */
        maxParamAdjustFraction: z.number().min(0).max(0.2).default(0.2),
      })
      .strict()
      .prefault({}),
    faultDomains: z
      .object(perFaultDomain((d) => retryPolicySchema.prefault({ maxRetries: FAULT_DOMAIN_DEFAULT_MAX_RETRIES[d] })))
      .strict()
      .prefault({}),
    portfolio: z
      .object({
        /** Paper account's starting cash, USD. Default 1,000,000. */
        startingCashUsd: z.number().positive().default(1_000_000),
        /** Symbols the agents may trade; empty means every column of the market data. */
        universe: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    marketData: z
      .object({
        /** Wide CSV (first column a timestamp, one column per symbol), relative to the repo root. */
        file: z.string().min(1).default('data/market/dowjones30-daily.csv'),
        /**
         * Bar the first cycle sees (0-based). Later cycles advance one bar each. Default 260 (a VaR
         * window of history), or half the file when it is shorter, so any wide CSV replays unchanged.
         */
        startBar: z.number().int().min(0).optional(),
        /** Bars a price may lag before it is stale and risk says HALT. Default 0 (the current bar must be present). */
        maxStaleBars: z.number().int().min(0).default(0),
        /** A one-bar price move beyond this fraction of the previous close is suspect data (a bad print, a x1000 spike): the risk gate says HALT. Default 0.5. */
        suspectMoveFraction: z.number().positive().default(0.5),
      })
      .strict()
      .prefault({}),
    monitoring: z
      .object({
        /**
         * Emit per-agent metrics (success rate, duration, retries, breaker...) with an `agent` dimension,
         * for the dashboard. Each agent adds 9 custom metrics (USD 0.30 each a month, CloudWatch pricing).
         * Default true.
         */
        perAgentMetrics: z.boolean().default(true),
        /**
         * One alarm set per agent (Unhealthy, LowSuccessRate, FailureStreak; 3 alarms each) instead of the
         * three fleet-wide "any agent" alarms on the worst agent's value. Default true. Per-agent alarms
         * need `perAgentMetrics`; for fleets of more than a few dozen agents prefer the fleet alarms
         * (CloudFormation allows 500 resources per stack).
         */
        perAgentAlarms: z.boolean().default(true),
        /**
         * AWS X-Ray: active tracing on every function and on the state machine, and Powertools' Tracer in every
         * handler (a subsegment per invocation annotated with the cycle id and agent, one per AWS SDK call).
         * Off: no tracing anywhere and the Tracer is left out of the bundles at bundle time, which keeps them
         * about 0.14 MB smaller and the cold init shorter (README "Performance"). X-Ray bills traces recorded
         * beyond its free tier (X-Ray pricing). Default false.
         * @default false
         */
        tracing: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    alerts: z
      .object({
        /** Optional e-mail address subscribed to the operators' SNS topic. */
        email: z.email().optional(),
      })
      .strict()
      .prefault({}),
    killSwitch: z
      .object({
        /**
         * Reserved concurrency of the Master, so agents using up the account's concurrency cannot
         * throttle the kill switch. Reserving needs 10 unreserved executions left in the account
         * (Lambda quota): a new account with a concurrency limit of 10 must set 0 (none) or request an
         * increase first. Default 5.
         */
        masterReservedConcurrency: z.number().int().min(0).max(1000).default(5),
      })
      .strict()
      .prefault({}),
    /**
     * Staged resume after a halt (issue 12; hummingbot#2497, Lean#4846): `ops resume` takes a HALTED system into REDUCE
     * (reduce-only), and `ops resume --to normal` is a second operator action, refused until the cool-down has passed
     * with no new halt in between. Enforced by the operator function on the control item (one conditional write).
     */
    resume: z
      .object({
        /** Seconds in REDUCE after a resume before `--to normal` is allowed, 0 .. 86,400. Default one cadence (`cycle.cadenceMinutes` x 60). */
        coolDownSeconds: z.number().int().min(0).max(86_400).optional(),
        /** Allow `ops resume --to normal` straight from HALTED (no REDUCE stage). Default false. */
        allowDirectToNormal: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    /** Keep tables when the stack is deleted (default true). Set false for throwaway stacks. */
    retainData: z.boolean().default(true),
    agents: z.array(agentSchema).min(1, 'at least one agent is required'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.agents.forEach((agent, i) => {
      if (agent.name === 'risk') {
        ctx.addIssue({ code: 'custom', path: ['agents', i, 'name'], message: '"risk" is reserved for the risk gate' });
      }
      if (['plan', 'record', 'schedule'].includes(agent.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', i, 'name'],
          message: `"${agent.name}" is reserved (a fault target of the local runtime: --fail ${agent.name}=...)`,
        });
      }
      const first = seen.get(agent.name);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['agents', i, 'name'], message: `duplicate agent "${agent.name}" (also agents[${first}])` });
      } else {
        seen.set(agent.name, i);
      }
    });
    cfg.agents.forEach((agent, i) => {
      agent.dependsOn.forEach((dep, j) => {
        if (!seen.has(dep)) {
          ctx.addIssue({ code: 'custom', path: ['agents', i, 'dependsOn', j], message: `unknown agent "${dep}"` });
        } else if (dep === agent.name) {
          ctx.addIssue({ code: 'custom', path: ['agents', i, 'dependsOn', j], message: 'an agent cannot depend on itself' });
        } else {
          const target = cfg.agents[seen.get(dep)!];
          if (agent.enabled && !target.enabled) {
            ctx.addIssue({ code: 'custom', path: ['agents', i, 'dependsOn', j], message: `depends on disabled agent "${dep}"` });
          }
        }
      });
    });
    const cycle = findDependencyCycle(cfg.agents.map((a) => ({ name: a.name, dependsOn: a.dependsOn })));
    if (cycle) {
      const i = cfg.agents.findIndex((a) => a.name === cycle[0]);
      ctx.addIssue({ code: 'custom', path: ['agents', i, 'dependsOn'], message: `dependency cycle: ${cycle.join(' -> ')}` });
    }
    if (cfg.breaker.openSeconds !== undefined && cfg.breaker.openSeconds <= cfg.cycle.cadenceMinutes * 60) {
      ctx.addIssue({
        code: 'custom',
        path: ['breaker', 'openSeconds'],
        message: `must exceed one cadence (${cfg.cycle.cadenceMinutes * 60} s), or an OPEN breaker never skips a cycle`,
      });
    }
    if (cfg.breaker.maxOpenSeconds !== undefined && cfg.breaker.maxOpenSeconds < (cfg.breaker.openSeconds ?? 2 * cfg.cycle.cadenceMinutes * 60)) {
      ctx.addIssue({ code: 'custom', path: ['breaker', 'maxOpenSeconds'], message: 'must be at least breaker.openSeconds' });
    }
    const enabledAgents = cfg.agents.filter((a) => a.enabled).length || 1;
    const allocated = cfg.agents.reduce((sum, a) => sum + (a.enabled ? (a.budget?.allocationUsd ?? 0) : 0), 0);
    if (allocated > cfg.portfolio.startingCashUsd) {
      const i = cfg.agents.findIndex((a) => a.budget?.allocationUsd !== undefined);
      ctx.addIssue({
        code: 'custom',
        path: ['agents', i, 'budget', 'allocationUsd'],
        message: `the agents' allocations (USD ${allocated}) exceed portfolio.startingCashUsd (USD ${cfg.portfolio.startingCashUsd}); ${enabledAgents} enabled agents`,
      });
    }
    if (cfg.monitoring.perAgentAlarms && !cfg.monitoring.perAgentMetrics) {
      ctx.addIssue({ code: 'custom', path: ['monitoring', 'perAgentAlarms'], message: 'per-agent alarms need monitoring.perAgentMetrics' });
    }
    const groups = new Set(cfg.agents.filter((a) => a.enabled).map((a) => a.group));
    for (const g of Object.keys(cfg.cycle.groups)) {
      if (!groups.has(g))
        ctx.addIssue({ code: 'custom', path: ['cycle', 'groups', g], message: `no enabled agent is in group "${g}" (groups: ${[...groups].join(', ')})` });
    }
    const policies: Array<[ReadonlyArray<PropertyKey>, string]> = [
      [['cycle', 'overlapPolicy'], cfg.cycle.overlapPolicy],
      ...Object.entries(cfg.cycle.groups).map(([g, v]): [PropertyKey[], string] => [['cycle', 'groups', g, 'overlapPolicy'], v.overlapPolicy]),
    ];
    for (const [path, policy] of policies) {
      if (policy === 'CANCEL_OTHER')
        ctx.addIssue({
          code: 'custom',
          path: [...path],
          message: 'CANCEL_OTHER is not supported yet (the cycle cannot stop another execution); use SKIP or BUFFER_ONE',
        });
    }
    cfg.cycle.triggers.forEach((t, i) => {
      if (t.group !== undefined && !groups.has(t.group))
        ctx.addIssue({ code: 'custom', path: ['cycle', 'triggers', i, 'group'], message: `no enabled agent is in group "${t.group}"` });
      if (t.group === undefined && groups.size > 1)
        ctx.addIssue({
          code: 'custom',
          path: ['cycle', 'triggers', i, 'group'],
          message: `required: the fleet has ${groups.size} groups (${[...groups].join(', ')})`,
        });
      if (cfg.cycle.triggers.findIndex((x) => x.name === t.name) !== i)
        ctx.addIssue({ code: 'custom', path: ['cycle', 'triggers', i, 'name'], message: `duplicate trigger "${t.name}"` });
    });
    if (cfg.breaker.minimumRuns > cfg.breaker.windowSize) {
      ctx.addIssue({
        code: 'custom',
        path: ['breaker', 'minimumRuns'],
        message: `must be at most breaker.windowSize (${cfg.breaker.windowSize}): the window never holds ${cfg.breaker.minimumRuns} runs, so the failure-rate rule would never apply`,
      });
    }
    cfg.agents.forEach((agent, i) => {
      if (agent.tradingHours && agent.tradingHours.start === agent.tradingHours.end) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', i, 'tradingHours', 'end'],
          message: `equals start (${agent.tradingHours.start}): the window is empty; omit tradingHours to run at any time`,
        });
      }
    });
    if (!cfg.agents.some((a) => a.enabled)) {
      ctx.addIssue({ code: 'custom', path: ['agents'], message: 'at least one agent must be enabled' });
    }
  })
  // Defaults that depend on other fields.
  .transform((cfg) => {
    const openSeconds = cfg.breaker.openSeconds ?? 2 * cfg.cycle.cadenceMinutes * 60;
    const maxLatenessSeconds = cfg.cycle.maxLatenessSeconds ?? cfg.cycle.cadenceMinutes * 60;
    return {
      ...cfg,
      cycle: { ...cfg.cycle, maxLatenessSeconds },
      breaker: { ...cfg.breaker, openSeconds, maxOpenSeconds: cfg.breaker.maxOpenSeconds ?? Math.max(14_400, 8 * openSeconds) },
      resume: { ...cfg.resume, coolDownSeconds: cfg.resume.coolDownSeconds ?? cfg.cycle.cadenceMinutes * 60 },
    };
  });

/**
 * The state machine's execution timeout, seconds: two cadences, at least an hour (a stuck cycle
 * ends as TIMED_OUT; Standard workflows otherwise run for up to a year). "Plan cycle" treats a
 * group's "cycle running" marker older than this as stale.
 */
export function cycleTimeoutSeconds(config: Pick<OrchestratorConfig, 'cycle'>): number {
  return Math.max(3600, 2 * config.cycle.cadenceMinutes * 60);
}

/** The overlap policy of an agent group: `cycle.groups.<group>.overlapPolicy`, else `cycle.overlapPolicy`. */
export function overlapPolicyOf(config: Pick<OrchestratorConfig, 'cycle'>, group: string): (typeof OVERLAP_POLICIES)[number] {
  return config.cycle.groups[group]?.overlapPolicy ?? config.cycle.overlapPolicy;
}

/** The configuration as written by a user (defaults optional). */
export type OrchestratorConfigInput = z.input<typeof orchestratorConfigSchema>;
/** The configuration after validation, with every default filled in. */
export type OrchestratorConfig = z.output<typeof orchestratorConfigSchema>;
/** One agent after validation. */
export type AgentConfig = z.output<typeof agentSchema>;

/**
 * Raised by {@link validateConfig}. `issues` lists each problem with its field path
 * (e.g. `agents[2].timeoutSeconds`); the message lists them all, one a line.
 */
export class ConfigError extends Error {
  constructor(public readonly issues: ReadonlyArray<{ path: string; message: string }>) {
    super(`Invalid orchestrator config:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates a raw configuration and fills in defaults.
 *
 * @param raw - the user's configuration object (see {@link OrchestratorConfigInput}).
 * @returns the validated configuration with defaults applied.
 * @throws {ConfigError} when any field is invalid; the message names every field path
 *   (`agents[0].faultDomain: ...`) so `cdk synth` fails with it.
 */
export function validateConfig(raw: unknown): OrchestratorConfig {
  const parsed = orchestratorConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })));
  }
  return parsed.data;
}

/** Formats a zod path as `agents[2].dependsOn[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
