/**
 * Fault injection for the local runtime: `--fail TARGET=MODE[@FIRST-LAST]`.
 *
 * Agent and risk faults are applied in the Lambda invoke adapter, so they work for any agent and
 * for `risk`, without changing any handler. Supervisor faults (`plan`, `record`) are applied there
 * too; schedule faults (`schedule`) change how the runtime delivers a slot (`runtime.ts`).
 */

/**
 * What an injected fault does.
 * - `throw`: the function throws an Error named `InjectedFault` (Step Functions sees errorType `InjectedFault`).
 *   For `plan` and `record` (the supervisor's two steps) the handler runs first, then its response is lost
 *   (the worst case for a retry: its writes happened), on the first attempt only: the retry succeeds.
 * - `timeout`: the function never resolves; the task's timeout (on the simulated clock) cuts it with `States.Timeout`.
 * - `garbage`: the function returns `{ nonsense: true }` instead of a valid result.
 * - `down` (`plan`, `record` only): like their `throw`, on every attempt: the step never succeeds, so its Catch runs.
 * - `duplicate` (`schedule` only): the slot is delivered twice, with two different execution ids, at once.
 * - `late` (`schedule` only): the slot is delivered `cycle.maxLatenessSeconds` + 60 s after its scheduled time.
 * - `overlap` (`schedule` only): the slot is delivered while the previous slot's cycle is still running.
 */
export const FAULT_MODES = ['throw', 'timeout', 'garbage', 'down', 'duplicate', 'late', 'overlap'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** Fault targets that are not agents, with the modes each accepts. */
export const SPECIAL_FAULT_TARGETS: Readonly<Record<string, readonly FaultMode[]>> = {
  risk: ['throw', 'timeout', 'garbage'],
  plan: ['throw', 'down'],
  record: ['throw', 'down'],
  schedule: ['duplicate', 'late', 'overlap'],
};
const AGENT_MODES: readonly FaultMode[] = ['throw', 'timeout', 'garbage'];

/** One injected fault. `target` is an agent name, `risk`, `plan`, `record` or `schedule`. Cycle numbers are 1-based slot numbers of this run; absent bounds mean "every cycle". */
export interface Fault {
  target: string;
  mode: FaultMode;
  /** First cycle (inclusive, 1-based). */
  first?: number;
  /** Last cycle (inclusive, 1-based). */
  last?: number;
}

/** Raised for a malformed `--fail` value or an unknown target. */
export class FaultSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultSpecError';
  }
}

/**
 * Parses `TARGET=MODE[@FIRST-LAST]` (also `@N` for one cycle, `@N-` for N onwards).
 * @param known - agent names; when given, a target that is neither one of them nor in {@link SPECIAL_FAULT_TARGETS} is refused.
 * @throws {FaultSpecError} naming the problem (bad syntax, unknown mode, unknown agent, a mode the target does not take, bad range).
 */
export function parseFault(spec: string, known?: readonly string[]): Fault {
  const m = /^([a-z][a-z0-9-]*)=([a-z]+)(?:@(\d+)(?:-(\d*))?)?$/.exec(spec.trim());
  if (!m) throw new FaultSpecError(`--fail "${spec}": expected TARGET=MODE[@FIRST-LAST], e.g. trading=throw@3-5 or schedule=duplicate@2`);
  const [, target, mode, firstS, lastS] = m;
  if (!(FAULT_MODES as readonly string[]).includes(mode)) throw new FaultSpecError(`--fail "${spec}": unknown mode "${mode}" (use ${FAULT_MODES.join(', ')})`);
  const special = SPECIAL_FAULT_TARGETS[target];
  if (!special && known && !known.includes(target))
    throw new FaultSpecError(
      `--fail "${spec}": unknown agent "${target}" (known: ${[...known.filter((k) => !(k in SPECIAL_FAULT_TARGETS)), ...Object.keys(SPECIAL_FAULT_TARGETS)].join(', ')})`,
    );
  const modes = special ?? AGENT_MODES;
  if (!modes.includes(mode as FaultMode))
    throw new FaultSpecError(`--fail "${spec}": mode "${mode}" does not apply to ${special ? `"${target}"` : 'an agent'} (use ${modes.join(', ')})`);
  const fault: Fault = { target, mode: mode as FaultMode };
  if (firstS !== undefined) {
    fault.first = Number(firstS);
    if (fault.first < 1) throw new FaultSpecError(`--fail "${spec}": cycle numbers start at 1`);
    if (lastS === undefined) fault.last = fault.first;
    else if (lastS !== '') fault.last = Number(lastS);
    if (fault.last !== undefined && fault.last < fault.first) throw new FaultSpecError(`--fail "${spec}": range ${fault.first}-${fault.last} is empty`);
  }
  return fault;
}

/** True for the supervisor's steps (`plan`, `record`): their `throw` runs the handler first and applies to the first attempt only. */
export function isSupervisorStepFault(target: string): boolean {
  return target === 'plan' || target === 'record';
}

/** The fault that applies to `target` in cycle `cycle` (1-based), if any (the first listed wins). */
export function faultFor(faults: readonly Fault[], target: string, cycle: number | undefined): Fault | undefined {
  return faults.find((f) => f.target === target && (cycle === undefined ? f.first === undefined : (f.first ?? 1) <= cycle && cycle <= (f.last ?? Infinity)));
}
