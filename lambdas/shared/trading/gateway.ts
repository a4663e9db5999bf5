/**
 * The order gateway: the one order path. Every order of every agent, in AWS, in the local
 * runtime and in the tests, is decided here, and every fill is ONE DynamoDB
 * `TransactWriteItems` transaction that at once
 *
 * 1. checks the control item: not halted (and, for an order that adds risk, not in safe mode);
 * 2. replaces the account item (cash, positions, fill count) conditioned on the version that the
 *    pre-trade checks were computed from;
 * 3. replaces the agent's own book, likewise conditioned on its version;
 * 4. increments the order-rate counters (per agent per cycle, per cycle, per second) only while
 *    they are under their limits;
 * 5. puts the order under its idempotency key (`attribute_not_exists`) and the fill item under
 *    the next fill sequence number.
 *
 * A conflict (another fill moved the account or the book, a concurrent transaction) re-reads and
 * re-runs every check, after a backoff with full jitter; a retried or replayed order meets the
 * existing order item and gets its recorded decision back. There is no other code path that
 * writes a fill, so no crash can leave cash, positions and fills disagreeing (`replayFills`).
 *
 * Sources: SEC Rule 15c3-5 (pre-trade credit, capital and erroneous-order controls), FIA
 * "Best Practices for Automated Trading Risk Controls" (2024: throttles, kill switch, price
 * tolerance), the specification's data gateway (`docs/requirements.md`, R-GATEWAY).
 */
import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetConsistent } from '../batch-get';
import { CONTROL_KEY, parseControlItem, readControlItem } from '../control-read';
import { isConditionalCheckFailed } from '../dynamo-errors';
import type { ControlItem, Mode, RiskVerdict } from '../contracts';
import { OrderGatewayContention } from '../errors';
import type { TradingSettings } from '../settings';
import {
  ACCOUNT_KEY,
  BOOK_PK,
  FILL_PK,
  fillSk,
  getOrder,
  latestEquitySnapshot,
  orderId as makeOrderId,
  orderKey,
  parseAccount,
  parseBook,
  readAccount,
  readBook,
  listBooks,
  listWorkingOrders,
  WORKING_PK,
  type AccountItem,
  type AgentBook,
  type AgentRiskFigures,
  type EquitySnapshot,
  type FillItem,
  type OrderItem,
  type TimeInForce,
  type WorkingOrder,
} from './ledger';
import { isValidPrice, type MarketDataProvider } from './market-data';
import { applyFill, type Side } from './portfolio';
import { checkPriceCollar, reducesPosition, runPreTradeChecks, tradingStateOf, type CheckResult, type PreTradeCheckName } from './pre-trade-checks';

/** An order as the gateway receives it: the agent's proposal labelled by the orchestrator. */
export interface GatewayOrder {
  readonly cycleId: string;
  /** From the state machine's work item, never from the agent's payload. */
  readonly agent: string;
  /** The agent's id for the order within its run (idempotency key with cycle and agent). */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  /** Whole shares, > 0. */
  readonly qty: number;
  /** Optional limit price, USD per share (price collar). A limit order that does not cross the close rests (see `timeInForce`). */
  readonly limitPrice?: number;
  /** Time in force of a limit order. @default 'DAY' */
  readonly timeInForce?: TimeInForce;
  /** Cycle mode from the plan (`safe` admits only orders that reduce a position). */
  readonly mode: Mode;
  /** This cycle's risk verdict: nothing is admitted under HALT, whatever the agent was told. */
  readonly riskVerdict: RiskVerdict;
}

/** The gateway's decision on one order. */
export interface GatewayDecision {
  readonly order: OrderItem;
  /** True when the order already existed (a retried gateway call): nothing new was written. */
  readonly replayed: boolean;
  /** The refusing check, when `order.status` is REJECTED. */
  readonly rejectedBy?: PreTradeCheckName;
}

/** What the gateway needs. */
export interface GatewayDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly ledgerTable: string;
  readonly controlTable: string;
  readonly settings: TradingSettings;
  /** This cycle's market data: fills at `feed.priceAt(symbol)`, the current bar's close. Needed by `submit` and `matchWorking`, not by `cancelAll`. */
  readonly feed?: MarketDataProvider;
  /** Epoch ms (the per-second rate window and `createdAt`). @default Date.now */
  readonly now?: () => number;
  /** Waits `ms` (backoff, rate pacing). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Conflict retries before {@link OrderGatewayContention}. @default 60 */
  readonly maxAttempts?: number;
}

/** Base and cap of the conflict backoff, ms ("full jitter": a uniform wait in [0, min(cap, base x 2^n))). */
export const GATEWAY_BACKOFF = { baseMs: 5, capMs: 250 } as const;
/** Longest wait for a free per-second rate slot before the order is rejected (`maxOrdersPerSecond`), ms. */
export const RATE_WAIT_MAX_MS = 3_000;
/** Seconds the rate counters are kept (DynamoDB TTL `expiresAt`). */
const RATE_TTL_S = 3 * 86_400;

type Reason = 'control' | 'account' | 'book' | 'rateAgent' | 'rateCycle' | 'rateSecond' | 'order' | 'fill' | 'working';
const TX_ITEMS: readonly Reason[] = ['control', 'account', 'book', 'rateAgent', 'rateCycle', 'rateSecond', 'order', 'fill'];
/** Items of a transaction that moves a resting order (fill, cancel, expiry). */
const TX_WORKING: readonly Reason[] = ['control', 'account', 'book', 'order', 'working', 'fill'];

interface Counters {
  agent: number;
  cycle: number;
}

/** The order gateway. */
export interface OrderGateway {
  /**
   * Decides one order: runs every pre-trade check on fresh state and commits the fill as one
   * transaction, or records the rejection naming the check.
   * @throws {OrderGatewayContention} after `maxAttempts` conflicting attempts in a row.
   */
  submit(order: GatewayOrder): Promise<GatewayDecision>;
  /**
   * Matches every working order against this feed's bar: a BUY whose limit is at or above the close
   * (a SELL at or below) fills at its limit; a DAY order past its session expires; in safe mode an
   * order that would add risk is cancelled, and so is one that would add to the book of an agent its
   * daily-loss protection holds in REDUCE (this bar's snapshot, judged on the book the fill is conditioned on). Each move is one transaction conditioned on the order
   * still being WORKING, so a fill and a cancel can never both win.
   */
  matchWorking(mode: Mode): Promise<{ filled: number; expired: number; cancelled: number; working: number }>;
  /**
   * Cancels every working order (of one agent, or all), each in one transaction conditioned on it
   * still being WORKING. Used by the kill switch and by operators (`ops cancel-all`).
   * @returns how many this call cancelled.
   */
  cancelAll(reason: string, agent?: string): Promise<number>;
  /**
   * An operator's flatten (`ops flatten`): cancels every working order, then closes every position of every
   * agent book with a market order at the feed's close (a SELL of a long, a BUY of a short), attributed to
   * that agent's book. Each close is ONE transaction (account, book, order, fill) conditioned on the account
   * and the book versions read, so it only ever reduces a position to zero and never sells what a concurrent
   * fill already sold. The one order path admitted while HALTED: it carries no halt-flag condition, and it is
   * reachable only from the operator function (never the alarm-invoked Master).
   * Idempotent on `flattenId`: a retried flatten meets its own order items and fills nothing twice.
   * @throws {OrderGatewayContention} after `maxAttempts` conflicts on one position.
   */
  flatten(req: FlattenRequest): Promise<FlattenReport>;
}

/** An operator's flatten request. */
export interface FlattenRequest {
  /** Id of this flatten: its orders are `<flattenId>#<agent>#flatten-<symbol>` (pseudo-cycle `flattenId`). */
  readonly flattenId: string;
  /** Who (the operator's identity), recorded on every order. */
  readonly actor: string;
  /** Why, recorded on every order. */
  readonly reason: string;
}

/** One position a flatten closed (or could not). */
export interface FlattenedPosition {
  readonly agent: string;
  readonly symbol: string;
  readonly side: Side;
  /** Shares closed. */
  readonly qty: number;
  /** Fill price, USD per share (0 when not closed). */
  readonly price: number;
  readonly status: 'FILLED' | 'REJECTED';
  /** Why not closed (no valid price for the symbol at the bar). */
  readonly reason?: string;
}

/** What a flatten did. */
export interface FlattenReport {
  readonly flattenId: string;
  /** Working orders cancelled first. */
  readonly workingOrdersCancelled: number;
  readonly positions: readonly FlattenedPosition[];
  /** Positions closed by this call. */
  readonly closed: number;
  /** Positions left open (no price): the operator must act. */
  readonly notClosed: number;
  /** Bar and time of the prices used. */
  readonly barIndex: number;
  readonly asOf: string;
}

/** Creates a gateway bound to one cycle's feed. */
export function createOrderGateway(deps: GatewayDeps): OrderGateway {
  const { doc, ledgerTable, controlTable, settings } = deps;
  const noFeed = new Proxy({} as MarketDataProvider, {
    get() {
      throw new Error('This order gateway has no market data (it was created to cancel orders only)');
    },
  });
  const feed: MarketDataProvider = deps.feed ?? noFeed;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = deps.random ?? Math.random;
  const maxAttempts = deps.maxAttempts ?? 60;
  const limits = settings.limits;

  const backoff = (attempt: number) => sleep(random() * Math.min(GATEWAY_BACKOFF.capMs, GATEWAY_BACKOFF.baseMs * 2 ** attempt));

  /**
   * Everything one decision reads, strongly consistent and at once: the order under its idempotency
   * key, the control item, the account, the agent's book and both order-rate counters in one
   * BatchGetItem, and the latest equity snapshot in a Query beside it. One round trip per attempt
   * (two calls), where one call per item took two round trips (the order first).
   */
  async function readDecisionState(req: GatewayOrder): Promise<{
    existing: OrderItem | undefined;
    control: ControlItem;
    account: AccountItem;
    book: AgentBook;
    counters: Counters;
    snapshot: EquitySnapshot | undefined;
  }> {
    const oKey = orderKey(req.cycleId, req.agent, req.clientOrderId);
    const rateAgentSk = `AGENT#${req.agent}`;
    const [items, snapshot] = await Promise.all([
      batchGetConsistent(
        doc,
        {
          [ledgerTable]: [
            oKey,
            ACCOUNT_KEY,
            { pk: BOOK_PK, sk: req.agent },
            { pk: `RATE#${req.cycleId}`, sk: rateAgentSk },
            { pk: `RATE#${req.cycleId}`, sk: 'ALL' },
          ],
          [controlTable]: [CONTROL_KEY],
        },
        // The gateway's own waits (the simulated clock locally) between rounds of unprocessed keys.
        { sleep },
      ),
      latestEquitySnapshot(doc, ledgerTable, feed.barIndex),
    ]);
    const ledger = items[ledgerTable];
    const find = (pk: string, sk: string) => ledger.find((i) => i.pk === pk && i.sk === sk);
    return {
      existing: find(oKey.pk, oKey.sk) as OrderItem | undefined,
      control: parseControlItem(items[controlTable][0]),
      account: parseAccount(find(ACCOUNT_KEY.pk, ACCOUNT_KEY.sk), settings.startingCashUsd),
      book: parseBook(find(BOOK_PK, req.agent), req.agent),
      counters: { agent: Number(find(`RATE#${req.cycleId}`, rateAgentSk)?.n ?? 0), cycle: Number(find(`RATE#${req.cycleId}`, 'ALL')?.n ?? 0) },
      snapshot,
    };
  }

  function pricesFor(...portfolios: { positions: Readonly<Record<string, unknown>> }[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of portfolios) {
      for (const symbol of Object.keys(p.positions)) {
        const price = feed.priceAt(symbol) ?? feed.lastPrice(symbol)?.price;
        if (isValidPrice(price)) out[symbol] = price;
      }
    }
    return out;
  }

  function baseOrder(req: GatewayOrder, price: number | undefined): Omit<OrderItem, 'status'> {
    const fillPrice = isValidPrice(price) ? price : 0;
    return {
      orderId: makeOrderId(req.cycleId, req.agent, req.clientOrderId),
      cycleId: req.cycleId,
      agent: req.agent,
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      qty: req.qty,
      ...(req.limitPrice !== undefined ? { limitPrice: req.limitPrice } : {}),
      price: fillPrice,
      notionalUsd: fillPrice * req.qty,
      barIndex: feed.barIndex,
      asOf: feed.asOf,
      createdAt: new Date(now()).toISOString(),
    };
  }

  /** The recorded decision for an existing order, or a duplicate rejection when the content differs. */
  function replay(existing: OrderItem, req: GatewayOrder): GatewayDecision {
    const same =
      existing.symbol === req.symbol &&
      existing.side === req.side &&
      existing.qty === req.qty &&
      existing.limitPrice === req.limitPrice &&
      (existing.limitPrice === undefined || (existing.timeInForce ?? 'DAY') === (req.timeInForce ?? 'DAY'));
    if (same) return { order: existing, replayed: true, rejectedBy: existing.rejectedBy as PreTradeCheckName | undefined };
    const reason = `client order id ${req.clientOrderId} was already used by ${req.agent} this cycle for ${existing.side} ${existing.qty} ${existing.symbol}`;
    return {
      order: { ...existing, symbol: req.symbol, side: req.side, qty: req.qty, status: 'REJECTED', rejectedBy: 'duplicateOrder', reason },
      replayed: false,
      rejectedBy: 'duplicateOrder',
    };
  }

  /**
   * The items that admit an order, in every transaction that places one (a fill now or a resting order):
   * the three rate counters, each incremented only while under its limit, and the order under its
   * idempotency key. Their order matches {@link TX_ITEMS} (rateAgent, rateCycle, rateSecond, order).
   */
  function admission(req: GatewayOrder, order: OrderItem, second: number) {
    const expiresAt = second + RATE_TTL_S;
    return [
      counterUpdate(ledgerTable, { pk: `RATE#${req.cycleId}`, sk: `AGENT#${req.agent}` }, limits.maxOrdersPerAgentPerCycle, expiresAt),
      counterUpdate(ledgerTable, { pk: `RATE#${req.cycleId}`, sk: 'ALL' }, limits.maxOrdersPerCycle, expiresAt),
      counterUpdate(ledgerTable, { pk: 'RATE#SECOND', sk: String(second) }, limits.maxOrdersPerSecond, expiresAt),
      {
        Put: {
          TableName: ledgerTable,
          Item: { ...orderKey(req.cycleId, req.agent, req.clientOrderId), ...order },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
  }

  /**
   * Records an order that ends without a fill under its idempotency key (`attribute_not_exists`);
   * when one is already there (a retried call), that one's decision is returned instead.
   */
  async function recordFinal(req: GatewayOrder, order: OrderItem): Promise<GatewayDecision | undefined> {
    try {
      await doc.send(
        new PutCommand({
          TableName: ledgerTable,
          Item: { ...orderKey(req.cycleId, req.agent, req.clientOrderId), ...order },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const existing = await getOrder(doc, ledgerTable, req.cycleId, req.agent, req.clientOrderId);
      if (existing) return replay(existing, req);
      throw err;
    }
  }

  async function recordRejection(
    req: GatewayOrder,
    price: number | undefined,
    check: CheckResult | { check: PreTradeCheckName; detail: string },
  ): Promise<GatewayDecision> {
    const tradingState = tradingStateOf(check.check);
    const order: OrderItem = {
      ...baseOrder(req, price),
      status: 'REJECTED',
      rejectedBy: check.check,
      reason: check.detail,
      ...(tradingState ? { tradingState } : {}),
    };
    return (await recordFinal(req, order)) ?? { order, replayed: false, rejectedBy: check.check };
  }

  async function submit(req: GatewayOrder): Promise<GatewayDecision> {
    const price = feed.priceAt(req.symbol);
    if (req.riskVerdict === 'HALT') {
      return recordRejection(req, price, { check: 'haltFlag', detail: 'HALTED: the risk verdict of this cycle is HALT: no order is admitted' });
    }
    let rateWaitedMs = 0;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const { existing, control, account, book, counters, snapshot } = await readDecisionState(req);
      if (existing) return replay(existing, req);
      const mode: Mode = req.mode === 'safe' || control.mode === 'safe' ? 'safe' : 'normal';
      const intent = { symbol: req.symbol, side: req.side, qty: req.qty, limitPrice: req.limitPrice };
      const lp = req.limitPrice;
      const crosses = lp === undefined || !isValidPrice(price) || (req.side === 'BUY' ? price <= lp : price >= lp);
      const tif: TimeInForce = req.timeInForce ?? 'DAY';
      if (!crosses && tif === 'IOC') return recordTerminal(req, price, 'CANCELLED', `IOC: not marketable (close ${price}, limit ${lp})`);
      const rests = !crosses;
      const referencePrice = feed.priceAt(req.symbol, 1) ?? undefined;
      // The collar always compares with the market (the close), also for an order that will rest.
      const collar = checkPriceCollar({ order: intent, price, limits, referencePrice });
      if (collar.status === 'REJECT') return recordRejection(req, price, collar);
      // Reserved buying power: working BUYs hold cash, working SELLs hold the agent's shares.
      const outcome = runPreTradeChecks({
        order: intent,
        // A resting order is judged at the price it would fill at: its limit.
        price: rests ? lp : price,
        referencePrice,
        prices: pricesFor(account, book),
        portfolio: { cash: account.cash - account.reservedCashUsd, positions: account.positions },
        agentPortfolio: { cash: book.cashFlowUsd, positions: book.positions },
        agentReservedQty: book.reservedQty,
        allowShort: settings.allowShort.includes(req.agent),
        workingBuyUsd: account.reservedCashUsd,
        agentBudget: settings.budgets[req.agent],
        agentDailyLoss: agentDailyLossOf(snapshot?.agents?.[req.agent], settings.budgets[req.agent]),
        limits,
        halted: control.halted,
        mode,
        dailyPnlFraction: snapshot?.dailyPnlFraction,
        drawdownFraction: snapshot?.drawdownFraction,
        agentOrdersThisCycle: counters.agent,
        ordersThisCycle: counters.cycle,
        conflictingOrder: false,
      });
      if (!outcome.passed) return recordRejection(req, price, outcome.rejectedBy!);
      if (rests) {
        const placed = await rest(req, lp!, tif as 'DAY' | 'GTC', account, book, price);
        if (placed === 'conflict') {
          await backoff(attempt);
          continue;
        }
        if (placed === 'replay') continue;
        return placed;
      }

      const fillPrice = price as number; // staleData passed, so the price is valid
      const fill = { symbol: req.symbol, side: req.side, qty: req.qty, price: fillPrice };
      const nextAccount = { ...applyFill(account, fill), reservedCashUsd: account.reservedCashUsd };
      const nextBook = applyFill({ cash: book.cashFlowUsd, positions: book.positions }, fill);
      const fillSeq = account.fillSeq + 1;
      const order: OrderItem = { ...baseOrder(req, price), status: 'FILLED', fillSeq };
      const fillItem: FillItem = {
        fillSeq,
        orderId: order.orderId,
        cycleId: req.cycleId,
        agent: req.agent,
        symbol: req.symbol,
        side: req.side,
        qty: req.qty,
        price: fillPrice,
        notionalUsd: fillPrice * req.qty,
        barIndex: feed.barIndex,
        asOf: feed.asOf,
      };
      const second = Math.floor(now() / 1000);
      const reduces = reducesPosition(account, intent);
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              controlCheck(controlTable, reduces),
              versionedPut(ledgerTable, accountItem(nextAccount, account, { fillSeq, updatedAt: order.createdAt }), account),
              versionedPut(
                ledgerTable,
                bookItem(req.agent, { ...nextBook, reservedQty: book.reservedQty, workingQty: book.workingQty }, book, { fills: book.fills + 1 }),
                book,
              ),
              ...admission(req, order, second),
              { Put: { TableName: ledgerTable, Item: { pk: FILL_PK, sk: fillSk(fillSeq), ...fillItem }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return { order, replayed: false };
      } catch (err) {
        const failed = cancellationReasons(err);
        if (!failed) throw err;
        if (failed.has('control')) {
          const fresh = await readControlItem(doc, controlTable, true);
          const check: PreTradeCheckName = fresh.halted ? 'haltFlag' : 'safeMode';
          return recordRejection(req, price, {
            check,
            detail: fresh.halted
              ? 'HALTED: halt flag is set: the kill switch is engaged'
              : `REDUCE: safe mode: ${req.side} ${req.qty} ${req.symbol} would not reduce the position`,
          });
        }
        if (failed.has('order')) continue; // someone recorded this order first: replay it
        if (failed.has('rateSecond') && !failed.has('rateAgent') && !failed.has('rateCycle')) {
          // The per-second window is full: wait for the next window (pacing, as a broker's throttle would) within a bound.
          const wait = 1000 - (now() % 1000) + Math.floor(random() * 50);
          if (rateWaitedMs + wait > RATE_WAIT_MAX_MS) {
            return recordRejection(req, price, {
              check: 'maxOrdersPerSecond',
              detail: `the gateway admitted ${limits.maxOrdersPerSecond} orders per second for ${Math.round(rateWaitedMs / 1000)} s in a row (limit ${limits.maxOrdersPerSecond}/s)`,
            });
          }
          rateWaitedMs += wait;
          await sleep(wait);
          attempt--; // pacing is not a conflict
          continue;
        }
        // Account or book moved, a counter filled up, or a transaction conflict: re-read and re-check.
        await backoff(attempt);
      }
    }
    throw new OrderGatewayContention(
      `Order ${makeOrderId(req.cycleId, req.agent, req.clientOrderId)} conflicted ${maxAttempts} times in a row on the account item`,
    );
  }

  /** Records an order that ended without a fill and without a rejection (IOC not marketable). */
  async function recordTerminal(req: GatewayOrder, price: number | undefined, status: 'CANCELLED', reason: string): Promise<GatewayDecision> {
    const order: OrderItem = { ...baseOrder(req, price), ...(req.timeInForce ? { timeInForce: req.timeInForce } : {}), status, reason };
    return (await recordFinal(req, order)) ?? { order, replayed: false };
  }

  /** Puts a limit order to rest: the order WORKING, its registry item, the reservation and the rate counters, in one transaction. */
  async function rest(
    req: GatewayOrder,
    limitPrice: number,
    tif: 'DAY' | 'GTC',
    account: AccountItem,
    book: AgentBook,
    price: number | undefined,
  ): Promise<GatewayDecision | 'conflict' | 'replay'> {
    const base = baseOrder(req, price);
    const order: OrderItem = { ...base, price: limitPrice, notionalUsd: limitPrice * req.qty, timeInForce: tif, status: 'WORKING' };
    const working: WorkingOrder = {
      orderId: order.orderId,
      cycleId: req.cycleId,
      agent: req.agent,
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      qty: req.qty,
      limitPrice,
      timeInForce: tif,
      placedBar: feed.barIndex,
      ...(tif === 'DAY' ? { lastBar: feed.barIndex + 1 } : {}),
      createdAt: order.createdAt,
    };
    const signed = req.side === 'BUY' ? req.qty : -req.qty;
    const nextAccount = { ...account, reservedCashUsd: account.reservedCashUsd + (req.side === 'BUY' ? req.qty * limitPrice : 0) };
    const nextBook = {
      ...book,
      reservedQty: req.side === 'SELL' ? { ...book.reservedQty, [req.symbol]: (book.reservedQty[req.symbol] ?? 0) + req.qty } : book.reservedQty,
      workingQty: { ...book.workingQty, [req.symbol]: (book.workingQty[req.symbol] ?? 0) + signed },
    };
    const second = Math.floor(now() / 1000);
    try {
      await doc.send(
        new TransactWriteCommand({
          TransactItems: [
            controlCheck(controlTable, false),
            versionedPut(ledgerTable, accountItem(nextAccount, account, { updatedAt: order.createdAt }), account),
            versionedPut(ledgerTable, bookItem(req.agent, nextBook, book, {}), book),
            ...admission(req, order, second),
            { Put: { TableName: ledgerTable, Item: { pk: WORKING_PK, sk: order.orderId, ...working }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      );
      return { order, replayed: false };
    } catch (err) {
      const failed = cancellationReasons(err);
      if (!failed) throw err;
      if (failed.has('control')) {
        return recordRejection(req, price, { check: 'haltFlag', detail: 'HALTED: halt flag is set: the kill switch is engaged' });
      }
      if (failed.has('order')) return 'replay';
      return 'conflict';
    }
  }

  /**
   * Moves one working order out of WORKING: filled at its limit, cancelled or expired. One
   * transaction conditioned on the order still WORKING (and, for a fill, on the halt flag).
   * `guard`, for a fill: judged on the book read in the same attempt (the transaction is conditioned on that
   * book's version), a reason to cancel instead (the agent's daily-loss REDUCE), or undefined to fill.
   * @returns what this call moved it to; false when someone else moved it first.
   */
  async function settle(
    w: WorkingOrder,
    requested: 'FILLED' | 'CANCELLED' | 'EXPIRED',
    requestedReason: string,
    guard?: (book: AgentBook) => string | undefined,
  ): Promise<'FILLED' | 'CANCELLED' | 'EXPIRED' | false> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const [account, book] = await Promise.all([readAccount(doc, ledgerTable, settings.startingCashUsd), readBook(doc, ledgerTable, w.agent)]);
      const guarded = requested === 'FILLED' ? guard?.(book) : undefined;
      const to = guarded ? 'CANCELLED' : requested;
      const reason = guarded ?? requestedReason;
      const signed = w.side === 'BUY' ? w.qty : -w.qty;
      const released = { ...account, reservedCashUsd: Math.max(0, account.reservedCashUsd - (w.side === 'BUY' ? w.qty * w.limitPrice : 0)) };
      const reservedQty = { ...book.reservedQty };
      if (w.side === 'SELL') reservedQty[w.symbol] = Math.max(0, (reservedQty[w.symbol] ?? 0) - w.qty);
      const workingQty = { ...book.workingQty, [w.symbol]: (book.workingQty[w.symbol] ?? 0) - signed };
      const fill = { symbol: w.symbol, side: w.side, qty: w.qty, price: w.limitPrice };
      const fills = to === 'FILLED';
      const fillSeq = account.fillSeq + 1;
      const nextAccount = fills ? { ...applyFill(released, fill), reservedCashUsd: released.reservedCashUsd } : released;
      const nextBookPortfolio = fills
        ? applyFill({ cash: book.cashFlowUsd, positions: book.positions }, fill)
        : { cash: book.cashFlowUsd, positions: book.positions };
      const at = new Date(now()).toISOString();
      // Only a fill is conditioned on the halt flag: a cancel or an expiry must go through while halted.
      const items: unknown[] = [
        ...(fills ? [controlCheck(controlTable, reducesPosition(account, w))] : []),
        versionedPut(ledgerTable, accountItem(nextAccount, account, fills ? { fillSeq } : {}), account),
        versionedPut(
          ledgerTable,
          bookItem(
            w.agent,
            { ...book, positions: nextBookPortfolio.positions, cashFlowUsd: nextBookPortfolio.cash, reservedQty, workingQty },
            book,
            fills ? { fills: book.fills + 1 } : {},
          ),
          book,
        ),
        {
          Update: {
            TableName: ledgerTable,
            Key: orderKey(w.cycleId, w.agent, w.clientOrderId),
            UpdateExpression: `SET #s = :to, settledAt = :at, reason = :why${fills ? ', fillSeq = :seq, fillBar = :bar, fillAsOf = :asOf' : ''}`,
            ConditionExpression: '#s = :working',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: {
              ':to': to,
              ':at': at,
              ':why': reason,
              ':working': 'WORKING',
              ...(fills ? { ':seq': fillSeq, ':bar': feed.barIndex, ':asOf': feed.asOf } : {}),
            },
          },
        },
        { Delete: { TableName: ledgerTable, Key: { pk: WORKING_PK, sk: w.orderId }, ConditionExpression: 'attribute_exists(pk)' } },
      ];
      if (fills) {
        const item: FillItem = {
          fillSeq,
          orderId: w.orderId,
          cycleId: w.cycleId,
          agent: w.agent,
          symbol: w.symbol,
          side: w.side,
          qty: w.qty,
          price: w.limitPrice,
          notionalUsd: w.qty * w.limitPrice,
          barIndex: feed.barIndex,
          asOf: feed.asOf,
        };
        items.push({ Put: { TableName: ledgerTable, Item: { pk: FILL_PK, sk: fillSk(fillSeq), ...item }, ConditionExpression: 'attribute_not_exists(pk)' } });
      }
      try {
        await doc.send(new TransactWriteCommand({ TransactItems: items as never }));
        return to;
      } catch (err) {
        const failed = cancellationReasons(err, fills ? TX_WORKING : TX_WORKING.slice(1));
        if (!failed) throw err;
        if (failed.has('order') || failed.has('working')) return false; // already moved by someone else
        if (failed.has('control')) return false; // halted: the kill switch cancels it
        await backoff(attempt);
      }
    }
    throw new OrderGatewayContention(`Working order ${w.orderId} conflicted ${maxAttempts} times in a row`);
  }

  async function matchWorking(mode: Mode): Promise<{ filled: number; expired: number; cancelled: number; working: number }> {
    const out = { filled: 0, expired: 0, cancelled: 0, working: 0 };
    const control = await readControlItem(doc, controlTable, true);
    const safe = mode === 'safe' || control.mode === 'safe';
    // This bar's snapshot (Assess risk runs before Match working orders): the agents' daily-loss protection.
    const snapshot = await latestEquitySnapshot(doc, ledgerTable, feed.barIndex);
    const agentGuard = (w: WorkingOrder) => (book: AgentBook) => {
      const d = agentDailyLossOf(snapshot?.barIndex === feed.barIndex ? snapshot.agents?.[w.agent] : undefined, settings.budgets[w.agent]);
      if (!d || !(-d.pnlTodayUsd > d.limitUsd) || reducesPosition({ cash: book.cashFlowUsd, positions: book.positions }, w)) return undefined;
      return `REDUCE: ${w.agent} lost USD ${(-d.pnlTodayUsd).toFixed(2)} today, over its daily-loss budget USD ${d.limitUsd.toFixed(2)}: a working order that would add risk is cancelled`;
    };
    for (const w of await listWorkingOrders(doc, ledgerTable)) {
      if (w.placedBar >= feed.barIndex) {
        out.working++; // placed on this bar: its session is the next one
        continue;
      }
      if (w.lastBar !== undefined && feed.barIndex > w.lastBar) {
        if (await settle(w, 'EXPIRED', `DAY order not filled in its session (bar ${w.lastBar})`)) out.expired++;
        continue;
      }
      const close = feed.priceAt(w.symbol);
      const crosses = isValidPrice(close) && (w.side === 'BUY' ? close <= w.limitPrice : close >= w.limitPrice);
      if (!crosses) {
        out.working++;
        continue;
      }
      if (safe) {
        const account = await readAccount(doc, ledgerTable, settings.startingCashUsd);
        if (!reducesPosition(account, w)) {
          if (await settle(w, 'CANCELLED', 'reduce-only: safe mode cancels a working order that would add risk')) out.cancelled++;
          continue;
        }
      }
      const moved = await settle(w, 'FILLED', `crossed at close ${close}, filled at the limit ${w.limitPrice}`, agentGuard(w));
      if (moved === 'FILLED') out.filled++;
      else if (moved === 'CANCELLED') out.cancelled++;
    }
    return out;
  }

  async function cancelAll(reason: string, agent?: string): Promise<number> {
    let n = 0;
    for (const w of await listWorkingOrders(doc, ledgerTable)) {
      if (agent && w.agent !== agent) continue;
      if (await settle(w, 'CANCELLED', reason)) n++;
    }
    return n;
  }

  /** Closes one agent's position in one symbol; undefined when it is already flat. */
  async function closePosition(req: FlattenRequest, agent: string, symbol: string): Promise<FlattenedPosition | undefined> {
    const clientOrderId = `flatten-${symbol}`;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const existing = await getOrder(doc, ledgerTable, req.flattenId, agent, clientOrderId);
      if (existing) {
        return {
          agent,
          symbol,
          side: existing.side,
          qty: existing.qty,
          price: existing.price,
          status: existing.status === 'FILLED' ? 'FILLED' : 'REJECTED',
          reason: existing.reason,
        };
      }
      const [account, book] = await Promise.all([readAccount(doc, ledgerTable, settings.startingCashUsd), readBook(doc, ledgerTable, agent)]);
      const held = book.positions[symbol]?.qty ?? 0;
      if (held === 0) return undefined;
      const side: Side = held > 0 ? 'SELL' : 'BUY';
      const qty = Math.abs(held);
      const price = feed.priceAt(symbol) ?? feed.lastPrice(symbol)?.price;
      const orderReq: GatewayOrder = { cycleId: req.flattenId, agent, clientOrderId, symbol, side, qty, mode: 'safe', riskVerdict: 'REDUCE' };
      const createdAt = new Date(now()).toISOString();
      const flattenedBy = `${req.actor}: ${req.reason}`.slice(0, 600);
      if (!isValidPrice(price)) {
        const why = `no valid price for ${symbol} at bar ${feed.barIndex} (${feed.asOf}): the position stays open`;
        const order: OrderItem = { ...baseOrder(orderReq, undefined), createdAt, status: 'REJECTED', rejectedBy: 'staleData', reason: why, flattenedBy };
        await recordFinal(orderReq, order);
        return { agent, symbol, side, qty, price: 0, status: 'REJECTED', reason: why };
      }
      const fill = { symbol, side, qty, price };
      const fillSeq = account.fillSeq + 1;
      const nextAccount = { ...applyFill(account, fill), reservedCashUsd: account.reservedCashUsd };
      const nextBook = applyFill({ cash: book.cashFlowUsd, positions: book.positions }, fill);
      const order: OrderItem = { ...baseOrder(orderReq, price), createdAt, status: 'FILLED', fillSeq, reason: 'flatten', flattenedBy };
      const fillItem: FillItem = {
        fillSeq,
        orderId: order.orderId,
        cycleId: req.flattenId,
        agent,
        symbol,
        side,
        qty,
        price,
        notionalUsd: price * qty,
        barIndex: feed.barIndex,
        asOf: feed.asOf,
      };
      try {
        await doc.send(
          new TransactWriteCommand({
            TransactItems: [
              versionedPut(ledgerTable, accountItem(nextAccount, account, { fillSeq, updatedAt: createdAt }), account),
              versionedPut(
                ledgerTable,
                bookItem(agent, { ...nextBook, reservedQty: book.reservedQty, workingQty: book.workingQty }, book, { fills: book.fills + 1 }),
                book,
              ),
              {
                Put: {
                  TableName: ledgerTable,
                  Item: { ...orderKey(req.flattenId, agent, clientOrderId), ...order },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName: ledgerTable, Item: { pk: FILL_PK, sk: fillSk(fillSeq), ...fillItem }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        return { agent, symbol, side, qty, price, status: 'FILLED' };
      } catch (err) {
        if (!cancellationReasons(err, ['account', 'book', 'order', 'fill'])) throw err;
        await backoff(attempt); // the account or the book moved (or the order was recorded): re-read and decide again
      }
    }
    throw new OrderGatewayContention(`Flatten ${req.flattenId}: closing ${agent}'s ${symbol} conflicted ${maxAttempts} times in a row`);
  }

  async function flatten(req: FlattenRequest): Promise<FlattenReport> {
    const workingOrdersCancelled = await cancelAll(`flatten by ${req.actor}: ${req.reason}`);
    const positions: FlattenedPosition[] = [];
    for (const book of await listBooks(doc, ledgerTable)) {
      for (const [symbol, p] of Object.entries(book.positions)) {
        if (!p || p.qty === 0) continue;
        const closed = await closePosition(req, book.agent, symbol);
        if (closed) positions.push(closed);
      }
    }
    const closed = positions.filter((p) => p.status === 'FILLED').length;
    return {
      flattenId: req.flattenId,
      workingOrdersCancelled,
      positions,
      closed,
      notClosed: positions.length - closed,
      barIndex: feed.barIndex,
      asOf: feed.asOf,
    };
  }

  return { submit, matchWorking, cancelAll, flatten };
}

/**
 * The agent's daily-loss figures for the pre-trade check `agentMaxDailyLoss`: its P&L today from this bar's
 * snapshot, and its limit `maxDailyLossFraction` x `allocationUsd`; undefined when either is missing.
 */
export function agentDailyLossOf(
  figures: AgentRiskFigures | undefined,
  budget: TradingSettings['budgets'][string] | undefined,
): { pnlTodayUsd: number; limitUsd: number } | undefined {
  if (!figures || budget?.maxDailyLossFraction === undefined || budget.allocationUsd === undefined) return undefined;
  return { pnlTodayUsd: figures.pnlTodayUsd, limitUsd: budget.maxDailyLossFraction * budget.allocationUsd };
}

/** The account item to write: next figures at the read version + 1. */
function accountItem(
  next: { cash: number; positions: AccountItem['positions']; reservedCashUsd: number },
  read: AccountItem,
  extra: { fillSeq?: number; updatedAt?: string },
) {
  return {
    ...ACCOUNT_KEY,
    cash: next.cash,
    positions: next.positions,
    reservedCashUsd: next.reservedCashUsd,
    version: read.version + 1,
    fillSeq: extra.fillSeq ?? read.fillSeq,
    ...(extra.updatedAt ? { updatedAt: extra.updatedAt } : {}),
  };
}

/** The agent book item to write: next figures at the read version + 1. */
function bookItem(
  agent: string,
  next: { positions: AgentBook['positions']; cash?: number; cashFlowUsd?: number; reservedQty: AgentBook['reservedQty']; workingQty: AgentBook['workingQty'] },
  read: AgentBook,
  extra: { fills?: number },
) {
  const workingQty = Object.fromEntries(Object.entries(next.workingQty).filter(([, q]) => q !== 0));
  const reservedQty = Object.fromEntries(Object.entries(next.reservedQty).filter(([, q]) => q !== 0));
  return {
    pk: BOOK_PK,
    sk: agent,
    agent,
    positions: next.positions,
    cashFlowUsd: next.cashFlowUsd ?? next.cash ?? read.cashFlowUsd,
    fills: extra.fills ?? read.fills,
    reservedQty,
    workingQty,
    version: read.version + 1,
  };
}

/** The condition on the control item: not halted and, unless `allowSafe`, not in safe mode. */
function controlCheck(table: string, allowSafe: boolean) {
  return {
    ConditionCheck: {
      TableName: table,
      Key: CONTROL_KEY,
      ConditionExpression: allowSafe
        ? 'attribute_not_exists(halted) OR halted = :f'
        : '(attribute_not_exists(halted) OR halted = :f) AND (attribute_not_exists(#mode) OR #mode <> :safe)',
      ...(allowSafe
        ? { ExpressionAttributeValues: { ':f': false } }
        : { ExpressionAttributeNames: { '#mode': 'mode' }, ExpressionAttributeValues: { ':f': false, ':safe': 'safe' } }),
    },
  };
}

/** A Put of a versioned item: created if absent (read as version 0), else replaced only at the version read. */
function versionedPut(table: string, item: Record<string, unknown>, read: { exists: boolean; version: number }) {
  return {
    Put: {
      TableName: table,
      Item: item,
      ConditionExpression: read.exists ? 'version = :v' : 'attribute_not_exists(pk)',
      ...(read.exists ? { ExpressionAttributeValues: { ':v': read.version } } : {}),
    },
  };
}

/** Increments a rate counter only while it is under `limit`. */
function counterUpdate(table: string, key: { pk: string; sk: string }, limit: number, expiresAt: number) {
  return {
    Update: {
      TableName: table,
      Key: key,
      UpdateExpression: 'ADD n :one SET expiresAt = :exp',
      ConditionExpression: 'attribute_not_exists(n) OR n < :lim',
      ExpressionAttributeValues: { ':one': 1, ':lim': limit, ':exp': expiresAt },
    },
  };
}

/**
 * Which transaction items failed their condition, from a `TransactionCanceledException`
 * (`CancellationReasons` are in the order of `TransactItems`); an empty set for a pure
 * `TransactionConflict`.
 * @returns undefined when `err` is not a cancelled transaction.
 */
function cancellationReasons(err: unknown, items: readonly Reason[] = TX_ITEMS): Set<Reason> | undefined {
  const e = err as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (e?.name !== 'TransactionCanceledException' && e?.name !== 'TransactionConflictException') return undefined;
  const out = new Set<Reason>();
  (e.CancellationReasons ?? []).forEach((r, i) => {
    if (r.Code === 'ConditionalCheckFailed') out.add(items[i]);
  });
  return out;
}
