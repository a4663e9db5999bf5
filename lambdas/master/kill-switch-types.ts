/**
 * The shapes of the kill switch (`kill-switch.ts`): its requests, results, dependencies and API. Types only,
 * apart from the implementations (`halt.ts`, `resume.ts`, `order-actions.ts`, `safe-mode.ts`), so that each
 * implementation and the error classes (`kill-switch-errors.ts`) import them without an import cycle.
 * `kill-switch.ts` re-exports every name: callers import from there.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, ControlItem } from '../shared/contracts';
import type { ResumePolicy, ResumeTarget } from './control-store';
import type { FlattenReport } from '../shared/trading/gateway';
import type { KillSwitchPorts, RunningExecution, ScheduleRef } from './ports';
import type { StepError, StepRecord } from './step-runner';
import type { TriggerSource } from './trigger-sources';

/** A request to halt. */
export interface HaltRequest {
  /** Who halts: `operator:<user>`, `alarm:<alarm name>`, `cycle:<cycleId>`, `supervisor:<cycleId>`. */
  actor: string;
  /** Why (stored, cut to 500 chars; empty becomes `(no reason given)`: a halt is never refused). */
  reason: string;
  source: TriggerSource;
  /** Epoch ms when the problem was detected (alarm state-change time); default: the call's start. Feeds `timeToHaltMs`. */
  detectedAt?: number;
  /** Execution not to stop: the in-band caller, which fails by itself. */
  excludeExecutionArn?: string;
  /** Cycle id of an in-band caller (for the notification). */
  cycleId?: string;
  /** Extra context for the notification (e.g. the risk assessment). Not stored on the control item. */
  details?: unknown;
}

/** A request to resume. Refused unless `source` is `operator` and `reason` is non-empty. */
export interface ResumeRequest {
  actor: string;
  reason: string;
  source: TriggerSource;
  /**
   * `reduce`: HALTED -> REDUCE (reduce-only, the cool-down starts); `normal`: REDUCE -> normal once the cool-down
   * is over (or HALTED -> normal with `resume.allowDirectToNormal`). See `writeResume` of `control-store.ts`.
   * @default 'reduce'
   */
  to?: ResumeTarget;
}

/** An operator's request to cancel every working order (`ops cancel-all`) or to flatten (`ops flatten`). Operators only, reason required. */
export interface OrderActionRequest {
  actor: string;
  reason: string;
  source: TriggerSource;
}

/** Result of {@link KillSwitch.cancelAll}. */
export interface CancelAllResult {
  action: 'CANCEL_ALL';
  /** Working orders this call cancelled (each in one transaction conditioned on it still WORKING). */
  cancelled: number;
  /** Working orders left afterwards (0 unless a cycle placed one meanwhile: the system is not halted). */
  remaining: number;
  audit: AuditEntry;
  errors: StepError[];
}

/** Result of {@link KillSwitch.flatten}. */
export interface FlattenResult extends FlattenReport {
  action: 'FLATTEN';
  audit: AuditEntry;
  errors: StepError[];
}

/** A request to switch safe mode. Anyone may switch it on; only an operator (with a reason) may switch it off. */
export interface SafeModeRequest {
  on: boolean;
  actor: string;
  reason: string;
  source: TriggerSource;
}

/** What the halt verified after acting. `ok` is the conjunction. */
export interface HaltVerification {
  haltFlagSet: boolean;
  schedulesDisabled: boolean;
  noRunningExecutions: boolean;
  /** No working (resting) order is left (FIA kill switch: "cancelling all working orders"); true when the Master has no order port. */
  noWorkingOrders: boolean;
  ok: boolean;
}

/** Result of {@link KillSwitch.halt}. */
export interface HaltResult {
  action: 'HALT';
  /** True when this call set the flag; false when the system already was halted. */
  changed: boolean;
  verified: HaltVerification;
  /** ARNs stopped by this call. */
  stoppedExecutions: string[];
  /** `group/name` of schedules disabled by this call. */
  disabledSchedules: string[];
  /** Working orders this call cancelled (each in one transaction through the order gateway). */
  workingOrdersCancelled: number;
  /** Execution left running on purpose (the in-band caller), if any. */
  excludedExecutionArn?: string;
  /** ISO 8601 detection time used for {@link HaltResult.timeToHaltMs}. */
  detectedAt: string;
  /**
   * ms from `detectedAt` to the moment the flag was set AND every schedule disabled; null when
   * either step failed. On the alarm path this excludes the alarm's own evaluation delay
   * (detection = the alarm's state-change time), see docs/operations.md.
   */
  timeToHaltMs: number | null;
  /** The audit entry appended (null when the flag write failed). */
  audit: AuditEntry | null;
  /** Each step of the halt in the order it ran (`HALT_STEPS`): whether it succeeded or was skipped, and what it verified (counts, names, the verification's checks). */
  steps: readonly StepRecord[];
  errors: StepError[];
}

/** The trading stage of the system, as `ops status` names it: `halted` (HALTED), `reduce-only` (REDUCE: safe mode or a staged resume), `normal`. */
export type TradingStage = 'halted' | 'reduce-only' | 'normal';

/** Result of {@link KillSwitch.resume}. */
export interface ResumeResult {
  /** `RESUME` (into REDUCE) or `RESUME_TO_NORMAL`. */
  action: 'RESUME' | 'RESUME_TO_NORMAL';
  changed: boolean;
  /** The stage after the call. */
  stage: TradingStage;
  /** ISO end of the REDUCE cool-down (after a resume into REDUCE): `--to normal` is refused before it. */
  coolDownUntil?: string;
  verified: { haltFlagCleared: boolean; schedulesEnabled: boolean; ok: boolean };
  /** `group/name` of schedules enabled by this call. */
  enabledSchedules: string[];
  audit: AuditEntry;
  errors: StepError[];
}

/** Result of {@link KillSwitch.setSafeMode}. */
export interface SafeModeResult {
  action: 'SAFE_MODE_ON' | 'SAFE_MODE_OFF';
  changed: boolean;
  mode: 'safe' | 'normal';
  audit: AuditEntry;
  errors: StepError[];
}

/** Result of {@link KillSwitch.status}. */
export interface KillSwitchStatus {
  control: ControlItem;
  schedules: ScheduleRef[];
  runningExecutions: RunningExecution[];
}

/** Dependencies of {@link createKillSwitch}. */
export interface KillSwitchDeps {
  ports: KillSwitchPorts;
  doc: DynamoDBDocumentClient;
  /** Physical name of the Control table. */
  controlTable: string;
  /** Epoch ms clock; default `systemClock.now` (the local runtime passes its simulated clock). */
  now?: () => number;
  /**
   * Delays (ms) before re-checking a halt that did not verify at once; default
   * `DEFAULT_VERIFY_RETRY_DELAYS_MS` (`halt.ts`) (about 31 s in all, well inside the Master's 120 s
   * timeout): ListExecutions is eventually consistent (Step Functions API reference, ListExecutions:
   * "This API action is eventually consistent"), so an execution just stopped may still be listed
   * RUNNING for a while. Tests pass [] or small values.
   */
  verifyRetryDelaysMs?: number[];
  /** Waits `ms` between verification polls. Default `setTimeout`; the local runtime waits on its simulated clock. */
  sleep?: (ms: number) => Promise<void>;
  /** The staged-resume rule (config `resume`, env `RESUME_POLICY`). @default `DEFAULT_RESUME_POLICY` (`control-store.ts`) */
  resumePolicy?: ResumePolicy;
}

/** The kill switch API. */
export interface KillSwitch {
  /** Halts everything (idempotent). @throws {KillSwitchIncomplete} after all steps ran, when any failed. */
  halt(req: HaltRequest): Promise<HaltResult>;
  /**
   * Clears the halt flag and re-enables every schedule of the stack.
   * @throws {ResumeRefused} when `source` is not `operator` or `reason` is empty (nothing changed).
   * @throws {KillSwitchIncomplete} when a step failed (a failed flag write stops before the schedules).
   */
  resume(req: ResumeRequest): Promise<ResumeResult>;
  /**
   * Switches safe mode on or off; cycles keep running.
   * @throws {SafeModeRefused} when switching off from a non-operator source or, for operators, without a reason.
   * @throws {KillSwitchIncomplete} when publishing failed after the mode was written.
   */
  setSafeMode(req: SafeModeRequest): Promise<SafeModeResult>;
  /** Reads the control item (consistent), the schedules and the running executions. */
  status(): Promise<KillSwitchStatus>;
  /**
   * Cancels every working order without halting, through the order gateway's `cancelAll`; audited (`CANCEL_ALL`).
   * @throws {OrderActionRefused} when `source` is not `operator`, `reason` is empty, or there is no order book.
   * @throws {KillSwitchIncomplete} when cancelling failed (the audit entry records what was cancelled).
   */
  cancelAll(req: OrderActionRequest): Promise<CancelAllResult>;
  /**
   * Closes every position (working orders cancelled first) with market orders through the order gateway,
   * attributed to each agent's book; admitted in every stage, HALTED included; audited (`FLATTEN`).
   * @throws {OrderActionRefused} when `source` is not `operator`, `reason` is empty, or there is no order book / market data.
   * @throws {KillSwitchIncomplete} when a position could not be closed (no price) or the gateway failed.
   */
  flatten(req: OrderActionRequest): Promise<FlattenResult>;
}

/** {@link KillSwitchDeps} with every default applied: what the implementations of the actions run on. */
export interface KillSwitchEnv {
  ports: KillSwitchPorts;
  doc: DynamoDBDocumentClient;
  controlTable: string;
  /** Epoch ms clock. */
  now: () => number;
  /** Delays (ms) between verification polls of a halt. */
  verifyRetryDelaysMs: readonly number[];
  sleep: (ms: number) => Promise<void>;
  resumePolicy: ResumePolicy;
}
