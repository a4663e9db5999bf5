/**
 * Bridges between the deployed ASL definition and what `aws-local-stepfunctions` 3.0.0 runs
 * faithfully. Each gap was measured on this project; each bridge is pinned by a test in
 * `test/local/bridges.test.ts`.
 *
 * 1. `TimeoutSecondsPath`: the interpreter resolves it against the input AFTER `Parameters`
 *    (AWS: against the state input) and enforces it on real timers. The bridge moves the path
 *    into the Parameters as `"__timeoutSeconds.$": <path>` (resolved against the state input,
 *    as AWS does) and removes `TimeoutSecondsPath`; the local Lambda adapter enforces the
 *    timeout on the simulated clock and strips `__timeoutSeconds` before calling the handler.
 * 2. `$$.State.RetryCount` is not provided by the interpreter: such Parameters entries are
 *    removed and recorded, and the adapter injects the attempt number itself.
 * 5. `$$.Execution.StartTime` is always the real wall time (the interpreter overwrites the context's
 *    value): every reference is rewritten to `$$.Execution.{@link SIM_START_TIME}`, which the
 *    runtime sets to the simulated start time.
 * 3. An explicit `"ResultPath": "$"` is mis-handled (treated as a key): refused.
 * 4. Unsupported features are refused with the state path: JSONata, `Assign`, `Output`,
 *    `Arguments`, Distributed Map, `ItemReader`, `ResultWriter`, `ItemBatcher`, `ToleratedFailure*`.
 */

/** Parameters key the timeout bridge adds (the adapter strips it before the handler sees it). */
export const TIMEOUT_PARAM = '__timeoutSeconds';

/** Context field (under `$$.Execution`) that carries the simulated start time (bridge 5). */
export const SIM_START_TIME = 'LocalSimulatedStartTime';

/** Raised when a definition uses something the local runtime cannot run faithfully. */
export class UnsupportedDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedDefinitionError';
  }
}

/** What {@link bridgeDefinition} changed, per Task state name. */
export interface BridgeNotes {
  /** Task state name -> payload key (inside Payload) that carried `$$.State.RetryCount`, e.g. `attempt`. */
  retryCountKeys: Record<string, string[]>;
  /** Task state names whose TimeoutSecondsPath moved into Parameters. */
  timeoutPathStates: string[];
  /** Task state name -> static TimeoutSeconds, when present. */
  staticTimeouts: Record<string, number>;
  /** Task state name -> its Retry rules (for backoff on the simulated clock). */
  retries: Record<string, RetryRule[]>;
  /** Every Task state name, with its Resource. */
  tasks: Record<string, string>;
}

/** One ASL Retry rule (seconds). */
export interface RetryRule {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

const REFUSED_FIELDS = [
  'Assign',
  'Output',
  'Arguments',
  'ItemReader',
  'ResultWriter',
  'ItemBatcher',
  'ToleratedFailurePercentage',
  'ToleratedFailureCount',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCountPath',
];

type Json = unknown;
type Obj = Record<string, Json>;

/**
 * Checks and rewrites a (substituted) definition for the local interpreter.
 * Task state names must be unique across the whole definition (the interpreter's overrides are
 * keyed by state name).
 *
 * @returns a new definition (input untouched) and notes for the Lambda adapter.
 * @throws {UnsupportedDefinitionError} naming the state path (`States["Run phases"].ItemProcessor...`)
 *   for any refused feature, a non-`lambda:invoke` Task, or duplicate Task names.
 */
export function bridgeDefinition(definition: Obj): { definition: Obj; notes: BridgeNotes } {
  const notes: BridgeNotes = { retryCountKeys: {}, timeoutPathStates: [], staticTimeouts: {}, retries: {}, tasks: {} };
  const refuse = (path: string, what: string): never => {
    throw new UnsupportedDefinitionError(`Local runtime cannot run ${path}: ${what}`);
  };
  if (definition.QueryLanguage === 'JSONata') refuse('(top level)', 'QueryLanguage JSONata (the interpreter is JSONPath only)');

  const machine = (m: Obj, path: string): Obj => {
    const states = m.States as Record<string, Obj> | undefined;
    if (!states || typeof states !== 'object') refuse(path, 'missing States');
    const out: Record<string, Obj> = {};
    for (const [name, state] of Object.entries(states!)) out[name] = rewriteState(name, state, `${path}.States[${JSON.stringify(name)}]`);
    return { ...m, States: out };
  };

  const rewriteState = (name: string, state: Obj, path: string): Obj => {
    if (state.QueryLanguage === 'JSONata') refuse(path, 'QueryLanguage JSONata (the interpreter is JSONPath only)');
    for (const f of REFUSED_FIELDS) if (f in state) refuse(path, `field ${f} is not supported locally`);
    if (state.ResultPath === '$') refuse(path, 'explicit "ResultPath": "$" is mis-handled by aws-local-stepfunctions 3.0.0 (omit it: $ is the default)');
    const s: Obj = { ...state };
    if (s.Type === 'Map') {
      const proc = (s.ItemProcessor ?? s.Iterator) as Obj | undefined;
      const mode = (proc?.ProcessorConfig as Obj | undefined)?.Mode;
      if (mode === 'DISTRIBUTED') refuse(path, 'Distributed Map (ItemProcessor.ProcessorConfig.Mode DISTRIBUTED)');
      if (s.ItemProcessor) s.ItemProcessor = machine(s.ItemProcessor as Obj, `${path}.ItemProcessor`);
      if (s.Iterator) s.Iterator = machine(s.Iterator as Obj, `${path}.Iterator`);
    }
    if (s.Type === 'Parallel') {
      s.Branches = (s.Branches as Obj[]).map((b, i) => machine(b, `${path}.Branches[${i}]`));
    }
    if (s.Type === 'Task') {
      if (name in notes.tasks) refuse(path, `duplicate Task state name ${JSON.stringify(name)} (local overrides are keyed by name)`);
      const resource = String(s.Resource);
      if (resource !== 'arn:aws:states:::lambda:invoke') refuse(path, `Task resource ${resource} (only arn:aws:states:::lambda:invoke runs locally)`);
      notes.tasks[name] = resource;
      notes.retries[name] = ((s.Retry as RetryRule[] | undefined) ?? []).map((r) => ({ ...r }));
      if (typeof s.TimeoutSeconds === 'number') notes.staticTimeouts[name] = s.TimeoutSeconds;
      const params = s.Parameters ? (JSON.parse(JSON.stringify(s.Parameters)) as Obj) : undefined;
      const removed: string[] = [];
      const strip = (o: Obj, prefix: string): void => {
        for (const [k, v] of Object.entries(o)) {
          if (v === '$$.State.RetryCount') {
            delete o[k];
            removed.push(prefix + k.replace(/\.\$$/, ''));
          } else if (v && typeof v === 'object' && !Array.isArray(v)) strip(v as Obj, `${prefix}${k}.`);
        }
      };
      if (params) strip(params, '');
      if (removed.length) notes.retryCountKeys[name] = removed.map((k) => k.replace(/^Payload\./, ''));
      if ('TimeoutSecondsPath' in s) {
        if (!params) refuse(path, 'TimeoutSecondsPath without Parameters');
        params![`${TIMEOUT_PARAM}.$`] = s.TimeoutSecondsPath;
        delete s.TimeoutSecondsPath;
        notes.timeoutPathStates.push(name);
      }
      if (params) s.Parameters = params;
    }
    return s;
  };

  const rewritten = machine(definition, '$');
  const startTime = (v: unknown): unknown => {
    if (v === '$$.Execution.StartTime') return `$$.Execution.${SIM_START_TIME}`;
    if (Array.isArray(v)) return v.map(startTime);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, startTime(x)]));
    return v;
  };
  return { definition: startTime(rewritten) as Obj, notes };
}

/**
 * Wait before retry number `n` (0-based: 0 = wait before the 2nd attempt) under one rule, in
 * seconds: `IntervalSeconds x BackoffRate^n`, capped by `MaxDelaySeconds` (ASL defaults: 1 s, 2.0).
 * `JitterStrategy: FULL` is applied by the caller (uniform in [0, wait]).
 */
export function retryDelaySeconds(rule: RetryRule, n: number): number {
  const base = (rule.IntervalSeconds ?? 1) * Math.pow(rule.BackoffRate ?? 2, n);
  return rule.MaxDelaySeconds !== undefined ? Math.min(base, rule.MaxDelaySeconds) : base;
}

/**
 * Index of the Retry rule that matches an error name, with ASL's matching: exact name,
 * `States.ALL`, or `States.TaskFailed` (which does not match `States.Timeout`); -1 when none.
 */
export function matchRetryRule(rules: RetryRule[], errorName: string): number {
  return rules.findIndex((r) =>
    r.ErrorEquals.some((e) => e === errorName || e === 'States.ALL' || (e === 'States.TaskFailed' && errorName !== 'States.Timeout')),
  );
}
