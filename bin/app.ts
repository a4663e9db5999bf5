#!/usr/bin/env node
/**
 * CDK app entry: config in, stack out.
 *
 * Reads `config/orchestrator.config.ts`, or the file named by `ORCHESTRATOR_CONFIG` (JSON or a TS
 * module), validates it, and builds the orchestrator stack. An invalid config prints the
 * `ConfigError` message (every bad field path, one a line) and exits 1, without a stack trace.
 * Context `alertEmail` subscribes an e-mail address to the alert topic.
 */
import { ConfigError } from '../lib/config/schema';
import { createOrchestratorApp, loadOrchestratorConfig } from '../lib/app-factory';

function main(): void {
  let config;
  try {
    config = loadOrchestratorConfig();
  } catch (err) {
    if (err instanceof ConfigError || (err instanceof Error && err.message.startsWith('Config file'))) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { app } = createOrchestratorApp({ config });
  app.synth();
}

main();
