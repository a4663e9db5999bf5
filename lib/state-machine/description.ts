/**
 * The typed description of the cycle state machine: the state names, the execution timeout, the
 * risk gate's retry policy and one fan-out branch per fault domain with its retry policy. Everything
 * in the definition that varies (with the config or per fault domain) is here; `definition.ts`
 * renders it to Amazon States Language.
 *
 * **Adding a fault domain** is adding its name to `FAULT_DOMAIN_NAMES` and its default retries to
 * `FAULT_DOMAIN_DEFAULT_MAX_RETRIES`, both in `lambdas/shared/contracts.ts`; nothing here changes.
 * {@link describeCycle} yields one {@link FaultDomainBranch} per name, with the retry policy of
 * `faultDomains.<domain>` in the config, and the renderer adds its Map ("Run <domain> agents") to
 * "Run agents"; no state in this module or in `definition.ts` names a domain.
 */
import { cycleTimeoutSeconds, FAULT_DOMAINS, type FaultDomain, type OrchestratorConfig } from '../config/schema';

/**
 * Names of the cycle's fixed states, as the Step Functions console shows them (prose, not
 * identifiers). Tests, the local runtime's report and the docs refer to states by these names.
 */
export const CYCLE_STATES = {
  planCycle: 'Plan cycle',
  cycleNotPlanned: 'Cycle not planned',
  checkHaltFlag: 'Check halt flag',
  skipHalted: 'Skip cycle (system halted)',
  skipSlot: 'Skip cycle (slot not run)',
  waitForRunningCycle: 'Wait for the running cycle',
  assessRisk: 'Assess risk',
  verifyRiskVerdict: 'Verify risk verdict',
  failClosed: 'Fail closed',
  checkRiskVerdict: 'Check risk verdict',
  enterSafeMode: 'Enter safe mode',
  haltOnRisk: 'Engage kill switch (risk)',
  haltedByRiskUnconfirmed: 'Cycle halted by risk',
  stoppedByRisk: 'Cycle stopped (halted by risk)',
  matchWorkingOrders: 'Match working orders',
  runPhases: 'Run phases',
  runAgents: 'Run agents',
  recordOutcomes: 'Record outcomes',
  recordFailed: 'Record failed: escalate',
  checkEscalation: 'Check escalation',
  haltOnEscalation: 'Engage kill switch (supervisor)',
  haltedBySupervisorUnconfirmed: 'Cycle halted by supervisor',
  stoppedBySupervisor: 'Cycle stopped (halted by supervisor)',
  cycleComplete: 'Cycle complete',
} as const;

/**
 * A Step Functions retry policy for errors that are worth retrying (ASL `Retrier`).
 * Delays are `intervalSeconds * backoffRate^n` for the n-th retry (n from 0).
 */
export interface RetryPolicy {
  /** Retries after the first attempt (ASL `MaxAttempts`); 0 means the error is not retried. */
  readonly maxRetries: number;
  /** First retry delay, seconds (ASL `IntervalSeconds`, an integer of at least 1). */
  readonly intervalSeconds: number;
  /** Multiplier of the delay per retry (ASL `BackoffRate`, at least 1.0). */
  readonly backoffRate: number;
}

/** The states of one fault domain's branch of "Run agents", by role. */
export interface FaultDomainStateNames {
  /** The domain's Map over the phase's agents: `Run <domain> agents`. */
  readonly fanOut: string;
  /** The agent task inside it: `Run <domain> agent`. */
  readonly runAgent: string;
  /** The order gateway's task on the agent's result: `Execute <domain> agent orders`. */
  readonly executeOrders: string;
  /** The Pass state turning a caught error into a FAILED outcome: `Record <domain> agent failure`. */
  readonly recordFailure: string;
}

/** One fault domain's fan-out branch of "Run agents". */
export interface FaultDomainBranch {
  /** The domain; also the key of its work items (`$.phase.<domain>`) and share of `maxWorkers` (`$.phase.concurrency.<domain>`) in the plan's `Phase`. */
  readonly domain: FaultDomain;
  /** Retry policy of the agent's own errors (`faultDomains.<domain>` in the config). */
  readonly retry: RetryPolicy;
  /** Its state names (see {@link faultDomainStateNames}). */
  readonly states: FaultDomainStateNames;
}

/** Everything the rendered definition depends on. */
export interface CycleDescription {
  /** Execution timeout, seconds (ASL `TimeoutSeconds`): see `cycleTimeoutSeconds` in `lib/config/schema.ts`. */
  readonly timeoutSeconds: number;
  /** Retry policy of "Assess risk" (`risk.maxRetries`, `risk.intervalSeconds`, `risk.backoffRate`); after it the cycle fails closed. */
  readonly risk: RetryPolicy;
  /** One branch per fault domain, in `FAULT_DOMAINS` order (the order of "Run agents"' `Branches`). */
  readonly faultDomains: ReadonlyArray<FaultDomainBranch>;
}

/** State names of a fault domain's branch, e.g. `Run data agents`, `Run data agent`, `Execute data agent orders`, `Record data agent failure`. */
export function faultDomainStateNames(domain: FaultDomain): FaultDomainStateNames {
  return {
    fanOut: `Run ${domain} agents`,
    runAgent: `Run ${domain} agent`,
    executeOrders: `Execute ${domain} agent orders`,
    recordFailure: `Record ${domain} agent failure`,
  };
}

/**
 * The description of a validated config's cycle. The definition depends only on the cadence (the
 * timeout), the risk retry policy and the fault domains' retry policies, never on the agents: the
 * plan carries the agents at run time.
 */
export function describeCycle(config: OrchestratorConfig): CycleDescription {
  const policy = (p: RetryPolicy): RetryPolicy => ({ maxRetries: p.maxRetries, intervalSeconds: p.intervalSeconds, backoffRate: p.backoffRate });
  return {
    timeoutSeconds: cycleTimeoutSeconds(config),
    risk: policy(config.risk),
    faultDomains: FAULT_DOMAINS.map((domain) => ({ domain, retry: policy(config.faultDomains[domain]), states: faultDomainStateNames(domain) })),
  };
}
