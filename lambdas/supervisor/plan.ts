/**
 * "Plan cycle": reads the halt flag and every agent's breaker in one consistent batch, numbers
 * the cycle, claims HALF_OPEN probes, and lays the enabled agents out in phases.
 *
 * "Now" for every decision (breaker open-until, trading hours, plannedAt) is the execution start
 * time from the payload, never the wall clock (the local runtime simulates time).
 */
import * as z from 'zod';
import { cyclePlanSchema, cycleTriggerSchema, type AgentStateItem, type CyclePlan, type ParamChange, type SkippedAgent, type WorkItem } from '../shared/contracts';
import type { RegisteredAgent, SupervisorSettings } from '../shared/settings';
import type { AgentStateStore } from '../shared/supervision/agent-state-store';
import { claimProbe, planBreakerDecision, probeLeaseSeconds, type PlanBreakerDecision } from '../shared/supervision/breaker';
import { healthAdjustments } from '../shared/supervision/param-bounds';
import { buildPhase, topologicalLevels } from '../shared/supervision/phases';
import { outsideTradingHoursReason, withinTradingHours } from '../shared/supervision/trading-hours';

/** Payload of "Plan cycle" (see `statemachines/cycle.asl.json`). */
export const planPayloadSchema = z.object({
  action: z.literal('plan'),
  /** `$$.Execution.Name`: becomes the cycle id. */
  executionName: z.string().min(1),
  /** `$$.Execution.StartTime`, ISO 8601: the cycle's "now". */
  executionStartTime: z.string().refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO 8601 time'),
  /** The execution input. */
  trigger: cycleTriggerSchema.prefault({}),
});
export type PlanPayload = z.infer<typeof planPayloadSchema>;

/** What planning needs. */
export interface PlanDeps {
  readonly store: AgentStateStore;
  readonly settings: SupervisorSettings;
}

/** Per agent, what the planner decided. */
type Decision = { run: true; probe: boolean; state: AgentStateItem } | { run: false; reason: string; state: AgentStateItem };

/**
 * Plans one cycle. See the module comment and docs/supervision.md for the rules.
 * @returns the {@link CyclePlan}; halted plans have empty phases and do not increment cycleSeq
 *   (their cycleSeq is the current counter, at least 1, as the schema requires).
 * @throws {Error} when the control item or an agent item is malformed, or DynamoDB fails
 *   ("Plan cycle" is retried by the state machine).
 */
export async function planCycle(payload: PlanPayload, deps: PlanDeps): Promise<CyclePlan> {
  const { settings, store } = deps;
  const cycleId = payload.executionName;
  const nowMs = Date.parse(payload.executionStartTime);
  const plannedAt = new Date(nowMs).toISOString();
  const group = payload.trigger.group;
  const agents = settings.agents.filter((a) => a.enabled && (group === undefined || a.group === group));

  const { control, states } = await store.readControlAndAgents(agents.map((a) => a.name));
  const haltedPlan = (seq: number, reason: string | undefined): CyclePlan => ({
    cycleId,
    cycleSeq: Math.max(1, seq),
    plannedAt,
    halted: true,
    haltReason: reason ?? 'system halted',
    mode: control.mode,
    riskTimeoutSeconds: settings.riskTimeoutSeconds,
    phases: [],
    skipped: [],
    adjustments: [],
  });
  if (control.halted) return haltedPlan(control.cycleSeq, control.reason);

  const cycleSeq = await store.incrementCycleSeq();
  if (cycleSeq === undefined) {
    // Halted between our read and the increment: re-read for the reason.
    const fresh = await store.readControlAndAgents([]);
    return haltedPlan(fresh.control.cycleSeq, fresh.control.reason);
  }

  const byName = new Map(agents.map((a) => [a.name, a]));
  const levels = topologicalLevels(agents);
  const lease = probeLeaseSeconds(settings.breaker, settings.cadenceMinutes);
  const decisions = new Map<string, Decision>();

  for (const level of levels) {
    await Promise.all(
      level.map(async (name) => {
        const agent = byName.get(name)!;
        const state = states.get(name)!;
        decisions.set(name, await decide(agent, state));
      }),
    );
  }

  async function decide(agent: RegisteredAgent, state: AgentStateItem): Promise<Decision> {
    for (const dep of agent.dependsOn) {
      const d = decisions.get(dep);
      if (!d) return { run: false, reason: `dependency ${dep} skipped: not planned in this cycle${group ? ` (group ${group})` : ''}`, state };
      if (!d.run) return { run: false, reason: `dependency ${dep} skipped: ${d.reason}`, state };
    }
    if (agent.tradingHours && !withinTradingHours(agent.tradingHours, nowMs)) {
      return { run: false, reason: outsideTradingHoursReason(agent.tradingHours), state };
    }
    const decision = planBreakerDecision(state, cycleId, nowMs, lease);
    switch (decision.action) {
      case 'run':
        return { run: true, probe: false, state };
      case 'probe':
        return { run: true, probe: true, state };
      case 'skip':
        return { run: false, reason: decision.reason, state };
      case 'claim': {
        const claim = await store.update<PlanBreakerDecision>(agent.name, (current) => {
          // Recompute on the fresh state: only claim if the probe is still free for us.
          const again = planBreakerDecision(current, cycleId, nowMs, lease);
          if (again.action !== 'claim') return { next: undefined, info: again };
          return { next: { ...claimProbe(current, cycleId, plannedAt), version: current.version + 1 }, info: again };
        }, state);
        if (claim.written) return { run: true, probe: true, state: claim.state };
        const lost = claim.info;
        if (lost.action === 'probe') return { run: true, probe: true, state: claim.state };
        if (lost.action === 'run') return { run: true, probe: false, state: claim.state };
        const holder = claim.state.probeCycleId;
        return { run: false, reason: holder ? `probe already taken by ${holder}` : lost.action === 'skip' ? lost.reason : 'probe not available', state: claim.state };
      }
    }
  }

  const skipped: SkippedAgent[] = [];
  const adjustments: ParamChange[] = [];
  const phaseItems: WorkItem[][] = [];
  for (const level of levels) {
    const items: WorkItem[] = [];
    for (const name of level) {
      const agent = byName.get(name)!;
      const d = decisions.get(name)!;
      if (!d.run) {
        skipped.push({ agent: name, reason: d.reason, breaker: d.state.breaker });
        continue;
      }
      const adjusted = healthAdjustments(name, agent.params, d.state.health, settings.maxParamAdjustFraction);
      adjustments.push(...adjusted.changes);
      items.push({
        agent: name,
        functionArn: agent.functionArn,
        timeoutSeconds: agent.timeoutSeconds,
        faultDomain: agent.faultDomain,
        params: adjusted.params,
        dependsOn: [...agent.dependsOn],
        probe: d.probe,
      });
    }
    if (items.length > 0) phaseItems.push(items);
  }

  return cyclePlanSchema.parse({
    cycleId,
    cycleSeq,
    plannedAt,
    halted: false,
    mode: control.mode,
    riskTimeoutSeconds: settings.riskTimeoutSeconds,
    phases: phaseItems.map((items, index) => buildPhase(index, items, settings.maxWorkers)),
    skipped,
    adjustments,
  });
}
