/**
 * Builds the JSON settings the Lambdas receive (see `lambdas/shared/settings.ts`) from the
 * validated config. Used by the CDK constructs (with real function ARNs) and by the local
 * runtime (with local ARNs), so both hand the handlers the same settings.
 */
import { perFaultDomain } from '../../lambdas/shared/contracts';
import { cycleTimeoutSeconds, overlapPolicyOf, type OrchestratorConfig } from './schema';
import type { SupervisorSettings, TradingSettings } from '../../lambdas/shared/settings';

/**
 * @param config - validated config.
 * @param functionArns - agent name -> function ARN (or a CDK token string). Every enabled agent needs one.
 * @throws {Error} when an enabled agent has no ARN.
 */
export function supervisorSettingsFromConfig(config: OrchestratorConfig, functionArns: Record<string, string>): SupervisorSettings {
  return {
    agents: config.agents.map((a) => {
      const functionArn = functionArns[a.name];
      if (!functionArn && a.enabled) throw new Error(`No function ARN for enabled agent "${a.name}"`);
      return {
        name: a.name,
        functionArn: functionArn ?? '',
        enabled: a.enabled,
        group: a.group,
        dependsOn: a.dependsOn,
        faultDomain: a.faultDomain,
        timeoutSeconds: a.timeoutSeconds,
        tradingHours: a.tradingHours,
        params: a.params,
      };
    }),
    maxWorkers: config.cycle.maxWorkers,
    cadenceMinutes: config.cycle.cadenceMinutes,
    riskTimeoutSeconds: config.risk.timeoutSeconds,
    reportRetentionDays: config.cycle.reportRetentionDays,
    breaker: { ...config.breaker },
    maxRetries: perFaultDomain((d) => config.faultDomains[d].maxRetries),
    maxOpenBreakerFraction: config.supervisor.maxOpenBreakerFraction,
    perAgentMetrics: config.monitoring.perAgentMetrics,
    maxParamAdjustFraction: config.supervisor.maxParamAdjustFraction,
    overlapPolicies: Object.fromEntries([...new Set(config.agents.map((a) => a.group))].map((g) => [g, overlapPolicyOf(config, g)])),
    maxLatenessSeconds: config.cycle.maxLatenessSeconds,
    cycleTimeoutSeconds: cycleTimeoutSeconds(config),
  };
}

/** Risk limits, paper account and replay settings for the risk Lambda and the trading agents. */
export function tradingSettingsFromConfig(config: OrchestratorConfig): TradingSettings {
  return {
    startingCashUsd: config.portfolio.startingCashUsd,
    universe: config.portfolio.universe,
    allowShort: config.agents.filter((a) => a.allowShort).map((a) => a.name),
    // A daily-loss budget is a fraction of the agent's allocation: default an equal share of the starting cash.
    budgets: Object.fromEntries(
      config.agents
        .filter((a) => a.budget)
        .map((a) => [
          a.name,
          {
            ...a.budget,
            ...(a.budget?.maxDailyLossFraction !== undefined && a.budget.allocationUsd === undefined
              ? { allocationUsd: config.portfolio.startingCashUsd / Math.max(1, config.agents.filter((x) => x.enabled).length) }
              : {}),
          },
        ]),
    ),
    limits: { ...config.risk.limits },
    varWindow: config.risk.varWindow,
    varConfidence: config.risk.varConfidence,
    startBar: config.marketData.startBar,
    maxStaleBars: config.marketData.maxStaleBars,
    suspectMoveFraction: config.marketData.suspectMoveFraction,
    perAgentMetrics: config.monitoring.perAgentMetrics,
  };
}
