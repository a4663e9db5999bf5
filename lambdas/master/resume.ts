/**
 * The staged resume (DESIGN.md section 9, "Authority from IAM": loosening control is reachable only by operator
 * principals; HALTED -> REDUCE (reduce-only) -> normal after a cool-down). The control write is a gate: without a
 * cleared flag, enabling schedules would only start cycles that do nothing, so a failed write ends the resume.
 * After it, the steps run by `runSteps` (`step-runner.ts`), each whatever the earlier ones did:
 *  1. schedules - enable every disabled schedule (only on the resume that cleared the halt flag, or a no-op resume
 *                 of a running system, which repairs a schedule left disabled); a halt that landed meanwhile wins:
 *                 what this call enabled is disabled again;
 *  2. notify, 3. event - only when the resume changed the stage;
 *  4. verify    - the halt flag is clear (consistent read), 5. verify - no schedule is disabled.
 */
import { readControlItem } from '../shared/control-read';
import type { ControlItem } from '../shared/contracts';
import { ControlChangeRefused, writeResume, type ControlChange } from './control-store';
import { completeOrThrow, KillSwitchIncomplete, ResumeRefused } from './kill-switch-errors';
import type { KillSwitchEnv, ResumeRequest, ResumeResult, TradingStage } from './kill-switch-types';
import { scheduleId } from './ports';
import { errorText, runSteps, type StepError, type StepList } from './step-runner';

/** The steps of a resume after its control write, in the order they run (see the module comment). */
export const RESUME_STEPS = ['schedules', 'notify', 'event', 'verify', 'verify'] as const;

/** The stage of a control item. */
export function stageOf(c: Pick<ControlItem, 'halted' | 'mode'>): TradingStage {
  return c.halted ? 'halted' : c.mode === 'safe' ? 'reduce-only' : 'normal';
}

/** Step 1: enables every disabled schedule, then disables them again if a halt landed meanwhile. */
async function enableSchedules(env: KillSwitchEnv, enabled: string[], fail: (message: string) => void): Promise<{ enabled: string[] }> {
  const { ports, doc, controlTable } = env;
  for (const s of (await ports.listSchedules()).filter((x) => !x.enabled)) {
    try {
      await ports.setScheduleEnabled(s.group, s.name, true);
      enabled.push(scheduleId(s));
    } catch (err) {
      fail(`enabling ${scheduleId(s)} failed: ${errorText(err)}`);
    }
  }
  // A halt that landed while the schedules were being enabled wins: disable again what this call enabled.
  if (enabled.length > 0 && (await readControlItem(doc, controlTable, true).catch(() => undefined))?.halted) {
    for (const id of enabled) {
      const [group, ...name] = id.split('/');
      await ports
        .setScheduleEnabled(group, name.join('/'), false)
        .catch((err: unknown) => fail(`re-disabling ${id} after a racing halt failed: ${errorText(err)}`));
    }
  }
  return { enabled };
}

/**
 * Resumes: REDUCE by default, or normal (`req.to`). See `writeResume` of `control-store.ts` for the stage rules.
 * @throws {ResumeRefused} when `source` is not `operator`, `reason` is empty, or the control store refuses the change (nothing changed).
 * @throws {KillSwitchIncomplete} when the control write failed (nothing else ran) or, after every step ran, when one failed.
 */
export async function resume(env: KillSwitchEnv, req: ResumeRequest): Promise<ResumeResult> {
  const { ports, doc, controlTable } = env;
  const to = req.to ?? 'reduce';
  const action = to === 'normal' ? 'RESUME_TO_NORMAL' : 'RESUME';
  if (req.source !== 'operator') {
    throw new ResumeRefused(
      `Resume refused: only an operator can resume (source was '${req.source}', actor ${req.actor}); alarms, the cycle and the supervisor can only halt`,
    );
  }
  if (!req.reason.trim()) throw new ResumeRefused('Resume refused: a reason is required (why is it safe to trade again?)');
  let change: ControlChange;
  try {
    change = await writeResume(doc, controlTable, { actor: req.actor, reason: req.reason, at: env.now(), to }, env.resumePolicy);
  } catch (err) {
    if (err instanceof ControlChangeRefused) throw new ResumeRefused(err.message, { cause: err });
    throw new KillSwitchIncomplete('Resume', { action, errors: [{ step: 'flag', message: errorText(err) }] });
  }
  const stage = stageOf(change.after);
  const coolDownUntil = change.after.coolDownUntil;
  const enabledSchedules: string[] = [];
  const errors: StepError[] = [];
  let haltFlagCleared = false;
  let schedulesEnabled = false;
  const notice = (): [string, string] => {
    const into =
      stage === 'reduce-only'
        ? `into REDUCE (reduce-only: only orders that reduce a position are admitted) until at least ${coolDownUntil}; then: npm run ops -- resume --to normal --reason "..."`
        : 'to normal trading';
    return [
      `[agent-fleet] ${action === 'RESUME' ? 'RESUME (REDUCE)' : 'RESUME TO NORMAL'}: ${req.reason}`,
      `The agent fleet was resumed ${into} by ${req.actor}.\nReason: ${req.reason}\nSchedules enabled: ${enabledSchedules.join(', ') || 'none (already enabled)'}`,
    ];
  };
  const steps: StepList<typeof RESUME_STEPS> = [
    {
      step: 'schedules',
      // `--to normal` from REDUCE finds the schedules enabled already.
      when: () => !(to === 'normal' && !change.before.halted),
      failure: 'listing schedules failed',
      run: (scope) => enableSchedules(env, enabledSchedules, scope.fail),
    },
    { step: 'notify', when: () => change.changed, run: () => ports.notify(...notice()) },
    {
      step: 'event',
      when: () => change.changed,
      run: () =>
        ports.publishEvent('SystemResumed', {
          actor: req.actor,
          reason: req.reason,
          changed: change.changed,
          to,
          stage,
          ...(coolDownUntil ? { coolDownUntil } : {}),
          enabledSchedules,
        }),
    },
    {
      step: 'verify',
      failure: 'reading the halt flag failed',
      run: async (scope) => {
        haltFlagCleared = !(await readControlItem(doc, controlTable, true)).halted;
        if (!haltFlagCleared) scope.fail('halt flag is still set (a halt arrived after the resume?)');
        return { haltFlagCleared };
      },
    },
    {
      step: 'verify',
      failure: 'listing schedules failed',
      run: async (scope) => {
        const disabled = (await ports.listSchedules()).filter((s) => !s.enabled);
        schedulesEnabled = disabled.length === 0;
        if (!schedulesEnabled) scope.fail(`schedules still disabled: ${disabled.map(scheduleId).join(', ')}`);
        return { schedulesEnabled, disabled: disabled.map(scheduleId) };
      },
    },
  ];
  await runSteps(steps, errors);
  return completeOrThrow('Resume', {
    action,
    changed: change.changed,
    stage,
    ...(stage === 'reduce-only' && coolDownUntil ? { coolDownUntil } : {}),
    verified: { haltFlagCleared, schedulesEnabled, ok: haltFlagCleared && schedulesEnabled },
    enabledSchedules,
    audit: change.audit,
    errors,
  });
}
