/**
 * When "Record outcomes" escalates to the Master (who halts the system). Pure.
 *
 * - any critical-domain agent FAILED: `critical agent <name> failed: <reason>` (R-FAULT-DOMAINS: critical
 *   agents are fail-stop, their failure goes to the Master);
 * - OPEN breakers / enabled agents >= `maxOpenBreakerFraction` (config, default 0.5):
 *   `<n> of <m> enabled agents have an OPEN breaker (>= <pct> %)`.
 * A data or strategy agent's failure alone never escalates (the breaker handles it).
 */
import type { FaultDomainName } from '../shared/contracts';

/** Decision returned to the state machine (`escalationReason` is '' when not escalating). */
export interface Escalation {
  readonly escalate: boolean;
  readonly escalationReason: string;
}

/**
 * @param outcomes - this cycle's outcomes with their fault domain.
 * @param openBreakers - enabled agents whose breaker is OPEN after this cycle.
 * @param enabledAgents - enabled agents (all groups).
 * @param maxOpenBreakerFraction - fraction 0..1.
 */
export function decideEscalation(
  outcomes: ReadonlyArray<{ name: string; outcome: string; faultDomain: FaultDomainName; reason?: string }>,
  openBreakers: number,
  enabledAgents: number,
  maxOpenBreakerFraction: number,
): Escalation {
  const reasons = outcomes
    .filter((o) => o.faultDomain === 'critical' && o.outcome === 'FAILED')
    .map((o) => `critical agent ${o.name} failed: ${o.reason ?? 'unknown reason'}`);
  if (enabledAgents > 0 && openBreakers / enabledAgents >= maxOpenBreakerFraction) {
    reasons.push(`${openBreakers} of ${enabledAgents} enabled agents have an OPEN breaker (>= ${Math.round(maxOpenBreakerFraction * 100)} %)`);
  }
  return { escalate: reasons.length > 0, escalationReason: reasons.join('; ') };
}
