/**
 * The one test that reads YOUR fleet, `config/orchestrator.config.ts`: it must load, validate and
 * synthesize, and every agent's handler file must exist. Every other test builds its fleet from
 * `test/fixtures/fleet.ts`, so adding, removing or retuning agents in your config changes only
 * what this file checks.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG_FILE, resolveConfig } from '../../lib/config/resolve';
import type { OrchestratorConfig } from '../../lib/config/schema';
import { synthAppModel } from '../../local/runtime';

const REPO = join(__dirname, '..', '..');
const YOURS = `Your config ${DEFAULT_CONFIG_FILE} (the one test that reads it; the rest of the suite uses test/fixtures/fleet.ts)`;

/** Runs `fn`; a throw becomes one error that says it is about the user's config, with the cause's message. */
function aboutYourConfig<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`${YOURS} ${what}:\n${(err as Error).message}`, { cause: err });
  }
}

describe(`config/orchestrator.config.ts (your fleet)`, () => {
  let config: OrchestratorConfig;

  it('loads and validates', () => {
    config = aboutYourConfig('is invalid', () => resolveConfig({ file: DEFAULT_CONFIG_FILE, cwd: REPO, repoRoot: REPO, env: {}, log: false }).config);
    expect(config.agents.length).toBeGreaterThan(0);
  });

  it('synthesizes, and every enabled agent has its handler file', () => {
    if (!config) throw new Error(`${YOURS} did not load; see the test above`);
    const model = aboutYourConfig('does not synthesize', () => synthAppModel(config));
    const missing = model.functions.filter((f) => !existsSync(join(REPO, f.entry))).map((f) => `${f.agent ?? f.role}: ${f.entry}`);
    if (missing.length) throw new Error(`${YOURS} names handler files that do not exist:\n  ${missing.join('\n  ')}`);
    const served = new Set(model.functions.flatMap((f) => [...(f.agents ?? []), ...(f.agent ? [f.agent] : [])]));
    expect(config.agents.filter((a) => a.enabled && !served.has(a.name)).map((a) => a.name)).toEqual([]);
  });
});
