/**
 * The Ledger table's item layout (pk/sk single table) and its reads. Every write that changes
 * money is made by the order gateway (`gateway.ts`) as ONE `TransactWriteItems` transaction;
 * the risk Lambda writes one equity snapshot per bar. Nothing else writes this table.
 *
 * | item            | pk                 | sk                          | attributes |
 * | --------------- | ------------------ | --------------------------- | ---------- |
 * | account         | `ACCOUNT`          | `STATE`                     | cash (USD), positions (map symbol -> { qty, avgPrice }), version, fillSeq, createdAt |
 * | agent book      | `BOOK`             | `<agent>`                   | agent, positions, cashFlowUsd (net cash the agent's fills moved, USD), fills, version |
 * | order           | `ORDER#<cycleId>`  | `<agent>#<clientOrderId>`   | {@link OrderItem}: the order under its idempotency key, FILLED or REJECTED |
 * | fill            | `FILL`             | `<10-digit fillSeq>`        | {@link FillItem}: one per fill, in the order the account saw them |
 * | rate counter    | `RATE#<cycleId>`   | `AGENT#<agent>` / `ALL`     | n (orders admitted), expiresAt (TTL) |
 * | rate window     | `RATE#SECOND`      | `<epoch second>`            | n (orders admitted in that second), expiresAt (TTL) |
 * | working order   | `WORKING`          | `<orderId>`                 | {@link WorkingOrder}: a resting limit order (the account reserves its cash, the book its shares) |
 * | equity snapshot | `EQUITY`           | `BAR#<8-digit bar>`         | {@link EquitySnapshot} |
 *
 * Invariant (checked by the risk gate every cycle, `replayFills`): the account's cash and
 * positions, and every agent book, equal the replay of the fill items from the starting cash.
 * It holds because the fill item, the account, the book, the order and the rate counters are
 * written in one transaction or not at all.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from '../dynamo-errors';
import { applyFill, type Portfolio, type Position, type Side } from './portfolio';

/** Key of the account item. */
export const ACCOUNT_KEY = { pk: 'ACCOUNT', sk: 'STATE' } as const;
/** Partition of the fill items. */
export const FILL_PK = 'FILL';
/** Partition of the agent books. */
export const BOOK_PK = 'BOOK';

/** The account item (the fleet's one paper account). */
export interface AccountItem extends Portfolio {
  readonly positions: Readonly<Record<string, Position>>;
  /** Incremented by every fill (optimistic concurrency: the gateway's transaction is conditioned on it). */
  readonly version: number;
  /** Fills applied so far; the next fill item's sort key is `fillSeq + 1`. */
  readonly fillSeq: number;
  /** Cash reserved by working BUY orders (qty x limit), USD: not available to new orders. */
  readonly reservedCashUsd: number;
  /** False until the item has been written (a fresh account read as the starting cash). */
  readonly exists: boolean;
}

/** One agent's book inside the account: what its own fills did. */
export interface AgentBook {
  readonly agent: string;
  /** Symbol -> the agent's own position. */
  readonly positions: Readonly<Record<string, Position>>;
  /** Net cash the agent's fills moved, USD (sells add, buys subtract). P&L = cashFlowUsd + market value of positions. */
  readonly cashFlowUsd: number;
  /** Fills of this agent so far. */
  readonly fills: number;
  /** Symbol -> shares reserved by the agent's working SELL orders (long-only: not sellable twice). */
  readonly reservedQty: Readonly<Record<string, number>>;
  /** Symbol -> signed shares of the agent's working orders (BUY +, SELL -), for agents sizing new orders. */
  readonly workingQty: Readonly<Record<string, number>>;
  /** Incremented by every fill of the agent (the gateway's transaction is conditioned on it). */
  readonly version: number;
  readonly exists: boolean;
}

/**
 * Order status. FILLED; REJECTED by a named pre-trade check; WORKING: a limit order resting until the
 * market crosses its price, its time in force ends, or it is cancelled; then CANCELLED (by the kill
 * switch, an operator, IOC not marketable, or reduce-only) or EXPIRED (its DAY ended).
 */
export type OrderStatus = 'FILLED' | 'REJECTED' | 'WORKING' | 'CANCELLED' | 'EXPIRED';

/**
 * Time in force of a limit order. Bars map to sessions: one bar is one session (a daily bar is a
 * trading day). `DAY` rests for the next session only (the bar after the one it was placed on: the
 * agent decided on a close, so its day is the next one) and expires unfilled after it; `GTC` rests
 * until filled or cancelled; `IOC` fills now at the close if marketable, else is cancelled at once.
 */
export type TimeInForce = 'DAY' | 'GTC' | 'IOC';

/** Partition of the working-order registry (one item per resting order, sk = orderId). */
export const WORKING_PK = 'WORKING';

/** A resting order in the registry: what the matcher and the kill switch work from. */
export interface WorkingOrder {
  readonly orderId: string;
  readonly cycleId: string;
  readonly agent: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly qty: number;
  /** USD per share. */
  readonly limitPrice: number;
  readonly timeInForce: 'DAY' | 'GTC';
  /** Bar it was placed on. */
  readonly placedBar: number;
  /** Last bar it may fill on (DAY: placedBar + 1); absent for GTC. */
  readonly lastBar?: number;
  readonly createdAt: string;
}

/** An order item, stored under its idempotency key (cycle, agent, client order id). */
export interface OrderItem {
  /** `<cycleId>#<agent>#<clientOrderId>` */
  readonly orderId: string;
  readonly cycleId: string;
  /** The agent named by the state machine's work item (never by the agent's own payload). */
  readonly agent: string;
  /** The agent's id for the order, unique within its run (defineAgent numbers them `1`, `2`, ... unless the agent names them). */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  /** Whole shares, > 0. */
  readonly qty: number;
  /** Limit price, USD per share, when the agent gave one. */
  readonly limitPrice?: number;
  /** Time in force of a limit order. */
  readonly timeInForce?: TimeInForce;
  readonly status: OrderStatus;
  /** Name of the pre-trade check that rejected it. */
  readonly rejectedBy?: string;
  /** The trading state that refused it (`HALTED`, `REDUCE`), when the rejecting check is one (`tradingStateOf`). */
  readonly tradingState?: 'HALTED' | 'REDUCE';
  /** Set on the orders of an operator's flatten (`ops flatten`): who and why. */
  readonly flattenedBy?: string;
  readonly reason?: string;
  /** Fill price (the current bar's close), USD; 0 when rejected without a price. */
  readonly price: number;
  /** qty x price, USD. */
  readonly notionalUsd: number;
  readonly barIndex: number;
  readonly asOf: string;
  /** ISO time the gateway decided. */
  readonly createdAt: string;
  /** The fill's sequence number, when FILLED. */
  readonly fillSeq?: number;
}

/** A fill item: what the account saw, in order. */
export interface FillItem {
  readonly fillSeq: number;
  readonly orderId: string;
  readonly cycleId: string;
  readonly agent: string;
  readonly symbol: string;
  readonly side: Side;
  readonly qty: number;
  /** USD per share. */
  readonly price: number;
  /** qty x price, USD. */
  readonly notionalUsd: number;
  readonly barIndex: number;
  readonly asOf: string;
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
  /** Agent -> its own figures at this bar (the risk gate's per-agent view; the order gateway's daily-loss protection reads it). */
  readonly agents?: Readonly<Record<string, AgentRiskFigures>>;
}

/**
 * One agent's figures at a bar, from its own book (issue 12 "per-agent risk budgets and books"). USD unless
 * named `...Fraction`; P&L is mark-to-market at this bar's closes (fills happen at the close).
 */
export interface AgentRiskFigures {
  /** P&L since the start, USD: the book's net cash flow + the market value of its positions. */
  readonly pnlUsd: number;
  /** P&L of the day, USD: Σ qty x (close now - previous close) over the positions it holds (as the fleet's `dailyPnl`). */
  readonly pnlTodayUsd: number;
  /** Gross exposure of its positions, USD. */
  readonly grossExposureUsd: number;
  /** Its allocation, USD (`budget.allocationUsd`), when configured. */
  readonly allocationUsd?: number;
  /** Highest P&L seen so far (this bar included), USD: the running peak its drawdown is measured from. */
  readonly peakPnlUsd: number;
  /** Drawdown from the running peak: (peak - P&L) / (allocation + peak), a fraction >= 0; (peak - P&L) / starting cash without an allocation. */
  readonly drawdownFraction: number;
  /** Gross exposure / `budget.maxGrossExposureUsd` (a fraction; 1 = the budget is used up); absent without that budget. */
  readonly budgetUsedFraction?: number;
  /** The daily-loss limit, USD (`maxDailyLossFraction` x allocation), when configured. */
  readonly dailyLossLimitUsd?: number;
  /** True when its P&L today is below -`dailyLossLimitUsd`: REDUCE for the rest of the day (only reducing orders). */
  readonly reduceOnly: boolean;
}

/** Order key: idempotent on (cycleId, agent, clientOrderId). */
export function orderKey(cycleId: string, agent: string, clientOrderId: string): { pk: string; sk: string } {
  return { pk: `ORDER#${cycleId}`, sk: `${agent}#${clientOrderId}` };
}

/** Order id: `<cycleId>#<agent>#<clientOrderId>`. */
export function orderId(cycleId: string, agent: string, clientOrderId: string): string {
  return `${cycleId}#${agent}#${clientOrderId}`;
}

/** Sort key of a fill: the sequence number, zero-padded to 10 digits (sorts numerically). */
export function fillSk(fillSeq: number): string {
  return String(fillSeq).padStart(10, '0');
}

/** Sort key of a bar's equity snapshot: `BAR#` + 8-digit zero-padded index (sorts numerically). */
export function equitySk(barIndex: number): string {
  return `BAR#${String(barIndex).padStart(8, '0')}`;
}

/**
 * Reads the account item (strongly consistent). A missing item reads as the starting cash with
 * `exists: false`, version 0; the gateway's first fill creates it (conditioned on its absence).
 */
export async function readAccount(doc: DynamoDBDocumentClient, table: string, startingCashUsd: number): Promise<AccountItem> {
  const got = await doc.send(new GetCommand({ TableName: table, Key: ACCOUNT_KEY, ConsistentRead: true }));
  return parseAccount(got.Item, startingCashUsd);
}

/** The account of a raw item read by the caller ({@link readAccount}'s rules: absent is the starting cash, `exists: false`). */
export function parseAccount(item: Record<string, unknown> | undefined, startingCashUsd: number): AccountItem {
  if (!item) return { cash: startingCashUsd, positions: {}, version: 0, fillSeq: 0, reservedCashUsd: 0, exists: false };
  return {
    cash: Number(item.cash),
    positions: (item.positions ?? {}) as Record<string, Position>,
    version: Number(item.version ?? 0),
    fillSeq: Number(item.fillSeq ?? 0),
    reservedCashUsd: Number(item.reservedCashUsd ?? 0),
    exists: true,
  };
}

/** Reads one agent's book (strongly consistent); a missing book reads as empty with `exists: false`. */
export async function readBook(doc: DynamoDBDocumentClient, table: string, agent: string): Promise<AgentBook> {
  const got = await doc.send(new GetCommand({ TableName: table, Key: { pk: BOOK_PK, sk: agent }, ConsistentRead: true }));
  return parseBook(got.Item, agent);
}

/** The book of `agent` from a raw item read by the caller ({@link readBook}'s rules: absent is an empty book, `exists: false`). */
export function parseBook(item: Record<string, unknown> | undefined, agent: string): AgentBook {
  if (!item) return { agent, positions: {}, cashFlowUsd: 0, fills: 0, reservedQty: {}, workingQty: {}, version: 0, exists: false };
  return toBook(item);
}

function toBook(item: Record<string, unknown>): AgentBook {
  return {
    agent: String(item.agent ?? item.sk),
    positions: (item.positions ?? {}) as Record<string, Position>,
    cashFlowUsd: Number(item.cashFlowUsd ?? 0),
    fills: Number(item.fills ?? 0),
    reservedQty: (item.reservedQty ?? {}) as Record<string, number>,
    workingQty: (item.workingQty ?? {}) as Record<string, number>,
    version: Number(item.version ?? 0),
    exists: true,
  };
}

/** Every working order (strongly consistent query; paginated). */
export async function listWorkingOrders(doc: DynamoDBDocumentClient, table: string): Promise<WorkingOrder[]> {
  return queryAll<WorkingOrder>(doc, table, WORKING_PK);
}

async function queryAll<T>(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as T[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every agent book (strongly consistent query; paginated). */
export async function listBooks(doc: DynamoDBDocumentClient, table: string): Promise<AgentBook[]> {
  return (await queryAll<Record<string, unknown>>(doc, table, BOOK_PK)).map(toBook);
}

/** Every fill, in fillSeq order (strongly consistent query; paginated). */
export async function listFills(doc: DynamoDBDocumentClient, table: string): Promise<FillItem[]> {
  return queryAll<FillItem>(doc, table, FILL_PK);
}

/** Reads one order (strongly consistent). */
export async function getOrder(
  doc: DynamoDBDocumentClient,
  table: string,
  cycleId: string,
  agent: string,
  clientOrderId: string,
): Promise<OrderItem | undefined> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: orderKey(cycleId, agent, clientOrderId), ConsistentRead: true }));
  return out.Item as OrderItem | undefined;
}

/** Every order of a cycle (strongly consistent query; paginated). */
export async function listCycleOrders(doc: DynamoDBDocumentClient, table: string, cycleId: string): Promise<OrderItem[]> {
  return queryAll<OrderItem>(doc, table, `ORDER#${cycleId}`);
}

/** The fleet's and every agent's position and cash, as the replay of the fills gives them. */
export interface Replay {
  readonly account: Portfolio;
  readonly books: Readonly<Record<string, { positions: Record<string, Position>; cashFlowUsd: number; fills: number }>>;
  readonly fills: number;
}

/**
 * Replays fills in order from the starting cash: the figures the account and the books must equal.
 * @throws {RangeError} when a fill has a non-positive qty or price (a corrupt ledger).
 */
export function replayFills(fills: readonly FillItem[], startingCashUsd: number): Replay {
  let account: Portfolio = { cash: startingCashUsd, positions: {} };
  const books: Record<string, { positions: Record<string, Position>; cashFlowUsd: number; fills: number }> = {};
  for (const f of [...fills].sort((a, b) => a.fillSeq - b.fillSeq)) {
    account = applyFill(account, f);
    const b = books[f.agent] ?? { positions: {}, cashFlowUsd: 0, fills: 0 };
    const next = applyFill({ cash: b.cashFlowUsd, positions: b.positions }, f);
    books[f.agent] = { positions: { ...next.positions }, cashFlowUsd: next.cash, fills: b.fills + 1 };
  }
  return { account, books, fills: fills.length };
}

/** A difference between the stored ledger and the replay of its fills. */
export interface LedgerMismatch {
  /** What differs: `cash`, `position <symbol>`, `fill count`, `book <agent> ...`. */
  readonly what: string;
  readonly stored: number;
  readonly replayed: number;
}

/** Tolerance of the ledger identity, USD or shares (the same float operations in the same order give the same figures; this absorbs only JSON round trips). */
export const LEDGER_TOLERANCE = 1e-6;

/**
 * Compares the account and the books with the replay of the fills.
 * Also checks that the account's reserved cash equals the working BUY orders' qty x limit.
 * @returns every mismatch (empty when the identity holds).
 */
export function reconcileLedger(account: AccountItem, books: readonly AgentBook[], replay: Replay, working: readonly WorkingOrder[] = []): LedgerMismatch[] {
  const out: LedgerMismatch[] = [];
  const reserved = working.filter((w) => w.side === 'BUY').reduce((a, w) => a + w.qty * w.limitPrice, 0);
  if (Math.abs(account.reservedCashUsd - reserved) > LEDGER_TOLERANCE * Math.max(1, reserved))
    out.push({ what: 'reserved cash', stored: account.reservedCashUsd, replayed: reserved });
  const near = (a: number, b: number) => Math.abs(a - b) <= LEDGER_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
  if (!near(account.cash, replay.account.cash)) out.push({ what: 'cash', stored: account.cash, replayed: replay.account.cash });
  if (account.fillSeq !== replay.fills) out.push({ what: 'fill count', stored: account.fillSeq, replayed: replay.fills });
  const symbols = new Set([...Object.keys(account.positions), ...Object.keys(replay.account.positions)]);
  for (const s of symbols) {
    const a = account.positions[s]?.qty ?? 0;
    const r = replay.account.positions[s]?.qty ?? 0;
    if (a !== r) out.push({ what: `position ${s}`, stored: a, replayed: r });
  }
  const agents = new Set([...books.map((b) => b.agent), ...Object.keys(replay.books)]);
  for (const agent of agents) {
    const b = books.find((x) => x.agent === agent);
    const r = replay.books[agent];
    if (!near(b?.cashFlowUsd ?? 0, r?.cashFlowUsd ?? 0))
      out.push({ what: `book ${agent} cash flow`, stored: b?.cashFlowUsd ?? 0, replayed: r?.cashFlowUsd ?? 0 });
    for (const s of new Set([...Object.keys(b?.positions ?? {}), ...Object.keys(r?.positions ?? {})])) {
      const a = b?.positions[s]?.qty ?? 0;
      const q = r?.positions[s]?.qty ?? 0;
      if (a !== q) out.push({ what: `book ${agent} position ${s}`, stored: a, replayed: q });
    }
  }
  return out;
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
    await doc.send(
      new PutCommand({ TableName: table, Item: { pk: 'EQUITY', sk: equitySk(snap.barIndex), ...snap }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return snap;
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
    const out = await doc.send(new GetCommand({ TableName: table, Key: { pk: 'EQUITY', sk: equitySk(snap.barIndex) }, ConsistentRead: true }));
    return out.Item as EquitySnapshot;
  }
}
