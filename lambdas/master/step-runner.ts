/**
 * The step runner of the Master's actions (halt, resume, cancel-all, flatten, safe mode): an action is an
 * ordered list of named steps, and {@link runSteps} runs them in that order, records what each one verified
 * and never lets one step's failure skip the later ones. The kill switch fails safe: a failed notification
 * must not prevent stopping executions (requirement "Kill switch, complete", DESIGN.md section 9).
 *
 * A step reports failures in two ways:
 * - it throws: the step ends, its record is `ok: false` with the message, and the runner goes on;
 * - it calls {@link StepScope.fail} for one failed item inside the step (one schedule that could not be
 *   disabled, one execution that could not be stopped) and carries on with the other items.
 * Every failure lands, in the order it happened, in one list of {@link StepError}: the `errors` of the
 * action's result and of {@link KillSwitchIncomplete} (`kill-switch-errors.ts`).
 */

/** The steps of a Master action, as named in errors. */
export type KillSwitchStep = 'flag' | 'orders' | 'schedules' | 'executions' | 'notify' | 'event' | 'verify';

/** One failed step (or one failed schedule / execution inside a step). */
export interface StepError {
  step: KillSwitchStep;
  /** One line: what failed and why (`disabling agent-fleet/cycle-default failed: Error: throttled`). */
  message: string;
}

/** What a step may do besides acting: record a failed item, and read the failures so far (the halt notice lists them). */
export interface StepScope {
  /** Records one failure of this step without ending it (the step goes on with its other items). */
  fail(message: string): void;
  /**
   * Every failure of the action so far, in order (earlier steps' and this step's). A live list: it grows as
   * later steps fail, so a caller that keeps it (the `SystemHalted` event detail) sees the same list as the result.
   */
  readonly errors: readonly StepError[];
}

/**
 * One step of an action.
 * @typeParam V - what the step verified (counts, names, ids), returned by `run`.
 */
export interface Step<V = unknown> {
  step: KillSwitchStep;
  /**
   * Runs the step only when this returns true (evaluated just before the step, so it sees the earlier steps'
   * effects); a step not run is recorded `{ ok: true, skipped: true }`.
   * @default always runs
   */
  when?: () => boolean;
  /** Does the step's action and returns what it verified. May throw (recorded, the next step still runs). */
  run(scope: StepScope): Promise<V>;
  /**
   * Prefix of the message of a thrown error (`listing schedules failed` gives `listing schedules failed: Error: ...`).
   * @default the error's own text
   */
  failure?: string;
}

/**
 * A list of steps whose names are exactly `Names`, in that order (a declared step list such as `HALT_STEPS`
 * of `halt.ts` then cannot drift from the steps that run).
 */
export type StepList<Names extends readonly KillSwitchStep[]> = { [I in keyof Names]: Step & { step: Names[I] } };

/** What the runner recorded of one step. */
export interface StepRecord<V = unknown> {
  step: KillSwitchStep;
  /** True when the step neither threw nor recorded a failed item (also true when skipped). */
  ok: boolean;
  /** True when `when` said no and the step did not run. */
  skipped?: true;
  /** What `run` returned; undefined when it threw or was skipped. */
  verified: V | undefined;
  /** The step's failure messages, joined with `; ` (absent when `ok`). */
  error?: string;
}

/** The records of a run, one per step in the order given, and every failure in the order it happened. */
export interface StepsOutcome<T extends readonly Step[]> {
  records: { [K in keyof T]: T[K] extends Step<infer V> ? StepRecord<V> : never };
  errors: StepError[];
}

/**
 * A readable one-line text of anything thrown: `Name: message` for an `Error`, the JSON of a plain object,
 * `String(x)` otherwise (a thrown string, number, undefined).
 */
export function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  if (typeof err === 'object' && err !== null) {
    try {
      const json = JSON.stringify(err);
      if (json !== undefined) return json;
    } catch {
      // a cyclic object: fall through to String()
    }
  }
  return String(err);
}

/**
 * Runs `steps` one after another, in order, each once. A step that throws (anything, an `Error` or not) or
 * records a failed item is recorded `ok: false`; the later steps run regardless. Never throws itself
 * (a `when` that throws is recorded as that step's failure).
 * @param errors - the list failures are appended to (pass the action's own list to keep earlier failures in order).
 * @returns one record per step, in the order given, and the failures (the same array as `errors` when given).
 */
export async function runSteps<const T extends readonly Step[]>(steps: T, errors: StepError[] = []): Promise<StepsOutcome<T>> {
  const records: StepRecord[] = [];
  for (const s of steps) {
    const own: string[] = [];
    const scope: StepScope = {
      fail: (message) => {
        own.push(message);
        errors.push({ step: s.step, message });
      },
      errors,
    };
    let verified: unknown;
    try {
      if (s.when && !s.when()) {
        records.push({ step: s.step, ok: true, skipped: true, verified: undefined });
        continue;
      }
      verified = await s.run(scope);
    } catch (err) {
      scope.fail(s.failure ? `${s.failure}: ${errorText(err)}` : errorText(err));
      verified = undefined;
    }
    records.push({ step: s.step, ok: own.length === 0, verified, ...(own.length ? { error: own.join('; ') } : {}) });
  }
  return { records: records as StepsOutcome<T>['records'], errors };
}
