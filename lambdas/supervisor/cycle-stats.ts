/**
 * Rolling mean of cycle durations, for `CycleDurationRatio` (alert R-ALERTS: a cycle over 2x the
 * average). Kept in ONE item of the Cycles table (pk `cycleId` = {@link CYCLE_STATS_KEY}.cycleId,
 * sk `STATS`, no `expiresAt`, so TTL never removes it), not on the control item (the Master owns
 * that) and not in the AgentState table (whose items are all agents; tools that scan it would
 * trip over a non-agent item). Updated with a version-conditional write, re-read on conflict, and
 * idempotent per cycle id (a retried "Record outcomes" does not count a cycle twice).
 */
import { isConditionalCheckFailed } from '../shared/dynamo-errors';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Key of the stats item in the Cycles table. */
export const CYCLE_STATS_KEY = { cycleId: '__fleet__', sk: 'STATS' } as const;

/** The stats item. */
export interface CycleStats {
  /** Cycles counted. */
  readonly count: number;
  /** Mean duration of the counted cycles, ms. */
  readonly avgDurationMs: number;
  /** Last cycle ids counted (bounded), for idempotence. */
  readonly recentCycleIds: string[];
  readonly version: number;
}

/** `duration / mean of previous cycles`; 1 when there is no history (or a zero mean). */
export function durationRatio(durationMs: number, previous: Pick<CycleStats, 'count' | 'avgDurationMs'>): number {
  return previous.count > 0 && previous.avgDurationMs > 0 ? durationMs / previous.avgDurationMs : 1;
}

/**
 * Adds this cycle's duration to the rolling mean and returns the ratio against the mean of the
 * cycles before it.
 * @throws {Error} after 20 lost races.
 */
export async function recordCycleDuration(doc: DynamoDBDocumentClient, table: string, cycleId: string, durationMs: number): Promise<number> {
  for (let attempt = 1; attempt <= 20; attempt++) {
    const out = await doc.send(new GetCommand({ TableName: table, Key: CYCLE_STATS_KEY, ConsistentRead: true }));
    const cur: CycleStats = out.Item
      ? {
          count: Number(out.Item.count),
          avgDurationMs: Number(out.Item.avgDurationMs),
          recentCycleIds: (out.Item.recentCycleIds as string[]) ?? [],
          version: Number(out.Item.version),
        }
      : { count: 0, avgDurationMs: 0, recentCycleIds: [], version: 0 };
    if (cur.recentCycleIds.includes(cycleId)) {
      // Already counted: the ratio against the mean without this cycle cannot be recovered exactly; use the current mean.
      return durationRatio(durationMs, cur);
    }
    const count = cur.count + 1;
    const next: CycleStats = {
      count,
      avgDurationMs: cur.avgDurationMs + (durationMs - cur.avgDurationMs) / count,
      recentCycleIds: [...cur.recentCycleIds, cycleId].slice(-20),
      version: cur.version + 1,
    };
    try {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...CYCLE_STATS_KEY, ...next },
          ConditionExpression: out.Item ? '#v = :v' : 'attribute_not_exists(cycleId)',
          ...(out.Item ? { ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': cur.version } } : {}),
        }),
      );
      return durationRatio(durationMs, cur);
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
  throw new Error(`Cycle stats: conditional write lost 20 races for cycle ${cycleId}`);
}
