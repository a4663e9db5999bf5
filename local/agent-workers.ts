/**
 * Agents run isolated: each invocation of an agent function runs in a worker thread
 * (`node:worker_threads`), as each Lambda invocation runs in a sandbox of its own. A CPU-bound
 * agent then blocks only its own thread: the interpreter, the other agents, the simulated clock
 * and the DynamoDB proxy keep running on the main thread.
 *
 * - Code: the agent's handler module is bundled with esbuild (with `agent-worker-main.ts`) into
 *   `.local/workers/<name>-<hash>.cjs` (node_modules stay external and load from the repo), as CDK
 *   bundles it for Lambda; the file name is the content's hash, written atomically, so concurrent
 *   runtimes share it; bundles older than 7 days are deleted when a new one is written. Each thread
 *   runs the host (`agent-worker-host.ts`, bundled likewise), which loads the agent's bundle.
 * - Sandboxes: one pool per agent function. An invocation takes an idle worker of the pool (a warm
 *   start: module state and clients are kept, as in a warm Lambda sandbox) or starts a new one (a
 *   cold start: the agent's bundle is loaded afresh); a worker serves one invocation at a time. The
 *   runtime starts one worker per function when it starts ({@link AgentWorkerPool.prewarm}), like
 *   provisioned concurrency of 1. A closed pool parks its idle threads (`worker-parking.ts`) for
 *   the next runtime of the process, which re-initialises them as new sandboxes.
 * - Time: while an invocation runs, its worker holds the simulated clock at real speed with an idle
 *   meter (its event loop's idle time, `sim-clock.ts`): computing costs simulated time 1:1, and an
 *   agent that waits for something that never comes stops holding the clock after the clock's
 *   active cap, so its timeout is reached on the scaled clock.
 * - Timeout: at the task's deadline the adapter aborts the invocation and the worker is terminated
 *   (a timed-out Lambda sandbox is reset too); a crashed or exited worker fails its invocation
 *   (`Runtime.ExitError`, or the uncaught error's name) and is replaced at the next invocation.
 * - Output: the worker's stdout/stderr arrive as messages before its result and go to `onOutput`
 *   (the runtime's stdio capture: EMF metrics, handler logs with simulated time, other text).
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, utimesSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InitMessage, InvokeMessage, OutputMessage, ResultMessage } from './agent-worker-main';
import type { LambdaHandler, LocalLambdaContext } from './lambda-adapter';
import { LOCAL_DIR, REPO_ROOT } from '../lib/repo-paths';
import type { SimClock } from './sim-clock';
import { pruneUnused, writeFileAtomic } from './cache-files';
import { parkWorker, takeParkedWorker } from './worker-parking';

/** Where worker bundles are written (under `.local/`, in .gitignore). */
export const WORKER_BUNDLE_DIR = join(LOCAL_DIR, 'workers');

/** Bundles not used (bundled again) for this long are deleted when a new one is written (ms): 7 days. */
export const WORKER_BUNDLE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/**
 * Bundles an agent's handler module with the worker's main code into one CommonJS file.
 * @param entry - absolute path of the handler module (TypeScript or JavaScript).
 * @param outDir - where to write. @default {@link WORKER_BUNDLE_DIR}
 * @returns the bundle's absolute path (`<entry name>-<content hash>.cjs`).
 * @throws {Error} naming the entry when esbuild cannot bundle it (a syntax error, a missing import).
 */
export async function bundleAgentWorker(entry: string, outDir: string = WORKER_BUNDLE_DIR): Promise<string> {
  const main = join(__dirname, 'agent-worker-main.ts');
  const contents = `import * as agent from ${JSON.stringify(entry)};\nimport { createAgentServer } from ${JSON.stringify(main)};\nexport const server = createAgentServer(agent);\n`;
  let text: string;
  try {
    text = await bundleText({ contents, resolveDir: dirname(entry), sourcefile: `worker-of-${basename(entry)}`, loader: 'ts' });
  } catch (err) {
    throw new Error(`Cannot bundle agent ${relative(REPO_ROOT, entry) || entry} for its worker thread: ${(err as Error).message}`, { cause: err });
  }
  return writeBundle(basename(entry).replace(/\.[^.]+$/, ''), text, outDir);
}

/**
 * Bundles the thread's host (`agent-worker-host.ts`) into one CommonJS file.
 * @param outDir - where to write. @default {@link WORKER_BUNDLE_DIR}
 * @returns the bundle's absolute path (`host-<content hash>.cjs`).
 */
export async function bundleWorkerHost(outDir: string = WORKER_BUNDLE_DIR): Promise<string> {
  const host = join(__dirname, 'agent-worker-host.ts');
  return writeBundle(
    'host',
    await bundleText({ contents: `import ${JSON.stringify(host)};\n`, resolveDir: __dirname, sourcefile: 'worker-host', loader: 'ts' }),
    outDir,
  );
}

async function bundleText(stdin: { contents: string; resolveDir: string; sourcefile: string; loader: 'ts' }): Promise<string> {
  const out = await build({ stdin, bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}

/** Writes `text` as `<stem>-<content hash>.cjs` in `outDir` unless it is there (atomically), prunes old bundles; returns the path. */
function writeBundle(stem: string, text: string, outDir: string): string {
  const name = `${stem}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.cjs`;
  const file = join(outDir, name);
  if (existsSync(file)) {
    const now = new Date();
    utimesSync(file, now, now); // in use: not pruned
  } else {
    writeFileAtomic(file, text);
    // A bundle in use by another runtime is loaded already: deleting it harms nothing.
    pruneUnused(outDir, WORKER_BUNDLE_MAX_AGE_MS, '.cjs');
  }
  return file;
}

/** Options of {@link AgentWorkerPool}. */
export interface AgentWorkerPoolOptions {
  /** The agent's bundle ({@link bundleAgentWorker}). */
  readonly bundle: string;
  /** The thread's host bundle ({@link bundleWorkerHost}). */
  readonly host: string;
  /** Function name (the IAM principal of the worker's DynamoDB calls). */
  readonly functionName: string;
  /** The worker's environment (the function's variables; the DynamoDB endpoint is the IAM proxy). */
  readonly env: Readonly<Record<string, string>>;
  /** The simulated clock the invocation holds while it runs. */
  readonly clock: SimClock;
  /** Receives the worker's stdout / stderr text. */
  readonly onOutput: (text: string, stream: 'stdout' | 'stderr') => void;
}

/** Sandbox generations of this process: every message of a thread carries its current sandbox's. */
let nextGeneration = 1;

interface Sandbox {
  worker: Worker;
  /** The invocation it runs, if any. */
  pending?: { id: number; resolve: (v: unknown) => void; reject: (e: Error) => void };
  dead: boolean;
  /** Removes this pool's listeners from the thread (before it is parked). */
  detach: () => void;
}

function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** The sandboxes of one agent function (see the module comment). */
export class AgentWorkerPool {
  private readonly idle: Sandbox[] = [];
  private readonly all = new Set<Sandbox>();
  private nextId = 1;
  private closed = false;
  /** Workers started so far (cold starts). */
  coldStarts = 0;

  constructor(private readonly opts: AgentWorkerPoolOptions) {}

  /** Parked threads are re-used by sandboxes of the same function only: the same bundle and name (code, role, principal). */
  private parkingKey(): string {
    return `${this.opts.bundle}\0${this.opts.functionName}`;
  }

  private spawn(): Sandbox {
    // A parked thread of a closed runtime (its libraries loaded already), else a new one; either way a new sandbox.
    const worker = takeParkedWorker(this.parkingKey()) ?? new Worker(this.opts.host, { env: {}, stdout: false, stderr: false });
    const generation = nextGeneration++;
    const box: Sandbox = { worker, dead: false, detach: () => undefined };
    this.coldStarts++;
    const onMessage = (msg: OutputMessage | ResultMessage) => {
      // Output of an earlier sandbox of this thread (an agent's leftover timer) is not this runtime's.
      if (msg.generation !== generation) return;
      if (msg.type === 'output') this.opts.onOutput(msg.text, msg.stream);
      else if (msg.type === 'result' && box.pending?.id === msg.id) {
        const p = box.pending;
        box.pending = undefined;
        if (msg.ok) p.resolve(msg.value);
        else p.reject(namedError(msg.error?.name ?? 'Error', msg.error?.message ?? 'unknown error'));
      }
    };
    const onError = (err: Error) => this.fail(box, namedError(err.name || 'Runtime.UnhandledError', err.message));
    const onExit = (code: number) => this.fail(box, namedError('Runtime.ExitError', `the agent's worker exited with code ${code} before returning`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    box.detach = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const init: InitMessage = { type: 'init', generation, bundle: this.opts.bundle, env: { ...this.opts.env }, principal: this.opts.functionName };
    worker.postMessage(init);
    this.all.add(box);
    return box;
  }

  private fail(box: Sandbox, err: Error): void {
    box.dead = true;
    this.all.delete(box);
    const i = this.idle.indexOf(box);
    if (i >= 0) this.idle.splice(i, 1);
    const p = box.pending;
    box.pending = undefined;
    p?.reject(err);
  }

  /**
   * Runs one invocation in a sandbox of the pool.
   * @param signal - aborted at the task's timeout: the worker is terminated and the promise rejects.
   * @throws {Error} the handler's error (its name and message), `Runtime.ExitError` when the worker
   *   exits, `LocalRuntimeClosed` after {@link close}.
   */
  invoke(event: unknown, context: LocalLambdaContext, signal?: AbortSignal): Promise<unknown> {
    if (this.closed) return Promise.reject(namedError('LocalRuntimeClosed', 'the local runtime is closed'));
    // Hold the clock first: starting a worker blocks this thread for a few ms (tens on a busy machine).
    let meter: (() => number) | undefined;
    const release = this.opts.clock.beginActive({ idleMs: () => meter?.() ?? 0 });
    let box = this.idle.pop();
    while (box?.dead) box = this.idle.pop();
    const sandbox = box ?? this.spawn();
    const id = this.nextId++;
    const base = sandbox.worker.performance.eventLoopUtilization();
    meter = () => sandbox.worker.performance.eventLoopUtilization(base).idle;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        this.fail(sandbox, namedError('States.Timeout', 'the invocation was cut at its timeout'));
        void sandbox.worker.terminate();
      };
      const finish = () => {
        signal?.removeEventListener('abort', onAbort);
        // Released after the caller's continuation has read the end time (microtasks run first): no gap at the scaled rate.
        setImmediate(release);
      };
      sandbox.pending = {
        id,
        resolve: (v) => {
          finish();
          if (!sandbox.dead) this.idle.push(sandbox);
          resolve(v);
        },
        reject: (e) => {
          finish();
          // A handler error leaves the sandbox usable; a dead worker is gone already.
          if (!sandbox.dead) this.idle.push(sandbox);
          reject(e);
        },
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const message: InvokeMessage = {
        type: 'invoke',
        id,
        event,
        context: {
          functionName: context.functionName,
          functionVersion: context.functionVersion,
          invokedFunctionArn: context.invokedFunctionArn,
          memoryLimitInMB: context.memoryLimitInMB,
          awsRequestId: context.awsRequestId,
          logGroupName: context.logGroupName,
          logStreamName: context.logStreamName,
          remainingMs: context.getRemainingTimeInMillis(),
        },
      };
      sandbox.worker.postMessage(message);
    });
  }

  /**
   * Starts one worker ahead of the first invocation (it loads the agent's modules meanwhile), as
   * provisioned concurrency would; the first invocation then starts warm.
   */
  prewarm(): void {
    if (!this.closed && this.all.size === 0) this.idle.push(this.spawn());
  }

  /** The pool as a {@link LambdaHandler} (the adapter passes the abort signal). */
  handler(): LambdaHandler {
    return (event, context, signal) => this.invoke(event, context, signal);
  }

  /**
   * Closes the pool: an idle thread is parked for the next runtime of the process
   * (`worker-parking.ts`, while there is room), any other is terminated; a pending invocation
   * rejects with `LocalRuntimeClosed`.
   */
  async close(): Promise<void> {
    this.closed = true;
    const terminate: Sandbox[] = [];
    for (const b of [...this.all]) {
      this.all.delete(b);
      if (!b.pending && !b.dead) {
        b.detach();
        if (parkWorker(b.worker, this.parkingKey())) continue;
      }
      this.fail(b, namedError('LocalRuntimeClosed', 'the local runtime is closed'));
      terminate.push(b);
    }
    this.idle.length = 0;
    await Promise.all(terminate.map((b) => b.worker.terminate()));
  }
}
