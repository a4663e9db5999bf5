/**
 * "Record outcomes": interprets each agent's outcome, updates every agent's state item with one
 * version-conditional write (health, counters, breaker transition), writes the cycle report,
 * emits metrics and decides whether to escalate to the Master.
 *
 * Idempotent: an agent item that already holds this cycle id is not updated again, so a retried
 * "Record outcomes" never double counts; the transition the first attempt made is still reported
 * (the item keeps `lastTransition`). Last, it removes the group's "cycle running" marker.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { cyclePlanSchema, MODES, recordResultSchema, type AgentOutcome, type AgentStateItem, type RecordResult } from '../shared/contracts';
import { systemClock } from '../shared/clock';
import type { SupervisorSettings } from '../shared/settings';
import { applyOutcome } from '../shared/supervision/agent-state';
import type { AgentStateStore } from '../shared/supervision/agent-state-store';
import { recordCycleDuration } from './cycle-stats';
import { decideEscalation } from './escalation';
import { agentMetricValues, cycleMetricValues, fleetAggregates, type MetricValue } from './metrics';
import { interpretCycle } from './outcomes';
import { endCycle } from './slots';

/** "Assess risk"'s result as "Record outcomes" reads it: `{ assessment: { verdict?, reasons? } }`, other fields passed through. */
const riskResultSchema = z
  .object({
    assessment: z
      .object({ verdict: z.string().optional(), reasons: z.array(z.string()).optional() })
      .passthrough()
      .optional(),
  })
  .passthrough()
  .optional();

/**
 * Payload of "Record outcomes" (see `statemachines/cycle.asl.json`): the cycle id, the mode
 * ("Enter safe mode" may have switched it to `safe`), the risk result and, per phase, the raw
 * outcomes. The work items are read back from the stored plan (`plan-store.ts`).
 */
export const recordPayloadSchema = z.object({
  action: z.literal('record'),
  cycleId: z.string().min(1),
  mode: z.enum(MODES),
  /** `{ assessment }` from "Assess risk". */
  risk: riskResultSchema,
  /** Per phase: `[data[], strategy[], critical[]]` raw outcomes, in the order of the plan's items. */
  phaseResults: z.array(z.unknown()).default([]),
});

/** What {@link recordOutcomes} records: the stored plan (with the cycle's mode), the risk result and the raw outcomes. */
export const recordInputSchema = z.object({
  /** The plan; `mode` may have been switched to `safe` by "Enter safe mode". */
  plan: cyclePlanSchema,
  /** `{ assessment }` from "Assess risk". */
  risk: riskResultSchema,
  /** Per phase: `[data[], strategy[], critical[]]` raw outcomes. */
  phaseResults: z.array(z.unknown()).default([]),
});
export type RecordInput = z.infer<typeof recordInputSchema>;

/** What recording needs. */
export interface RecordDeps {
  readonly store: AgentStateStore;
  readonly settings: SupervisorSettings;
  readonly doc: DynamoDBDocumentClient;
  /** Cycles table name (report and stats items). */
  readonly cyclesTable: string;
  /** Powertools Metrics; omitted in pure tests. */
  readonly metrics?: Metrics;
  /** Control table name: the group item's running marker is removed once the report is written (`slots.ts`). Omitted: left alone. */
  readonly controlTable?: string;
  /** Epoch ms clock (the report's `recordedAt`, the cycle duration, breaker times). @default `systemClock.now` */
  readonly now?: () => number;
}

/**
 * Records one cycle. See the module comment and docs/supervision.md.
 * @returns the {@link RecordResult} the state machine reads (`escalate`, `escalationReason`).
 * @throws {AgentStateConflict} when an agent item kept losing races; other DynamoDB errors as is
 *   (the state machine retries "Record outcomes", which is idempotent).
 */
export async function recordOutcomes(payload: RecordInput, deps: RecordDeps): Promise<RecordResult> {
  const { plan } = payload;
  const { settings, store } = deps;
  const nowMs = (deps.now ?? systemClock.now)();
  const interpreted = interpretCycle(plan, payload.phaseResults, settings);

  const updated = await Promise.all(
    interpreted.map(async (o) => {
      const res = await store.update(o.name, (current) => {
        const step = applyOutcome(current, o, { cycleId: plan.cycleId, nowMs, breaker: settings.breaker });
        return step.applied ? { next: step.state, info: step } : { next: undefined, info: step };
      });
      return { o, state: res.state, transition: res.info.transition, applied: res.info.applied };
    }),
  );

  const states = new Map<string, AgentStateItem>(updated.map((u) => [u.o.name, u.state]));
  const enabled = settings.agents.filter((a) => a.enabled).map((a) => a.name);
  const others = enabled.filter((n) => !states.has(n));
  if (others.length > 0) {
    const { states: rest } = await store.readControlAndAgents(others);
    for (const [k, v] of rest) states.set(k, v);
  }
  const openBreakers = enabled.filter((n) => states.get(n)?.breaker === 'OPEN').length;
  const escalation = decideEscalation(interpreted, openBreakers, enabled.length, settings.maxOpenBreakerFraction);

  const outcomes: AgentOutcome[] = updated.map(({ o, state, transition }) => ({
    name: o.name,
    outcome: o.outcome,
    durationMs: o.durationMs,
    attempts: o.attempts,
    breaker: state.breaker,
    ...(transition ? { breakerTransition: transition } : {}),
    health: state.health,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.summary !== undefined ? { summary: o.summary } : {}),
    ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
    ...(o.phase !== undefined ? { phase: o.phase } : {}),
    probe: o.probe,
  }));

  const startedMs = Date.parse(plan.plannedAt);
  const durationMs = Math.max(0, nowMs - startedMs);
  const ratio = await recordCycleDuration(deps.doc, deps.cyclesTable, plan.cycleId, durationMs);
  const assessment = payload.risk?.assessment;
  await deps.doc.send(
    new PutCommand({
      TableName: deps.cyclesTable,
      Item: {
        cycleId: plan.cycleId,
        sk: 'REPORT',
        cycleSeq: plan.cycleSeq,
        startedAt: plan.plannedAt,
        recordedAt: new Date(nowMs).toISOString(),
        durationMs,
        durationRatio: ratio,
        mode: plan.mode,
        riskVerdict: assessment?.verdict ?? 'UNKNOWN',
        riskReasons: assessment?.reasons ?? [],
        outcomes,
        skipped: plan.skipped,
        adjustments: plan.adjustments,
        escalate: escalation.escalate,
        escalationReason: escalation.escalationReason,
        expiresAt: Math.floor(nowMs / 1000) + settings.reportRetentionDays * 86_400,
      },
    }),
  );

  // The group runs no cycle any more (the overlap policy's marker), only once the report is written.
  if (deps.controlTable && plan.group) await endCycle(deps.doc, deps.controlTable, plan.group, plan.cycleId);

  if (deps.metrics) {
    const m = deps.metrics;
    const emit = (values: MetricValue[]) => values.forEach((v) => m.addMetric(v.name, v.unit as never, v.value));
    if (settings.perAgentMetrics) {
      for (const { o, state } of updated) {
        m.addDimension('agent', o.name);
        emit(agentMetricValues(o, state));
        m.publishStoredMetrics();
      }
    }
    emit(
      cycleMetricValues({
        durationMs,
        durationRatio: ratio,
        openBreakers,
        enabledAgents: enabled.length,
        ran: interpreted.filter((o) => o.outcome !== 'SKIPPED').length,
        failed: interpreted.filter((o) => o.outcome === 'FAILED').length,
        unhealthyAgents: enabled.filter((n) => states.get(n)?.health === 'UNHEALTHY').length,
        criticalFailures: interpreted.filter((o) => o.outcome === 'FAILED' && o.faultDomain === 'critical').length,
        ...fleetAggregates(enabled.map((n) => states.get(n)).filter((s): s is AgentStateItem => s !== undefined)),
      }),
    );
    m.publishStoredMetrics();
  }

  return recordResultSchema.parse({ cycleId: plan.cycleId, escalate: escalation.escalate, escalationReason: escalation.escalationReason, outcomes });
}
