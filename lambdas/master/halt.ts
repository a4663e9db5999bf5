/**
 * The halt of the kill switch (FIA "kill switch", SEC 15c3-5 spirit): one idempotent action callable by
 * alarms, by the cycle (in-band) and by operators, declared as the ordered steps of {@link HALT_STEPS} and
 * run by `runSteps` (`step-runner.ts`), so a step that fails never stops the later steps:
 *  1. flag       - set `halted` + reason/actor/at and append the audit entry in ONE conditional UpdateItem
 *                  (`control-store.ts`). Written first, so even a partial halt stops new cycles ("Plan cycle"
 *                  reads the flag), agents (they re-check it before any order) and every fill (the order gateway
 *                  checks it in the fill's transaction).
 *  2. orders     - cancel every working order through the order gateway (each cancel one transaction, so a fill
 *                  and a cancel never both win); skipped when the Master has no order port.
 *  3. schedules  - disable every enabled schedule.
 *  4. executions - stop every RUNNING execution except `excludeExecutionArn` (the cycle that called in-band
 *                  ends in its own Fail state).
 *  5. notify     - SNS for people,
 *  6. event      - EventBridge `SystemHalted` for machines; both only when the halt changed something (or the
 *                  flag write failed: people must know); a repeated halt only grows the audit trail.
 *  7. verify     - re-read the flag (consistent), list schedules (all disabled), executions (none but the
 *                  excluded one) and working orders (none); re-checked after short delays, because
 *                  ListExecutions may lag a StopExecution (DESIGN.md section 9: eventual consistency tolerated
 *                  by polling).
 *  8. notify     - "HALT NOT VERIFIED" to people, only when the verification failed.
 * Any failed step makes the call throw {@link KillSwitchIncomplete} at the end (after every step ran), so
 * Lambda's retry, the state machine's Retry or an alarm on Master errors picks it up.
 */
import type { ControlChange } from './control-store';
import { writeHalt } from './control-store';
import { readControlItem } from '../shared/control-read';
import { completeOrThrow } from './kill-switch-errors';
import type { HaltRequest, HaltResult, HaltVerification, KillSwitchEnv } from './kill-switch-types';
import { scheduleId } from './ports';
import { errorText, runSteps, type StepError, type StepList } from './step-runner';

/** Default verification polls after a halt (ms): 0.25 s doubling to 8 s, then 15 s (31 s in all, inside the Master's 120 s timeout). */
export const DEFAULT_VERIFY_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 15000];

/** The steps of a halt, in the order they run (see the module comment); `notify` runs twice (the notice, then the alert when not verified). */
export const HALT_STEPS = ['flag', 'orders', 'schedules', 'executions', 'notify', 'event', 'verify', 'notify'] as const;

/** What the steps of one halt share: the request, and what the earlier steps did (filled in as they run). */
interface HaltRun {
  env: KillSwitchEnv;
  req: HaltRequest;
  /** Epoch ms when the call started (the audit entry's time). */
  startedAt: number;
  /** Epoch ms of detection: `req.detectedAt` or `startedAt`. */
  detectedAt: number;
  /** The flag write (undefined when it failed). */
  change?: ControlChange;
  /** Epoch ms just after the flag write. */
  flagSetAt?: number;
  workingOrdersCancelled: number;
  disabledSchedules: string[];
  /** Epoch ms when every enabled schedule was disabled (undefined when one failed). */
  schedulesDisabledAt?: number;
  stoppedExecutions: string[];
  /** The notice's content, built once for `notify` and `event`. */
  summary?: HaltSummary;
  verification?: HaltVerification;
  /** The failures of the last verification poll. */
  verifyErrors: StepError[];
}

/** The detail of the `SystemHalted` event (and the facts of the notice). `errors` is the halt's live list of failures. */
type HaltSummary = {
  actor: string;
  source: string;
  reason: string;
  changed: boolean;
  cycleId?: string;
  detectedAt: string;
  timeToHaltMs: number | null;
  disabledSchedules: string[];
  stoppedExecutions: string[];
  workingOrdersCancelled: number;
  errors: readonly StepError[];
};

/** The reason stored on the control item (the first halt's, on a repeated halt), else the request's. */
const reasonOf = (run: HaltRun): string => run.change?.after.reason ?? run.req.reason;

/** ms from detection to the flag set AND every schedule disabled; null when either step failed. */
const timeToHaltMs = (run: HaltRun): number | null =>
  run.flagSetAt !== undefined && run.schedulesDisabledAt !== undefined ? Math.max(run.flagSetAt, run.schedulesDisabledAt) - run.detectedAt : null;

/** True when this halt did something people and machines must hear of (or the flag write failed). */
const acted = (run: HaltRun): boolean =>
  run.change === undefined || run.change.changed || run.disabledSchedules.length > 0 || run.stoppedExecutions.length > 0 || run.workingOrdersCancelled > 0;

function summaryOf(run: HaltRun, errors: readonly StepError[]): HaltSummary {
  run.summary ??= {
    actor: run.req.actor,
    source: run.req.source,
    reason: reasonOf(run),
    changed: run.change?.changed ?? false,
    cycleId: run.req.cycleId,
    detectedAt: new Date(run.detectedAt).toISOString(),
    timeToHaltMs: timeToHaltMs(run),
    disabledSchedules: run.disabledSchedules,
    stoppedExecutions: run.stoppedExecutions,
    workingOrdersCancelled: run.workingOrdersCancelled,
    errors,
  };
  return run.summary;
}

/** Step 1: the halt flag and its audit entry, in one conditional write. Verifies whether this call set it. */
async function setFlag(run: HaltRun): Promise<{ changed: boolean; version: number }> {
  run.change = await writeHalt(run.env.doc, run.env.controlTable, { actor: run.req.actor, reason: run.req.reason, at: run.startedAt });
  run.flagSetAt = run.env.now();
  return { changed: run.change.changed, version: run.change.after.version };
}

/** Step 2: cancels every working order. Verifies how many this call cancelled. */
async function cancelWorkingOrders(run: HaltRun): Promise<{ cancelled: number }> {
  run.workingOrdersCancelled = (await run.env.ports.cancelWorkingOrders?.(`kill switch: ${reasonOf(run)}`)) ?? 0;
  return { cancelled: run.workingOrdersCancelled };
}

/**
 * Step 3: disables every enabled schedule, one by one (a failed one is recorded, the others still disabled).
 * Verifies counts: the names are in the result's `disabledSchedules` (the step records stay small, since an
 * in-band halt's result is a task output under the 256 KiB state quota).
 */
async function disableSchedules(run: HaltRun, fail: (message: string) => void): Promise<{ disabled: number; failed: number }> {
  const { ports } = run.env;
  let failed = 0;
  for (const s of (await ports.listSchedules()).filter((x) => x.enabled)) {
    try {
      await ports.setScheduleEnabled(s.group, s.name, false);
      run.disabledSchedules.push(scheduleId(s));
    } catch (err) {
      failed++;
      fail(`disabling ${scheduleId(s)} failed: ${errorText(err)}`);
    }
  }
  if (failed === 0) run.schedulesDisabledAt = run.env.now();
  return { disabled: run.disabledSchedules.length, failed };
}

/** Step 4: stops every running execution but the excluded one, in parallel. Verifies how many (the ARNs are in the result's `stoppedExecutions`). */
async function stopExecutions(run: HaltRun, fail: (message: string) => void): Promise<{ stopped: number; excluded?: string }> {
  const { ports } = run.env;
  const { req } = run;
  // StopExecution's `cause` is at most 32,768 characters (Step Functions API reference).
  const cause = `Kill switch engaged by ${req.actor} (${req.source}): ${req.reason}`.slice(0, 32_768);
  const running = (await ports.listRunningExecutions()).filter((e) => e.executionArn !== req.excludeExecutionArn);
  await Promise.all(
    running.map(async (e) => {
      try {
        await ports.stopExecution(e.executionArn, cause);
        run.stoppedExecutions.push(e.executionArn);
      } catch (err) {
        fail(`stopping ${e.name} failed: ${errorText(err)}`);
      }
    }),
  );
  return { stopped: run.stoppedExecutions.length, ...(req.excludeExecutionArn ? { excluded: req.excludeExecutionArn } : {}) };
}

/** Step 5: the notice to people (SNS), listing what was done and what failed so far. */
async function notifyHalt(run: HaltRun, errors: readonly StepError[]): Promise<{ subject: string }> {
  const s = summaryOf(run, errors);
  const lines = [
    `The kill switch halted the agent fleet${s.changed ? '' : ' (it was already halted; enforcement re-applied)'}.`,
    `Reason: ${s.reason}`,
    `Actor: ${run.req.actor} (source: ${run.req.source})`,
    `Detected at: ${s.detectedAt}`,
    `Schedules disabled: ${s.disabledSchedules.join(', ') || 'none (already disabled)'}`,
    `Executions stopped: ${s.stoppedExecutions.join(', ') || 'none running'}`,
    `Working orders cancelled: ${s.workingOrdersCancelled}`,
    ...(errors.length ? [`FAILED STEPS: ${errors.map((e) => `${e.step}: ${e.message}`).join('; ')}`] : []),
    ...(run.req.details !== undefined ? [`Details: ${JSON.stringify(run.req.details).slice(0, 4000)}`] : []),
    'Resume only with: npm run ops -- resume --reason "<why it is safe>"',
  ];
  const subject = `[agent-fleet] HALT: ${s.reason}`;
  await run.env.ports.notify(subject, lines.join('\n'));
  return { subject };
}

/** Step 6: the `SystemHalted` event for machines. */
async function publishHalted(run: HaltRun, errors: readonly StepError[]): Promise<{ detailType: 'SystemHalted' }> {
  await run.env.ports.publishEvent('SystemHalted', summaryOf(run, errors));
  return { detailType: 'SystemHalted' };
}

/** One poll of the verification: four independent checks, each recorded (a failed read is not a pass). */
export async function checkHalt(env: KillSwitchEnv, exclude: string | undefined): Promise<{ verified: HaltVerification; errors: StepError[] }> {
  const { ports, doc, controlTable } = env;
  const { records, errors } = await runSteps([
    {
      step: 'verify',
      failure: 'reading the halt flag failed',
      run: async (scope) => {
        const halted = (await readControlItem(doc, controlTable, true)).halted;
        if (!halted) scope.fail('halt flag is not set');
        return halted;
      },
    },
    {
      step: 'verify',
      failure: 'listing schedules failed',
      run: async (scope) => {
        const enabled = (await ports.listSchedules()).filter((s) => s.enabled);
        if (enabled.length) scope.fail(`schedules still enabled: ${enabled.map(scheduleId).join(', ')}`);
        return enabled.length === 0;
      },
    },
    {
      step: 'verify',
      failure: 'listing running executions failed',
      run: async (scope) => {
        const running = (await ports.listRunningExecutions()).filter((e) => e.executionArn !== exclude);
        if (running.length) scope.fail(`executions still running: ${running.map((e) => e.name).join(', ')}`);
        return running.length === 0;
      },
    },
    {
      step: 'verify',
      failure: 'counting working orders failed',
      // Without an order port there is no order book to check: true.
      run: async (scope) => {
        if (!ports.countWorkingOrders) return true;
        const n = await ports.countWorkingOrders();
        if (n !== 0) scope.fail(`${n} working order${n === 1 ? '' : 's'} still open`);
        return n === 0;
      },
    },
  ] as const);
  const [haltFlagSet, schedulesDisabled, noRunningExecutions, noWorkingOrders] = records.map((r) => r.verified === true);
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

/** Step 7: verifies the halt, polling after each of `verifyRetryDelaysMs` until it holds; records the last poll's failures. */
async function verifyHalt(run: HaltRun, fail: (message: string) => void): Promise<HaltVerification & { polls: number }> {
  let polls = 1;
  let check = await checkHalt(run.env, run.req.excludeExecutionArn);
  for (const delay of run.env.verifyRetryDelaysMs) {
    if (check.verified.ok) break;
    await run.env.sleep(delay);
    check = await checkHalt(run.env, run.req.excludeExecutionArn);
    polls++;
  }
  run.verification = check.verified;
  run.verifyErrors = check.errors;
  for (const e of check.errors) fail(e.message);
  return { ...check.verified, polls };
}

/** Step 8: tells people the halt could not be verified. */
async function alertUnverified(run: HaltRun): Promise<{ subject: string }> {
  const subject = '[agent-fleet] HALT NOT VERIFIED';
  await run.env.ports.notify(subject, `The kill switch could not verify the halt: ${run.verifyErrors.map((e) => e.message).join('; ')}`);
  return { subject };
}

/**
 * Halts everything (idempotent), running {@link HALT_STEPS} in order.
 * @throws {KillSwitchIncomplete} after every step ran, when any failed; its `result` is the {@link HaltResult}.
 */
export async function halt(env: KillSwitchEnv, req: HaltRequest): Promise<HaltResult> {
  const startedAt = env.now();
  const run: HaltRun = {
    env,
    req,
    startedAt,
    detectedAt: req.detectedAt ?? startedAt,
    workingOrdersCancelled: 0,
    disabledSchedules: [],
    stoppedExecutions: [],
    verifyErrors: [],
  };
  const errors: StepError[] = [];
  const steps: StepList<typeof HALT_STEPS> = [
    { step: 'flag', run: () => setFlag(run) },
    {
      step: 'orders',
      when: () => env.ports.cancelWorkingOrders !== undefined,
      failure: 'cancelling working orders failed',
      run: () => cancelWorkingOrders(run),
    },
    { step: 'schedules', failure: 'listing schedules failed', run: (scope) => disableSchedules(run, scope.fail) },
    { step: 'executions', failure: 'listing running executions failed', run: (scope) => stopExecutions(run, scope.fail) },
    { step: 'notify', when: () => acted(run), run: (scope) => notifyHalt(run, scope.errors) },
    { step: 'event', when: () => acted(run), run: (scope) => publishHalted(run, scope.errors) },
    { step: 'verify', run: (scope) => verifyHalt(run, scope.fail) },
    { step: 'notify', when: () => run.verification?.ok !== true, run: () => alertUnverified(run) },
  ];
  const { records } = await runSteps(steps, errors);
  const notVerified: HaltVerification = { haltFlagSet: false, schedulesDisabled: false, noRunningExecutions: false, noWorkingOrders: false, ok: false };
  return completeOrThrow('Halt', {
    action: 'HALT',
    changed: run.change?.changed ?? false,
    verified: run.verification ?? notVerified,
    stoppedExecutions: run.stoppedExecutions,
    disabledSchedules: run.disabledSchedules,
    workingOrdersCancelled: run.workingOrdersCancelled,
    ...(req.excludeExecutionArn ? { excludedExecutionArn: req.excludeExecutionArn } : {}),
    detectedAt: new Date(run.detectedAt).toISOString(),
    timeToHaltMs: timeToHaltMs(run),
    audit: run.change?.audit ?? null,
    steps: records,
    errors,
  });
}
