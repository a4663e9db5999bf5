/**
 * The local runtime's functions: each template function's environment, and its handler built
 * from the runtime's ports, as Lambda would run the deployed bundle.
 *
 * - supervisor, risk, gateway, Master and operator run in-process, built by their factories
 *   (`createSupervisorHandler`, `createRiskHandler`, `createGatewayActions`, `createMasterHandler`,
 *   `createOperatorHandler`) on the runtime's document clients and its simulated clock; an entry
 *   without its role's factory (a user's own risk gate) is called through its `handler`;
 * - agents run isolated, each invocation in a worker thread of its function's pool
 *   (`agent-workers.ts`).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MasterDeps } from '../lambdas/master/handler';
import { supervisorPortsFromEnv } from '../lambdas/supervisor/handler';
import { tradingPortsFromEnv } from '../lambdas/shared/trading/runtime';
import { AgentWorkerPool, bundleAgentWorker, bundleWorkerHost } from './agent-workers';
import { AGENT_FROM_PAYLOAD, type LambdaHandler, type LocalFunction } from './lambda-adapter';
import { LOCAL_DIR } from '../lib/repo-paths';
import { writeFileAtomic } from './cache-files';
import type { SimClock } from './sim-clock';
import type { LocalTemplate } from './template';

/** One function of the synthesized app as the runtime needs it (see `AppModel` in `runtime.ts`). */
export interface ModelFunction {
  role: string;
  agent?: string;
  agents?: readonly string[];
  entry: string;
  logicalId: string;
  /** Files of the function's asset that it reads at `/var/task/<name>`: name -> contents. */
  assetFiles?: Readonly<Record<string, string>>;
}

/** Where the runtime writes the functions' asset files (content-addressed, under `.local/`, in .gitignore). */
export const ASSET_FILE_DIR = join(LOCAL_DIR, 'asset-files');

/** Writes `content` to `<dir>/<hash>-<name>` unless a file of that content is there already (atomically: concurrent runtimes share it); returns the path. */
function stageAssetFile(name: string, content: string, dir: string): string {
  const file = join(dir, `${createHash('sha256').update(content).digest('hex').slice(0, 16)}-${name}`);
  if (!existsSync(file)) writeFileAtomic(file, content);
  return file;
}

/**
 * The environment every function sees locally: the union of the template functions' variables, with
 * files from a function's asset (`/var/task/<name>`) written under `assetDir` and mapped to there, and
 * `MARKET_DATA_FILE` set to `marketDataFile`.
 * @param assetDir - where asset files are written. @default {@link ASSET_FILE_DIR}
 * @throws {Error} when two functions need different values for one variable (the in-process
 *   handlers share one process environment).
 */
export function functionEnvironment(
  functions: readonly ModelFunction[],
  tpl: LocalTemplate,
  marketDataFile: string,
  assetDir: string = ASSET_FILE_DIR,
): Record<string, string> {
  const env: Record<string, string> = {};
  const owner: Record<string, string> = {};
  const fnIds = new Set(functions.map((f) => f.logicalId));
  for (const id of tpl.ofType('AWS::Lambda::Function')) {
    if (!fnIds.has(id)) continue;
    const vars = (tpl.props(id).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const assetFiles = functions.find((f) => f.logicalId === id)?.assetFiles ?? {};
    for (const [k, raw] of Object.entries(vars)) {
      // Files the deployed function reads from its asset (/var/task/<name>): written where the handlers can read them.
      const inAsset = /^\/var\/task\/(.+)$/.exec(String(raw))?.[1];
      const content = inAsset !== undefined ? assetFiles[inAsset] : undefined;
      const v = k === 'MARKET_DATA_FILE' ? marketDataFile : inAsset && content !== undefined ? stageAssetFile(inAsset, content, assetDir) : String(raw);
      if (k in env && env[k] !== v)
        throw new Error(`Functions ${owner[k]} and ${id} need different values for ${k}; the in-process runtime shares one environment`);
      env[k] = v;
      owner[k] = id;
    }
  }
  return env;
}

/** How many agent functions get a worker started ahead of their first invocation (each costs a thread and its modules' memory). */
export const PREWARM_POOLS = 16;

/** A handler module as loaded (any of the factories, or just `handler`). */
type HandlerModule = Record<string, unknown>;

/** Loads a handler module (TypeScript through the process's loader: tsx for `npm start`, ts-jest in tests). */
function loadModule(path: string): HandlerModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as HandlerModule;
}

/** What {@link buildLocalFunctions} builds the handlers from. */
export interface LocalFunctionPorts {
  /** The process environment the in-process handlers read (after the runtime set it). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The runtime's document client (the gateway's, and the Master's Control table client). */
  readonly doc: DynamoDBDocumentClient;
  /** A document client on the IAM proxy: calls inside an invocation are checked against the function's role. */
  readonly proxiedDoc: DynamoDBDocumentClient;
  readonly clock: SimClock;
  /** The Master's and operator's dependencies (built lazily, at the first invocation). */
  readonly masterDeps: () => MasterDeps;
  /** Wraps the Master's handler (the runtime records what it did). */
  readonly wrapMaster?: (h: LambdaHandler) => LambdaHandler;
  /** Receives the text an agent's worker wrote (the stdio capture). */
  readonly onWorkerOutput: (text: string, stream: 'stdout' | 'stderr') => void;
  /** Resolves a model entry to an absolute path. */
  readonly resolveEntry: (entry: string) => string;
  /** Start one worker per agent function now (at most {@link PREWARM_POOLS}). @default true */
  readonly prewarm?: boolean;
}

/** The functions and what to close. */
export interface LocalFunctions {
  readonly functions: LocalFunction[];
  /** The worker pools of the agent functions, by function name. */
  readonly pools: ReadonlyMap<string, AgentWorkerPool>;
  /** Terminates every agent worker. */
  close(): Promise<void>;
}

/**
 * Builds every function's handler (see the module comment).
 * @throws {Error} naming the entry when a module exports no handler for its role, or an agent's
 *   entry cannot be bundled for its worker.
 */
export async function buildLocalFunctions(model: readonly ModelFunction[], tpl: LocalTemplate, ports: LocalFunctionPorts): Promise<LocalFunctions> {
  const pools = new Map<string, AgentWorkerPool>();
  const bundles = new Map<string, Promise<string>>();
  const bundleOf = (entry: string) => {
    if (!bundles.has(entry)) bundles.set(entry, bundleAgentWorker(entry));
    return bundles.get(entry)!;
  };
  let host: Promise<string> | undefined;
  const functions = await Promise.all(
    model.map(async (f): Promise<LocalFunction> => {
      const p = tpl.props(f.logicalId);
      const base = {
        arn: tpl.arn(f.logicalId),
        name: tpl.ref(f.logicalId),
        target: f.role === 'agent' ? (f.agent ?? AGENT_FROM_PAYLOAD) : f.role,
        timeoutSeconds: Number(p.Timeout ?? 3),
        memoryMb: Number(p.MemorySize ?? 128),
      };
      const path = ports.resolveEntry(f.entry);
      if (f.role === 'agent') {
        const pool = new AgentWorkerPool({
          bundle: await bundleOf(path),
          host: await (host ??= bundleWorkerHost()),
          functionName: base.name,
          env: Object.fromEntries(Object.entries(ports.env).filter((e): e is [string, string] => typeof e[1] === 'string')),
          clock: ports.clock,
          onOutput: ports.onWorkerOutput,
        });
        pools.set(base.name, pool);
        return { ...base, handler: pool.handler(), holdsClock: true };
      }
      return { ...base, handler: inProcessHandler(f, loadModule(path), ports) };
    }),
  );
  // One warm worker per agent function (at most PREWARM_POOLS), loading its modules while the runtime starts.
  if (ports.prewarm ?? true) [...pools.values()].slice(0, PREWARM_POOLS).forEach((p) => p.prewarm());
  return {
    functions,
    pools,
    close: async () => void (await Promise.all([...pools.values()].map((p) => p.close()))),
  };
}

function inProcessHandler(f: ModelFunction, mod: HandlerModule, ports: LocalFunctionPorts): LambdaHandler {
  const now = () => ports.clock.now();
  const factory = (name: string) => (typeof mod[name] === 'function' ? (mod[name] as (deps: unknown) => LambdaHandler) : undefined);
  switch (f.role) {
    case 'supervisor': {
      const create = factory('createSupervisorHandler');
      if (create) return create({ ...supervisorPortsFromEnv(ports.env, ports.proxiedDoc), now });
      break;
    }
    case 'risk': {
      const create = factory('createRiskHandler');
      if (create) return create(tradingPortsFromEnv(ports.env, ports.proxiedDoc));
      break;
    }
    case 'gateway': {
      const create = factory('createGatewayActions');
      if (create) {
        // The gateway built from the runtime's ports: its DynamoDB client and the simulated clock.
        const t = tradingPortsFromEnv(ports.env, ports.doc);
        return create({ doc: t.doc, tables: t.tables, settings: t.settings, feedFor: t.feedFor, now, sleep: (ms: number) => ports.clock.sleep(ms) });
      }
      break;
    }
    case 'operator': {
      const create = factory('createOperatorHandler');
      if (create) return create(ports.masterDeps);
      break;
    }
    case 'master': {
      const create = factory('createMasterHandler');
      if (create) return (ports.wrapMaster ?? ((h) => h))(create(ports.masterDeps));
      break;
    }
  }
  if (typeof mod.handler === 'function') return mod.handler as LambdaHandler;
  throw new Error(`${f.entry} exports no handler function`);
}
