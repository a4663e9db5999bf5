/**
 * The synthesized app on disk, so `npm start`, `npm run ops -- --local` and the tests synthesize a
 * config once rather than at every start: `.local/app-models/<key>.json` (in .gitignore).
 *
 * The key is a hash of everything synthesis reads ({@link appModelKey}): the validated config, the
 * contents of {@link APP_MODEL_SOURCES} (the constructs, the handlers and their shared code, the
 * state machine file, the market data synthesis checks, `cdk.json`'s feature flags, the locked
 * library versions), the installed aws-cdk-lib and constructs releases, each agent entry and the
 * market data file the config names outside them, and the environment variables synthesis reads
 * (`CDK_VALIDATION`, `CDK_CONTEXT_JSON`, `MARKET_DATA_SYMBOL`). A change to any of them is a new key.
 * Not covered: a module outside those directories that an agent entry imports (the template does
 * not depend on it; synthesis only reads the agent's params schema).
 *
 * Writes go to a temporary file renamed into place, so two processes synthesizing the same config
 * at once both leave a whole file; entries not read for {@link APP_MODEL_MAX_AGE_MS} are deleted
 * when a new one is written.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { OrchestratorConfig } from '../lib/config/schema';
import { pruneUnused, writeFileAtomic } from './cache-files';
import { LOCAL_DIR, REPO_ROOT } from '../lib/repo-paths';

/** Where the cached models are written (under `.local/`, in .gitignore). */
export const APP_MODEL_CACHE_DIR = join(LOCAL_DIR, 'app-models');

/** What synthesis reads besides the config and the agent entries, relative to the repo root. */
export const APP_MODEL_SOURCES: readonly string[] = ['lib', 'lambdas', 'local', 'statemachines', 'data', 'cdk.json', 'package-lock.json'];

/** Entries not read (or written) for this long are deleted when a new one is written (ms): 7 days. */
export const APP_MODEL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** Digest of the sources per root, for this process (the files do not change while it runs a suite or a CLI). */
const sourceDigests = new Map<string, string>();

function hashTree(h: ReturnType<typeof createHash>, root: string, rel: string): void {
  const abs = join(root, rel);
  if (!existsSync(abs)) return;
  if (statSync(abs).isDirectory()) {
    for (const name of readdirSync(abs).sort()) hashTree(h, root, join(rel, name));
    return;
  }
  h.update(rel).update('\0').update(readFileSync(abs)).update('\0');
}

function sourceDigest(root: string): string {
  const hit = sourceDigests.get(root);
  if (hit) return hit;
  const h = createHash('sha256');
  for (const s of APP_MODEL_SOURCES) hashTree(h, root, s);
  const digest = h.digest('hex');
  sourceDigests.set(root, digest);
  return digest;
}

/**
 * The cache key of `config`'s synthesized app (32 hex characters): see the module comment for what it covers.
 * @param config - a validated config.
 * @param root - the repo root whose sources synthesis reads. @default the repo this module is in
 */
export function appModelKey(config: OrchestratorConfig, root: string = REPO_ROOT): string {
  const h = createHash('sha256').update(sourceDigest(root)).update('\0').update(JSON.stringify(config)).update('\0');
  // The environment synthesis reads: validation on or off, context from the CDK CLI, the symbol of a
  // one-symbol market file (baked into the functions' environment).
  for (const name of ENV_READ_BY_SYNTHESIS) h.update(`${name}=${process.env[name] ?? ''}\0`);
  // The installed libraries (package-lock.json may be ahead of node_modules before an `npm ci`).
  for (const pkg of ['aws-cdk-lib', 'constructs']) hashTree(h, root, join('node_modules', pkg, 'package.json'));
  // Files the config names outside the sources: agent entries and the market data file.
  const outside = [...config.agents.map((a) => a.entry).filter((e): e is string => !!e), config.marketData.file];
  for (const file of outside) {
    const rel = relative(root, isAbsolute(file) ? file : join(root, file));
    if (APP_MODEL_SOURCES.some((s) => rel === s || rel.startsWith(s + '/'))) continue; // already in the digest
    hashTree(h, root, rel);
  }
  return h.digest('hex').slice(0, 32);
}

/** Environment variables that change what synthesis produces. */
const ENV_READ_BY_SYNTHESIS = ['CDK_VALIDATION', 'CDK_CONTEXT_JSON', 'MARKET_DATA_SYMBOL'] as const;

/**
 * The cached model stored under `key`, or undefined (none, or unreadable: it is then synthesized again).
 * Marks the entry as used, so it is not pruned.
 * @param dir - @default {@link APP_MODEL_CACHE_DIR}
 */
export function readCachedAppModel<T>(key: string, dir: string = APP_MODEL_CACHE_DIR): T | undefined {
  const file = join(dir, `${key}.json`);
  if (!existsSync(file)) return undefined;
  try {
    const model = JSON.parse(readFileSync(file, 'utf8')) as T;
    const now = new Date();
    utimesSync(file, now, now);
    return model;
  } catch {
    return undefined; // a partial file cannot exist (rename), but a user may have edited it
  }
}

/**
 * Stores `model` under `key` (atomically) and deletes entries unused for {@link APP_MODEL_MAX_AGE_MS}.
 * @param dir - @default {@link APP_MODEL_CACHE_DIR}
 * @throws nothing: a cache that cannot be written (read-only checkout) only costs the next start a synthesis.
 */
export function writeCachedAppModel(key: string, model: unknown, dir: string = APP_MODEL_CACHE_DIR): void {
  try {
    writeFileAtomic(join(dir, `${key}.json`), JSON.stringify(model));
    pruneUnused(dir, APP_MODEL_MAX_AGE_MS, '');
  } catch {
    // best effort (see @throws)
  }
}
