/**
 * One strongly consistent `BatchGetItem` over several tables, with its unprocessed keys asked for
 * again: BatchGetItem may return some keys in `UnprocessedKeys` (throughput exceeded, or a response
 * over 16 MB), and "if you retry the batch operation immediately, the underlying read or write
 * requests can still fail due to throttling ... we strongly recommend that you use an exponential
 * backoff algorithm" (DynamoDB API Reference, BatchGetItem). At most 100 keys per call (the same
 * reference); callers split larger reads.
 */
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchGetIncomplete } from './errors';

/** Keys to read, by table name. */
export type BatchKeys = Readonly<Record<string, readonly Record<string, unknown>[]>>;

/** Options of {@link batchGetConsistent}. */
export interface BatchGetOptions {
  /** Rounds in all (the first call included) before {@link BatchGetIncomplete}. @default 10 */
  readonly rounds?: number;
  /** Wait before the second round, ms; doubles per round (base, 2 x base, ...), capped at `maxDelayMs`. @default 10 */
  readonly baseDelayMs?: number;
  /** Largest wait between rounds, ms. @default 500 */
  readonly maxDelayMs?: number;
  /** Waits `ms`. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** BatchGetItem's limit of keys per call (DynamoDB API Reference). */
export const BATCH_GET_MAX_KEYS = 100;

/**
 * Reads every key of `keys` (strongly consistent) in one BatchGetItem call, then again for the keys
 * DynamoDB left unprocessed, with backoff.
 * @returns the items found, by table name (every table of `keys` is present; a missing item is simply absent).
 * @throws {RangeError} for more than {@link BATCH_GET_MAX_KEYS} keys.
 * @throws {BatchGetIncomplete} when keys are still unprocessed after `rounds` calls.
 * @throws whatever the client throws (not retried here: the SDK's own retries apply).
 */
export async function batchGetConsistent(
  doc: DynamoDBDocumentClient,
  keys: BatchKeys,
  opts: BatchGetOptions = {},
): Promise<Record<string, Record<string, unknown>[]>> {
  const total = Object.values(keys).reduce((n, k) => n + k.length, 0);
  if (total > BATCH_GET_MAX_KEYS) throw new RangeError(`batchGetConsistent: ${total} keys, at most ${BATCH_GET_MAX_KEYS} per BatchGetItem call`);
  const rounds = opts.rounds ?? 10;
  const base = opts.baseDelayMs ?? 10;
  const max = opts.maxDelayMs ?? 500;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const found: Record<string, Record<string, unknown>[]> = Object.fromEntries(Object.keys(keys).map((t) => [t, []]));
  let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = Object.fromEntries(
    Object.entries(keys)
      .filter(([, k]) => k.length > 0)
      .map(([table, k]) => [table, { Keys: [...k], ConsistentRead: true }]),
  );
  for (let round = 0; request && Object.keys(request).length > 0; round++) {
    if (round >= rounds) throw new BatchGetIncomplete(`BatchGetItem left unprocessed keys after ${rounds} rounds`);
    if (round > 0) await sleep(Math.min(max, base * 2 ** (round - 1)));
    const out = await doc.send(new BatchGetCommand({ RequestItems: request }));
    for (const [table, items] of Object.entries(out.Responses ?? {})) found[table]?.push(...(items as Record<string, unknown>[]));
    request = out.UnprocessedKeys as typeof request;
  }
  return found;
}
