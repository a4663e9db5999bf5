/**
 * The kill switch (FIA "kill switch", SEC 15c3-5 spirit): one idempotent halt callable by
 * alarms, by the cycle (in-band) and by operators, and a deliberate resume.
 *
 * halt, step by step (a step that throws never stops the later steps):
 *  1. flag      - set `halted` + reason/actor/at and append the audit entry in ONE conditional
 *                 UpdateItem (`control-store.ts`). Written first, so even a partial halt stops
 *                 new cycles ("Plan cycle" reads the flag) and agents (they re-check it before
 *                 any order).
 *  2. schedules - disable every enabled schedule.
 *  3. executions- stop every RUNNING execution except `excludeExecutionArn` (the cycle that
 *                 called in-band ends in its own Fail state).
 *  4. notify / event - SNS for people, EventBridge `SystemHalted` for machines (only when the
 *                 halt changed something: a repeated halt only grows the audit trail).
 *  5. verify    - re-read the flag (consistent), list schedules (all disabled) and executions
 *                 (none but the excluded one); re-checked after short delays, because
 *                 ListExecutions may lag a StopExecution.
 * Any failed step makes the call throw {@link KillSwitchIncomplete} at the end (after every
 * step ran), so Lambda's retry, the state machine's Retry or an alarm on Master errors picks it up.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, ControlItem } from '../shared/contracts';
import { systemClock } from '../shared/clock';
import { readControlItem } from '../shared/control-read';
import {
  ControlChangeRefused,
  DEFAULT_RESUME_POLICY,
  writeAuditEntry,
  writeHalt,
  writeMode,
  writeResume,
  type ControlChange,
  type ResumePolicy,
  type ResumeTarget,
} from './control-store';
import type { FlattenReport } from '../shared/trading/gateway';
import { OrchestratorError } from '../shared/errors';
import type { KillSwitchPorts, RunningExecution, ScheduleRef } from './ports';
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

/** The steps of a Master action, as named in errors. */
export type KillSwitchStep = 'flag' | 'orders' | 'schedules' | 'executions' | 'notify' | 'event' | 'verify';

/** One failed step (or one failed schedule / execution inside a step). */
export interface StepError {
  step: KillSwitchStep;
  message: string;
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
  errors: StepError[];
}

/** The trading stage of the system, as `ops status` names it: `halted` (HALTED), `reduce-only` (REDUCE: safe mode or a staged resume), `normal`. */
export type TradingStage = 'halted' | 'reduce-only' | 'normal';

/** The stage of a control item. */
export function stageOf(c: Pick<ControlItem, 'halted' | 'mode'>): TradingStage {
  return c.halted ? 'halted' : c.mode === 'safe' ? 'reduce-only' : 'normal';
}

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

/**
 * A Master action ran every step but some failed. Name `KillSwitchIncomplete`; the message
 * lists the failed steps; `result` carries the full result (what did succeed).
 */
export class KillSwitchIncomplete extends OrchestratorError {
  override name = 'KillSwitchIncomplete' as const;
  readonly result: HaltResult | ResumeResult | SafeModeResult | CancelAllResult | FlattenResult | { action: string; errors: StepError[] };
  readonly steps: KillSwitchStep[];
  constructor(action: string, result: KillSwitchIncomplete['result']) {
    const steps = [...new Set(result.errors.map((e) => e.step))];
    super(`${action} incomplete: ${result.errors.map((e) => `${e.step}: ${e.message}`).join('; ')}`);
    this.result = result;
    this.steps = steps;
  }
}

/** Resume refused: not an operator, or no reason. Name `ResumeRefused`. Nothing was changed. */
export class ResumeRefused extends OrchestratorError {
  override name = 'ResumeRefused' as const;
}

/** Safe mode switch-off refused (not an operator, or no reason). Name `SafeModeRefused`. Nothing was changed. */
export class SafeModeRefused extends OrchestratorError {
  override name = 'SafeModeRefused' as const;
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
   * {@link DEFAULT_VERIFY_RETRY_DELAYS_MS} (about 31 s in all, well inside the Master's 120 s
   * timeout): ListExecutions is eventually consistent (Step Functions API reference, ListExecutions:
   * "This API action is eventually consistent"), so an execution just stopped may still be listed
   * RUNNING for a while. Tests pass [] or small values.
   */
  verifyRetryDelaysMs?: number[];
  /** Waits `ms` between verification polls. Default `setTimeout`; the local runtime waits on its simulated clock. */
  sleep?: (ms: number) => Promise<void>;
  /** The staged-resume rule (config `resume`, env `RESUME_POLICY`). @default {@link DEFAULT_RESUME_POLICY} */
  resumePolicy?: ResumePolicy;
}

/** Default verification polls after a halt: 0.25 s doubling to 8 s, then 15 s (31 s in all). */
export const DEFAULT_VERIFY_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 15000];

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

/** Cancel-all or flatten refused: not an operator, no reason, or no order book here. Name `OrderActionRefused`. Nothing was changed. */
export class OrderActionRefused extends OrchestratorError {
  override name = 'OrderActionRefused' as const;
}

const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
const scheduleId = (s: { group: string; name: string }): string => `${s.group}/${s.name}`;

/** Creates the kill switch over the given ports and Control table. */
export function createKillSwitch(deps: KillSwitchDeps): KillSwitch {
  const now = deps.now ?? systemClock.now;
  const { ports, doc, controlTable } = deps;
  const verifyDelays = deps.verifyRetryDelaysMs ?? DEFAULT_VERIFY_RETRY_DELAYS_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  async function verifyHalt(exclude: string | undefined): Promise<{ verified: HaltVerification; errors: StepError[] }> {
    const errors: StepError[] = [];
    let haltFlagSet = false;
    let schedulesDisabled = false;
    let noRunningExecutions = false;
    try {
      haltFlagSet = (await readControlItem(doc, controlTable, true)).halted;
      if (!haltFlagSet) errors.push({ step: 'verify', message: 'halt flag is not set' });
    } catch (err) {
      errors.push({ step: 'verify', message: `reading the halt flag failed: ${errorText(err)}` });
    }
    try {
      const enabled = (await ports.listSchedules()).filter((s) => s.enabled);
      schedulesDisabled = enabled.length === 0;
      if (!schedulesDisabled) errors.push({ step: 'verify', message: `schedules still enabled: ${enabled.map(scheduleId).join(', ')}` });
    } catch (err) {
      errors.push({ step: 'verify', message: `listing schedules failed: ${errorText(err)}` });
    }
    try {
      const running = (await ports.listRunningExecutions()).filter((e) => e.executionArn !== exclude);
      noRunningExecutions = running.length === 0;
      if (!noRunningExecutions) errors.push({ step: 'verify', message: `executions still running: ${running.map((e) => e.name).join(', ')}` });
    } catch (err) {
      errors.push({ step: 'verify', message: `listing running executions failed: ${errorText(err)}` });
    }
    let noWorkingOrders = true;
    if (ports.countWorkingOrders) {
      try {
        const n = await ports.countWorkingOrders();
        noWorkingOrders = n === 0;
        if (!noWorkingOrders) errors.push({ step: 'verify', message: `${n} working order${n === 1 ? '' : 's'} still open` });
      } catch (err) {
        noWorkingOrders = false;
        errors.push({ step: 'verify', message: `counting working orders failed: ${errorText(err)}` });
      }
    }
    return {
      verified: {
        haltFlagSet,
        schedulesDisabled,
        noRunningExecutions,
        noWorkingOrders,
        ok: haltFlagSet && schedulesDisabled && noRunningExecutions && noWorkingOrders,
      },
      errors,
    };
  }

  async function halt(req: HaltRequest): Promise<HaltResult> {
    const startedAt = now();
    const detectedAt = req.detectedAt ?? startedAt;
    const errors: StepError[] = [];

    // 1. Flag + audit, one conditional write.
    let change: ControlChange | undefined;
    let flagSetAt: number | undefined;
    try {
      change = await writeHalt(doc, controlTable, { actor: req.actor, reason: req.reason, at: startedAt });
      flagSetAt = now();
    } catch (err) {
      errors.push({ step: 'flag', message: errorText(err) });
    }
    const reason = change?.after.reason ?? req.reason;

    // 1b. Cancel every working order, right after the flag (which already stops every fill): each
    // cancel is one transaction through the order gateway, so a fill and a cancel never both win.
    let workingOrdersCancelled = 0;
    if (ports.cancelWorkingOrders) {
      try {
        workingOrdersCancelled = await ports.cancelWorkingOrders(`kill switch: ${reason}`);
      } catch (err) {
        errors.push({ step: 'orders', message: `cancelling working orders failed: ${errorText(err)}` });
      }
    }

    // 2. Disable every enabled schedule.
    const disabledSchedules: string[] = [];
    let schedulesDisabledAt: number | undefined;
    try {
      const schedules = await ports.listSchedules();
      let failed = false;
      for (const s of schedules.filter((x) => x.enabled)) {
        try {
          await ports.setScheduleEnabled(s.group, s.name, false);
          disabledSchedules.push(scheduleId(s));
        } catch (err) {
          failed = true;
          errors.push({ step: 'schedules', message: `disabling ${scheduleId(s)} failed: ${errorText(err)}` });
        }
      }
      if (!failed) schedulesDisabledAt = now();
    } catch (err) {
      errors.push({ step: 'schedules', message: `listing schedules failed: ${errorText(err)}` });
    }

    // 3. Stop every running execution but the in-band caller.
    const stoppedExecutions: string[] = [];
    const cause = `Kill switch engaged by ${req.actor} (${req.source}): ${req.reason}`.slice(0, 32_768);
    try {
      const running = (await ports.listRunningExecutions()).filter((e) => e.executionArn !== req.excludeExecutionArn);
      await Promise.all(
        running.map(async (e) => {
          try {
            await ports.stopExecution(e.executionArn, cause);
            stoppedExecutions.push(e.executionArn);
          } catch (err) {
            errors.push({ step: 'executions', message: `stopping ${e.name} failed: ${errorText(err)}` });
          }
        }),
      );
    } catch (err) {
      errors.push({ step: 'executions', message: `listing running executions failed: ${errorText(err)}` });
    }

    const timeToHaltMs = flagSetAt !== undefined && schedulesDisabledAt !== undefined ? Math.max(flagSetAt, schedulesDisabledAt) - detectedAt : null;
    const changed = change?.changed ?? false;

    // 4. Tell people and machines, when something changed (or the flag write failed: people must know).
    const acted = changed || disabledSchedules.length > 0 || stoppedExecutions.length > 0 || workingOrdersCancelled > 0 || change === undefined;
    const summary = {
      actor: req.actor,
      source: req.source,
      reason,
      changed,
      cycleId: req.cycleId,
      detectedAt: new Date(detectedAt).toISOString(),
      timeToHaltMs,
      disabledSchedules,
      stoppedExecutions,
      workingOrdersCancelled,
      errors,
    };
    if (acted) {
      try {
        const lines = [
          `The kill switch halted the agent fleet${changed ? '' : ' (it was already halted; enforcement re-applied)'}.`,
          `Reason: ${reason}`,
          `Actor: ${req.actor} (source: ${req.source})`,
          `Detected at: ${summary.detectedAt}`,
          `Schedules disabled: ${disabledSchedules.join(', ') || 'none (already disabled)'}`,
          `Executions stopped: ${stoppedExecutions.join(', ') || 'none running'}`,
          `Working orders cancelled: ${workingOrdersCancelled}`,
          ...(errors.length ? [`FAILED STEPS: ${errors.map((e) => `${e.step}: ${e.message}`).join('; ')}`] : []),
          ...(req.details !== undefined ? [`Details: ${JSON.stringify(req.details).slice(0, 4000)}`] : []),
          'Resume only with: npm run ops -- resume --reason "<why it is safe>"',
        ];
        await ports.notify(`[agent-fleet] HALT: ${reason}`, lines.join('\n'));
      } catch (err) {
        errors.push({ step: 'notify', message: errorText(err) });
      }
      try {
        await ports.publishEvent('SystemHalted', summary);
      } catch (err) {
        errors.push({ step: 'event', message: errorText(err) });
      }
    }

    // 5. Verify, re-checking a few times if needed.
    let check = await verifyHalt(req.excludeExecutionArn);
    for (const delay of verifyDelays) {
      if (check.verified.ok) break;
      await sleep(delay);
      check = await verifyHalt(req.excludeExecutionArn);
    }
    errors.push(...check.errors);
    if (!check.verified.ok) {
      try {
        await ports.notify('[agent-fleet] HALT NOT VERIFIED', `The kill switch could not verify the halt: ${check.errors.map((e) => e.message).join('; ')}`);
      } catch (err) {
        errors.push({ step: 'notify', message: errorText(err) });
      }
    }

    const result: HaltResult = {
      action: 'HALT',
      changed,
      verified: check.verified,
      stoppedExecutions,
      disabledSchedules,
      workingOrdersCancelled,
      ...(req.excludeExecutionArn ? { excludedExecutionArn: req.excludeExecutionArn } : {}),
      detectedAt: summary.detectedAt,
      timeToHaltMs,
      audit: change?.audit ?? null,
      errors,
    };
    if (errors.length > 0) throw new KillSwitchIncomplete('Halt', result);
    return result;
  }

  async function resume(req: ResumeRequest): Promise<ResumeResult> {
    const to = req.to ?? 'reduce';
    const action = to === 'normal' ? 'RESUME_TO_NORMAL' : 'RESUME';
    if (req.source !== 'operator') {
      throw new ResumeRefused(
        `Resume refused: only an operator can resume (source was '${req.source}', actor ${req.actor}); alarms, the cycle and the supervisor can only halt`,
      );
    }
    if (!req.reason.trim()) throw new ResumeRefused('Resume refused: a reason is required (why is it safe to trade again?)');
    const errors: StepError[] = [];
    let change: ControlChange;
    try {
      change = await writeResume(doc, controlTable, { actor: req.actor, reason: req.reason, at: now(), to }, deps.resumePolicy ?? DEFAULT_RESUME_POLICY);
    } catch (err) {
      if (err instanceof ControlChangeRefused) throw new ResumeRefused(err.message);
      // Without a cleared flag, enabling schedules would only start cycles that do nothing: stop here.
      throw new KillSwitchIncomplete('Resume', { action, errors: [{ step: 'flag', message: errorText(err) }] });
    }
    const enabledSchedules: string[] = [];
    // Only the resume that cleared the halt flag (or a no-op resume of a running system, which repairs a schedule
    // left disabled) enables schedules: `--to normal` from REDUCE finds them enabled already.
    if (!(to === 'normal' && !change.before.halted)) {
      try {
        for (const s of (await ports.listSchedules()).filter((x) => !x.enabled)) {
          try {
            await ports.setScheduleEnabled(s.group, s.name, true);
            enabledSchedules.push(scheduleId(s));
          } catch (err) {
            errors.push({ step: 'schedules', message: `enabling ${scheduleId(s)} failed: ${errorText(err)}` });
          }
        }
      } catch (err) {
        errors.push({ step: 'schedules', message: `listing schedules failed: ${errorText(err)}` });
      }
      // A halt that landed while the schedules were being enabled wins: disable again what this call enabled.
      if (enabledSchedules.length > 0 && (await readControlItem(doc, controlTable, true).catch(() => undefined))?.halted) {
        for (const id of enabledSchedules) {
          const [group, ...name] = id.split('/');
          await ports
            .setScheduleEnabled(group, name.join('/'), false)
            .catch((err: unknown) => errors.push({ step: 'schedules', message: `re-disabling ${id} after a racing halt failed: ${errorText(err)}` }));
        }
      }
    }
    const stage = stageOf(change.after);
    const coolDownUntil = change.after.coolDownUntil;
    const detail = { actor: req.actor, reason: req.reason, changed: change.changed, to, stage, ...(coolDownUntil ? { coolDownUntil } : {}), enabledSchedules };
    if (change.changed) {
      const into =
        stage === 'reduce-only'
          ? `into REDUCE (reduce-only: only orders that reduce a position are admitted) until at least ${coolDownUntil}; then: npm run ops -- resume --to normal --reason "..."`
          : 'to normal trading';
      try {
        await ports.notify(
          `[agent-fleet] ${action === 'RESUME' ? 'RESUME (REDUCE)' : 'RESUME TO NORMAL'}: ${req.reason}`,
          `The agent fleet was resumed ${into} by ${req.actor}.\nReason: ${req.reason}\nSchedules enabled: ${enabledSchedules.join(', ') || 'none (already enabled)'}`,
        );
      } catch (err) {
        errors.push({ step: 'notify', message: errorText(err) });
      }
      try {
        await ports.publishEvent('SystemResumed', detail);
      } catch (err) {
        errors.push({ step: 'event', message: errorText(err) });
      }
    }
    let haltFlagCleared = false;
    let schedulesEnabled = false;
    try {
      haltFlagCleared = !(await readControlItem(doc, controlTable, true)).halted;
      if (!haltFlagCleared) errors.push({ step: 'verify', message: 'halt flag is still set (a halt arrived after the resume?)' });
    } catch (err) {
      errors.push({ step: 'verify', message: `reading the halt flag failed: ${errorText(err)}` });
    }
    try {
      const disabled = (await ports.listSchedules()).filter((s) => !s.enabled);
      schedulesEnabled = disabled.length === 0;
      if (!schedulesEnabled) errors.push({ step: 'verify', message: `schedules still disabled: ${disabled.map(scheduleId).join(', ')}` });
    } catch (err) {
      errors.push({ step: 'verify', message: `listing schedules failed: ${errorText(err)}` });
    }
    const result: ResumeResult = {
      action,
      changed: change.changed,
      stage,
      ...(stage === 'reduce-only' && coolDownUntil ? { coolDownUntil } : {}),
      verified: { haltFlagCleared, schedulesEnabled, ok: haltFlagCleared && schedulesEnabled },
      enabledSchedules,
      audit: change.audit,
      errors,
    };
    if (errors.length > 0) throw new KillSwitchIncomplete('Resume', result);
    return result;
  }

  function refuseOrderAction(what: string, req: OrderActionRequest): void {
    if (req.source !== 'operator') {
      throw new OrderActionRefused(`${what} refused: only an operator can ${what.toLowerCase()} (source was '${req.source}', actor ${req.actor})`);
    }
    if (!req.reason.trim()) throw new OrderActionRefused(`${what} refused: a reason is required (it goes to the audit trail)`);
  }

  async function cancelAll(req: OrderActionRequest): Promise<CancelAllResult> {
    refuseOrderAction('Cancel-all', req);
    if (!ports.cancelWorkingOrders) throw new OrderActionRefused('Cancel-all refused: this Master has no order book (no LEDGER_TABLE)');
    const errors: StepError[] = [];
    let cancelled = 0;
    try {
      cancelled = await ports.cancelWorkingOrders(`cancel-all by ${req.actor}: ${req.reason}`);
    } catch (err) {
      errors.push({ step: 'orders', message: `cancelling working orders failed: ${errorText(err)}` });
    }
    const change = await writeAuditEntry(doc, controlTable, 'CANCEL_ALL', cancelled > 0, {
      actor: req.actor,
      reason: `${req.reason} (${cancelled} working order${cancelled === 1 ? '' : 's'} cancelled)`,
      at: now(),
    });
    let remaining = 0;
    try {
      remaining = ports.countWorkingOrders ? await ports.countWorkingOrders() : 0;
    } catch (err) {
      errors.push({ step: 'verify', message: `counting working orders failed: ${errorText(err)}` });
    }
    try {
      await ports.publishEvent('WorkingOrdersCancelled', { actor: req.actor, reason: req.reason, cancelled, remaining });
    } catch (err) {
      errors.push({ step: 'event', message: errorText(err) });
    }
    const result: CancelAllResult = { action: 'CANCEL_ALL', cancelled, remaining, audit: change.audit, errors };
    if (errors.length > 0) throw new KillSwitchIncomplete('Cancel-all', result);
    return result;
  }

  async function flatten(req: OrderActionRequest): Promise<FlattenResult> {
    refuseOrderAction('Flatten', req);
    if (!ports.flattenPositions)
      throw new OrderActionRefused('Flatten refused: this function has no order book or market data (LEDGER_TABLE, MARKET_DATA_FILE)');
    const at = now();
    const flattenId = `flatten-${new Date(at).toISOString().replace(/[-:.]/g, '')}`;
    const errors: StepError[] = [];
    let report: FlattenReport = { flattenId, workingOrdersCancelled: 0, positions: [], closed: 0, notClosed: 0, barIndex: -1, asOf: 'unknown' };
    try {
      report = await ports.flattenPositions({ flattenId, actor: req.actor, reason: req.reason });
    } catch (err) {
      errors.push({ step: 'orders', message: `flatten failed: ${errorText(err)}` });
    }
    for (const p of report.positions.filter((x) => x.status !== 'FILLED')) {
      errors.push({ step: 'orders', message: `${p.agent} ${p.symbol}: not closed: ${p.reason ?? 'rejected'}` });
    }
    const change = await writeAuditEntry(doc, controlTable, 'FLATTEN', report.closed > 0 || report.workingOrdersCancelled > 0, {
      actor: req.actor,
      reason: `${req.reason} (${flattenId}: ${report.closed} position${report.closed === 1 ? '' : 's'} closed at ${report.asOf}, ${report.notClosed} not closed, ${report.workingOrdersCancelled} working orders cancelled)`,
      at,
    });
    try {
      await ports.notify(
        `[agent-fleet] FLATTEN: ${req.reason}`,
        `${req.actor} flattened the fleet (${flattenId}): ${report.closed} positions closed at the close of ${report.asOf}, ${report.notClosed} not closed, ${report.workingOrdersCancelled} working orders cancelled.\nReason: ${req.reason}`,
      );
    } catch (err) {
      errors.push({ step: 'notify', message: errorText(err) });
    }
    try {
      await ports.publishEvent('PositionsFlattened', { actor: req.actor, reason: req.reason, ...report });
    } catch (err) {
      errors.push({ step: 'event', message: errorText(err) });
    }
    const result: FlattenResult = { action: 'FLATTEN', ...report, audit: change.audit, errors };
    if (errors.length > 0) throw new KillSwitchIncomplete('Flatten', result);
    return result;
  }

  async function setSafeMode(req: SafeModeRequest): Promise<SafeModeResult> {
    if (!req.on && req.source !== 'operator') {
      throw new SafeModeRefused(`Safe mode off refused: only an operator can switch safe mode off (source was '${req.source}', actor ${req.actor})`);
    }
    if (req.source === 'operator' && !req.reason.trim()) throw new SafeModeRefused(`Safe mode ${req.on ? 'on' : 'off'} refused: a reason is required`);
    const mode = req.on ? 'safe' : 'normal';
    let change: ControlChange;
    try {
      change = await writeMode(doc, controlTable, mode, { actor: req.actor, reason: req.reason, at: now() });
    } catch (err) {
      if (err instanceof ControlChangeRefused) throw new SafeModeRefused(err.message);
      throw err;
    }
    const errors: StepError[] = [];
    if (change.changed) {
      try {
        await ports.notify(
          `[agent-fleet] SAFE MODE ${req.on ? 'ON' : 'OFF'}: ${req.reason}`,
          `${req.actor} switched safe mode ${req.on ? 'on (agents may only reduce exposure)' : 'off (normal trading)'}.\nReason: ${req.reason}`,
        );
      } catch (err) {
        errors.push({ step: 'notify', message: errorText(err) });
      }
      try {
        await ports.publishEvent('SafeModeChanged', { mode, actor: req.actor, reason: req.reason, source: req.source });
      } catch (err) {
        errors.push({ step: 'event', message: errorText(err) });
      }
    }
    const result: SafeModeResult = { action: req.on ? 'SAFE_MODE_ON' : 'SAFE_MODE_OFF', changed: change.changed, mode, audit: change.audit, errors };
    if (errors.length > 0) throw new KillSwitchIncomplete('Safe mode', result);
    return result;
  }

  async function status(): Promise<KillSwitchStatus> {
    const [control, schedules, runningExecutions] = await Promise.all([
      readControlItem(doc, controlTable, true),
      ports.listSchedules(),
      ports.listRunningExecutions(),
    ]);
    return { control, schedules, runningExecutions };
  }

  return { halt, resume, setSafeMode, status, cancelAll, flatten };
}
