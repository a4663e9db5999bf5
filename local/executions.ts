/**
 * Step Functions, locally: executions of the (bridged) cycle definition on
 * `aws-local-stepfunctions`, with unique names (a duplicate name is refused with
 * `ExecutionAlreadyExists`, as StartExecution does for a Standard workflow), stop (abort), the
 * event log per execution, and the AWS/States execution metrics a real account records.
 */
import './polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_DIR, REPO_ROOT } from '../lib/repo-paths';
import { SIM_START_TIME } from './bridges';
import type { SimClock } from './sim-clock';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template';

/** Execution status (Step Functions' names). */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** One interpreter event, annotated with the simulated time it was seen. */
export type ExecutionEvent = Record<string, unknown> & { type: string; simAt: number };

/** One execution. */
export interface LocalExecution {
  name: string;
  arn: string;
  input: unknown;
  status: ExecutionStatus;
  startMs: number;
  endMs?: number;
  wallMs?: number;
  output?: unknown;
  error?: string;
  cause?: string;
  /** The interpreter's event log (complete once `done` resolves). */
  events: ExecutionEvent[];
  /** Cycle number (1-based slot of this run) when started by a schedule slot. */
  cycle?: number;
  /**
   * Top-level states whose input or output exceeds Step Functions' 256 KiB payload quota: in AWS
   * this execution would fail with States.DataLimitExceeded. The interpreter does not enforce the
   * quota, so the runtime reports it instead of hiding it.
   */
  payloadWarnings: string[];
  /**
   * Set when a task's raw result (before `ResultSelector`) exceeded 256 KiB: AWS checks it there and
   * fails the execution with `States.DataLimitExceeded`, which no `States.ALL` catcher catches; so does
   * the runtime (the execution is stopped and reported FAILED with that error).
   */
  dataLimit?: { state: string; bytes: number };
  /** Resolves when the execution ends (never rejects). */
  done: Promise<LocalExecution>;
}

/**
 * Definitions the interpreter validated (see the constructor of {@link LocalExecutions}), by
 * {@link definitionKey}: in this process, and across processes as empty marker files under
 * `.local/validated-definitions/` (validation is a pure function of the definition and of the
 * asl-validator release, both in the key).
 */
const validatedDefinitions = new Set<string>();
const VALIDATED_DIR = join(LOCAL_DIR, 'validated-definitions');

/** The interpreter's validation options (checkArn off: the definition's ARNs are the template's local ones). */
const VALIDATION_OPTIONS = { checkPaths: true, checkArn: false } as const;

let validatorReleases: string | undefined;

/** The installed asl-validator and aws-local-stepfunctions releases (read once per process). */
function releases(): string {
  validatorReleases ??= ['asl-validator', 'aws-local-stepfunctions']
    .map((pkg) => {
      try {
        return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
      } catch {
        return ''; // not installed where expected: the key still covers the rest
      }
    })
    .join('\0');
  return validatorReleases;
}

/** sha256 of the asl-validator and aws-local-stepfunctions releases, the validation options and the definition's JSON (32 hex characters). */
function definitionKey(definition: unknown): string {
  return createHash('sha256')
    .update(releases())
    .update('\0')
    .update(JSON.stringify(VALIDATION_OPTIONS))
    .update('\0')
    .update(JSON.stringify(definition))
    .digest('hex')
    .slice(0, 32);
}

function wasValidated(key: string): boolean {
  return validatedDefinitions.has(key) || existsSync(join(VALIDATED_DIR, key));
}

function rememberValidated(key: string): void {
  validatedDefinitions.add(key);
  try {
    mkdirSync(VALIDATED_DIR, { recursive: true });
    writeFileSync(join(VALIDATED_DIR, key), '');
  } catch {
    // best effort: the next process validates again
  }
}

/** Raised by {@link LocalExecutions.start} for a name already used (StartExecution's error name). */
export class ExecutionAlreadyExists extends Error {
  constructor(name: string) {
    super(`Execution Already Exists: '${name}'`);
    this.name = 'ExecutionAlreadyExists';
  }
}

/** Options of {@link LocalExecutions}. */
export interface LocalExecutionsOptions {
  definition: Record<string, unknown>;
  stateMachineArn: string;
  clock: SimClock;
  /** Task state names of the definition. */
  taskStates: string[];
  /** Builds the override for one Task state of one execution. */
  taskHandler: (execution: string, state: string) => (input: unknown) => Promise<unknown>;
  /** AWS/States datapoint sink (dimension StateMachineArn). */
  onStatesMetric?: (name: string, value: number, atMs: number) => void;
  /** Called for every event as it happens (progress output). */
  onEvent?: (exec: LocalExecution, ev: ExecutionEvent) => void;
  /**
   * How long, simulated ms, {@link LocalExecutions.listRunning} keeps listing an execution as RUNNING
   * after it ended, as ListExecutions may ("This API action is eventually consistent", Step Functions
   * API reference). Default {@link DEFAULT_LIST_LAG_MS}.
   */
  listLagMs?: number;
}

/** Default lag of the local ListExecutions behind a stop or an end, simulated ms. */
export const DEFAULT_LIST_LAG_MS = 2_000;

/** Executions of one state machine. */
export class LocalExecutions {
  readonly all = new Map<string, LocalExecution>();
  private readonly aborts = new Map<string, () => void>();
  private readonly machine: StateMachine;
  /** Names used by earlier runs (restored state): refused like live ones. */
  readonly usedNames = new Set<string>();

  constructor(private readonly opts: LocalExecutionsOptions) {
    // The interpreter validates a definition (asl-validator: JSON schema, paths) when it is constructed,
    // compiling the schemas each time (about 0.4 s); a definition validated already is not validated again.
    const key = definitionKey(opts.definition);
    this.machine = new StateMachine(opts.definition as never, {
      validationOptions: wasValidated(key) ? { noValidate: true } : VALIDATION_OPTIONS,
    });
    rememberValidated(key);
  }

  /** Local execution ARN for a name. */
  arnOf(name: string): string {
    const smName = this.opts.stateMachineArn.split(':').pop();
    return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${smName}:${name}`;
  }

  /**
   * Starts an execution.
   * @throws {ExecutionAlreadyExists} when the name was used before (in this run or a restored one).
   */
  start(name: string, input: unknown, cycle?: number): LocalExecution {
    if (this.all.has(name) || this.usedNames.has(name)) throw new ExecutionAlreadyExists(name);
    const clock = this.opts.clock;
    const arn = this.arnOf(name);
    const startMs = clock.now();
    const wall0 = performance.now();
    const exec = { name, arn, input, status: 'RUNNING', startMs, events: [], payloadWarnings: [], cycle } as unknown as LocalExecution;
    this.all.set(name, exec);
    this.usedNames.add(name);
    const handlers = Object.fromEntries(this.opts.taskStates.map((s) => [s, this.guardRawOutput(exec, s, this.opts.taskHandler(name, s))]));
    const run = this.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: Object.fromEntries(this.opts.taskStates.map((s) => [s, 0])),
      },
      context: {
        Execution: {
          Id: arn,
          Name: name,
          StartTime: new Date(startMs).toISOString(),
          [SIM_START_TIME]: new Date(startMs).toISOString(),
          Input: input,
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local`,
        },
        StateMachine: { Id: this.opts.stateMachineArn, Name: this.opts.stateMachineArn.split(':').pop() },
      } as never,
    });
    this.aborts.set(name, run.abort);
    this.opts.onStatesMetric?.('ExecutionsStarted', 1, startMs);
    const logs = (async () => {
      for await (const ev of run.eventLogs) {
        const e = { ...(ev as unknown as Record<string, unknown>), simAt: clock.now() } as ExecutionEvent;
        exec.events.push(e);
        checkPayload(exec, e);
        this.opts.onEvent?.(exec, e);
      }
    })().catch(() => undefined);
    exec.done = run.result
      .then(
        (output) => {
          exec.status = 'SUCCEEDED';
          exec.output = output;
        },
        (err: Error) => {
          if (exec.dataLimit) {
            exec.status = 'FAILED';
            exec.error = 'States.DataLimitExceeded';
            exec.cause = `The state/task '${exec.dataLimit.state}' returned a result with a size exceeding the maximum number of bytes service limit (${exec.dataLimit.bytes} bytes > ${PAYLOAD_LIMIT_BYTES}).`;
          } else if (err?.name === 'ExecutionAbortedError' || /abort/i.test(err?.name ?? '')) {
            exec.status = 'ABORTED';
            exec.error = 'States.Aborted';
          } else if (err?.name === 'ExecutionTimeoutError') {
            exec.status = 'TIMED_OUT';
            exec.error = 'States.Timeout';
          } else {
            exec.status = 'FAILED';
            const inner = (err as unknown as { cause?: { name?: string; message?: string } }).cause;
            exec.error = inner?.name ?? err?.name;
            exec.cause = inner?.message ?? err?.message;
          }
          exec.cause ??= this.stopCauses.get(name);
        },
      )
      .then(async () => {
        await logs;
        exec.endMs = clock.now();
        exec.wallMs = performance.now() - wall0;
        this.aborts.delete(name);
        const metric = {
          SUCCEEDED: 'ExecutionsSucceeded',
          FAILED: 'ExecutionsFailed',
          ABORTED: 'ExecutionsAborted',
          TIMED_OUT: 'ExecutionsTimedOut',
          RUNNING: '',
        }[exec.status];
        if (metric) this.opts.onStatesMetric?.(metric, 1, exec.endMs);
        return exec;
      });
    return exec;
  }

  private readonly stopCauses = new Map<string, string>();

  /**
   * Wraps a Task override: a raw result over {@link PAYLOAD_LIMIT_BYTES} fails the whole execution
   * with `States.DataLimitExceeded` (Step Functions quotas: 256 KiB per task result, checked before
   * `ResultSelector`; the error cannot be caught by `States.ALL`), as AWS does.
   */
  private guardRawOutput(exec: LocalExecution, state: string, inner: (input: unknown) => Promise<unknown>): (input: unknown) => Promise<unknown> {
    return async (input) => {
      let out: unknown;
      try {
        out = await inner(input);
      } catch (err) {
        // The Lambda adapter measures the raw result itself and throws States.DataLimitExceeded; the
        // interpreter would let a States.ALL catcher take it, AWS does not: fail the execution here.
        if ((err as Error | undefined)?.name === 'States.DataLimitExceeded') {
          exec.dataLimit ??= { state, bytes: Number(/(\d+) bytes/.exec(String((err as Error).message))?.[1] ?? PAYLOAD_LIMIT_BYTES + 1) };
          this.aborts.get(exec.name)?.();
        }
        throw err;
      }
      const bytes = Buffer.byteLength(JSON.stringify(out ?? null));
      if (bytes <= PAYLOAD_LIMIT_BYTES) return out;
      exec.dataLimit ??= { state, bytes };
      this.aborts.get(exec.name)?.();
      const err = new Error(`The state/task '${state}' returned a result of ${bytes} bytes, over the ${PAYLOAD_LIMIT_BYTES}-byte quota`);
      err.name = 'States.DataLimitExceeded';
      throw err;
    };
  }

  /** RUNNING executions (the truth, as DescribeExecution would report it). */
  running(): LocalExecution[] {
    return [...this.all.values()].filter((e) => e.status === 'RUNNING');
  }

  /**
   * What ListExecutions(statusFilter RUNNING) returns: the running executions plus those that ended
   * (or were stopped) less than `listLagMs` ago, which an eventually consistent list may still show.
   */
  listRunning(): LocalExecution[] {
    const lag = this.opts.listLagMs ?? DEFAULT_LIST_LAG_MS;
    const now = this.opts.clock.now();
    return [...this.all.values()].filter((e) => {
      if (e.status === 'RUNNING') return true;
      const ended = this.stoppedAt.get(e.name) ?? e.endMs;
      return ended !== undefined && now - ended < lag;
    });
  }

  private readonly stoppedAt = new Map<string, number>();

  /** Stops (aborts) a RUNNING execution by ARN; a finished or unknown one is a no-op, like StopExecution on a finished execution. */
  stop(arn: string, cause: string): void {
    const exec = [...this.all.values()].find((e) => e.arn === arn);
    if (!exec || exec.status !== 'RUNNING') return;
    this.stopCauses.set(exec.name, cause);
    this.stoppedAt.set(exec.name, this.opts.clock.now());
    this.aborts.get(exec.name)?.();
  }
}

/** Step Functions quota: a state's input or output is at most 256 KiB (UTF-8). */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** Records a top-level state's input or output over {@link PAYLOAD_LIMIT_BYTES} (map iterations carry an `index` and are skipped: they are small). */
export function checkPayload(exec: LocalExecution, e: ExecutionEvent): void {
  if ((e.type !== 'StateEntered' && e.type !== 'StateExited') || 'index' in e) return;
  const state = e.state as { name?: string; input?: unknown; output?: unknown } | undefined;
  const value = e.type === 'StateEntered' ? state?.input : state?.output;
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes > PAYLOAD_LIMIT_BYTES) {
    exec.payloadWarnings.push(
      `"${state?.name}" ${e.type === 'StateEntered' ? 'input' : 'output'} is ${(bytes / 1024).toFixed(0)} KiB, over the 256 KiB Step Functions quota (AWS would fail with States.DataLimitExceeded)`,
    );
  }
}
