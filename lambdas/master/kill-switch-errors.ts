/**
 * The error classes of the kill switch. Each `name` equals its class name (`OrchestratorError`,
 * `lambdas/shared/errors.ts`); the Master handler maps them to the operator API's answers.
 */
import { OrchestratorError } from '../shared/errors';
import type { CancelAllResult, FlattenResult, HaltResult, ResumeResult, SafeModeResult } from './kill-switch-types';
import type { KillSwitchStep, StepError } from './step-runner';

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

/** Cancel-all or flatten refused: not an operator, no reason, or no order book here. Name `OrderActionRefused`. Nothing was changed. */
export class OrderActionRefused extends OrchestratorError {
  override name = 'OrderActionRefused' as const;
}

/**
 * Returns `result` when no step failed.
 * @param action - the action as the message names it (`Halt`, `Resume`, `Cancel-all`, `Flatten`, `Safe mode`).
 * @throws {KillSwitchIncomplete} carrying `result` when `result.errors` is not empty.
 */
export function completeOrThrow<R extends KillSwitchIncomplete['result']>(action: string, result: R): R {
  if (result.errors.length > 0) throw new KillSwitchIncomplete(action, result);
  return result;
}
