/**
 * Settings the Lambdas receive as JSON environment variables, validated at cold start.
 * Built from the validated config by `lib/config/lambda-settings.ts` (CDK and the local
 * runtime both call it), so the handlers never import the CDK config module.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { FAULT_DOMAIN_NAMES, OVERLAP_POLICIES, paramsSchema, perFaultDomain } from './contracts';

/** One agent as the supervisor sees it. */
export const registeredAgentSchema = z.object({
  name: z.string(),
  /**
   * The agent's function: a name or an ARN (the state machine's lambda:invoke accepts either).
   * Deployed stacks use the function's explicit name, so the registry holds no deploy-time token.
   */
  functionArn: z.string(),
  enabled: z.boolean(),
  group: z.string(),
  dependsOn: z.array(z.string()),
  faultDomain: z.enum(FAULT_DOMAIN_NAMES),
  /** Per-attempt timeout, seconds. */
  timeoutSeconds: z.number().int().positive(),
  tradingHours: z.object({ timezone: z.string(), start: z.string(), end: z.string(), weekdays: z.array(z.number().int()) }).optional(),
  params: paramsSchema,
});
export type RegisteredAgent = z.infer<typeof registeredAgentSchema>;

/** `SUPERVISOR_SETTINGS`: everything "Plan cycle" and "Record outcomes" need. */
export const supervisorSettingsSchema = z.object({
  agents: z.array(registeredAgentSchema),
  /** Agents at once per phase (default 4, R-MAX-WORKERS). */
  maxWorkers: z.number().int().min(1),
  /** Minutes between cycles. */
  cadenceMinutes: z.number().int().min(1),
  /** Timeout of one "Assess risk" attempt, seconds. */
  riskTimeoutSeconds: z.number().int().positive(),
  /** Days a cycle report is kept (TTL). */
  reportRetentionDays: z.number().int().min(1),
  breaker: z.object({
    failureThreshold: z.number().int().min(1),
    windowSize: z.number().int().min(2),
    failureRateThreshold: z.number(),
    minimumRuns: z.number().int().min(1),
    openSeconds: z.number().int().min(1),
    backoffMultiplier: z.number().min(1),
    maxOpenSeconds: z.number().int().min(1),
  }),
  /** Fault domain retry counts (retries after the first attempt), to derive attempts of a failed agent. */
  maxRetries: z.object(perFaultDomain(() => z.number().int().min(0))),
  maxOpenBreakerFraction: z.number(),
  /** Emit per-agent metrics (dimension `agent`); fleet aggregates are always emitted. Default true. */
  perAgentMetrics: z.boolean().default(true),
  maxParamAdjustFraction: z.number().min(0).max(0.2),
  /** Overlap policy per agent group (`cycle.groups.<group>.overlapPolicy`); a group not listed uses `SKIP`. Default `{}`. */
  overlapPolicies: z.record(z.string(), z.enum(OVERLAP_POLICIES)).default({}),
  /** A slot delivered more than this many seconds after its scheduled time is skipped as late (`cycle.maxLatenessSeconds`). Default one cadence. */
  maxLatenessSeconds: z.number().int().positive().optional(),
  /** The state machine's execution timeout, seconds: a "cycle running" marker older than this is stale. Default max(3600, 2 cadences), as `lib/state-machine/definition.ts`. */
  cycleTimeoutSeconds: z.number().int().positive().optional(),
});
export type SupervisorSettings = z.infer<typeof supervisorSettingsSchema>;

/**
 * Pre-trade and portfolio limits (config `risk.limits`): the one declaration of their ranges and defaults. The
 * config schema (`lib/config/schema.ts`) uses it with `.strict()`, the risk Lambda and the order gateway parse
 * `TRADING_SETTINGS.limits` with it. Units: USD, fractions (0.03 = 3 %), counts. Sources: SEC Rule 15c3-5 and
 * FIA controls (R-PRE-TRADE), the specification's rate limits (R-GATEWAY), see docs/requirements.md.
 */
export const riskLimitsSchema = z.object({
  /** Maximum notional of one order, USD. Default 25,000. */
  maxOrderNotionalUsd: z.number().positive().default(25_000),
  /** Maximum absolute position value per symbol, USD. Default 50,000. */
  maxPositionUsd: z.number().positive().default(50_000),
  /** Maximum gross exposure (sum of absolute position values), USD. Default 200,000. */
  maxGrossExposureUsd: z.number().positive().default(200_000),
  /** Maximum loss of the day as a fraction of start-of-day equity; beyond it risk says HALT. Default 0.03. */
  maxDailyLossFraction: z.number().positive().max(1).default(0.03),
  /** Maximum drawdown from the equity peak as a fraction; beyond it risk says HALT. Default 0.10. */
  maxDrawdownFraction: z.number().positive().max(1).default(0.1),
  /** Minimum cash balance, USD. Default 10,000. */
  minCashUsd: z.number().min(0).default(10_000),
  /** Orders one agent may place in one cycle. Default 10. */
  maxOrdersPerAgentPerCycle: z.number().int().positive().default(10),
  /** Orders all agents together may place in one cycle. Default 30. */
  maxOrdersPerCycle: z.number().int().positive().default(30),
  /** Orders the order gateway admits per second across the fleet (the specification's `execution` rate limit); beyond it the gateway paces, then rejects (`maxOrdersPerSecond`). Default 10. */
  maxOrdersPerSecond: z.number().int().positive().default(10),
  /** Price collar: a limit price may differ from the last price by at most this fraction. Default 0.05. */
  priceCollarFraction: z.number().positive().max(1).default(0.05),
  /** Historical VaR above this fraction of equity says REDUCE. Default 0.02. */
  maxVarFraction: z.number().positive().max(1).default(0.02),
  /** Largest single-symbol share of gross exposure above which risk says REDUCE. Default 0.5. */
  maxConcentrationFraction: z.number().positive().max(1).default(0.5),
  /** Share of a HALT limit at which risk already says REDUCE. Default 0.8. */
  reduceAtFraction: z.number().positive().max(1).default(0.8),
});

/**
 * One agent's own risk budget (config `agents[].budget`, `TRADING_SETTINGS.budgets[agent]`): the one declaration.
 * Every field is optional (no budget of that kind). Units: USD and fractions (0.02 = 2 %).
 */
export const agentBudgetSchema = z
  .object({
    /** Gross exposure of the agent's own positions, USD (pre-trade check `agentMaxGrossExposure`). Default none. */
    maxGrossExposureUsd: z.number().positive().optional(),
    /** Position per symbol in the agent's own book, USD (pre-trade check `agentMaxPosition`). Default none. */
    maxPositionUsd: z.number().positive().optional(),
    /**
     * Capital allocated to the agent, USD: the base of its daily-loss budget and drawdown. The allocations of all
     * agents may not exceed `portfolio.startingCashUsd`. Default: `portfolio.startingCashUsd` / the number of enabled agents.
     */
    allocationUsd: z.number().positive().optional(),
    /**
     * Daily-loss protection (Freqtrade "protections"): when the agent's P&L today (at this bar's close, against the
     * previous bar's) is below -`maxDailyLossFraction` x `allocationUsd`, it is in REDUCE for the rest of the trading
     * day (one bar): only orders that reduce its own positions are admitted (pre-trade check `agentMaxDailyLoss`);
     * the fleet is not halted. A fraction, 0.02 = 2 %, in (0, 1]. Default none (no per-agent daily-loss limit).
     */
    maxDailyLossFraction: z.number().positive().max(1).optional(),
  })
  .strict();

/** `TRADING_SETTINGS`: risk limits, paper account and market-data replay settings. */
export const tradingSettingsSchema = z.object({
  startingCashUsd: z.number().positive(),
  /** Symbols to trade; empty = every column of the market data. */
  universe: z.array(z.string()),
  /** Agents allowed to sell beyond their own position (config `agents[].allowShort`); every other agent is long-only. @default [] */
  allowShort: z.array(z.string()).default([]),
  /**
   * Agent -> its own risk budget (config `agents[].budget`): gross exposure and position per symbol of its book, USD;
   * its allocation, USD, and its daily-loss limit as a fraction of the allocation (0.02 = 2 %). @default {}
   */
  budgets: z.record(z.string(), agentBudgetSchema).default({}),
  limits: riskLimitsSchema,
  varWindow: z.number().int().min(2),
  varConfidence: z.number().gt(0).lt(1),
  /** Bar the first cycle sees (0-based); cycle N sees bar startBar + N - 1. Absent: 260, or half the file when shorter (`resolveStartBar`). */
  startBar: z.number().int().min(0).optional(),
  maxStaleBars: z.number().int().min(0),
  /** A one-bar move larger than this fraction of the previous close is suspect data: the risk gate says HALT. @default 0.5 */
  suspectMoveFraction: z.number().positive().default(0.5),
  /** Emit per-agent P&L and exposure metrics from "Assess risk" (config `monitoring.perAgentMetrics`). @default false */
  perAgentMetrics: z.boolean().default(false),
});
export type TradingSettings = z.infer<typeof tradingSettingsSchema>;
export type RiskLimits = TradingSettings['limits'];

/**
 * Reads and validates JSON settings: from the environment variable `envName` when set, else from
 * the file named by `<envName>_FILE`. Deployed functions whose settings grow with the fleet (the
 * supervisor's agent registry) get a file bundled into their asset, because Lambda allows 4 KB
 * of environment variables per function in total (AWS Lambda quotas).
 * @param env - where to read the variables. @default process.env
 * @throws {Error} naming the variable (and file) and the first invalid field when both are missing,
 *   the file cannot be read, or the content is not JSON or invalid.
 */
export function readSettings<T>(envName: string, schema: z.ZodType<T>, env: Readonly<Record<string, string | undefined>> = process.env): T {
  const inline = env[envName];
  const file = env[`${envName}_FILE`];
  let raw: string;
  let source: string;
  if (inline) {
    raw = inline;
    source = envName;
  } else if (file) {
    source = `${envName}_FILE (${file})`;
    try {
      raw = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`${source} cannot be read: ${(err as Error).message}`, { cause: err });
    }
  } else {
    throw new Error(`Missing environment variable ${envName} (or ${envName}_FILE)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`${source} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source} is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
