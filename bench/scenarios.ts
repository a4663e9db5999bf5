/**
 * The benchmark's configurations, built from the config `resolveConfig` found (the default config
 * unless `--config` / ORCHESTRATOR_CONFIG name another): the specification's worked example (risk
 * 62 s, trading 45 s, strategy 120 s, copybot 300 s, sentiment 38 s, scaled from seconds to
 * milliseconds; requirement R-BENCH-EXAMPLE in docs/requirements.md) and synthetic fleets of K agents
 * of fixed duration. Every agent is the synthetic fixture, so the figures are the orchestrator's, not
 * the agents' work.
 */
import { validateConfig, type OrchestratorConfig, type OrchestratorConfigInput } from '../lib/config/schema';

/** Fixture entries, relative to the repo root. */
export const SYNTHETIC_AGENT = 'bench/fixtures/synthetic-agent.ts';
export const SYNTHETIC_RISK = 'bench/fixtures/synthetic-risk.ts';

/** The specification's example durations, seconds; the benchmark runs them as milliseconds. */
export const SPEC_EXAMPLE = { risk: 62, agents: { trading: 45, strategy: 120, copybot: 300, sentiment: 38 } } as const;

/** The config as its file holds it (`ResolvedConfig.raw`); only its sections are spread, the fleet is replaced. */
type BaseConfig = Partial<OrchestratorConfigInput>;
const sections = (base: unknown): BaseConfig => (base && typeof base === 'object' ? (base as BaseConfig) : {});

/**
 * The example's fleet with synthetic agents taking the example's durations (ms), no dependencies (as
 * in the example), `maxWorkers` slots.
 * @param base - the raw config the sections (cycle, risk, ...) come from.
 * @throws {ConfigError} when the result is invalid (e.g. `maxWorkers` over 40).
 */
export function specExampleConfig(base: unknown, maxWorkers: number): OrchestratorConfig {
  const b = sections(base);
  return validateConfig({
    ...b,
    cycle: { ...b.cycle, triggers: [], groups: {}, maxWorkers },
    risk: { ...b.risk, entry: SYNTHETIC_RISK },
    agents: Object.entries(SPEC_EXAMPLE.agents).map(([name, seconds]) => ({
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
 * @param base - the raw config the sections (cycle, risk, ...) come from.
 * @throws {ConfigError} when the result is invalid.
 */
export function syntheticFleetConfig(base: unknown, k: number, durationMs: number, maxWorkers: number): OrchestratorConfig {
  const b = sections(base);
  return validateConfig({
    ...b,
    cycle: { ...b.cycle, triggers: [], groups: {}, maxWorkers },
    risk: { ...b.risk, entry: SYNTHETIC_RISK },
    monitoring: { perAgentMetrics: false, perAgentAlarms: false },
    agents: Array.from({ length: k }, (_, i) => ({ name: `agent-${i}`, entry: SYNTHETIC_AGENT, faultDomain: 'strategy' as const, params: { durationMs } })),
  });
}
