/**
 * The typed contracts that cross a boundary: the cycle plan the supervisor hands the
 * state machine, the payload every agent receives, the result every agent returns, the
 * outcome the state machine records for each agent, the risk verdict, and the items kept
 * in DynamoDB. Each has a zod schema (validated at the boundary) and its inferred type.
 *
 * The state machine (`statemachines/cycle.asl.json`) moves these shapes between states;
 * a field renamed here must be renamed there too (the e2e tests catch a mismatch).
 */
import * as z from 'zod';

/** Circuit breaker states (resilience4j / Polly / opossum naming). */
export const BREAKER_STATES = ['CLOSED', 'OPEN', 'HALF_OPEN'] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

/** Health per the R-HEALTH rule (see `lambdas/shared/supervision/health.ts`). */
export const HEALTH_STATES = ['HEALTHY', 'DEGRADED', 'UNHEALTHY'] as const;
export type HealthStatus = (typeof HEALTH_STATES)[number];

/** Risk verdicts. OK runs the cycle; REDUCE runs it in safe mode; HALT stops it and engages the kill switch. */
export const RISK_VERDICTS = ['OK', 'REDUCE', 'HALT'] as const;
export type RiskVerdict = (typeof RISK_VERDICTS)[number];

/** Cycle mode: `safe` means agents may only reduce exposure (R-SAFE-MODE). */
export const MODES = ['normal', 'safe'] as const;
export type Mode = (typeof MODES)[number];

/**
 * Fault domains (requirement R-FAULT-DOMAINS); the config schema (`lib/config/schema.ts`) takes them from here.
 *
 * **Adding a fault domain** is adding its name here and its default retries to
 * {@link FAULT_DOMAIN_DEFAULT_MAX_RETRIES} (the compiler asks for it): the config's `faultDomains`, a
 * phase's per-domain work items and concurrency shares, the Lambda settings and the state machine's
 * "Run agents" branch (`lib/state-machine/description.ts`) are all built per entry with {@link perFaultDomain}.
 */
export const FAULT_DOMAIN_NAMES = ['data', 'strategy', 'critical'] as const;
export type FaultDomainName = (typeof FAULT_DOMAIN_NAMES)[number];

/**
 * Default retries after the first attempt of an agent's own errors, per fault domain (`faultDomains.<domain>.maxRetries`):
 * data 10 (always retried), strategy 5, critical 0 (fail-stop; a failure escalates to a halt). R-FAULT-DOMAINS.
 */
export const FAULT_DOMAIN_DEFAULT_MAX_RETRIES: Readonly<Record<FaultDomainName, number>> = { data: 10, strategy: 5, critical: 0 };

/** A record with one entry per fault domain, in {@link FAULT_DOMAIN_NAMES} order: `perFaultDomain(() => 1)` is `{ data: 1, strategy: 1, critical: 1 }`. */
export function perFaultDomain<T>(value: (domain: FaultDomainName) => T): Record<FaultDomainName, T> {
  return Object.fromEntries(FAULT_DOMAIN_NAMES.map((d) => [d, value(d)])) as Record<FaultDomainName, T>;
}

/** Agent parameter values (numbers may be tuned by the supervisor within ±20 %). */
export const paramsSchema = z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.array(z.union([z.number(), z.string()]))]));
export type AgentParams = z.infer<typeof paramsSchema>;

/**
 * Input of an execution of the cycle state machine.
 * - Scheduler sends `{ source: 'schedule', scheduleName, scheduledTime }` (scheduledTime: `<aws.scheduler.scheduled-time>`, ISO 8601).
 * - Operators (`npm run ops -- run-now`) send `{ source: 'operator', requestedBy }`.
 */
export const cycleTriggerSchema = z.object({
  source: z.enum(['schedule', 'operator', 'local', 'event']).default('schedule'),
  /** `source: 'event'` (`cycle.triggers`): the trigger's name and the EventBridge event id (`<aws.events.event.id>`); one event is one slot. */
  trigger: z.string().optional(),
  eventId: z.string().optional(),
  scheduleName: z.string().optional(),
  /** Agent group the schedule runs (one schedule per group); absent = every group. */
  group: z.string().optional(),
  scheduledTime: z.string().optional(),
  requestedBy: z.string().optional(),
});
export type CycleTrigger = z.infer<typeof cycleTriggerSchema>;

/** One agent's work in a phase, as the "Run agent" task receives it through the Map. */
export const workItemSchema = z.object({
  /** Agent name. */
  agent: z.string(),
  /** ARN of the agent's Lambda function (local ARNs in the local runtime). */
  functionArn: z.string(),
  /** Per-attempt timeout in seconds (Task `TimeoutSecondsPath`). */
  timeoutSeconds: z.number().int().positive(),
  faultDomain: z.enum(FAULT_DOMAIN_NAMES),
  /** Parameters after any supervisor adjustment (within ±20 % of configured). */
  params: paramsSchema,
  /** Agents whose output this agent reads (from the cycles table, this cycle's outputs). */
  dependsOn: z.array(z.string()),
  /** True when this run is the single HALF_OPEN probe of the agent's breaker. */
  probe: z.boolean(),
});
export type WorkItem = z.infer<typeof workItemSchema>;

/**
 * One phase: the agents of a topological level, split by fault domain so that each domain's
 * Map carries its own static Retry policy. `concurrency` gives each domain's Map its
 * `MaxConcurrencyPath` share of `maxWorkers` (each at least 1; 0 would mean unlimited in ASL).
 */
export const phaseSchema = z.object({
  index: z.number().int().min(0),
  ...perFaultDomain(() => z.array(workItemSchema)),
  concurrency: z.object(perFaultDomain(() => z.number().int().min(1))),
});
export type Phase = z.infer<typeof phaseSchema>;

/** An agent not run this cycle, and why (breaker OPEN, dependency skipped, outside trading hours, disabled). */
export const skippedAgentSchema = z.object({
  agent: z.string(),
  reason: z.string(),
  breaker: z.enum(BREAKER_STATES),
});
export type SkippedAgent = z.infer<typeof skippedAgentSchema>;

/** A parameter change made by the supervisor (recorded in the plan and the cycle report). */
export const paramChangeSchema = z.object({
  agent: z.string(),
  param: z.string(),
  configured: z.number(),
  from: z.number(),
  to: z.number(),
  reason: z.string(),
});
export type ParamChange = z.infer<typeof paramChangeSchema>;

/**
 * Overlap policies of a group (Temporal Schedules' names): what a slot does while the group still
 * has a cycle running. `SKIP` (default): the slot is skipped and reported; `BUFFER_ONE`: the slot
 * waits for the running cycle to end (at most one waits; a second one is skipped); `CANCEL_OTHER`:
 * the running cycle is stopped, then this one runs; `ALLOW_ALL`: cycles of the group may overlap.
 */
export const OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'CANCEL_OTHER', 'ALLOW_ALL'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** Why a delivered slot ran no cycle (the report's `skip`; the reason text starts with it). */
export const SLOT_SKIP_REASONS = ['duplicate', 'overlap', 'late', 'halted', 'paused'] as const;
export type SlotSkipReason = (typeof SLOT_SKIP_REASONS)[number];

/** Output of "Plan cycle" (supervisor, action `plan`). */
export const cyclePlanSchema = z.object({
  /** Equals the execution name, so one schedule slot maps to one cycle id. */
  cycleId: z.string(),
  /** 1-based sequence number of the cycle; the market-data feed shows bar `startBar + cycleSeq - 1`. */
  cycleSeq: z.number().int().min(1),
  /** ISO 8601 time the plan was made. */
  plannedAt: z.string(),
  halted: z.boolean(),
  /** Why the system is halted (from the control item), when `halted`. */
  haltReason: z.string().optional(),
  /** Agent group this cycle runs (`trigger.group`, or the fleet's only group). */
  group: z.string().optional(),
  /** The slot claimed: `<group>@<scheduled time ISO>` for a schedule, `<group>@run:<execution name>` for an operator run. */
  slot: z.string().optional(),
  /**
   * Present when this slot runs no cycle: the execution ends at "Skip cycle (slot not run)".
   * `reason` is one of {@link SLOT_SKIP_REASONS}; `detail` says what was found (the holder of the claim, the running cycle, the lateness).
   */
  skip: z.object({ reason: z.enum(SLOT_SKIP_REASONS), detail: z.string() }).optional(),
  /** BUFFER_ONE: the slot waits this many seconds for the group's running cycle, then "Plan cycle" runs again (same claim). */
  waitSeconds: z.number().int().positive().optional(),
  /** CANCEL_OTHER: ARN of the group's running execution this cycle stopped before running. */
  cancelled: z.string().optional(),
  mode: z.enum(MODES),
  /** Timeout of one "Assess risk" attempt in seconds (`TimeoutSecondsPath`). */
  riskTimeoutSeconds: z.number().int().positive(),
  phases: z.array(phaseSchema),
  skipped: z.array(skippedAgentSchema),
  adjustments: z.array(paramChangeSchema),
});
export type CyclePlan = z.infer<typeof cyclePlanSchema>;

/** Payload of every agent invocation (built by the state machine's "Run ... agent" task). */
export const agentInputSchema = z.object({
  cycleId: z.string(),
  cycleSeq: z.number().int().min(1),
  agent: z.string(),
  mode: z.enum(MODES),
  riskVerdict: z.enum(RISK_VERDICTS),
  params: paramsSchema,
  dependsOn: z.array(z.string()),
  timeoutSeconds: z.number().int().positive(),
  /** Retry number of this attempt (0 = first attempt), from `$$.State.RetryCount`. */
  attempt: z.number().int().min(0).default(0),
  probe: z.boolean().default(false),
});
export type AgentInput = z.infer<typeof agentInputSchema>;

/**
 * Hard limits of an agent's result. Over any of them the agent's outcome is FAILED
 * (`AgentResultTooLarge`, never retried) with the limit named; the cycle goes on.
 * Why these numbers: the result travels in the execution's state, whose quota is 256 KiB per
 * state input or output (AWS Step Functions quotas, checked on the raw task output before
 * `ResultSelector`), and the output is stored as one DynamoDB item (400 KB item limit).
 * `resultBytes` leaves room for the work item and Step Functions' envelope within 256 KiB.
 */
export const AGENT_RESULT_LIMITS = {
  /** Characters of `summary`. */
  summaryChars: 500,
  /** Entries of `metrics`. */
  metrics: 100,
  /** Characters of one metric name. */
  metricNameChars: 64,
  /** Orders proposed in one result (the gateway's rate limits apply on top). */
  orders: 200,
  /** Bytes of `output` as JSON (UTF-8). */
  outputBytes: 128 * 1024,
  /** Bytes of the whole result as JSON (UTF-8). */
  resultBytes: 192 * 1024,
} as const;

/** A client order id: 1-64 of `[A-Za-z0-9._:-]`. */
export const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** An order an agent proposes; the order gateway decides it under the work item's agent name. */
export const proposedOrderSchema = z
  .object({
    /** The agent's id for the order, unique within its result (idempotency key with cycle and agent). */
    clientOrderId: z.string().regex(CLIENT_ORDER_ID, 'must be 1-64 of [A-Za-z0-9._:-]'),
    symbol: z.string().min(1).max(32),
    side: z.enum(['BUY', 'SELL']),
    /** Whole shares, > 0. */
    qty: z.number().int().positive().max(1e9),
    /** Limit price, USD per share. A limit order that does not cross the close rests as a working order. */
    limitPrice: z.number().positive().finite().optional(),
    /** Time in force of a limit order (`DAY` default, `GTC`, `IOC`; see `TimeInForce` in `lambdas/shared/trading/ledger.ts`). */
    timeInForce: z.enum(['DAY', 'GTC', 'IOC']).optional(),
  })
  .strict();
export type ProposedOrder = z.infer<typeof proposedOrderSchema>;

/** What the order gateway did with a result's proposed orders. */
export const orderExecutionSchema = z.object({
  proposed: z.number().int().min(0),
  filled: z.number().int().min(0),
  /** Limit orders left resting (WORKING). */
  working: z.number().int().min(0).default(0),
  /** IOC limit orders cancelled because they were not marketable. */
  cancelled: z.number().int().min(0).default(0),
  rejected: z.number().int().min(0),
  replayed: z.number().int().min(0),
  /** Check name -> orders it rejected. */
  rejectedBy: z.record(z.string(), z.number().int().min(0)),
});
export type OrderExecution = z.infer<typeof orderExecutionSchema>;

/**
 * What an agent returns. Failure is signalled by throwing (so Retry and Catch apply);
 * a result is either SUCCEEDED or SKIPPED (e.g. a dependency produced nothing this cycle).
 * The agent's `orders` and `output` are consumed by the order gateway ("Execute ... orders"),
 * which returns the same result without them and with `execution` filled in.
 */
export const agentResultSchema = z.object({
  agent: z.string(),
  cycleId: z.string(),
  status: z.enum(['SUCCEEDED', 'SKIPPED']),
  /** One line for the dashboard. */
  summary: z.string().max(AGENT_RESULT_LIMITS.summaryChars),
  /** Numeric metrics (units in the name: `ordersPlaced`, `exposureUsd`). */
  metrics: z.record(z.string().max(AGENT_RESULT_LIMITS.metricNameChars), z.number().refine(Number.isFinite, 'must be a finite number')),
  /** Reason when SKIPPED. */
  reason: z.string().max(AGENT_RESULT_LIMITS.summaryChars).optional(),
  /** Wall time of the handler in ms. */
  durationMs: z.number().min(0),
  /** Echo of the input's `attempt`. */
  attempt: z.number().int().min(0),
  /** Orders proposed to the gateway (absent once executed). */
  orders: z.array(proposedOrderSchema).max(AGENT_RESULT_LIMITS.orders).optional(),
  /** Output for dependants; the gateway stores it (absent once stored). */
  output: z.unknown().optional(),
  /** What the gateway did with `orders` (present once executed). */
  execution: orderExecutionSchema.optional(),
});
export type AgentResult = z.infer<typeof agentResultSchema>;

/**
 * What the state machine records for one agent in one phase's Map, in the order of the
 * phase's items: `{ ok: true, result }` on success (result not yet validated: the supervisor
 * validates it), `{ ok: false, error, cause }` from the Catch.
 */
export const rawOutcomeSchema = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  // The Catch output always has Error and Cause in AWS; cause stays optional so a hand-made outcome still parses.
  z.object({ ok: z.literal(false), error: z.string(), cause: z.string().optional() }),
]);
export type RawOutcome = z.infer<typeof rawOutcomeSchema>;

/** One limit the risk engine compared: `value` against `limit`, `headroom` = limit - value (negative when breached). */
export const limitCheckSchema = z.object({
  name: z.string(),
  value: z.number(),
  limit: z.number(),
  headroom: z.number(),
  unit: z.enum(['USD', 'fraction', 'count', 'bars']),
  status: z.enum(['PASS', 'REDUCE', 'BREACH']),
});
export type LimitCheck = z.infer<typeof limitCheckSchema>;

/** Output of "Assess risk". Any error, timeout or malformed output is treated as HALT by the state machine. */
export const riskAssessmentSchema = z.object({
  cycleId: z.string(),
  verdict: z.enum(RISK_VERDICTS),
  /** Human-readable reasons, one per failing or reducing limit, or the data problem. */
  reasons: z.array(z.string()),
  checks: z.array(limitCheckSchema),
  /** Portfolio figures used, USD unless named `...Fraction`. */
  metrics: z.record(z.string(), z.number()),
  /** Timestamp of the bar assessed. */
  asOf: z.string(),
  /**
   * Per-agent figures from each agent's own book (USD unless `...Fraction`): P&L since the start and today, gross
   * exposure, budget used, drawdown from its running peak, and `reduceOnly` when its daily-loss protection holds it
   * in REDUCE for the rest of the day. At most 20 agents (those in REDUCE first); every agent's are in the bar's
   * equity snapshot. Absent on a HALT before the figures were computed.
   */
  agents: z
    .record(
      z.string(),
      z.object({
        pnlUsd: z.number(),
        pnlTodayUsd: z.number(),
        grossExposureUsd: z.number(),
        allocationUsd: z.number().optional(),
        peakPnlUsd: z.number(),
        drawdownFraction: z.number(),
        budgetUsedFraction: z.number().optional(),
        dailyLossLimitUsd: z.number().optional(),
        reduceOnly: z.boolean(),
      }),
    )
    .optional(),
});
export type RiskAssessment = z.infer<typeof riskAssessmentSchema>;

/** Final outcome of one agent in one cycle, as recorded in the cycle report. */
export const agentOutcomeSchema = z.object({
  name: z.string(),
  outcome: z.enum(['SUCCEEDED', 'FAILED', 'SKIPPED']),
  durationMs: z.number().min(0),
  attempts: z.number().int().min(0),
  /** Breaker state after this cycle's transition. */
  breaker: z.enum(BREAKER_STATES),
  /** Breaker transition this cycle caused, e.g. `CLOSED->OPEN`, if any. */
  breakerTransition: z.string().optional(),
  health: z.enum(HEALTH_STATES).optional(),
  reason: z.string().optional(),
  summary: z.string().optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  phase: z.number().int().min(0).optional(),
  probe: z.boolean().optional(),
});
export type AgentOutcome = z.infer<typeof agentOutcomeSchema>;

/** Output of "Record outcomes" (supervisor, action `record`). */
export const recordResultSchema = z.object({
  cycleId: z.string(),
  escalate: z.boolean(),
  /** Always present ('' when not escalating): the state machine reads it with a JSONPath, and a missing path is a States.Runtime error that no Catch handles. */
  escalationReason: z.string(),
  outcomes: z.array(agentOutcomeSchema),
});
export type RecordResult = z.infer<typeof recordResultSchema>;

/** Agent state item (AgentState table, pk `agent`). Every write is conditional on `version`. */
export const agentStateItemSchema = z.object({
  agent: z.string(),
  executions: z.number().int().min(0),
  successes: z.number().int().min(0),
  failures: z.number().int().min(0),
  skips: z.number().int().min(0),
  consecutiveFailures: z.number().int().min(0),
  /** Consecutive cycles this agent has been UNHEALTHY (alert at 3, R-ALERTS). */
  unhealthyCycles: z.number().int().min(0),
  /** Retries used in total (attempts - 1 summed). */
  retries: z.number().int().min(0),
  avgDurationMs: z.number().min(0),
  lastDurationMs: z.number().min(0),
  lastOutcome: z.enum(['SUCCEEDED', 'FAILED', 'SKIPPED']).optional(),
  lastRunAt: z.string().optional(),
  lastCycleId: z.string().optional(),
  /** Last M outcomes, newest last, `S` or `F` (breaker failure-rate window). */
  window: z.string(),
  health: z.enum(HEALTH_STATES),
  breaker: z.enum(BREAKER_STATES),
  openedAt: z.string().optional(),
  openUntil: z.string().optional(),
  /** Consecutive trips without a successful probe (drives the exponential OPEN wait). */
  tripCount: z.number().int().min(0),
  /** Cycle id that holds the HALF_OPEN probe, so two overlapping cycles never both probe. */
  probeCycleId: z.string().optional(),
  /** ISO time the probe was claimed (a claim older than the probe lease may be taken over; see `lambdas/shared/supervision/breaker.ts`). */
  probeClaimedAt: z.string().optional(),
  /** Cycle ids whose outcome is already applied, newest last (bounded), so a retried "Record outcomes" never double counts even when cycles overlap. */
  recentCycleIds: z.array(z.string()).optional(),
  /** Set while an operator has paused the agent (`ops agent disable NAME --reason`): "Plan cycle" skips it with the note. */
  disabled: z.object({ reason: z.string(), actor: z.string(), at: z.string() }).optional(),
  /** Pause and unpause of this agent, newest last (last 20): `{ at, action: DISABLE | ENABLE, actor, reason, changed }`. */
  pauseAudit: z
    .array(z.object({ at: z.string(), action: z.enum(['DISABLE', 'ENABLE']), actor: z.string(), reason: z.string(), changed: z.boolean() }))
    .optional(),
  /** The last breaker transition and the cycle that caused it, so a retried "Record outcomes" still reports it (`CLOSED->OPEN`). */
  lastTransition: z.object({ cycleId: z.string(), transition: z.string() }).optional(),
  version: z.number().int().min(0),
});
export type AgentStateItem = z.infer<typeof agentStateItemSchema>;

/** One audit entry of the system control item. */
export const auditEntrySchema = z.object({
  at: z.string(),
  /**
   * `RESUME`: HALTED -> REDUCE (reduce-only); `RESUME_TO_NORMAL`: REDUCE (or HALTED, with `resume.allowDirectToNormal`)
   * -> normal; `CANCEL_ALL` / `FLATTEN`: an operator cancelled every working order / closed every position.
   */
  action: z.enum(['HALT', 'RESUME', 'RESUME_TO_NORMAL', 'SAFE_MODE_ON', 'SAFE_MODE_OFF', 'CANCEL_ALL', 'FLATTEN']),
  actor: z.string(),
  reason: z.string(),
  /** False when the action changed nothing (e.g. a second halt). */
  changed: z.boolean(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** System control item (Control table, pk `control`). Halt flag, mode and the append-only audit trail. */
export const controlItemSchema = z.object({
  pk: z.literal('control'),
  halted: z.boolean(),
  mode: z.enum(MODES),
  reason: z.string().optional(),
  actor: z.string().optional(),
  at: z.string().optional(),
  /**
   * ISO time of the last staged resume (HALTED -> REDUCE, `ops resume`), while the system stays in that
   * REDUCE stage; removed when it goes to normal. The premise of `ops resume --to normal`: a halt and a
   * resume in between change it, so the cool-down restarts.
   */
  resumedAt: z.string().optional(),
  /** ISO end of the cool-down after {@link resumedAt}: `ops resume --to normal` (and `safe-mode off`) is refused before it. */
  coolDownUntil: z.string().optional(),
  /** Monotonic cycle counter; "Plan cycle" increments it (conditional write) to number cycles. */
  cycleSeq: z.number().int().min(0),
  version: z.number().int().min(0),
  audit: z.array(auditEntrySchema),
});
export type ControlItem = z.infer<typeof controlItemSchema>;
