/**
 * The Ledger table's item layout (pk/sk single table) and its reads and single-item writes.
 * No transactions anywhere (dynalite has none, and one conditional UpdateItem per state
 * change is enough):
 *
 * | item            | pk                 | sk                   | attributes |
 * | --------------- | ------------------ | -------------------- | ---------- |
 * | account         | `ACCOUNT`          | `STATE`              | cash (USD), positions (map symbol -> { qty, avgPrice }), version, fillSeq, applied (map orderId -> bar index of the fill), createdAt |
 * | order           | `ORDER#<cycleId>`  | `<agent>#<symbol>`   | orderId, cycleId, agent, symbol, side, qty, limitPrice?, status PENDING_FILL / FILLED / REJECTED, rejectedBy?, reason?, price, notionalUsd, barIndex, asOf, createdAt |
 * | fill            | `FILL#<cycleId>`   | `<agent>#<symbol>`   | orderId, symbol, side, qty, price, notionalUsd, barIndex, asOf, fillSeq |
 * | equity snapshot | `EQUITY`           | `BAR#<8-digit bar>`  | barIndex, asOf, equityUsd, cashUsd, grossExposureUsd, peakEquityUsd, dailyPnlFraction, drawdownFraction, cycleId |
 *
 * Cash and positions live in ONE item so a fill is one conditional write (version check):
 * never half applied. `applied` makes the fill idempotent: the update is also conditioned
 * on `attribute_not_exists(applied.<orderId>)`. Entries older than
 * {@link APPLIED_RETENTION_BARS} bars are pruned in the same write (by then the order item
 * says FILLED, which is what a late retry checks first).
 *
 * May be imported by: the broker, the risk Lambda, `local/`, `ops/`, `test/`.
 */
import { isConditionalCheckFailed } from '../dynamo-errors';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Portfolio, Position } from './portfolio';

/** Key of the account item. */
export const ACCOUNT_KEY = { pk: 'ACCOUNT', sk: 'STATE' } as const;
/** Bars an `applied` entry is kept on the account item. */
export const APPLIED_RETENTION_BARS = 5;

/** The account item. */
export interface AccountItem extends Portfolio {
  readonly positions: Readonly<Record<string, Position>>;
  /** Incremented by every fill (optimistic concurrency). */
  readonly version: number;
  /** Fills applied so far. */
  readonly fillSeq: number;
  /** orderId -> bar index, for fills applied in the last {@link APPLIED_RETENTION_BARS} bars. */
  readonly applied: Readonly<Record<string, number>>;
}

/** Order status: PENDING_FILL (order recorded, fill not yet confirmed), FILLED, REJECTED (by a pre-trade check). */
export type OrderStatus = 'PENDING_FILL' | 'FILLED' | 'REJECTED';

/** An order item. */
export interface OrderItem {
  readonly orderId: string;
  readonly cycleId: string;
  readonly agent: string;
  readonly symbol: string;
  readonly side: 'BUY' | 'SELL';
  readonly qty: number;
  readonly limitPrice?: number;
  readonly status: OrderStatus;
  /** Name of the pre-trade check that rejected it. */
  readonly rejectedBy?: string;
  readonly reason?: string;
  /** Fill price (the current bar's close), USD; 0 when rejected without a price. */
  readonly price: number;
  readonly notionalUsd: number;
  readonly barIndex: number;
  readonly asOf: string;
  readonly createdAt: string;
}

/** An equity snapshot (one per bar, first write wins). */
export interface EquitySnapshot {
  readonly barIndex: number;
  readonly asOf: string;
  readonly equityUsd: number;
  readonly cashUsd: number;
  readonly grossExposureUsd: number;
  readonly peakEquityUsd: number;
  /** Signed P&L of the day, fraction of the previous bar's equity. */
  readonly dailyPnlFraction: number;
  readonly drawdownFraction: number;
  readonly cycleId: string;
}

/** Order key: idempotent on (cycleId, agent, symbol). */
export function orderKey(cycleId: string, agent: string, symbol: string): { pk: string; sk: string } {
  return { pk: `ORDER#${cycleId}`, sk: `${agent}#${symbol}` };
}

/** Order id: `<cycleId>#<agent>#<symbol>`. */
export function orderId(cycleId: string, agent: string, symbol: string): string {
  return `${cycleId}#${agent}#${symbol}`;
}

/** Sort key of a bar's equity snapshot: `BAR#` + 8-digit zero-padded index (sorts numerically). */
export function equitySk(barIndex: number): string {
  return `BAR#${String(barIndex).padStart(8, '0')}`;
}


/**
 * Reads the account item (strongly consistent), creating it with `startingCashUsd` on first use
 * (one UpdateItem with `if_not_exists`, so two first users cannot both create it).
 */
export async function getOrCreateAccount(doc: DynamoDBDocumentClient, table: string, startingCashUsd: number): Promise<AccountItem> {
  const got = await doc.send(new GetCommand({ TableName: table, Key: ACCOUNT_KEY, ConsistentRead: true }));
  if (got.Item) return toAccount(got.Item);
  const out = await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: ACCOUNT_KEY,
      UpdateExpression:
        'SET cash = if_not_exists(cash, :cash), positions = if_not_exists(positions, :empty), version = if_not_exists(version, :zero), fillSeq = if_not_exists(fillSeq, :zero), applied = if_not_exists(applied, :empty), createdAt = if_not_exists(createdAt, :now)',
      ExpressionAttributeValues: { ':cash': startingCashUsd, ':empty': {}, ':zero': 0, ':now': new Date().toISOString() },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return toAccount(out.Attributes ?? {});
}

function toAccount(item: Record<string, unknown>): AccountItem {
  return {
    cash: Number(item.cash),
    positions: (item.positions ?? {}) as Record<string, Position>,
    version: Number(item.version ?? 0),
    fillSeq: Number(item.fillSeq ?? 0),
    applied: (item.applied ?? {}) as Record<string, number>,
  };
}

/**
 * Conditionally replaces cash and positions on the account: one UpdateItem, conditioned on
 * `version = expected.version AND attribute_not_exists(applied.<orderId>)`; also records
 * `applied.<orderId> = barIndex`, bumps version and fillSeq, prunes old `applied` entries.
 * @returns true when written; false when the condition failed (someone else wrote first, or the fill is already applied).
 */
export async function writeAccountFill(
  doc: DynamoDBDocumentClient,
  table: string,
  expected: AccountItem,
  next: Portfolio,
  fill: { orderId: string; barIndex: number },
): Promise<boolean> {
  const names: Record<string, string> = { '#oid': fill.orderId };
  const stale = Object.entries(expected.applied).filter(([, bar]) => bar < fill.barIndex - APPLIED_RETENTION_BARS);
  stale.forEach(([id], i) => (names[`#s${i}`] = id));
  const remove = stale.length ? ` REMOVE ${stale.map((_, i) => `applied.#s${i}`).join(', ')}` : '';
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: ACCOUNT_KEY,
        UpdateExpression: `SET cash = :cash, positions = :pos, version = :v1, fillSeq = :seq, applied.#oid = :bar${remove}`,
        ConditionExpression: 'version = :v AND attribute_not_exists(applied.#oid)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':cash': next.cash, ':pos': next.positions, ':v': expected.version, ':v1': expected.version + 1, ':seq': expected.fillSeq + 1, ':bar': fill.barIndex },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/** Reads one order (strongly consistent). */
export async function getOrder(doc: DynamoDBDocumentClient, table: string, cycleId: string, agent: string, symbol: string): Promise<OrderItem | undefined> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: orderKey(cycleId, agent, symbol), ConsistentRead: true }));
  return out.Item as OrderItem | undefined;
}

/**
 * Creates an order item if none exists for (cycleId, agent, symbol).
 * @returns true when created, false when one already existed (`attribute_not_exists(pk)` failed).
 */
export async function putOrderIfAbsent(doc: DynamoDBDocumentClient, table: string, order: OrderItem): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: { ...orderKey(order.cycleId, order.agent, order.symbol), ...order },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/** Every order of a cycle (strongly consistent query; paginated). */
export async function listCycleOrders(doc: DynamoDBDocumentClient, table: string, cycleId: string): Promise<OrderItem[]> {
  const items: OrderItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `ORDER#${cycleId}` },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as OrderItem[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Marks an order FILLED and writes its fill item (both idempotent overwrites of the same content). */
export async function recordFill(doc: DynamoDBDocumentClient, table: string, order: OrderItem, fillSeq: number): Promise<void> {
  const sk = `${order.agent}#${order.symbol}`;
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: { pk: `FILL#${order.cycleId}`, sk, orderId: order.orderId, symbol: order.symbol, side: order.side, qty: order.qty, price: order.price, notionalUsd: order.notionalUsd, barIndex: order.barIndex, asOf: order.asOf, fillSeq },
    }),
  );
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: orderKey(order.cycleId, order.agent, order.symbol),
      UpdateExpression: 'SET #s = :filled',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':filled': 'FILLED' },
    }),
  );
}

/**
 * Marks a recorded order REJECTED by a check run at fill time (a concurrent fill changed the
 * account after the order passed its pre-trade checks). Conditional on the order still being
 * PENDING_FILL, so a fill that did land is never relabelled.
 * @returns true when this call rejected it.
 */
export async function markOrderRejected(doc: DynamoDBDocumentClient, table: string, order: OrderItem, rejectedBy: string, reason: string): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: orderKey(order.cycleId, order.agent, order.symbol),
        UpdateExpression: 'SET #s = :rejected, rejectedBy = :by, reason = :reason',
        ConditionExpression: '#s = :pending',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':rejected': 'REJECTED', ':pending': 'PENDING_FILL', ':by': rejectedBy, ':reason': reason },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}

/**
 * Latest equity snapshot at or before `atOrBeforeBar` (strongly consistent).
 * @returns undefined when none.
 */
export async function latestEquitySnapshot(doc: DynamoDBDocumentClient, table: string, atOrBeforeBar: number): Promise<EquitySnapshot | undefined> {
  const out = await doc.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND sk <= :sk',
      ExpressionAttributeValues: { ':pk': 'EQUITY', ':sk': equitySk(atOrBeforeBar) },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return out.Items?.[0] as EquitySnapshot | undefined;
}

/**
 * Writes a bar's equity snapshot once: `attribute_not_exists(pk)`, so a retried risk
 * assessment of the same bar keeps the first snapshot.
 * @returns the stored snapshot (the new one, or the one already there).
 */
export async function putEquitySnapshotOnce(doc: DynamoDBDocumentClient, table: string, snap: EquitySnapshot): Promise<EquitySnapshot> {
  try {
    await doc.send(new PutCommand({ TableName: table, Item: { pk: 'EQUITY', sk: equitySk(snap.barIndex), ...snap }, ConditionExpression: 'attribute_not_exists(pk)' }));
    return snap;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const out = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'EQUITY', sk: equitySk(snap.barIndex) }, ConsistentRead: true }));
    return out.Item as EquitySnapshot;
  }
}
