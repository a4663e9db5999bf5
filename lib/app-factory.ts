/**
 * Builds the CDK app and stack from a validated config. Used by `bin/app.ts`, the infra tests and
 * the local runtime (which reads the synthesized tables, schedules, alarms, functions and state
 * machine from the template).
 */
import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runConfigChecks } from './config/checks';
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
  /**
   * Extra context (e.g. `{ alertEmail: 'ops@example.com' }`), over the feature flags of `cdk.json`
   * ({@link projectContext}). Default none.
   */
  readonly context?: Record<string, unknown>;
  /** Cloud assembly output directory. Default: CDK's (`CDK_OUTDIR` under the CLI, else a temp dir). */
  readonly outdir?: string;
}

/** The repo's `cdk.json` (the CDK CLI's project file). */
const CDK_JSON = join(__dirname, '..', 'cdk.json');

/**
 * The `context` of the repo's `cdk.json`: the feature flags `cdk synth` and `cdk deploy` apply. An
 * app built in-process (the local runtime, the tests, the benchmark) applies them too, so it
 * synthesizes the template `cdk deploy` deploys (`@aws-cdk/aws-iam:minimizePolicies` changes every
 * policy; `@aws-cdk/core:validateAgainstDefaultRules` makes CloudFormation validation errors fail
 * synthesis). Under the CDK CLI the same values arrive in `CDK_CONTEXT_JSON` as well, which wins.
 * @throws {Error} naming the file when `cdk.json` is not JSON.
 */
export function projectContext(): Record<string, unknown> {
  try {
    return (JSON.parse(readFileSync(CDK_JSON, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
  } catch (err) {
    throw new Error(`${CDK_JSON} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Creates the app and the orchestrator stack, with the feature flags of `cdk.json`, after the config checks of `lib/config/checks.ts`
 * (warnings are printed on stderr).
 * @returns the app (not yet synthesized) and the stack.
 * @throws {ConfigError} when a check across fields or against the market data fails (the field path is named).
 */
export function createOrchestratorApp(opts: CreateOrchestratorAppOptions): { app: App; stack: OrchestratorStack } {
  // In-process there is no CLI to present construct annotations: they stay on the constructs
  // (Annotations.fromStack) instead of printing as a validation report. Under the CLI, CDK_CONTEXT_JSON
  // carries cdk.json's value and wins.
  const context: Record<string, unknown> = { ...projectContext(), '@aws-cdk/core:annotationsInValidationReport': false, ...opts.context };
  if (opts.bundling === false) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, outdir: opts.outdir });
  const stackName = opts.stackName ?? opts.config.stackName;
  runConfigChecks(opts.config);
  const stack = new OrchestratorStack(app, stackName, { config: opts.config, stackName });
  return { app, stack };
}
