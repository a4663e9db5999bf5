/**
 * The Master's view of the outside world: the cycle's executions, the schedules that start
 * them, and the two notification channels. One interface, two implementations:
 * - `aws-ports.ts`: AWS SDK v3 (Step Functions, EventBridge Scheduler, SNS, EventBridge);
 * - the local runtime (`local/`): its simulated scheduler and interpreter executions.
 *
 * The kill switch logic (`kill-switch.ts`) only talks to these ports and to the Control table,
 * so the same logic halts the deployed system and the local one.
 */

import type { FlattenReport, FlattenRequest } from '../shared/trading/gateway';
import type { WorkingOrder } from '../shared/trading/ledger';

/** One RUNNING execution of the cycle state machine. */
export interface RunningExecution {
  /** Execution ARN (the local runtime uses local ARNs of the same shape). */
  executionArn: string;
  /** Execution name (= cycle id for scheduled cycles). */
  name: string;
  /** ISO 8601 start time, when known. */
  startDate?: string;
}

/** One EventBridge Scheduler schedule of the stack. */
export interface ScheduleRef {
  /** Schedule group name (`default` when the stack uses the default group). */
  group: string;
  /** Schedule name within the group. */
  name: string;
  /** True when the schedule's State is ENABLED. */
  enabled: boolean;
}

/** `group/name` of a schedule, as the kill switch's results and messages name it. */
export const scheduleId = (s: Pick<ScheduleRef, 'group' | 'name'>): string => `${s.group}/${s.name}`;

/** Detail types the Master publishes on the EventBridge bus (source `agent-fleet.master`). */
export type MasterEventType = 'SystemHalted' | 'SystemResumed' | 'SafeModeChanged' | 'WorkingOrdersCancelled' | 'PositionsFlattened';

/**
 * What the kill switch needs from the platform. Every method may throw; the kill switch
 * records the failure, carries on with the later steps and reports it (see `kill-switch.ts`).
 */
export interface KillSwitchPorts {
  /** Every RUNNING execution of the cycle state machine (all pages). */
  listRunningExecutions(): Promise<RunningExecution[]>;
  /**
   * Stops one execution (Step Functions StopExecution; the execution ends ABORTED).
   * @param cause - human-readable cause recorded on the execution (AWS limit 32,768 chars).
   */
  stopExecution(executionArn: string, cause: string): Promise<void>;
  /** Every schedule of the stack with its current state. */
  listSchedules(): Promise<ScheduleRef[]>;
  /** Enables or disables one schedule, leaving every other field of it unchanged. */
  setScheduleEnabled(group: string, name: string, enabled: boolean): Promise<void>;
  /** Notifies people (SNS topic). `subject` is cut to SNS's 100-character limit by the implementation. */
  notify(subject: string, message: string): Promise<void>;
  /** Publishes a machine-readable event on the EventBridge bus (source `agent-fleet.master`). */
  publishEvent(detailType: MasterEventType, detail: Record<string, unknown>): Promise<void>;
  /**
   * Cancels every working order through the order gateway (`createOrderGateway(...).cancelAll`).
   * Optional: a Master without an order book (tests of the platform steps) has none.
   * @returns how many this call cancelled.
   */
  cancelWorkingOrders?(reason: string): Promise<number>;
  /** Working orders still open (verify: `noWorkingOrders`). Optional, with {@link KillSwitchPorts.cancelWorkingOrders}. */
  countWorkingOrders?(): Promise<number>;
  /** Every working order (status: per agent). Optional, with {@link KillSwitchPorts.cancelWorkingOrders}. */
  listWorkingOrders?(): Promise<WorkingOrder[]>;
  /**
   * An operator's flatten through the order gateway (`createOrderGateway(...).flatten`): cancel every working
   * order, then close every agent's positions at the latest bar's close. Optional: absent without a Ledger and
   * market data (the operator function then refuses `flatten`).
   */
  flattenPositions?(req: FlattenRequest): Promise<FlattenReport>;
}

/** EventBridge `source` of every event the Master publishes. */
export const MASTER_EVENT_SOURCE = 'agent-fleet.master';
