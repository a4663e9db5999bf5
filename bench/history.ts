/**
 * Reads an execution's event log from the local runtime (aws-local-stepfunctions events) and
 * derives what Step Functions would bill and record:
 *
 * - **state transitions**: one per state entered (Standard workflows bill per transition; the
 *   local runtime's `StateEntered` events are exactly those);
 * - **history events** (estimate): Step Functions writes more events than transitions. Per the
 *   event types in the Step Functions API reference (HistoryEvent): a Task state writes Entered,
 *   Scheduled, Started, Succeeded/Failed, Exited (5) and 3 more per retried attempt (Scheduled,
 *   Started, Failed); a Map writes Entered, Started, Succeeded, Exited (4) and 2 per iteration
 *   (IterationStarted, IterationSucceeded); a Parallel writes 4; Pass, Choice, Succeed and Fail
 *   write 2; the execution itself writes Started and Succeeded/Failed (2). A Standard execution
 *   stops at 25,000 history events (Step Functions quotas);
 * - **largest payload**: the biggest state input or output, against the 256 KiB limit on a
 *   state's input or output (Step Functions quotas).
 */

/** Step Functions Standard: history events per execution (quota). */
export const HISTORY_EVENT_LIMIT = 25_000;
export { PAYLOAD_LIMIT_BYTES } from '../local/executions';

type Event = { type: string; state?: { type?: string; input?: unknown; output?: unknown } };

const EVENTS_PER_STATE: Record<string, number> = { Task: 5, Map: 4, Parallel: 4, Pass: 2, Choice: 2, Succeed: 2, Fail: 2, Wait: 2 };

/** Figures of one execution. */
export interface ExecutionFigures {
  transitions: number;
  historyEvents: number;
  /** Largest state input/output, bytes (UTF-8). */
  maxPayloadBytes: number;
}

/** Derives billed transitions, estimated history events and the largest payload from an event log. */
export function executionFigures(events: readonly unknown[]): ExecutionFigures {
  let transitions = 0;
  let historyEvents = 2;
  let maxPayloadBytes = 0;
  for (const raw of events as Event[]) {
    if (raw.type === 'StateEntered') {
      transitions++;
      historyEvents += EVENTS_PER_STATE[raw.state?.type ?? ''] ?? 2;
      maxPayloadBytes = Math.max(maxPayloadBytes, Buffer.byteLength(JSON.stringify(raw.state?.input ?? null)));
    } else if (raw.type === 'StateExited') {
      maxPayloadBytes = Math.max(maxPayloadBytes, Buffer.byteLength(JSON.stringify(raw.state?.output ?? null)));
    } else if (raw.type === 'MapIterationStarted') {
      historyEvents += 2;
    } else if (raw.type === 'StateRetried') {
      historyEvents += 3;
    }
  }
  return { transitions, historyEvents, maxPayloadBytes };
}

/** Monthly cost of a cycle's transitions: Standard workflows, USD 0.025 per 1,000 transitions (AWS pricing), cycles per month at a cadence. */
export function monthlyTransitionCostUsd(transitionsPerCycle: number, cadenceMinutes: number): { cyclesPerMonth: number; usd: number } {
  // 365 days / 12 months * 24 h * 60 min / cadence; 15 min -> 2,920 cycles (the design card's figure).
  const cyclesPerMonth = Math.round(((365 / 12) * 24 * 60) / cadenceMinutes);
  return { cyclesPerMonth, usd: (transitionsPerCycle * cyclesPerMonth * 0.025) / 1000 };
}
