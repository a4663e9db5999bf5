/**
 * The paper broker: places orders through the pre-trade checks and fills them at the
 * current bar's close, in the Ledger table (layout: `ledger.ts`).
 *
 * Idempotency: an order is keyed by (cycleId, agent, symbol) and created with
 * `attribute_not_exists`; a retried agent asking for the same order gets the existing one
 * back (`replayed: true`), never a second fill. The fill is applied to the account item
 * (cash + positions + version + applied ids) by ONE conditional UpdateItem, retried from
 * fresh state on a version conflict; the `applied` map makes a second application
 * impossible even if a crash left the order PENDING_FILL and the whole call is retried.
 *
 * May be imported by: agents (through `defineAgent`'s `ctx.broker`), `local/`, `test/`.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Mode } from '../contracts';
import { readControlItem } from '../control-read';
import type { TradingSettings } from '../settings';
import {
  getOrCreateAccount,
  getOrder,
  latestEquitySnapshot,
  listCycleOrders,
  markOrderRejected,
  orderId as makeOrderId,
  putOrderIfAbsent,
  recordFill,
  writeAccountFill,
  type AccountItem,
  type OrderItem,
} from './ledger';
import { isValidPrice, type MarketDataProvider } from './market-data';
import { applyFill, type Portfolio, type Side } from './portfolio';
import { runPreTradeChecks, type CheckResult, type PreTradeCheckName } from './pre-trade-checks';

/** What an agent asks for. */
export interface OrderRequest {
  readonly cycleId: string;
  readonly agent: string;
  readonly symbol: string;
  readonly side: Side;
  /** Whole shares, > 0. */
  readonly qty: number;
  /** Optional limit price, USD per share (checked by the price collar; the fill is at the close). */
  readonly limitPrice?: number;
}

/** What placeOrder returns. */
export interface OrderResult {
  readonly order: OrderItem;
  /** True when the order already existed (a retry): nothing new was written or filled. */
  readonly replayed: boolean;
  /** The rejecting check, when `order.status` is REJECTED (or when a conflicting duplicate was refused without a write). */
  readonly rejectedBy?: PreTradeCheckName;
  /** Every check's result (empty on a replay). */
  readonly checks: readonly CheckResult[];
}

/** Dependencies of the broker. */
export interface BrokerOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly ledgerTable: string;
  readonly controlTable: string;
  readonly settings: TradingSettings;
  /** This cycle's market data (fills at `feed.priceAt(symbol)`, the current bar's close). */
  readonly feed: MarketDataProvider;
  /** Cycle mode from the input; the control item's mode `safe` also forces safe mode. */
  readonly mode: Mode;
}

/** The paper broker's operations. */
export interface PaperBroker {
  /** Cash and positions (creates the account with `startingCashUsd` on first use). */
  getPortfolio(): Promise<Portfolio>;
  /**
   * Places an order through every pre-trade check; fills it at the current close when all pass.
   * A rejected order is recorded (status REJECTED, `rejectedBy` = the check's name).
   * @throws {Error} `LedgerContention` after 10 version conflicts in a row on the account item.
   */
  placeOrder(req: OrderRequest): Promise<OrderResult>;
  /**
   * Applies a PENDING_FILL order's fill to the account exactly once.
   * @returns true when this call applied it, false when it was already applied.
   */
  applyFillOnce(order: OrderItem): Promise<boolean>;
  /** This cycle's orders (every agent). */
  listOrders(cycleId: string): Promise<OrderItem[]>;
}

const MAX_CONFLICT_RETRIES = 10;

/** Creates a broker bound to one cycle's feed and mode. */
export function createPaperBroker(opts: BrokerOptions): PaperBroker {
  const { doc, ledgerTable: table, settings, feed } = opts;

  /**
   * Applies a fill once. With `recheck`, the pre-trade checks run again on every fresh read of the
   * account, right before the version-checked write: the version check alone keeps the arithmetic
   * right, but a concurrent fill may have used the cash or exposure this order was checked against.
   * @returns `applied` (this call filled it), `already` (an earlier call did) or the check that now rejects it.
   */
  async function fill(order: OrderItem, recheck?: (account: AccountItem) => CheckResult | undefined): Promise<'applied' | 'already' | CheckResult> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const account = await getOrCreateAccount(doc, table, settings.startingCashUsd);
      if (account.applied[order.orderId] !== undefined) return 'already';
      const rejection = recheck?.(account);
      if (rejection) return rejection;
      const next = applyFill(account, { symbol: order.symbol, side: order.side, qty: order.qty, price: order.price });
      if (await writeAccountFill(doc, table, account, next, { orderId: order.orderId, barIndex: order.barIndex })) {
        await recordFill(doc, table, order, account.fillSeq + 1);
        return 'applied';
      }
    }
    const err = new Error(`Account item kept changing: ${MAX_CONFLICT_RETRIES} version conflicts applying ${order.orderId}`);
    err.name = 'LedgerContention';
    throw err;
  }

  async function applyFillOnce(order: OrderItem): Promise<boolean> {
    return (await fill(order)) === 'applied';
  }

  async function resume(existing: OrderItem, req: OrderRequest): Promise<OrderResult> {
    const same = existing.side === req.side && existing.qty === req.qty && existing.limitPrice === req.limitPrice;
    if (!same) {
      const detail = `an order for ${req.symbol} was already placed by ${req.agent} this cycle (${existing.side} ${existing.qty}, ${existing.status})`;
      return {
        order: { ...existing, status: 'REJECTED', rejectedBy: 'duplicateOrder', reason: detail },
        replayed: false,
        rejectedBy: 'duplicateOrder',
        checks: [{ check: 'duplicateOrder', status: 'REJECT', value: 1, limit: 0, unit: 'count', detail }],
      };
    }
    if (existing.status === 'PENDING_FILL') {
      // A previous attempt recorded the order but may have crashed before or after the account write.
      const applied = await applyFillOnce(existing);
      if (!applied) await recordFill(doc, table, existing, (await getOrCreateAccount(doc, table, settings.startingCashUsd)).fillSeq);
      return { order: { ...existing, status: 'FILLED' }, replayed: true, checks: [] };
    }
    return { order: existing, replayed: true, rejectedBy: existing.rejectedBy as PreTradeCheckName | undefined, checks: [] };
  }

  async function placeOrder(req: OrderRequest): Promise<OrderResult> {
    const existing = await getOrder(doc, table, req.cycleId, req.agent, req.symbol);
    if (existing) return resume(existing, req);

    const [control, account, snapshot, cycleOrders] = await Promise.all([
      readControlItem(doc, opts.controlTable, true),
      getOrCreateAccount(doc, table, settings.startingCashUsd),
      latestEquitySnapshot(doc, table, feed.barIndex),
      listCycleOrders(doc, table, req.cycleId),
    ]);
    const placed = cycleOrders.filter((o) => o.status !== 'REJECTED');
    const price = feed.priceAt(req.symbol);
    const pricesOf = (portfolio: AccountItem): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const symbol of Object.keys(portfolio.positions)) {
        const p = feed.priceAt(symbol) ?? feed.lastPrice(symbol)?.price;
        if (isValidPrice(p)) out[symbol] = p;
      }
      return out;
    };
    const prices = pricesOf(account);
    const checkAgainst = (portfolio: AccountItem) => runPreTradeChecks({
      order: { symbol: req.symbol, side: req.side, qty: req.qty, limitPrice: req.limitPrice },
      price,
      prices: { ...prices, ...pricesOf(portfolio) },
      portfolio,
      limits: settings.limits,
      halted: control.halted,
      mode: opts.mode === 'safe' || control.mode === 'safe' ? 'safe' : 'normal',
      dailyPnlFraction: snapshot?.dailyPnlFraction,
      drawdownFraction: snapshot?.drawdownFraction,
      agentOrdersThisCycle: placed.filter((o) => o.agent === req.agent).length,
      ordersThisCycle: placed.length,
      conflictingOrder: false,
    });
    const outcome = checkAgainst(account);
    const fillPrice = isValidPrice(price) ? price : 0;
    const order: OrderItem = {
      orderId: makeOrderId(req.cycleId, req.agent, req.symbol),
      cycleId: req.cycleId,
      agent: req.agent,
      symbol: req.symbol,
      side: req.side,
      qty: req.qty,
      ...(req.limitPrice !== undefined ? { limitPrice: req.limitPrice } : {}),
      status: outcome.passed ? 'PENDING_FILL' : 'REJECTED',
      ...(outcome.rejectedBy ? { rejectedBy: outcome.rejectedBy.check, reason: outcome.rejectedBy.detail } : {}),
      price: fillPrice,
      notionalUsd: fillPrice * req.qty,
      barIndex: feed.barIndex,
      asOf: feed.asOf,
      createdAt: new Date().toISOString(),
    };
    if (!(await putOrderIfAbsent(doc, table, order))) {
      const raced = await getOrder(doc, table, req.cycleId, req.agent, req.symbol);
      if (!raced) throw new Error(`Order ${order.orderId} vanished after a conditional-write conflict`);
      return resume(raced, req);
    }
    if (!outcome.passed) return { order, replayed: false, rejectedBy: outcome.rejectedBy!.check, checks: outcome.results };
    const filled = await fill(order, (fresh) => (fresh.version === account.version ? undefined : checkAgainst(fresh).rejectedBy));
    if (typeof filled === 'object') {
      const reason = `${filled.detail} (re-checked at fill time: a concurrent fill changed the account)`;
      await markOrderRejected(doc, table, order, filled.check, reason);
      return { order: { ...order, status: 'REJECTED', rejectedBy: filled.check, reason }, replayed: false, rejectedBy: filled.check, checks: [{ ...filled, detail: reason }] };
    }
    return { order: { ...order, status: 'FILLED' }, replayed: false, checks: outcome.results };
  }

  return {
    getPortfolio: () => getOrCreateAccount(doc, table, settings.startingCashUsd),
    placeOrder,
    applyFillOnce,
    listOrders: (cycleId) => listCycleOrders(doc, table, cycleId),
  };
}
