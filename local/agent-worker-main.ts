/**
 * The code inside an agent's worker thread (bundled with the agent's handler module by
 * `agent-workers.ts`): one sandbox of one agent function, as a Lambda execution environment is.
 *
 * It builds the agent once, at the first invocation: a `defineAgent` handler on the trading ports
 * of the function's environment (`handler.withPorts(tradingPortsFromEnv(env, doc))`, its document
 * client on the runtime's IAM proxy), any other `handler` as it is. Every outgoing HTTP request of
 * the thread carries the function's name for the IAM proxy (`local/iam.ts`), so an agent's own
 * clients are checked against its role like the ports' client. Its stdout and stderr go to the
 * runtime as messages, in order with the result, so logs and EMF metrics reach the runtime's
 * capture (with simulated time) before the invocation ends.
 *
 * Protocol (structured-clone messages): runtime -> worker {@link InvokeMessage}; worker -> runtime
 * {@link OutputMessage} (any number) then one {@link ResultMessage} per invocation.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { PRINCIPAL_HEADER } from './iam';

/** What the runtime passes when it creates the worker. */
export interface AgentWorkerData {
  /** Function name: the IAM principal of every DynamoDB call of this thread. */
  readonly principal: string;
}

/** The runtime asks for one invocation. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  /** The Lambda context's fields; `remainingMs` is the time left at the start (ms, on the simulated clock). */
  readonly context: {
    functionName: string;
    functionVersion: string;
    invokedFunctionArn: string;
    memoryLimitInMB: string;
    awsRequestId: string;
    logGroupName: string;
    logStreamName: string;
    remainingMs: number;
  };
}

/** Text the agent wrote to stdout or stderr. */
export interface OutputMessage {
  readonly type: 'output';
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** How an invocation ended: its result, or the error it threw (name and message, as Lambda reports them). */
export interface ResultMessage {
  readonly type: 'result';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { name: string; message: string };
}

type AnyHandler = (event: unknown, context?: unknown) => Promise<unknown>;
interface AgentModule {
  handler?: AnyHandler & { withPorts?: (ports: unknown) => AnyHandler };
}

/**
 * Serves invocations of `mod` on this worker's port. Called by the bundle's entry, which
 * `bundleAgentWorker` generates (so no module here imports it).
 * @public
 * @throws nothing: a module without a `handler`, a failed port construction or a thrown handler
 *   is reported as that invocation's error.
 */
export function serveAgent(mod: AgentModule): void {
  const port = parentPort;
  if (!port) throw new Error('serveAgent runs in a worker thread only');
  const { principal } = workerData as AgentWorkerData;

  // Attribute every request of this thread to the function (the IAM proxy decides).
  const original = http.request.bind(http) as (...args: unknown[]) => http.ClientRequest;
  (http as { request: unknown }).request = (...args: unknown[]) => {
    const opts = args.find((a) => a && typeof a === 'object' && !(a instanceof URL)) as http.RequestOptions | undefined;
    if (opts) opts.headers = { ...(opts.headers as Record<string, string> | undefined), [PRINCIPAL_HEADER]: principal };
    return original(...args);
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    (process[stream] as { write: unknown }).write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      port.postMessage({ type: 'output', stream, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') } satisfies OutputMessage);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    };
  }

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

  port.on('message', (msg: InvokeMessage) => {
    if (msg?.type !== 'invoke') return;
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
        (value) => port.postMessage({ type: 'result', id: msg.id, ok: true, value } satisfies ResultMessage),
        (err: unknown) => {
          const e = err as Error | undefined;
          port.postMessage({
            type: 'result',
            id: msg.id,
            ok: false,
            error: { name: e?.name || 'Error', message: e?.message ?? String(err) },
          } satisfies ResultMessage);
        },
      );
  });
}
