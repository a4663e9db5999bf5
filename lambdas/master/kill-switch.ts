/**
 * The kill switch (FIA "kill switch", SEC 15c3-5 spirit): one idempotent halt callable by alarms, by the cycle
 * (in-band) and by operators, and a deliberate, staged resume. This module composes the actions over one set of
 * ports and re-exports their names, so callers import everything from here:
 * - `halt.ts`          - the halt: flag, orders, schedules, executions, notify, event, verify (`HALT_STEPS`);
 * - `resume.ts`        - the staged resume (HALTED -> REDUCE -> normal) and `stageOf`;
 * - `safe-mode.ts`     - safe mode on / off;
 * - `order-actions.ts` - the operator's cancel-all and flatten;
 * - `step-runner.ts`   - `runSteps`, which runs each action's steps in order, records what each verified and
 *                        never lets one failed step skip the later ones;
 * - `kill-switch-types.ts` / `kill-switch-errors.ts` - the shapes and the error classes.
 * The other shapes (`HaltVerification`, `KillSwitchStatus`, `StepError`, `KillSwitchStep`, `DEFAULT_VERIFY_RETRY_DELAYS_MS`)
 * are exported by the module that defines them.
 * Any failed step makes an action throw {@link KillSwitchIncomplete} at the end (after every step ran), so
 * Lambda's retry, the state machine's Retry or an alarm on Master errors picks it up.
 */
import { systemClock } from '../shared/clock';
import { readControlItem } from '../shared/control-read';
import { DEFAULT_RESUME_POLICY } from './control-store';
import { DEFAULT_VERIFY_RETRY_DELAYS_MS, halt } from './halt';
import type { KillSwitch, KillSwitchDeps, KillSwitchEnv } from './kill-switch-types';
import { cancelAll, flatten } from './order-actions';
import { resume } from './resume';
import { setSafeMode } from './safe-mode';

export { KillSwitchIncomplete, OrderActionRefused, ResumeRefused, SafeModeRefused } from './kill-switch-errors';
export type {
  CancelAllResult,
  FlattenResult,
  HaltRequest,
  HaltResult,
  KillSwitch,
  KillSwitchDeps,
  OrderActionRequest,
  ResumeRequest,
  ResumeResult,
  SafeModeRequest,
  SafeModeResult,
  TradingStage,
} from './kill-switch-types';
export { stageOf } from './resume';

/** Creates the kill switch over the given ports and Control table, applying the defaults of {@link KillSwitchDeps}. */
export function createKillSwitch(deps: KillSwitchDeps): KillSwitch {
  const env: KillSwitchEnv = {
    ports: deps.ports,
    doc: deps.doc,
    controlTable: deps.controlTable,
    now: deps.now ?? systemClock.now,
    verifyRetryDelaysMs: deps.verifyRetryDelaysMs ?? DEFAULT_VERIFY_RETRY_DELAYS_MS,
    sleep: deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    resumePolicy: deps.resumePolicy ?? DEFAULT_RESUME_POLICY,
  };
  return {
    halt: (req) => halt(env, req),
    resume: (req) => resume(env, req),
    setSafeMode: (req) => setSafeMode(env, req),
    cancelAll: (req) => cancelAll(env, req),
    flatten: (req) => flatten(env, req),
    status: async () => {
      const [control, schedules, runningExecutions] = await Promise.all([
        readControlItem(deps.doc, deps.controlTable, true),
        deps.ports.listSchedules(),
        deps.ports.listRunningExecutions(),
      ]);
      return { control, schedules, runningExecutions };
    },
  };
}
