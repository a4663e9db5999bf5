/**
 * The code an agent's worker thread starts with (bundled alone by `agent-workers.ts` into
 * `.local/workers/host-<hash>.cjs`). It hosts one sandbox at a time:
 *
 * - `init` ({@link InitMessage}): the thread's `process.env` becomes the function's environment,
 *   the IAM principal becomes the function's name, and the agent's bundle is loaded afresh (its
 *   module state is new: a cold start). Libraries under `node_modules` that an earlier sandbox of
 *   this thread loaded stay loaded: a worker of a closed runtime is re-used by the next runtime of
 *   the process (`worker-parking.ts`) without paying their load again.
 * - `invoke` ({@link InvokeMessage}): handed to the loaded agent's server (`agent-worker-main.ts`);
 *   an agent whose bundle failed to load fails each invocation with the load's error, and is
 *   loaded again at the next one (Lambda re-runs a failed init).
 *
 * Every outgoing HTTP request of the thread carries the current principal for the IAM proxy
 * (`local/iam.ts`), so an agent's own clients are checked against its role; stdout and stderr go
 * to the runtime as {@link OutputMessage}s, in order with the result.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import { parentPort } from 'node:worker_threads';
import { errorResult, type AgentServer, type InitMessage, type InvokeMessage, type OutputMessage, type ResultMessage } from './agent-worker-main';
import { PRINCIPAL_HEADER } from './iam';

const port = parentPort;
if (!port) throw new Error('agent-worker-host runs in a worker thread only');

let sandbox: InitMessage | undefined;
let server: AgentServer | undefined;
/**
 * The sandbox whose code is running: set around the bundle's load and each invocation, and inherited
 * by every timer and promise they start, so a leftover timer of an earlier sandbox still writes with
 * its own generation (the runtime drops that output) and requests with its own principal.
 */
const current = new AsyncLocalStorage<{ generation: number; principal: string }>();

// Attribute every request of this thread to the current function (the IAM proxy decides).
const original = http.request.bind(http) as (...args: unknown[]) => http.ClientRequest;
(http as { request: unknown }).request = (...args: unknown[]) => {
  const opts = args.find((a) => a && typeof a === 'object' && !(a instanceof URL)) as http.RequestOptions | undefined;
  if (opts) opts.headers = { ...(opts.headers as Record<string, string> | undefined), [PRINCIPAL_HEADER]: current.getStore()?.principal ?? '' };
  return original(...args);
};
for (const stream of ['stdout', 'stderr'] as const) {
  (process[stream] as { write: unknown }).write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    port.postMessage({ type: 'output', stream, text, generation: current.getStore()?.generation ?? 0 } satisfies OutputMessage);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  };
}

/** Loads the sandbox's bundle afresh (its module cache entry dropped first). */
function load(init: InitMessage): AgentServer {
  delete require.cache[init.bundle];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(init.bundle) as { server: AgentServer }).server;
}

port.on('message', (msg: InitMessage | InvokeMessage) => {
  if (msg?.type === 'init') {
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, msg.env);
    sandbox = msg;
    server = undefined;
    return;
  }
  if (msg?.type !== 'invoke') return;
  const init = sandbox!;
  const post = (m: ResultMessage) => port.postMessage({ ...m, generation: init.generation } satisfies ResultMessage);
  current.run({ generation: init.generation, principal: init.principal }, () => {
    try {
      server ??= load(init);
    } catch (err) {
      post(errorResult(msg.id, err));
      return;
    }
    server.invoke(msg, post);
  });
});
