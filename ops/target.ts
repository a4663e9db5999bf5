/**
 * What the operator command (`npm run ops`) acts on. Two implementations:
 * - `ops/aws-target.ts`: a deployed stack (reads tables and schedules; halt, resume and safe
 *   mode INVOKE the deployed Master function, so the Master stays the one place that acts);
 * - `local/ops-target.ts` (the local runtime, `openLocalOpsTarget(dir)`): the local state dir.
 *
 * May be imported by: `ops/`, `local/`, `test/`.
 */
import type { AuditEntry, BreakerState, HealthStatus, Mode } from '../lambdas/shared/contracts';

/** One agent's row in the status view. */
export interface OpsAgentStatus {
  name: string;
  health: HealthStatus;
  breaker: BreakerState;
  /** Lifetime success rate as a fraction 0-1 (successes / executions; 1 when never run). */
  successRate: number;
  consecutiveFailures: number;
  /** ISO 8601 end of the OPEN wait, when the breaker is OPEN. */
  openUntil?: string;
}

/** What `ops status` shows. */
export interface OpsStatus {
  /** Kill switch halt flag. */
  halted: boolean;
  mode: Mode;
  /** Reason / actor / ISO time of the last halt or resume. */
  reason?: string;
  actor?: string;
  at?: string;
  agents: OpsAgentStatus[];
  schedules: Array<{ group: string; name: string; enabled: boolean }>;
  runningExecutions: Array<{ name: string; startDate?: string }>;
  /** Audit trail of the control item, newest last. */
  audit: AuditEntry[];
}

/** What `ops run-now` prints. */
export interface RunNowResult {
  executionName: string;
  /** The cycle's status once it ended; absent when the target only started it. */
  status?: string;
  /** Multi-line text for people (the cycle's dashboard); absent when the target only started it. */
  summary?: string;
  /** The cycle's report entry (local runtime), for `--json`. */
  cycle?: unknown;
}

/** A system the operator command can act on. Actions return whatever the Master returned (printed as JSON). */
export interface OpsTarget {
  /** One line naming the target, e.g. `AWS stack AgentFleet (eu-west-1)` or `local state .local/state`. */
  describe(): string;
  status(): Promise<OpsStatus>;
  /** Engages the kill switch. @throws when the Master reports a failure (e.g. `KillSwitchIncomplete`). */
  halt(reason: string, actor: string): Promise<unknown>;
  /** Resumes (operator only, reason required: the Master refuses otherwise with `ResumeRefused`). */
  resume(reason: string, actor: string): Promise<unknown>;
  /** Switches safe mode on or off. */
  safeMode(on: boolean, reason: string, actor: string): Promise<unknown>;
  /**
   * Starts one cycle now (execution `manual-<timestamp>`, input `{ source: 'operator', requestedBy }`).
   * A target that waits for the cycle (the local runtime) also returns its final `status`
   * (SUCCEEDED, FAILED, HALTED, SKIPPED_HALTED, ...) and a printable `summary` (the dashboard);
   * one that does not (AWS) returns only the name.
   */
  runNow(actor: string): Promise<RunNowResult>;
  /** Releases clients / local resources. */
  close(): Promise<void>;
}
