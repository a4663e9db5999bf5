/**
 * Turns what the state machine collected for each agent (a raw outcome per work item, plus the
 * plan's skipped agents) into one interpreted outcome per agent. Pure.
 *
 * Attempts (how many times the "Run agent" task invoked the agent):
 * - success: `result.attempt + 1` (the agent echoes `$$.State.RetryCount`);
 * - `States.Timeout`: 1 (the definition never retries a timeout: it is the agent's time budget);
 * - `States.Runtime` / `States.DataLimitExceeded`: 1 (not retriable in ASL);
 * - the deterministic agent errors (`AgentInputInvalid`, `AgentOutputInvalid`, `AgentResultTooLarge`)
 *   and `SystemHalted`: 1 (`DETERMINISTIC_AGENT_ERRORS`, never retried by the definition);
 * - Lambda service errors (`Lambda.ServiceException`, `Lambda.AWSLambdaException`,
 *   `Lambda.SdkClientException`, `Lambda.TooManyRequestsException`): 1 + 3 (their own retrier in
 *   the definition; ASL counts each retrier separately and uses the first that matches);
 * - any other error: 1 + `maxRetries[faultDomain]` (the domain's `States.ALL` retrier was exhausted
 *   before the Catch ran).
 * The Catch does not report the retry count, so failures use this derivation.
 */
import { agentResultSchema, rawOutcomeSchema, type CyclePlan, type FaultDomainName, type WorkItem } from '../shared/contracts';
import { DETERMINISTIC_AGENT_ERRORS } from '../shared/errors';
import type { SupervisorSettings } from '../shared/settings';

/** Retries of the definition's Lambda-service-error retrier (`MaxAttempts` 3 in cycle.asl.json). */
export const LAMBDA_SERVICE_RETRIES = 3;
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];
// AgentTimeout: defineAgent's own deadline, raised just before Step Functions' timeout; the state machine does not retry it either.
// The deterministic agent errors (and SystemHalted) have a MaxAttempts 0 retrier of their own in every agent task.
const NOT_RETRIED: readonly string[] = ['States.Timeout', 'AgentTimeout', 'States.Runtime', 'States.DataLimitExceeded', ...DETERMINISTIC_AGENT_ERRORS];

/** One agent's interpreted outcome this cycle. */
export interface InterpretedOutcome {
  readonly name: string;
  readonly outcome: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  readonly faultDomain: FaultDomainName;
  /** ms: result.durationMs, timeoutSeconds * 1000 for a timeout, 0 when unknown. */
  readonly durationMs: number;
  /** 0 for a plan-time skip. */
  readonly attempts: number;
  readonly reason?: string;
  readonly summary?: string;
  readonly metrics?: Record<string, number>;
  /** Phase index; absent for plan-time skips. */
  readonly phase?: number;
  readonly probe: boolean;
}

/** Attempts of a failed agent by error name (see the module comment). */
export function attemptsForError(error: string, domain: FaultDomainName, maxRetries: SupervisorSettings['maxRetries']): number {
  if (NOT_RETRIED.includes(error)) return 1;
  if (LAMBDA_SERVICE_ERRORS.includes(error)) return 1 + LAMBDA_SERVICE_RETRIES;
  return 1 + maxRetries[domain];
}

/**
 * The failure reason from a Catch's `Error` and `Cause`. A Lambda-style cause (JSON
 * `{ errorType, errorMessage }`) gives `<errorType>: <errorMessage>`; any other cause is used as
 * is (`<error>: <cause>`); `States.Timeout` gives `timed out after <timeoutSeconds> s`.
 */
export function failureReason(error: string, cause: string | undefined, timeoutSeconds: number): string {
  if (error === 'States.Timeout') return `timed out after ${timeoutSeconds} s`;
  if (!cause) return error;
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string') {
      const type = typeof parsed.errorType === 'string' ? parsed.errorType : error;
      return `${type}: ${parsed.errorMessage}`;
    }
  } catch {
    // not JSON: use the cause as is
  }
  return `${error}: ${cause}`;
}

/**
 * Interprets one work item's raw outcome. An `ok` result that fails `agentResultSchema`, or names
 * another agent or cycle, is FAILED with `malformed result: <path>: <message>`; a SKIPPED result
 * is SKIPPED (not a failure); a caught `SystemHalted` (the halt raced the running agent) is SKIPPED
 * too, so it never counts against the agent's health or breaker.
 */
export function interpretOutcome(
  item: WorkItem,
  raw: unknown,
  cycleId: string,
  phase: number,
  settings: Pick<SupervisorSettings, 'maxRetries'>,
): InterpretedOutcome {
  const base = { name: item.agent, faultDomain: item.faultDomain, phase, probe: item.probe };
  const failed = (reason: string, attempts: number, durationMs = 0): InterpretedOutcome => ({ ...base, outcome: 'FAILED', reason, attempts, durationMs });
  const envelope = rawOutcomeSchema.safeParse(raw);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return failed(`malformed outcome: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 1);
  }
  const o = envelope.data;
  if (!o.ok) {
    // A halt raced the running agent: not the agent's failure; it never counts against its health or breaker.
    if (o.error === 'SystemHalted')
      return {
        ...base,
        outcome: 'SKIPPED',
        reason: `system halted while it ran: ${failureReason(o.error, o.cause, item.timeoutSeconds)}`,
        attempts: 1,
        durationMs: 0,
      };
    const durationMs = o.error === 'States.Timeout' ? item.timeoutSeconds * 1000 : 0;
    return failed(failureReason(o.error, o.cause, item.timeoutSeconds), attemptsForError(o.error, item.faultDomain, settings.maxRetries), durationMs);
  }
  const parsed = agentResultSchema.safeParse(o.result);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return failed(`malformed result: ${issue.path.join('.') || '(root)'}: ${issue.message}`, 1);
  }
  const r = parsed.data;
  if (r.agent !== item.agent) return failed(`malformed result: agent: expected "${item.agent}", got "${r.agent}"`, r.attempt + 1, r.durationMs);
  if (r.cycleId !== cycleId) return failed(`malformed result: cycleId: expected "${cycleId}", got "${r.cycleId}"`, r.attempt + 1, r.durationMs);
  return {
    ...base,
    outcome: r.status,
    durationMs: r.durationMs,
    attempts: r.attempt + 1,
    reason: r.status === 'SKIPPED' ? (r.reason ?? 'agent skipped') : undefined,
    summary: r.summary,
    metrics: r.metrics,
  };
}

/**
 * Every agent's outcome this cycle: each work item of each phase with its raw outcome
 * (`phaseResults[i][0|1|2][j]` for data | strategy | critical, in the order of the phase's items;
 * a missing entry is FAILED `no outcome recorded`), then the plan's skipped agents as SKIPPED.
 */
export function interpretCycle(plan: CyclePlan, phaseResults: unknown, settings: Pick<SupervisorSettings, 'maxRetries' | 'agents'>): InterpretedOutcome[] {
  const results = Array.isArray(phaseResults) ? phaseResults : [];
  const out: InterpretedOutcome[] = [];
  plan.phases.forEach((phase, i) => {
    const perDomain = Array.isArray(results[i]) ? (results[i] as unknown[]) : [];
    (['data', 'strategy', 'critical'] as const).forEach((domain, d) => {
      const raws = Array.isArray(perDomain[d]) ? (perDomain[d] as unknown[]) : [];
      phase[domain].forEach((item, j) => {
        out.push(
          j < raws.length
            ? interpretOutcome(item, raws[j], plan.cycleId, phase.index, settings)
            : {
                name: item.agent,
                faultDomain: item.faultDomain,
                outcome: 'FAILED',
                reason: 'no outcome recorded',
                attempts: 1,
                durationMs: 0,
                phase: phase.index,
                probe: item.probe,
              },
        );
      });
    });
  });
  const domainOf = new Map(settings.agents.map((a) => [a.name, a.faultDomain]));
  for (const s of plan.skipped) {
    out.push({
      name: s.agent,
      faultDomain: domainOf.get(s.agent) ?? 'strategy',
      outcome: 'SKIPPED',
      reason: s.reason,
      attempts: 0,
      durationMs: 0,
      probe: false,
    });
  }
  return out;
}
