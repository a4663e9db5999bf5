/**
 * "Plan cycle": claims the slot (group + scheduled time) with one conditional write before
 * anything else, refuses a late slot, reads the halt flag and every agent's breaker in one
 * consistent batch, applies the group's overlap policy while numbering the cycle (the claim fixes
 * the number, per group: see `slots.ts`), claims HALF_OPEN probes, and lays the enabled agents of
 * the group out in phases.
 *
 * A slot that runs no cycle returns a plan with `skip: { reason, detail }` (duplicate, overlap,
 * late) or `halted: true` (halted); the state machine ends it at a skip state.
 *
 * "Now" for every decision (breaker open-until, trading hours, plannedAt, lateness) is the
 * execution start time from the payload, never the wall clock (the local runtime simulates time);
 * only a slot waiting under `BUFFER_ONE` reads the clock port (`deps.now`), since
 * its execution started before the wait.
 */
import * as z from 'zod';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemClock } from '../shared/clock';
import {
  cyclePlanSchema,
  cycleTriggerSchema,
  type AgentStateItem,
  type CyclePlan,
  type ParamChange,
  type SkippedAgent,
  type SlotSkipReason,
  type WorkItem,
} from '../shared/contracts';
import type { RegisteredAgent, SupervisorSettings } from '../shared/settings';
import type { AgentStateStore } from '../shared/supervision/agent-state-store';
import { claimProbe, planBreakerDecision, probeLeaseSeconds, type PlanBreakerDecision } from '../shared/supervision/breaker';
import { healthAdjustments } from '../shared/supervision/param-bounds';
import { buildPhase, topologicalLevels } from '../shared/supervision/phases';
import { outsideTradingHoursReason, withinTradingHours } from '../shared/supervision/trading-hours';
import { claimSlot, lastHaltMs, markSkipped, startCycle } from './slots';
import { GroupRequired } from '../shared/errors';

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
  /** Document client and Control table name: the group items (slot claims, counter, running marker) live there. */
  readonly doc: DynamoDBDocumentClient;
  readonly controlTable: string;
  /** Epoch ms clock, read only by a `BUFFER_ONE` slot that waited (its execution started before the wait). @default `systemClock.now` */
  readonly now?: () => number;
}

/** Seconds a `BUFFER_ONE` slot waits between two looks at the running cycle: a tenth of a cadence, 10..60 s. */
export function bufferWaitSeconds(cadenceMinutes: number): number {
  return Math.min(60, Math.max(10, Math.round((cadenceMinutes * 60) / 10)));
}

/**
 * The group a trigger runs: `trigger.group`, else the fleet's only group of enabled agents.
 * @throws {GroupRequired} when absent and there are several groups.
 */
export function groupOf(trigger: PlanPayload['trigger'], settings: SupervisorSettings): string {
  if (trigger.group) return trigger.group;
  const groups = [...new Set(settings.agents.filter((a) => a.enabled).map((a) => a.group))];
  if (groups.length === 1) return groups[0];
  throw new GroupRequired(
    `The cycle's input names no group and the fleet has ${groups.length} (${groups.join(', ')}): start it with {"group": "<name>"} (ops run-now --group NAME)`,
  );
}

/**
 * The slot key of a trigger: `event:<trigger>:<event id>` for an event (`cycle.triggers`), the
 * scheduled time (ISO, normalized) for a schedule, else `run:<execution name>` (each operator run is its own slot).
 */
export function slotKeyOf(trigger: PlanPayload['trigger'], executionName: string): string {
  // EventBridge delivers at least once: a redelivered event is a duplicate of its slot.
  if (trigger.source === 'event' && trigger.eventId) return `event:${trigger.trigger ?? ''}:${trigger.eventId}`;
  const t = trigger.scheduledTime === undefined ? NaN : Date.parse(trigger.scheduledTime);
  return Number.isFinite(t) ? new Date(t).toISOString() : `run:${executionName}`;
}

/** Per agent, what the planner decided. */
type Decision = { run: true; probe: boolean; state: AgentStateItem } | { run: false; reason: string; state: AgentStateItem };

/**
 * Plans one cycle. See the module comment and docs/supervision.md for the rules.
 * @returns the {@link CyclePlan}; halted, skipped and waiting plans have empty phases and take no
 *   number (their cycleSeq is the group's current counter, at least 1, as the schema requires).
 * @throws {GroupRequired} when the trigger names no group and the fleet has several.
 * @throws {Error} when the control item or an agent item is malformed, or DynamoDB fails
 *   ("Plan cycle" is retried by the state machine; a retry keeps the claim and the number).
 */
export async function planCycle(payload: PlanPayload, deps: PlanDeps): Promise<CyclePlan> {
  const { settings, store } = deps;
  const cycleId = payload.executionName;
  const nowMs = Date.parse(payload.executionStartTime);
  const plannedAt = new Date(nowMs).toISOString();
  const group = groupOf(payload.trigger, settings);
  const slotKey = slotKeyOf(payload.trigger, cycleId);
  const slot = `${group}@${slotKey}`;
  const agents = settings.agents.filter((a) => a.enabled && a.group === group);
  const cadenceSeconds = settings.cadenceMinutes * 60;
  const maxLatenessSeconds = settings.maxLatenessSeconds ?? cadenceSeconds;

  // 1. The claim, before anything else.
  const claim = await claimSlot(deps.doc, deps.controlTable, { group, slotKey, cycleId, nowIso: plannedAt });
  const base = { cycleId, plannedAt, group, slot, riskTimeoutSeconds: settings.riskTimeoutSeconds, phases: [], skipped: [], adjustments: [] };
  const skippedPlan = (reason: SlotSkipReason, detail: string, mode: CyclePlan['mode'] = 'normal'): CyclePlan => ({
    ...base,
    cycleSeq: Math.max(1, claim.item.cycleSeq),
    halted: false,
    mode,
    skip: { reason, detail },
  });
  if (!claim.mine) return skippedPlan('duplicate', `slot ${slot} is already claimed by ${claim.holder.cycleId} (at ${claim.holder.claimedAt})`);

  const { control, states } = await store.readControlAndAgents(agents.map((a) => a.name));
  const haltedPlan = (reason: string | undefined): CyclePlan => ({
    ...base,
    cycleSeq: Math.max(1, claim.item.cycleSeq),
    halted: true,
    haltReason: reason ?? 'system halted',
    mode: control.mode,
  });
  if (claim.claim.skip === 'halted') return haltedPlan(control.reason);
  if (claim.claim.skip) return skippedPlan(claim.claim.skip, `decided by an earlier attempt of this plan for slot ${slot}`, control.mode);

  let cycleSeq = claim.claim.cycleSeq;
  if (cycleSeq === undefined) {
    // 2. Late: Scheduler retries a failed start for up to 24 h; a late cycle would trade on an old bar.
    if (payload.trigger.scheduledTime !== undefined && !slotKey.startsWith('run:') && !slotKey.startsWith('event:')) {
      const waitingNow = claim.item.waiting?.cycleId === cycleId ? Math.max(nowMs, (deps.now ?? systemClock.now)()) : nowMs;
      const lateSeconds = (waitingNow - Date.parse(slotKey)) / 1000;
      if (lateSeconds > maxLatenessSeconds) {
        await markSkipped(deps.doc, deps.controlTable, { group, slotKey, cycleId, skip: 'late' });
        return skippedPlan(
          'late',
          `slot ${slot} started ${Math.round(lateSeconds)} s after its scheduled time, over cycle.maxLatenessSeconds (${maxLatenessSeconds} s)`,
          control.mode,
        );
      }
    }
    // 3. Paused by an operator (ops pause GROUP --reason): the slot is skipped with the note.
    const paused = claim.item.paused;
    if (paused) {
      await markSkipped(deps.doc, deps.controlTable, { group, slotKey, cycleId, skip: 'paused' });
      return skippedPlan('paused', `group ${group} paused by ${paused.actor} at ${paused.at}: ${paused.reason}`, control.mode);
    }
    // 4. Halted: no cycle runs, not even one started by hand.
    if (control.halted) {
      await markSkipped(deps.doc, deps.controlTable, { group, slotKey, cycleId, skip: 'halted' });
      return haltedPlan(control.reason);
    }
    // 5. Overlap policy and the number, in one conditional write.
    const policy = settings.overlapPolicies[group] ?? 'SKIP';
    const started = await startCycle(
      deps.doc,
      deps.controlTable,
      {
        group,
        slotKey,
        cycleId,
        since: plannedAt,
        policy,
        nowMs: Math.max(nowMs, claim.item.waiting?.cycleId === cycleId ? (deps.now ?? systemClock.now)() : nowMs),
        cycleTimeoutSeconds: settings.cycleTimeoutSeconds ?? Math.max(3600, 2 * cadenceSeconds),
        lastHaltMs: lastHaltMs(control),
        pruneBeforeMs: nowMs - 2 * (maxLatenessSeconds + cadenceSeconds) * 1000,
      },
      claim.item,
    );
    if (!started.started) {
      if ('wait' in started)
        return { ...skippedPlan('overlap', started.detail, control.mode), skip: undefined, waitSeconds: bufferWaitSeconds(settings.cadenceMinutes) };
      return skippedPlan('overlap', started.detail, control.mode);
    }
    cycleSeq = started.cycleSeq;
  }

  // Probes claimed before the last halt were stopped by the kill switch: free again (breaker.ts).
  const haltMs = lastHaltMs(control);
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
      if (!d) return { run: false, reason: `dependency ${dep} skipped: not planned in this cycle (group ${group})`, state };
      if (!d.run) return { run: false, reason: `dependency ${dep} skipped: ${d.reason}`, state };
    }
    if (state.disabled) return { run: false, reason: `paused by ${state.disabled.actor} at ${state.disabled.at}: ${state.disabled.reason}`, state };
    if (agent.tradingHours && !withinTradingHours(agent.tradingHours, nowMs)) {
      return { run: false, reason: outsideTradingHoursReason(agent.tradingHours), state };
    }
    const decision = planBreakerDecision(state, cycleId, nowMs, lease, haltMs);
    switch (decision.action) {
      case 'run':
        return { run: true, probe: false, state };
      case 'probe':
        return { run: true, probe: true, state };
      case 'skip':
        return { run: false, reason: decision.reason, state };
      case 'claim': {
        const claim = await store.update<PlanBreakerDecision>(
          agent.name,
          (current) => {
            // Recompute on the fresh state: only claim if the probe is still free for us.
            const again = planBreakerDecision(current, cycleId, nowMs, lease, haltMs);
            if (again.action !== 'claim') return { next: undefined, info: again };
            return { next: { ...claimProbe(current, cycleId, plannedAt), version: current.version + 1 }, info: again };
          },
          state,
        );
        if (claim.written) return { run: true, probe: true, state: claim.state };
        const lost = claim.info;
        if (lost.action === 'probe') return { run: true, probe: true, state: claim.state };
        if (lost.action === 'run') return { run: true, probe: false, state: claim.state };
        const holder = claim.state.probeCycleId;
        return {
          run: false,
          reason: holder ? `probe already taken by ${holder}` : lost.action === 'skip' ? lost.reason : 'probe not available',
          state: claim.state,
        };
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
    group,
    slot,
    plannedAt,
    halted: false,
    mode: control.mode,
    riskTimeoutSeconds: settings.riskTimeoutSeconds,
    phases: phaseItems.map((items, index) => buildPhase(index, items, settings.maxWorkers)),
    skipped,
    adjustments,
  });
}
