/**
 * DynamoDB access of the supervisor: the consistent batch read of "Plan cycle", the cycle
 * counter, the probe claim, and the version-conditional agent-state updates of "Record outcomes".
 *
 * Every write is a single-item conditional write (no transactions: dynalite has none, and none is
 * needed). An update that loses a race (ConditionalCheckFailed) re-reads the item and recomputes
 * from the fresh state, with bounded retries and full-jitter backoff; it never writes blind.
 */
import { isConditionalCheckFailed } from '../dynamo-errors';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { agentStateItemSchema, type AgentStateItem, type ControlItem } from '../contracts';
import { CONTROL_KEY, parseControlItem } from '../control-read';
import { batchGetConsistent } from '../batch-get';
import { retryWithBackoff } from '../retry';
import { freshAgentState } from './agent-state';
import { OrchestratorError } from '../errors';

/** Table names the store uses. */
export interface StoreTables {
  /** AgentState table (pk `agent`). */
  readonly agentState: string;
  /** Control table (pk `pk`, item `control`). */
  readonly control: string;
}

/** Retry policy of conditional updates. */
export interface ConflictRetry {
  /** Attempts in total before giving up. Default 30 (one item rarely sees more than a few writers; the tests fire 50). */
  readonly maxAttempts: number;
  /** Base of the exponential backoff, ms. Default 5. */
  readonly baseDelayMs: number;
  /** Cap of one backoff, ms. Default 200. */
  readonly maxDelayMs: number;
}

/** Defaults of {@link ConflictRetry}. */
export const DEFAULT_CONFLICT_RETRY: ConflictRetry = { maxAttempts: 30, baseDelayMs: 5, maxDelayMs: 200 };

/** Thrown when a conditional update kept losing races; `name` is what a Step Functions Retry matches. */
export class AgentStateConflict extends OrchestratorError {
  override name = 'AgentStateConflict' as const;
}

/** BatchGetItem accepts at most 100 keys per call (AWS limit); the first call also reads the control item. */
export const MAX_AGENTS_PER_BATCH = 99;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Parses an agent state item read from DynamoDB.
 * @throws {Error} `Agent state item <agent> is malformed at <path>: <problem>`.
 */
export function parseAgentState(agent: string, raw: Record<string, unknown> | undefined): AgentStateItem {
  if (!raw) return freshAgentState(agent);
  const parsed = agentStateItemSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Agent state item ${agent} is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The supervisor's DynamoDB access. */
export class AgentStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tables: StoreTables,
    private readonly retry: ConflictRetry = DEFAULT_CONFLICT_RETRY,
  ) {}

  /**
   * Strongly consistent BatchGetItem reads of the control item and the named agents' state items:
   * one call for up to {@link MAX_AGENTS_PER_BATCH} agents (the control item takes the 100th key),
   * then further calls of up to 100 keys each for larger fleets (BatchGetItem's per-call limit).
   * Unprocessed keys are re-requested with backoff. A missing agent item is a fresh CLOSED state.
   * @throws {Error} when an item is malformed; `BatchGetIncomplete` (errors.ts) when keys stay unprocessed after 10 rounds.
   */
  async readControlAndAgents(agents: readonly string[]): Promise<{ control: ControlItem; states: Map<string, AgentStateItem> }> {
    const found: Record<string, Record<string, unknown>[]> = { [this.tables.control]: [], [this.tables.agentState]: [] };
    const chunks: string[][] = [agents.slice(0, MAX_AGENTS_PER_BATCH)];
    for (let i = MAX_AGENTS_PER_BATCH; i < agents.length; i += MAX_AGENTS_PER_BATCH + 1) chunks.push(agents.slice(i, i + MAX_AGENTS_PER_BATCH + 1));
    for (const [index, chunk] of chunks.entries()) {
      const got = await batchGetConsistent(
        this.doc,
        {
          ...(index === 0 ? { [this.tables.control]: [CONTROL_KEY] } : {}),
          [this.tables.agentState]: chunk.map((agent) => ({ agent })),
        },
        { baseDelayMs: this.retry.baseDelayMs, maxDelayMs: this.retry.maxDelayMs, sleep },
      );
      for (const [table, items] of Object.entries(got)) found[table]?.push(...items);
    }
    const control = parseControlItem(found[this.tables.control][0]);
    const byName = new Map(found[this.tables.agentState].map((item) => [String(item.agent), item]));
    const states = new Map(agents.map((agent) => [agent, parseAgentState(agent, byName.get(agent))]));
    return { control, states };
  }

  /**
   * Increments the cycle counter with one UpdateItem (`ADD cycleSeq :one`), filling absent
   * `halted` / `mode` / `version` / `audit` with `if_not_exists` defaults and never overwriting them
   * (the Master owns those). Conditional on the system not being halted, so a halt written after
   * the plan's read still stops the cycle.
   * @returns the new cycleSeq, or `undefined` when the system is halted (the caller re-reads the reason).
   */
  async incrementCycleSeq(): Promise<number | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tables.control,
          Key: CONTROL_KEY,
          UpdateExpression:
            'ADD #seq :one SET #halted = if_not_exists(#halted, :false), #mode = if_not_exists(#mode, :normal), #version = if_not_exists(#version, :zero), #audit = if_not_exists(#audit, :empty)',
          ConditionExpression: 'attribute_not_exists(#halted) OR #halted = :false',
          ExpressionAttributeNames: { '#seq': 'cycleSeq', '#halted': 'halted', '#mode': 'mode', '#version': 'version', '#audit': 'audit' },
          ExpressionAttributeValues: { ':one': 1, ':false': false, ':normal': 'normal', ':zero': 0, ':empty': [] },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(out.Attributes?.cycleSeq);
    } catch (err) {
      if (isConditionalCheckFailed(err)) return undefined;
      throw err;
    }
  }

  /** Strongly consistent read of one agent's state (fresh state when absent). */
  async getAgentState(agent: string): Promise<AgentStateItem> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tables.agentState, Key: { agent }, ConsistentRead: true }));
    return parseAgentState(agent, out.Item);
  }

  /**
   * Writes `next` only if the stored item still has `expectedVersion` (or does not exist when
   * `expectedVersion` is 0 and no item was read).
   * @returns false when another writer won (ConditionalCheckFailed).
   */
  async putIfVersion(next: AgentStateItem, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tables.agentState,
          Item: next,
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#pk) OR #v = :v' : '#v = :v',
          ExpressionAttributeNames: expectedVersion === 0 ? { '#pk': 'agent', '#v': 'version' } : { '#v': 'version' },
          ExpressionAttributeValues: { ':v': expectedVersion },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /**
   * Read-modify-write of one agent's item with optimistic concurrency: `mutate` computes the next
   * item from the current one (version + 1) or returns `undefined` to write nothing; on a lost race
   * the item is re-read and `mutate` runs again on the fresh state.
   *
   * @param initial - a state already read (skips the first GetItem), optional.
   * @returns the state written (or the current one when `mutate` returned undefined) and the value
   *   `mutate` attached to the winning attempt.
   * @throws {AgentStateConflict} after `maxAttempts` lost races.
   */
  async update<R>(
    agent: string,
    mutate: (current: AgentStateItem) => { next: AgentStateItem; info: R } | { next: undefined; info: R },
    initial?: AgentStateItem,
  ): Promise<{ state: AgentStateItem; written: boolean; info: R }> {
    let current = initial;
    const won = await retryWithBackoff<{ state: AgentStateItem; written: boolean; info: R }>(
      { attempts: this.retry.maxAttempts, baseDelayMs: this.retry.baseDelayMs, maxDelayMs: this.retry.maxDelayMs },
      async () => {
        // The first attempt may use the state already read; every retry re-reads it.
        const read = current ?? (await this.getAgentState(agent));
        current = undefined;
        const { next, info } = mutate(read);
        if (!next) return { done: true, value: { state: read, written: false, info } };
        if (next.version !== read.version + 1) throw new Error(`update of ${agent} must bump version by 1 (got ${read.version} -> ${next.version})`);
        return (await this.putIfVersion(next, read.version)) ? { done: true, value: { state: next, written: true, info } } : { done: false };
      },
    );
    if (!won) throw new AgentStateConflict(`Agent state ${agent}: conditional write lost ${this.retry.maxAttempts} races in a row; giving up`);
    return won.value;
  }
}
