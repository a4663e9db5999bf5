/**
 * Environment variables every Lambda may read, their names in one place. The CDK
 * constructs set them (`lib/`), the local runtime sets them for in-process handlers
 * (`local/`), and handlers read them through {@link requireEnv}.
 */

/** Names of the environment variables. */
export const ENV = {
  /** AgentState table: one item per agent (health + circuit breaker). */
  agentStateTable: 'AGENT_STATE_TABLE',
  /** Control table: the system control item (halt flag, mode, audit trail). */
  controlTable: 'CONTROL_TABLE',
  /** Cycles table: cycle reports and agents' per-cycle outputs, with TTL `expiresAt`. */
  cyclesTable: 'CYCLES_TABLE',
  /** Ledger table: the paper broker's account, positions, orders and fills. */
  ledgerTable: 'LEDGER_TABLE',
  /** JSON of the supervisor's settings (registry, breaker, maxWorkers...), see `lambdas/shared/settings.ts`. */
  supervisorSettings: 'SUPERVISOR_SETTINGS',
  /** JSON of the risk and trading settings (limits, VaR window, universe, starting cash), see `lambdas/shared/settings.ts`. */
  tradingSettings: 'TRADING_SETTINGS',
  /** Path of the wide CSV market data file the feed replays. */
  marketDataFile: 'MARKET_DATA_FILE',
  /** ARN of the cycle state machine (Master: stop executions). */
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** Comma-separated `group/name` of the stack's Scheduler schedules (Master: disable / enable). */
  scheduleNames: 'SCHEDULE_NAMES',
  /** SNS topic for people (Master: notifications). */
  alertTopicArn: 'ALERT_TOPIC_ARN',
  /** EventBridge bus name for `SystemHalted` events. */
  eventBusName: 'EVENT_BUS_NAME',
  /** Retention of cycle reports in days (TTL). */
  reportRetentionDays: 'REPORT_RETENTION_DAYS',
  /** JSON map alarm name -> `halt | safe-mode | notify`: what the Master does when that alarm goes to ALARM. */
  alarmPolicy: 'ALARM_POLICY',
  /** JSON `{ coolDownSeconds, allowDirectToNormal }`: the staged-resume rule of the Master / operator function (config `resume`). */
  resumePolicy: 'RESUME_POLICY',
  /**
   * `on` when the stack is built with `monitoring.tracing` (X-Ray active tracing and Powertools' Tracer); unset otherwise.
   * Also replaced at bundle time (esbuild `define`), so a bundle built without tracing carries no Tracer (`lambdas/shared/tracing.ts`).
   */
  tracing: 'FLEET_TRACING',
  /** Metrics namespace (Powertools `POWERTOOLS_METRICS_NAMESPACE` is set to the same value). */
  metricsNamespace: 'METRICS_NAMESPACE',
} as const;

/** Metrics namespace used by every handler and every alarm. */
export const METRICS_NAMESPACE = 'AgentFleet';

/**
 * Reads a required environment variable.
 * @throws {Error} `Missing environment variable NAME` when unset or empty, so a
 *   misconfigured function fails loudly at its first invocation, not with an undefined table.
 */
export function requireEnv(name: string): string {
  return requireEnvIn(process.env, name);
}

/**
 * Reads a required variable of an environment given as a record (a function's environment the
 * local runtime or a test builds, or `process.env`).
 * @throws {Error} `Missing environment variable NAME` when unset or empty.
 */
export function requireEnvIn(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}
