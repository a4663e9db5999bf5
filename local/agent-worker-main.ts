/**
 * The agent's side of a worker thread (bundled with the agent's handler module by
 * `agent-workers.ts`): one sandbox of one agent function, as a Lambda execution environment is.
 * The thread itself runs `agent-worker-host.ts`, which loads this bundle at each `init` and hands
 * it the invocations.
 *
 * It builds the agent once, at the first invocation: a `defineAgent` handler on the trading ports
 * of the function's environment (`handler.withPorts(tradingPortsFromEnv(env, doc))`, its document
 * client on the runtime's IAM proxy), any other `handler` as it is.
 *
 * Protocol (structured-clone messages): runtime -> worker {@link InitMessage} (once per sandbox,
 * before its first invocation) and {@link InvokeMessage}; worker -> runtime {@link OutputMessage}
 * (any number) then one {@link ResultMessage} per invocation.
 */

import type { LocalLambdaContext } from './lambda-adapter';

/** The runtime gives the thread a sandbox: the agent's bundle, the function's environment and name. */
export interface InitMessage {
  readonly type: 'init';
  /** The sandbox's generation in this process: the thread stamps every message of this sandbox with it. */
  readonly generation: number;
  /** Absolute path of the agent's bundle (`bundleAgentWorker`), loaded afresh (its module state is new). */
  readonly bundle: string;
  /** The function's environment variables: `process.env` of the thread becomes exactly these. */
  readonly env: Readonly<Record<string, string>>;
  /** Function name: the IAM principal of every DynamoDB call of this thread. */
  readonly principal: string;
}

/** The runtime asks for one invocation. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  /** The Lambda context's data fields (its functions do not cross threads); `remainingMs` is the time left at the start (ms, on the simulated clock). */
  readonly context: Omit<LocalLambdaContext, 'callbackWaitsForEmptyEventLoop' | 'getRemainingTimeInMillis'> & { remainingMs: number };
}

/** Text the agent wrote to stdout or stderr. */
export interface OutputMessage {
  readonly type: 'output';
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
  /** The generation of the sandbox the thread hosted when the text was written (set by the host). */
  readonly generation?: number;
}

/** How an invocation ended: its result, or the error it threw (name and message, as Lambda reports them). */
export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { name: string; message: string };
  /** The generation of the sandbox that ran the invocation (set by the host). */
  readonly generation?: number;
}

type AnyHandler = (event: unknown, context?: unknown) => Promise<unknown>;
interface AgentModule {
  handler?: AnyHandler & { withPorts?: (ports: unknown) => AnyHandler };
}

/** What the host calls: one invocation of the loaded agent, its result posted through `post`. */
export interface AgentServer {
  invoke(msg: InvokeMessage, post: (m: ResultMessage) => void): void;
}

/**
 * The server of `mod` for the thread's host. Called by the bundle's entry, which
 * `bundleAgentWorker` generates (so no module here imports it).
 * @public
 * @throws nothing: a module without a `handler`, a failed port construction or a thrown handler
 *   is reported as that invocation's error.
 */
export function createAgentServer(mod: AgentModule): AgentServer {
  let built: Promise<AnyHandler> | undefined;
  const build = async (): Promise<AnyHandler> => {
    const h = mod.handler;
    if (typeof h !== 'function') throw new Error('The agent module exports no handler function');
    if (typeof h.withPorts !== 'function') return h; // any other handler reads its environment itself
    // A defineAgent handler on this sandbox's ports (loaded only then: a plain handler does not pay for the SDK).
    const [{ DynamoDBClient }, { newDocumentClient, tradingPortsFromEnv }] = await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('../lambdas/shared/trading/runtime'),
    ]);
    return h.withPorts(tradingPortsFromEnv(process.env, newDocumentClient(new DynamoDBClient({}))));
  };

  return {
    invoke(msg, post) {
      const startedWall = performance.now();
      const context = {
        ...msg.context,
        callbackWaitsForEmptyEventLoop: true,
        // The simulated clock runs 1:1 while this agent computes or briefly waits (sim-clock.ts).
        getRemainingTimeInMillis: () => Math.max(0, msg.context.remainingMs - (performance.now() - startedWall)),
      };
      Promise.resolve()
        // A failed build is retried at the next invocation (Lambda re-runs a failed init).
        .then(() => (built ??= build().catch((err: unknown) => ((built = undefined), Promise.reject(err)))))
        .then((run) => run(msg.event, context))
        // What Lambda returns is the result as JSON (functions and undefined members dropped).
        .then((value) => (value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown)))
        .then(
          (value) => post({ type: 'result', id: msg.id, ok: true, value }),
          (err: unknown) => post(errorResult(msg.id, err)),
        );
    },
  };
}

/** The result message of an invocation that threw `err` (its name and message, as Lambda reports them). */
export function errorResult(id: number, err: unknown): ResultMessage {
  const e = err as Error | undefined;
  return { type: 'result', id, ok: false, error: { name: e?.name || 'Error', message: e?.message ?? String(err) } };
}
