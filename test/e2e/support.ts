/**
 * Shared setup of the e2e suites: configs for the local runtime and small readers over its
 * reports and event logs. Everything runs in-process: the deployed ASL on aws-local-stepfunctions,
 * the real handlers, dynalite on loopback.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type OrchestratorConfig, type OrchestratorConfigInput } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';
import type { ExecutionEvent } from '../../local/executions';
import type { Fault } from '../../local/faults';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

/** Generous e2e timeout per test (ms). */
export const E2E_TIMEOUT = 60_000;

/**
 * The fixture fleet (test/fixtures/fleet.ts) with risk limits raised far above what the agents trade, so the risk gate says
 * OK and each test sees only the behaviour it injects.
 */
export function e2eConfig(patch: (c: OrchestratorConfigInput) => void = () => undefined): OrchestratorConfig {
  const c = JSON.parse(JSON.stringify(defaultConfig)) as OrchestratorConfigInput;
  c.risk = {
    ...c.risk,
    limits: {
      maxOrderNotionalUsd: 1e7,
      maxPositionUsd: 1e8,
      maxGrossExposureUsd: 1e9,
      maxDailyLossFraction: 0.9,
      maxDrawdownFraction: 0.9,
      minCashUsd: 0,
      maxVarFraction: 0.9,
      maxConcentrationFraction: 1,
    },
  };
  patch(c);
  return validateConfig(c);
}

/**
 * Starts a fresh, quiet runtime that does not write the repo's state dir, on the synthesized app
 * shared by the run's test files (`synthAppModel`'s disk cache).
 */
export function start(opts: { config?: OrchestratorConfig; faults?: Fault[]; timeScale?: number } = {}): Promise<LocalRuntime> {
  const config = opts.config ?? e2eConfig();
  return startLocalRuntime({
    config,
    faults: opts.faults,
    timeScale: opts.timeScale,
    quiet: true,
    save: false,
    stateDir: mkdtempSync(join(tmpdir(), 'e2e-state-')),
  });
}

/** Names of the states entered, in order, with the agent for "Run ... agent" states. */
export function entered(events: ExecutionEvent[]): string[] {
  return events
    .filter((e) => e.type === 'StateEntered')
    .map((e) => {
      const st = e.state as { name: string; input?: { item?: { agent?: string } } };
      return st.input?.item?.agent ? `${st.name}:${st.input.item.agent}` : st.name;
    });
}
