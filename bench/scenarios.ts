/**
 * The benchmark's configurations, built from the default config: the seed's own example (risk
 * 62 s, trading 45 s, strategy 120 s, copybot 300 s, sentiment 38 s, scaled from seconds to
 * milliseconds) and synthetic fleets of K agents of fixed duration. Every agent is the synthetic
 * fixture, so the figures are the orchestrator's, not the agents' work.
 */
import { validateConfig, type OrchestratorConfig } from '../lib/config/schema';
import defaults from '../config/orchestrator.config';

/** Fixture entries, relative to the repo root. */
export const SYNTHETIC_AGENT = 'bench/fixtures/synthetic-agent.ts';
export const SYNTHETIC_RISK = 'bench/fixtures/synthetic-risk.ts';

/** The seed's example durations, seconds; the benchmark runs them as milliseconds. */
export const SEED_EXAMPLE = { risk: 62, agents: { trading: 45, strategy: 120, copybot: 300, sentiment: 38 } } as const;

/** The seed's fleet with synthetic agents taking the seed's durations (ms), no dependencies (as in the seed's example), `maxWorkers` slots. */
export function seedExampleConfig(maxWorkers: number): OrchestratorConfig {
  return validateConfig({
    ...defaults,
    cycle: { ...defaults.cycle, maxWorkers },
    risk: { ...defaults.risk, entry: SYNTHETIC_RISK },
    agents: Object.entries(SEED_EXAMPLE.agents).map(([name, seconds]) => ({
      name,
      entry: SYNTHETIC_AGENT,
      faultDomain: 'strategy' as const,
      params: { durationMs: seconds },
    })),
  });
}

/**
 * K synthetic agents of `durationMs` each, all in one phase, sharing one function (one code
 * entry), with fleet-wide alarms instead of per-agent ones (constant alarm count).
 */
export function syntheticFleetConfig(k: number, durationMs: number, maxWorkers: number): OrchestratorConfig {
  return validateConfig({
    ...defaults,
    cycle: { ...defaults.cycle, maxWorkers },
    risk: { ...defaults.risk, entry: SYNTHETIC_RISK },
    monitoring: { perAgentMetrics: false, perAgentAlarms: false },
    agents: Array.from({ length: k }, (_, i) => ({ name: `agent-${i}`, entry: SYNTHETIC_AGENT, faultDomain: 'strategy' as const, params: { durationMs } })),
  });
}
