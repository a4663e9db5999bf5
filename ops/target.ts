/**
 * What the operator command (`npm run ops`) acts on. Two implementations:
 * - `ops/aws-target.ts`: a deployed stack (reads tables and schedules; halt, resume and safe
 *   mode INVOKE the deployed Master function, so the Master stays the one place that acts);
 * - `local/ops-target.ts` (the local runtime, `openLocalOpsTarget(dir)`): the local state dir.
 */
import type { AuditEntry, BreakerState, ControlItem, HealthStatus, Mode } from '../lambdas/shared/contracts';
import type { WorkingOrder } from '../lambdas/shared/trading/ledger';

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
  /** `<actor> at <time>: <reason>` while an operator has paused the agent (`ops agent disable`). */
  paused?: string;
}

/** The trading stage `ops status` shows: `halted` (HALTED), `reduce-only` (REDUCE: safe mode or a staged resume), `normal`. */
export type OpsStage = 'halted' | 'reduce-only' | 'normal';

/** One agent's working orders in the status view: the count, and (in `--json`) the orders. */
export interface OpsAgentWorkingOrders {
  agent: string;
  count: number;
  orders: WorkingOrder[];
}

/** What `ops status` shows. */
export interface OpsStatus {
  /** Kill switch halt flag. */
  halted: boolean;
  mode: Mode;
  /** The trading stage (from `halted` and `mode`). Absent from targets that predate it. */
  stage?: OpsStage;
  /** ISO time of the staged resume into REDUCE, while in that stage. */
  resumedAt?: string;
  /** ISO end of the REDUCE cool-down after a resume: `ops resume --to normal` is refused before it. */
  coolDownUntil?: string;
  /** Working orders per agent, sorted by agent (absent when the target has no order book). */
  workingOrders?: OpsAgentWorkingOrders[];
  /** Reason / actor / ISO time of the last halt or resume. */
  reason?: string;
  actor?: string;
  at?: string;
  agents: OpsAgentStatus[];
  schedules: Array<{ group: string; name: string; enabled: boolean }>;
  runningExecutions: Array<{ name: string; startDate?: string }>;
  /** Audit trail of the control item, newest last. */
  audit: AuditEntry[];
  /** Agent groups an operator paused (`ops pause`), with the note `<actor> at <time>: <reason>`. */
  pausedGroups?: Array<{ group: string; note: string }>;
}

/** What `ops run-now` prints. */
export interface RunNowResult {
  executionName: string;
  /** The cycle's status once it ended; absent when the target only started it. */
  status?: string;
  /** Why, when the cycle was skipped or failed. */
  reason?: string;
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
  /**
   * Resumes (operator only, reason required: the operator function refuses otherwise with `ResumeRefused`):
   * `to` `reduce` (default) takes a HALTED system into REDUCE (reduce-only); `normal` takes it to normal once
   * the cool-down (config `resume.coolDownSeconds`) has passed with no new halt, refused before with
   * `ResumeRefused` naming the time left.
   */
  resume(reason: string, actor: string, to?: 'reduce' | 'normal'): Promise<unknown>;
  /** Cancels every working order without halting (operator function, audited `CANCEL_ALL`). */
  cancelAll(reason: string, actor: string): Promise<unknown>;
  /** Closes every position with market orders through the order path, admitted while HALTED (operator function, audited `FLATTEN`). */
  flatten(reason: string, actor: string): Promise<unknown>;
  /** Switches safe mode on or off. */
  safeMode(on: boolean, reason: string, actor: string): Promise<unknown>;
  /**
   * Starts one cycle now (execution `manual-<timestamp>`, input `{ source: 'operator', requestedBy, group? }`).
   * "Plan cycle" claims it as its own slot and applies the group's overlap policy, so a run-now while
   * the group runs a cycle is skipped under SKIP. `group` is required when the fleet has several groups.
   * A target that waits for the cycle (the local runtime) also returns its final `status`, `reason`
   * and a printable `summary` (the dashboard); one that does not (AWS) returns only the name.
   */
  runNow(actor: string, group?: string): Promise<RunNowResult>;
  /** Pauses (`paused` true) or unpauses an agent group with a note: its slots are skipped as paused (`lambdas/supervisor/pauses.ts`). Audited on the group item. */
  pauseGroup(group: string, paused: boolean, reason: string, actor: string): Promise<unknown>;
  /** Pauses (`disabled` true) or enables one agent with a note: it is SKIPPED with the note. Audited on its state item. */
  disableAgent(agent: string, disabled: boolean, reason: string, actor: string): Promise<unknown>;
  /** Releases clients / local resources. */
  close(): Promise<void>;
}

/**
 * The stage fields and working orders of the status view, from the control item and the working orders. Pure.
 * The cool-down end is shown only while the system is in the REDUCE stage of a staged resume.
 */
export function stageFields(
  control: Pick<ControlItem, 'halted' | 'mode' | 'resumedAt' | 'coolDownUntil'>,
  working?: readonly WorkingOrder[],
): Pick<OpsStatus, 'stage' | 'resumedAt' | 'coolDownUntil' | 'workingOrders'> {
  const stage: OpsStage = control.halted ? 'halted' : control.mode === 'safe' ? 'reduce-only' : 'normal';
  const inStagedResume = stage === 'reduce-only' && control.resumedAt !== undefined;
  const byAgent = new Map<string, WorkingOrder[]>();
  for (const w of working ?? []) byAgent.set(w.agent, [...(byAgent.get(w.agent) ?? []), w]);
  return {
    stage,
    ...(inStagedResume ? { resumedAt: control.resumedAt } : {}),
    ...(inStagedResume && control.coolDownUntil ? { coolDownUntil: control.coolDownUntil } : {}),
    ...(working
      ? {
          workingOrders: [...byAgent.entries()]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([agent, orders]) => ({ agent, count: orders.length, orders: [...orders].sort((x, y) => x.orderId.localeCompare(y.orderId)) })),
        }
      : {}),
  };
}
