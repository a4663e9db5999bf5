#!/usr/bin/env node
/**
 * CDK app entry: config in, stack out.
 *
 * The config comes from `resolveConfig()` (`lib/config/resolve.ts`), as for `npm start` and
 * `npm run ops`: CDK context `config` (`npx cdk synth -c config=cfg.json`) or `--config <file>` when the
 * app is run directly, else `ORCHESTRATOR_CONFIG`, else `config/orchestrator.config.ts`; one line on
 * stderr names the file. An unusable config (missing file, invalid field) prints one line naming the
 * file and every bad field's path, and a config that fails the checks across fields prints each path;
 * both exit 2 without a stack trace. Context `alertEmail` subscribes an e-mail address to the alert topic.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, type OrchestratorConfig } from '../lib/config/schema';
import { ConfigFileError, resolveConfig, type ResolveConfigOptions } from '../lib/config/resolve';
import { createOrchestratorApp } from '../lib/app-factory';

/**
 * The config file the app was asked for: `--config <file>` / `--config=<file>` in `argv`, else CDK
 * context `config` (`cdk synth -c config=<file>`, read through `context`), else none (then
 * `resolveConfig` reads `ORCHESTRATOR_CONFIG`).
 * @param argv - arguments after the script (`process.argv.slice(2)`).
 * @param context - CDK context lookup. @default a throwaway `App`'s `node.tryGetContext` (`autoSynth: false`: under the CDK CLI an App
 *   synthesizes itself at exit, and an empty one would overwrite the stack's cloud assembly)
 * @returns the file and how it was given (`--config` or `-c config`, for the messages), or undefined.
 * @throws {ConfigFileError} when `--config` has no value.
 */
export function requestedConfigFile(
  argv: readonly string[],
  context: (key: string) => unknown = (k) => new App({ autoSynth: false }).node.tryGetContext(k),
): { file: string; flag: string } | undefined {
  const i = argv.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (i >= 0) {
    const value = argv[i] === '--config' ? argv[i + 1] : argv[i].slice('--config='.length);
    if (!value) throw new ConfigFileError('', 'config: --config needs a file');
    return { file: value, flag: '--config' };
  }
  const fromContext = context('config');
  return typeof fromContext === 'string' && fromContext ? { file: fromContext, flag: '-c config' } : undefined;
}

/**
 * The app's config: {@link requestedConfigFile}, then `resolveConfig`.
 * @throws {ConfigFileError} as `resolveConfig` does (missing file, invalid field: the path is named).
 */
export function appConfig(
  argv: readonly string[],
  opts: Omit<ResolveConfigOptions, 'file' | 'flag'> & { context?: (key: string) => unknown } = {},
): OrchestratorConfig {
  return resolveConfig({ ...opts, ...requestedConfigFile(argv, opts.context) }).config;
}

function main(): void {
  try {
    const config = appConfig(process.argv.slice(2));
    createOrchestratorApp({ config }).app.synth();
  } catch (err) {
    if (err instanceof ConfigFileError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

if (require.main === module) main();
