/**
 * Fault injection for the local runtime: `--fail AGENT=MODE[@FIRST-LAST]`.
 *
 * Faults are applied in the Lambda invoke adapter, so they work for any agent and for `risk`,
 * without changing any handler.
 *
 * May be imported by: `local/`, `bench/`, `test/`.
 */

/**
 * What an injected fault does to an invocation.
 * - `throw`: the function throws an Error named `InjectedFault` (Step Functions sees errorType `InjectedFault`).
 * - `timeout`: the function never resolves; the task's timeout (on the simulated clock) cuts it with `States.Timeout`.
 * - `garbage`: the function returns `{ nonsense: true }` instead of a valid result.
 */
export const FAULT_MODES = ['throw', 'timeout', 'garbage'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** One injected fault. `target` is an agent name or `risk`. Cycle numbers are 1-based slot numbers of this run; absent bounds mean "every cycle". */
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
 * Parses `AGENT=MODE[@FIRST-LAST]` (also `@N` for one cycle, `@N-` for N onwards).
 * @param known - valid targets (agent names plus `risk`); when given, an unknown target is refused.
 * @throws {FaultSpecError} naming the problem (bad syntax, unknown mode, unknown agent, bad range).
 */
export function parseFault(spec: string, known?: readonly string[]): Fault {
  const m = /^([a-z][a-z0-9-]*)=([a-z]+)(?:@(\d+)(?:-(\d*))?)?$/.exec(spec.trim());
  if (!m) throw new FaultSpecError(`--fail "${spec}": expected AGENT=MODE[@FIRST-LAST], e.g. trading=throw@3-5`);
  const [, target, mode, firstS, lastS] = m;
  if (!(FAULT_MODES as readonly string[]).includes(mode)) throw new FaultSpecError(`--fail "${spec}": unknown mode "${mode}" (use ${FAULT_MODES.join(', ')})`);
  if (known && !known.includes(target)) throw new FaultSpecError(`--fail "${spec}": unknown agent "${target}" (known: ${known.join(', ')})`);
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

/** The fault that applies to `target` in cycle `cycle` (1-based), if any (the first listed wins). */
export function faultFor(faults: readonly Fault[], target: string, cycle: number | undefined): Fault | undefined {
  return faults.find(
    (f) => f.target === target && (cycle === undefined ? f.first === undefined : (f.first ?? 1) <= cycle && cycle <= (f.last ?? Infinity)),
  );
}
