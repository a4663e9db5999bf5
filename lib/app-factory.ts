/**
 * Builds the CDK app and stack from a validated config. Used by `bin/app.ts`, the infra tests and
 * the local runtime (which reads the synthesized tables, schedules, alarms, functions and state
 * machine from the template).
 */
import { App } from 'aws-cdk-lib';
import { join } from 'node:path';
import { checkConfig } from './config/checks';
import type { OrchestratorConfig } from './config/schema';
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
