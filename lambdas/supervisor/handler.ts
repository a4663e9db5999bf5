/**
 * The supervisor Lambda, behind two states of the cycle:
 * - `{ action: 'plan', executionName, executionStartTime, trigger }` -> CyclePlan ("Plan cycle": claims the
 *   slot, numbers the cycle per group; a duplicate, overlapping or late slot returns a plan with `skip`);
 * - `{ action: 'verify-risk', cycleId, cycleSeq, group, plannedAt, assessment }` -> RiskAssessment ("Verify risk
 *   verdict": the gate's result if it proves itself, else a HALT saying why; `verifyRiskVerdict`);
 * - `{ action: 'record', cycleId, mode, risk, phaseResults }` -> RecordResult ("Record outcomes"); the
 *   work items come from the plan "Plan cycle" stored in the Cycles table (`plan-store.ts`).
 *
 * Built by {@link createSupervisorHandler} from its ports ({@link SupervisorPorts}); the module-level
 * {@link handler} (the Lambda entry) builds them with {@link supervisorPortsFromEnv} at its first
 * invocation: AGENT_STATE_TABLE, CONTROL_TABLE, CYCLES_TABLE, SUPERVISOR_SETTINGS or
 * SUPERVISOR_SETTINGS_FILE (JSON, see `lambdas/shared/settings.ts`), and reuses them while the
 * sandbox is warm.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import type { CyclePlan, RecordResult, RiskAssessment } from '../shared/contracts';

/** What "Record outcomes" returns: the escalation decision only (the outcomes are in the cycle report item). */
export type RecordDecision = Pick<RecordResult, 'cycleId' | 'escalate' | 'escalationReason'>;
import { verifyRiskVerdict } from '../shared/trading/risk-assessment';
import { readGroup, recordRiskAsOf } from './slots';
import { ENV, METRICS_NAMESPACE, requireEnvIn } from '../shared/env';
import { SERVICE_NAME, SLOT_METRICS } from '../shared/metrics-catalog';
import { readSettings, supervisorSettingsSchema, type SupervisorSettings } from '../shared/settings';
import { AgentStateStore } from '../shared/supervision/agent-state-store';
import { planCycle, planPayloadSchema } from './plan';
import { loadPlan, savePlan } from './plan-store';
import { recordOutcomes, recordPayloadSchema } from './record';
import { systemClock } from '../shared/clock';
import { documentClient } from '../shared/trading/runtime';
import { InvalidSupervisorPayload } from '../shared/errors';
import { cycleAnnotations, traced } from '../shared/tracing';

/** Payload of "Verify risk verdict" (see `statemachines/cycle.asl.json`): the plan's identity and what "Assess risk" returned, unvalidated. */
export const verifyRiskPayloadSchema = z.object({
  action: z.literal('verify-risk'),
  cycleId: z.string().min(1),
  cycleSeq: z.number().int().min(1),
  group: z.string().min(1),
  plannedAt: z.string(),
  assessment: z.unknown(),
});

/** What the supervisor needs from the outside world. */
export interface SupervisorPorts {
  /** DynamoDB document client on the AgentState, Control and Cycles tables. */
  readonly doc: DynamoDBDocumentClient;
  /** Physical table names. */
  readonly tables: { readonly agentState: string; readonly control: string; readonly cycles: string };
  /** Validated `SUPERVISOR_SETTINGS` (registry, breaker, retries, overlap policies). */
  readonly settings: SupervisorSettings;
  /** Epoch ms clock (the stored plan's TTL base, record times, a waiting slot's lateness). @default `systemClock.now` */
  readonly now?: () => number;
  /** @default a Powertools Logger (service agent-fleet), created when the handler is built */
  readonly logger?: Logger;
  /** @default Powertools Metrics (namespace AgentFleet), created when the handler is built */
  readonly metrics?: Metrics;
}

/**
 * The supervisor's ports of a deployed function, from its environment.
 * @param env - the environment. @default process.env
 * @param doc - the document client. @default the process's shared one (`documentClient()`)
 * @throws {Error} `Missing environment variable NAME`, or the settings error (variable and first invalid field).
 */
export function supervisorPortsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, doc?: DynamoDBDocumentClient): SupervisorPorts {
  return {
    doc: doc ?? documentClient(),
    tables: {
      agentState: requireEnvIn(env, ENV.agentStateTable),
      control: requireEnvIn(env, ENV.controlTable),
      cycles: requireEnvIn(env, ENV.cyclesTable),
    },
    settings: readSettings(ENV.supervisorSettings, supervisorSettingsSchema, env),
  };
}

/** The supervisor Lambda's handler: a plan, verify-risk or record request in, its result out. */
export type SupervisorHandler = (event: unknown) => Promise<CyclePlan | RecordDecision | RiskAssessment>;

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } },
  event: unknown,
  what: string,
): T {
  const r = schema.safeParse(event);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidSupervisorPayload(`Invalid ${what} payload at ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

/**
 * Builds the supervisor handler from its ports.
 * @returns a handler that throws {@link InvalidSupervisorPayload}
 *   for an unknown action or an invalid payload, and DynamoDB errors as they are.
 */
export function createSupervisorHandler(ports: SupervisorPorts): SupervisorHandler {
  const logger = ports.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = ports.metrics ?? new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });
  const now = ports.now ?? systemClock.now;
  const { doc, settings } = ports;
  const store = new AgentStateStore(doc, { agentState: ports.tables.agentState, control: ports.tables.control });
  const d = { settings, store, cyclesTable: ports.tables.cycles, controlTable: ports.tables.control, now };
  return async (event) => {
    const action = (event as { action?: unknown } | null)?.action;
    if (action === 'plan') {
      const payload = parse(planPayloadSchema, event, 'plan');
      logger.appendKeys({ cycleId: payload.executionName });
      const plan = await planCycle(payload, { ...d, doc });
      const runs = !plan.halted && !plan.skip && plan.waitSeconds === undefined;
      if (runs) await savePlan(doc, d.cyclesTable, plan, d.settings.reportRetentionDays, now());
      if (plan.waitSeconds === undefined) {
        // One datapoint per delivered slot: the late-slot alarm notifies people (a missed slot is something operators ask to see).
        metrics.addMetric(SLOT_METRICS.late, MetricUnit.Count, plan.skip?.reason === 'late' ? 1 : 0);
        metrics.addMetric(SLOT_METRICS.skipped, MetricUnit.Count, plan.skip || plan.halted ? 1 : 0);
        metrics.publishStoredMetrics();
      }
      logger.info('Cycle planned', {
        cycleSeq: plan.cycleSeq,
        slot: plan.slot,
        skip: plan.skip,
        waitSeconds: plan.waitSeconds,
        halted: plan.halted,
        phases: plan.phases.length,
        skipped: plan.skipped,
        adjustments: plan.adjustments.length,
      });
      return plan;
    }
    if (action === 'record') {
      const payload = parse(recordPayloadSchema, event, 'record');
      logger.appendKeys({ cycleId: payload.cycleId });
      const stored = await loadPlan(doc, d.cyclesTable, payload.cycleId);
      const plan = { ...stored, mode: payload.mode };
      const result = await recordOutcomes(
        { plan, risk: payload.risk, phaseResults: payload.phaseResults },
        { ...d, doc, metrics, controlTable: d.controlTable },
      );
      logger.info('Cycle recorded', { escalate: result.escalate, escalationReason: result.escalationReason, outcomes: result.outcomes.length });
      // Only the decision leaves the Lambda: Step Functions checks a task's raw result against 256 KiB before
      // ResultSelector (AWS Step Functions quotas), and the outcomes of a large fleet would exceed it. They are in
      // the cycle report item (Cycles, sk REPORT).
      return { cycleId: result.cycleId, escalate: result.escalate, escalationReason: result.escalationReason };
    }
    if (action === 'verify-risk') {
      const payload = parse(verifyRiskPayloadSchema, event, 'verify-risk');
      logger.appendKeys({ cycleId: payload.cycleId });
      const group = await readGroup(doc, d.controlTable, payload.group);
      const verified = verifyRiskVerdict(payload.assessment, {
        cycleId: payload.cycleId,
        cycleSeq: payload.cycleSeq,
        plannedAt: payload.plannedAt,
        previous: group.riskAsOf,
      });
      if (verified.accepted && verified.assessment.verdict !== 'HALT' && verified.asOfMs !== undefined) {
        await recordRiskAsOf(doc, d.controlTable, payload.group, payload.cycleSeq, verified.asOfMs);
      }
      if (!verified.accepted) logger.warn('Risk verdict refused', { reasons: verified.assessment.reasons });
      return verified.assessment;
    }
    throw new InvalidSupervisorPayload(`Unknown supervisor action ${JSON.stringify(action)}: expected "plan", "verify-risk" or "record"`);
  };
}

let deployed: SupervisorHandler | undefined;

/**
 * The Lambda entry point: {@link createSupervisorHandler} on {@link supervisorPortsFromEnv}, built at the first invocation;
 * traced (annotations cycleId, action) when `monitoring.tracing` is on (`lambdas/shared/tracing.ts`).
 * @throws see {@link createSupervisorHandler}; a missing variable or invalid settings at the first invocation.
 */
export const handler: SupervisorHandler = traced((event: unknown) => (deployed ??= createSupervisorHandler(supervisorPortsFromEnv()))(event), cycleAnnotations);
