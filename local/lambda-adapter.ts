/**
 * The local `lambda:invoke` adapter: what the interpreter's Task overrides call.
 *
 * Like the Lambda service behind `arn:aws:states:::lambda:invoke`, it JSON-roundtrips the payload
 * and the result, returns `{ Payload, StatusCode: 200, ExecutedVersion: '$LATEST' }`, and turns a
 * thrown error into an Error whose `name` is the errorType and whose message is Lambda's Cause
 * (`{"errorType","errorMessage","trace":[]}`). It also carries the bridges of `bridges.ts`:
 * the task timeout on the simulated clock (`States.Timeout`), the attempt number that
 * `$$.State.RetryCount` would give, and the retry backoff on the simulated clock. Fault
 * injection (`faults.ts`) happens here.
 */
import { runAsPrincipal } from './iam';
import { randomUUID } from 'node:crypto';
import { TIMEOUT_PARAM, matchRetryRule, retryDelaySeconds, type BridgeNotes } from './bridges';
import { faultFor, isSupervisorStepFault, type Fault } from './faults';
import type { SimClock } from './sim-clock';

/**
 * A handler as Lambda's Node.js runtime calls it. `signal` (local only) is aborted when the task
 * times out: an isolated handler (a worker thread) is terminated then, as Lambda stops a timed-out
 * invocation; an in-process one cannot be stopped and is left to finish unobserved.
 */
export type LambdaHandler = (event: unknown, context: LocalLambdaContext, signal?: AbortSignal) => Promise<unknown>;

/** The subset of Lambda's context object handlers use. */
export interface LocalLambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  /** Ms until the task's timeout on the simulated clock (Lambda: until the function timeout). */
  getRemainingTimeInMillis(): number;
}

/** One local function. */
export interface LocalFunction {
  /** Local ARN `arn:aws:lambda:local:000000000000:function:<name>` (the template's FunctionName, else the logical id). */
  arn: string;
  /** Name in metrics (dimension FunctionName) and in the context: the logical id. */
  name: string;
  /**
   * `agent` name, or the role (`supervisor`, `risk`, `master`) used as a fault target, or
   * {@link AGENT_FROM_PAYLOAD} for a function several agents share (the payload's `agent` names the target).
   */
  target: string;
  /** Function timeout from the template, seconds (used when the task has none). Default 900. */
  timeoutSeconds?: number;
  memoryMb?: number;
  handler: LambdaHandler;
  /**
   * True when the handler marks its own activity on the simulated clock (an agent in a worker
   * thread, `agent-workers.ts`); otherwise the adapter holds the clock at real speed while it runs.
   */
  holdsClock?: boolean;
}

/**
 * The Lambda context of one invocation of `fn`: its names, a fresh request id, and the time left
 * until `deadlineMs` on the simulated clock. Used by the adapter and by the runtime's direct calls
 * (alarm actions, operators, CloudFormation requests).
 * @param deadlineMs - simulated epoch ms of the timeout. @default now + the function's timeout (900 s when unknown, Lambda's maximum)
 */
export function lambdaContext(
  fn: Pick<LocalFunction, 'name' | 'arn' | 'memoryMb' | 'timeoutSeconds'>,
  clock: Pick<SimClock, 'now'>,
  deadlineMs?: number,
): LocalLambdaContext {
  const deadline = deadlineMs ?? clock.now() + (fn.timeoutSeconds ?? 900) * 1000;
  return {
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: fn.arn,
    memoryLimitInMB: String(fn.memoryMb ?? 128),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock.now()),
  };
}

/** Target of a function shared by several agents: the agent is the payload's `agent` field. */
export const AGENT_FROM_PAYLOAD = '*payload.agent';

/** The Step Functions state quota: 256 KiB per state input or output, raw task results included (AWS Step Functions quotas). */
export const STATE_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** One attempt, as the report and tests see it. */
export interface InvocationRecord {
  execution: string;
  state: string;
  function: string;
  target: string;
  /** 0-based attempt number (what `$$.State.RetryCount` would be). */
  attempt: number;
  startMs: number;
  endMs: number;
  wallMs: number;
  outcome: 'ok' | 'error' | 'timeout';
  errorName?: string;
  errorMessage?: string;
  fault?: Fault['mode'];
}

/** Options of {@link createLambdaAdapter}. */
export interface LambdaAdapterOptions {
  clock: SimClock;
  /** By local ARN (a bare logical id or name also resolves). */
  functions: LocalFunction[];
  notes: BridgeNotes;
  faults?: readonly Fault[];
  /** Cycle number (1-based slot) of an execution, for fault ranges. */
  cycleOf?: (executionName: string) => number | undefined;
  /** Called after each attempt. */
  onInvocation?: (rec: InvocationRecord) => void;
  /** Called with AWS/Lambda datapoints (Invocations, Errors) per attempt. */
  onLambdaMetric?: (name: 'Invocations' | 'Errors', functionName: string, value: number, atMs: number) => void;
  /** Uniform random in [0,1) for FULL jitter (tests inject a fixed one). Default Math.random. */
  random?: () => number;
}

/** Error thrown into the interpreter: `name` is what Retry/Catch match. */
function aslError(name: string, cause: string): Error {
  const e = new Error(cause);
  e.name = name;
  return e;
}

/** Lambda's Cause for a function error. */
export function lambdaCause(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorType, errorMessage, trace: [] });
}

/**
 * Builds the adapter. `taskHandler(executionName, stateName)` returns the function to register as
 * `overrides.taskResourceLocalHandlers[stateName]` for that execution.
 */
export function createLambdaAdapter(opts: LambdaAdapterOptions) {
  const byKey = new Map<string, LocalFunction>();
  for (const f of opts.functions) {
    byKey.set(f.arn, f);
    byKey.set(f.name, f);
  }
  const random = opts.random ?? Math.random;
  // (execution, state, payload without attempt keys) -> error names of earlier attempts
  const history = new Map<string, string[]>();

  // Invocations in flight: each one's way to end with LocalRuntimeClosed when the runtime closes.
  const inFlight = new Set<(err: Error) => void>();
  let closed = false;
  const taskHandler =
    (execution: string, state: string) =>
    async (input: unknown): Promise<unknown> => {
      // An execution the runtime's close cut short may still start a task: it never runs.
      if (closed) throw aslError('LocalRuntimeClosed', 'the local runtime is closed');
      const { FunctionName, Payload } = (input ?? {}) as { FunctionName?: string; Payload?: Record<string, unknown> };
      const fn = FunctionName ? byKey.get(FunctionName) : undefined;
      if (!fn) throw aslError('Lambda.ResourceNotFoundException', `Function not found: ${FunctionName} (state "${state}")`);
      const payload: Record<string, unknown> = JSON.parse(JSON.stringify(Payload ?? {}));
      const inputObj = input as Record<string, unknown>;
      let timeoutSeconds: number | undefined = opts.notes.staticTimeouts[state];
      if (TIMEOUT_PARAM in inputObj) timeoutSeconds = Number(inputObj[TIMEOUT_PARAM]);
      timeoutSeconds ??= fn.timeoutSeconds ?? 900;
      if (!(timeoutSeconds > 0))
        throw aslError('States.Runtime', `State "${state}": TimeoutSecondsPath resolved to ${String(timeoutSeconds)}, not a positive number`);

      const key = `${execution}\u0000${state}\u0000${JSON.stringify(payload)}`;
      const earlier = history.get(key) ?? [];
      history.set(key, earlier);
      const attempt = earlier.length;
      // Backoff before a retry, on the simulated clock (the interpreter's own wait is overridden to 0).
      if (attempt > 0) {
        const rules = opts.notes.retries[state] ?? [];
        const lastErr = earlier[attempt - 1];
        const idx = matchRetryRule(rules, lastErr);
        if (idx >= 0) {
          const n = earlier.filter((e) => matchRetryRule(rules, e) === idx).length - 1;
          let waitS = retryDelaySeconds(rules[idx], n);
          if (rules[idx].JitterStrategy === 'FULL') waitS *= random();
          await opts.clock.sleep(waitS * 1000);
        }
      }
      for (const k of opts.notes.retryCountKeys[state] ?? []) setPath(payload, k, attempt);

      const cycle = opts.cycleOf?.(execution);
      // The supervisor's two steps are fault targets of their own (`plan`, `record`).
      const target =
        fn.target === AGENT_FROM_PAYLOAD
          ? String(payload.agent ?? fn.name)
          : fn.target === 'supervisor' && (payload.action === 'plan' || payload.action === 'record')
            ? payload.action
            : fn.target;
      const stepFault = isSupervisorStepFault(target);
      const found = faultFor(opts.faults ?? [], target, cycle);
      const fault = stepFault && attempt > 0 && found?.mode !== 'down' ? undefined : found;
      const runsHandler = !(fault?.mode === 'timeout' || fault?.mode === 'garbage' || (fault?.mode === 'throw' && !stepFault));
      // Hold the clock at real speed before reading the start: what follows costs real time, not scaled time.
      // An isolated handler takes its own (idle-metered) hold when it is called; the adapter's ends then.
      let done: () => void = runsHandler ? opts.clock.beginActive() : () => undefined;
      const startMs = opts.clock.now();
      const deadline = startMs + timeoutSeconds * 1000;
      const wallStart = performance.now();
      const context = lambdaContext(fn, opts.clock, deadline);
      const abort = new AbortController();
      opts.onLambdaMetric?.('Invocations', fn.name, 1, startMs);
      const call = () => {
        const p = fn.handler(JSON.parse(JSON.stringify(payload)), context, abort.signal);
        if (fn.holdsClock) {
          done();
          done = () => undefined;
        }
        return p;
      };

      let run: Promise<unknown>;
      if ((fault?.mode === 'throw' || fault?.mode === 'down') && stepFault) {
        // The step runs (its writes happen), then its response is lost: what a retry must survive.
        run = Promise.resolve()
          .then(call)
          .then(() => Promise.reject(aslError('InjectedFault', `Injected fault: "${target}" ran, then its response was lost (cycle ${cycle ?? '?'})`)));
      } else if (fault?.mode === 'timeout') run = new Promise(() => undefined);
      else if (fault?.mode === 'throw') run = Promise.reject(aslError('InjectedFault', `Injected fault: ${target} throws (cycle ${cycle ?? '?'})`));
      else if (fault?.mode === 'garbage') run = Promise.resolve({ nonsense: true });
      else run = Promise.resolve().then(() => runAsPrincipal(fn.name, call));
      const TIMED_OUT = Symbol('timeout');
      const deadlineTimer = opts.clock.timer(deadline);
      const timer = deadlineTimer.promise.then(() => TIMED_OUT);
      let rejectClosing: (err: Error) => void = () => undefined;
      const closing = new Promise<never>((_, reject) => (rejectClosing = reject));
      const endClosed = (err: Error) => {
        abort.abort();
        rejectClosing(err);
      };
      inFlight.add(endClosed);
      const record = (outcome: InvocationRecord['outcome'], errorName?: string, errorMessage?: string) => {
        const rec: InvocationRecord = {
          execution,
          state,
          function: fn.name,
          target,
          attempt,
          startMs,
          endMs,
          wallMs: performance.now() - wallStart,
          outcome,
          errorName,
          errorMessage,
          fault: fault?.mode,
        };
        if (outcome !== 'ok') earlier.push(errorName ?? 'Error');
        opts.onInvocation?.(rec);
      };
      let result: unknown;
      // The end, read when the invocation settles (before the adapter's own bookkeeping).
      let endMs = startMs;
      try {
        result = await Promise.race([run, timer, closing]);
        endMs = opts.clock.now();
      } catch (err) {
        endMs = opts.clock.now();
        inFlight.delete(endClosed);
        done();
        deadlineTimer.cancel();
        const e = err as Error;
        const errorType = e?.name || 'Error';
        const message = e?.message ?? String(err);
        record('error', errorType, message);
        opts.onLambdaMetric?.('Errors', fn.name, 1, opts.clock.now());
        throw aslError(errorType, lambdaCause(errorType, message));
      }
      inFlight.delete(endClosed);
      done();
      deadlineTimer.cancel();
      if (result === TIMED_OUT) {
        abort.abort();
        run.catch(() => undefined);
        record('timeout', 'States.Timeout', `Task timed out after ${timeoutSeconds} s`);
        throw aslError('States.Timeout', `State "${state}" timed out after ${timeoutSeconds} s (simulated)`);
      }
      // AWS checks a task's raw result against the state quota before ResultSelector: 256 KiB of UTF-8
      // (Step Functions quotas, "Maximum input or output size for a task, state, or execution"), and
      // States.DataLimitExceeded is not caught by States.ALL: the execution fails.
      const raw = JSON.stringify({ Payload: result ?? null, StatusCode: 200, ExecutedVersion: '$LATEST' });
      if (Buffer.byteLength(raw, 'utf8') > STATE_PAYLOAD_LIMIT_BYTES) {
        record('error', 'States.DataLimitExceeded', `raw output ${Buffer.byteLength(raw, 'utf8')} bytes`);
        throw aslError(
          'States.DataLimitExceeded',
          `State "${state}": the task's raw output is ${Buffer.byteLength(raw, 'utf8')} bytes, over the ${STATE_PAYLOAD_LIMIT_BYTES}-byte (256 KiB) state quota`,
        );
      }
      record('ok');
      opts.onLambdaMetric?.('Errors', fn.name, 0, opts.clock.now());
      return JSON.parse(raw) as unknown;
    };

  /**
   * Ends every invocation still in flight with `LocalRuntimeClosed` (the runtime is closing: its
   * clock stops, so a hung handler or an unreached deadline would never settle, and the
   * interpreter's own timer for the task would keep the process alive). Handlers get their abort signal.
   */
  const close = (): void => {
    closed = true;
    for (const end of [...inFlight]) end(aslError('LocalRuntimeClosed', 'the local runtime closed while this invocation was in flight'));
  };

  return { taskHandler, close };
}

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}
