/**
 * The synthesized app, shared by every test file of a run: a cache on disk under
 * `test-output/app-models/`, keyed by a hash of the config and of the source the template is built
 * from. Jest gives every test file its own module registry, so `synthAppModel`'s in-process memo
 * (local/runtime.ts) helps one file only; a synthesis costs 5-20 s on this 2-core machine, and about
 * ten files run the local runtime on the same few configs.
 *
 * The key covers everything synthesis reads: the validated config (JSON) and the contents of
 * `lib/`, `lambdas/`, `local/`, `statemachines/`, `data/` (synthesis validates the market data), the agent fixtures (`test/fixtures/`,
 * `bench/fixtures/`) and `package-lock.json`. A change to any of them is a new key, so a stale
 * template is never served; old entries are left behind (the directory is in .gitignore).
 * Writes go to a temporary file renamed into place, so two workers synthesizing the same config
 * at once both leave a whole file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OrchestratorConfig } from '../../lib/config/schema';
import { synthAppModel, type AppModel } from '../../local/runtime';

const ROOT = join(__dirname, '..', '..');
/** Cache directory (in .gitignore). */
const CACHE_DIR = join(ROOT, 'test-output', 'app-models');
/** What synthesis reads besides the config, relative to the repo root. */
const SOURCES = ['lib', 'lambdas', 'local', 'statemachines', 'data', 'test/fixtures', 'bench/fixtures', 'package-lock.json'];

let digest: string | undefined;

/** Hash of the contents of {@link SOURCES} (every file, sorted by path). Computed once per test file. */
function sourceDigest(): string {
  if (digest) return digest;
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const abs = join(ROOT, rel);
    if (!existsSync(abs)) return;
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) walk(join(rel, name));
      return;
    }
    h.update(rel).update('\0').update(readFileSync(abs)).update('\0');
  };
  for (const s of SOURCES) walk(s);
  digest = h.digest('hex');
  return digest;
}

/**
 * The synthesized app model of `config` (bundling off), from the disk cache when a file of this run
 * or an earlier one synthesized the same config from the same source; otherwise synthesizes it
 * (`synthAppModel`) and stores it. Pass it as `startLocalRuntime({ model })`.
 * @param config - a validated config.
 * @returns a fresh copy (callers may mutate it).
 * @throws whatever synthesis throws for this config (nothing is cached then).
 */
export function cachedAppModel(config: OrchestratorConfig): AppModel {
  const key = createHash('sha256').update(sourceDigest()).update(JSON.stringify(config)).digest('hex').slice(0, 32);
  const file = join(CACHE_DIR, `${key}.json`);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as AppModel;
  const model = synthAppModel(config);
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(model));
  renameSync(tmp, file);
  return JSON.parse(JSON.stringify(model)) as AppModel;
}
