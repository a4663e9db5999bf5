/**
 * Builds the CDK app and stack from a validated config. Used by `bin/app.ts`, the infra tests and
 * the local runtime (which reads the synthesized tables, schedules, alarms, functions and state
 * machine from the template).
 */
import { App } from 'aws-cdk-lib';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { checkConfig } from './config/checks';
import { validateConfig, type OrchestratorConfig } from './config/schema';
import { OrchestratorStack } from './orchestrator-stack';

/** Options of {@link createOrchestratorApp}. */
export interface CreateOrchestratorAppOptions {
  /** Validated config. */
  readonly config: OrchestratorConfig;
  /**
   * Bundle the functions with esbuild (local, no Docker). Default true. `false` sets context
   * `aws:cdk:bundling-stacks: []`, so `NodejsFunction` skips bundling (fast tests, local runtime).
   */
  readonly bundling?: boolean;
  /** Stack name (and construct id). Default `config.stackName`. */
  readonly stackName?: string;
  /** Extra context (e.g. `{ alertEmail: 'ops@example.com' }`). Default none. */
  readonly context?: Record<string, unknown>;
  /** Cloud assembly output directory. Default: CDK's (`CDK_OUTDIR` under the CLI, else a temp dir). */
  readonly outdir?: string;
}

/**
 * Creates the app and the orchestrator stack, after the config checks of `lib/config/checks.ts`
 * (warnings are printed on stderr).
 * @returns the app (not yet synthesized) and the stack.
 * @throws {ConfigError} when a check across fields or against the market data fails (the field path is named).
 */
export function createOrchestratorApp(opts: CreateOrchestratorAppOptions): { app: App; stack: OrchestratorStack } {
  const context: Record<string, unknown> = { ...opts.context };
  if (opts.bundling === false) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, outdir: opts.outdir });
  const stackName = opts.stackName ?? opts.config.stackName;
  // Checks across fields and against the market data: errors throw (ConfigError with the path), warnings go to stderr (cdk synth, npm start).
  for (const w of checkConfig(opts.config, join(__dirname, '..'))) console.warn(`warning: config ${w.path}: ${w.message}`);
  const stack = new OrchestratorStack(app, stackName, { config: opts.config, stackName });
  return { app, stack };
}

/** Default config module, relative to the repo root. */
export const DEFAULT_CONFIG_FILE = 'config/orchestrator.config.ts';

/**
 * Loads and validates a config file: a `.json` file, or a TS/JS module whose default export (or
 * `config` export, or the module itself) is the config. Relative paths resolve against the current
 * directory, then the repo root. TS modules need a TS-aware loader (`tsx`, ts-jest).
 *
 * @param file - path; default `process.env.ORCHESTRATOR_CONFIG`, then {@link DEFAULT_CONFIG_FILE}.
 * @throws {ConfigError} when the config is invalid (field paths in the message).
 * @throws {Error} when the file does not exist or cannot be parsed.
 */
export function loadOrchestratorConfig(file: string = process.env.ORCHESTRATOR_CONFIG || DEFAULT_CONFIG_FILE): OrchestratorConfig {
  const repoRoot = join(__dirname, '..');
  const candidates = isAbsolute(file) ? [file] : [resolve(file), join(repoRoot, file)];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`Config file not found: ${file}`);
  let raw: unknown;
  if (path.endsWith('.json')) {
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`Config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path) as { default?: unknown; config?: unknown };
    raw = mod.default ?? mod.config ?? mod;
  }
  return validateConfig(raw);
}
