/**
 * Pre-trade risk checks: the one library every order passes through before the paper
 * broker fills it. Each check is a small pure function returning PASS or REJECT with its
 * name and the numbers compared.
 *
 * Sources: SEC Rule 15c3-5 (Market Access Rule, 17 CFR 240.15c3-5: "prevent the entry of
 * orders that exceed appropriate pre-set credit or capital thresholds", "prevent the entry
 * of erroneous orders, by rejecting orders that exceed appropriate price or size parameters
 * ... or that indicate duplicative orders"), and the FIA "Best Practices for Automated
 * Trading Risk Controls and System Safeguards" (2024): maximum order size, maximum
 * intraday position, price tolerance (collar), message/order rate throttles, kill switch,
 * duplicate-order and stale-data protection. See `docs/agents.md`.
 */
import type { Mode } from '../contracts';
import type { RiskLimits } from '../settings';
import { isValidPrice } from './market-data';
import { signedQty, valuePortfolio, type Portfolio, type Side } from './portfolio';

/** Names of the checks, as recorded on a rejected order (`rejectedBy`). */
export const PRE_TRADE_CHECKS = [
  'haltFlag',
  'staleData',
  'duplicateOrder',
  'safeMode',
  'priceCollar',
  'maxOrderNotional',
  'maxPosition',
  'maxGrossExposure',
  'minCash',
  'maxDailyLoss',
  'maxDrawdown',
  'maxOrdersPerAgentPerCycle',
  'maxOrdersPerCycle',
  'maxOrdersPerSecond',
  'noShort',
  'agentMaxPosition',
  'agentMaxGrossExposure',
  'agentMaxDailyLoss',
] as const;
/** One of {@link PRE_TRADE_CHECKS}. */
export type PreTradeCheckName = (typeof PRE_TRADE_CHECKS)[number];

/**
 * The trading state a rejection comes from, NautilusTrader's `TradingState` names (issue 12: "Rejections name
 * the state that refused them"): `HALTED` (kill switch: nothing is admitted but an operator's flatten), `REDUCE`
 * (reduce-only: safe mode, a staged resume, a REDUCE verdict, the fleet's or the agent's loss limits).
 */
export type TradingState = 'HALTED' | 'REDUCE';

/** The trading state that refuses when `check` rejects, or undefined for a check that is not a trading state (a limit). */
export function tradingStateOf(check: PreTradeCheckName): TradingState | undefined {
  if (check === 'haltFlag') return 'HALTED';
  if (check === 'safeMode' || check === 'maxDailyLoss' || check === 'maxDrawdown' || check === 'agentMaxDailyLoss') return 'REDUCE';
  return undefined;
}

/** Result of one check. `value` and `limit` are in `unit`. */
export interface CheckResult {
  readonly check: PreTradeCheckName;
  readonly status: 'PASS' | 'REJECT';
  readonly value: number;
  readonly limit: number;
  readonly unit: 'USD' | 'fraction' | 'count' | 'bars' | 'flag';
  /** Human-readable explanation (always present for REJECT). */
  readonly detail: string;
}

/** An order as an agent asks for it. */
export interface OrderIntent {
  readonly symbol: string;
  readonly side: Side;
  /** Shares, integer > 0. */
  readonly qty: number;
  /** Optional limit price, USD per share; checked against the collar. Fills happen at the close either way. */
  readonly limitPrice?: number;
}

/** An order as an agent proposes it through `ctx.placeOrder`: an {@link OrderIntent} with an optional client order id. */
export interface OrderProposal extends OrderIntent {
  /** The agent's id for the order, unique within its run; `defineAgent` numbers orders `1`, `2`, ... when absent. 1-64 of [A-Za-z0-9._:-]. */
  readonly clientOrderId?: string;
  /** Time in force of a limit order. @default 'DAY' */
  readonly timeInForce?: 'DAY' | 'GTC' | 'IOC';
}

/** Everything the checks look at, gathered by the broker. */
export interface PreTradeContext {
  readonly order: OrderIntent;
  /** Close of the order's symbol at the current bar, undefined when missing (stale data). */
  readonly price: number | undefined;
  /** Close of the order's symbol one bar earlier, USD: the reference price of a market order's collar. */
  readonly referencePrice?: number;
  /** Close of every held symbol at the current bar, USD (for exposure after the order). */
  readonly prices: Readonly<Record<string, number>>;
  readonly portfolio: Portfolio;
  /** The ordering agent's own book (cash = its net cash flow, USD): long-only is judged on it. Absent = the account's. */
  readonly agentPortfolio?: Portfolio;
  /** Symbol -> shares of the agent's book already reserved by its working SELL orders (not sellable twice). @default {} */
  readonly agentReservedQty?: Readonly<Record<string, number>>;
  /** The agent may sell beyond its own position (config `agents[].allowShort`). @default false */
  readonly allowShort?: boolean;
  /** Notional of the account's working BUY orders, USD: reserved buying power that counts toward gross exposure. @default 0 */
  readonly workingBuyUsd?: number;
  /** The ordering agent's own budget (config `agents[].budget`), judged on `agentPortfolio`. @default none */
  readonly agentBudget?: { readonly maxGrossExposureUsd?: number; readonly maxPositionUsd?: number };
  /**
   * The ordering agent's P&L today and its daily-loss limit, USD, from this bar's equity snapshot (the risk gate's
   * per-agent figures): `limitUsd` = `budget.maxDailyLossFraction` x `budget.allocationUsd`. Absent: no per-agent
   * daily-loss budget (or no snapshot yet).
   */
  readonly agentDailyLoss?: { readonly pnlTodayUsd: number; readonly limitUsd: number };
  readonly limits: RiskLimits;
  /** Halt flag from a consistent read of the control item. */
  readonly halted: boolean;
  /** `safe`: only orders that reduce |position| pass. */
  readonly mode: Mode;
  /** Latest equity snapshot's figures (written by the risk Lambda); undefined when none yet. */
  readonly dailyPnlFraction: number | undefined;
  readonly drawdownFraction: number | undefined;
  /** Orders (not rejected) this agent has already placed this cycle. */
  readonly agentOrdersThisCycle: number;
  /** Orders (not rejected) all agents have placed this cycle. */
  readonly ordersThisCycle: number;
  /** An order with the same (cycle, agent, symbol) but different side or qty already exists. */
  readonly conflictingOrder: boolean;
}

const pass = (check: PreTradeCheckName, value: number, limit: number, unit: CheckResult['unit'], detail = 'ok'): CheckResult => ({
  check,
  status: 'PASS',
  value,
  limit,
  unit,
  detail,
});
const reject = (check: PreTradeCheckName, value: number, limit: number, unit: CheckResult['unit'], detail: string): CheckResult => ({
  check,
  status: 'REJECT',
  value,
  limit,
  unit,
  detail,
});

/** True when the order moves the position toward zero without flipping its side. */
export function reducesPosition(portfolio: Portfolio, order: OrderIntent): boolean {
  const held = portfolio.positions[order.symbol]?.qty ?? 0;
  const after = held + signedQty(order.side, order.qty);
  return held !== 0 && Math.abs(after) < Math.abs(held) && Math.sign(after) !== -Math.sign(held);
}

/** Kill switch (FIA): halted => reject every order. */
export function checkHaltFlag(c: Pick<PreTradeContext, 'halted'>): CheckResult {
  return c.halted ? reject('haltFlag', 1, 0, 'flag', 'HALTED: halt flag is set: the kill switch is engaged') : pass('haltFlag', 0, 0, 'flag');
}

/** Stale data (FIA): no valid price for the symbol at the current bar => reject. */
export function checkStaleData(c: Pick<PreTradeContext, 'price' | 'order'>): CheckResult {
  return isValidPrice(c.price) ? pass('staleData', 0, 0, 'bars') : reject('staleData', 1, 0, 'bars', `no valid price for ${c.order.symbol} at the current bar`);
}

/** Duplicative orders (15c3-5(c)(1)(ii)): a different order for the same cycle/agent/symbol => reject. */
export function checkDuplicateOrder(c: Pick<PreTradeContext, 'conflictingOrder' | 'order'>): CheckResult {
  return c.conflictingOrder
    ? reject('duplicateOrder', 1, 0, 'count', `an order for ${c.order.symbol} was already placed by this agent this cycle`)
    : pass('duplicateOrder', 0, 0, 'count');
}

/** Safe mode (R-SAFE-MODE; risk verdict REDUCE): only orders that reduce |position| pass. */
export function checkSafeMode(c: Pick<PreTradeContext, 'mode' | 'portfolio' | 'order'>): CheckResult {
  if (c.mode !== 'safe' || reducesPosition(c.portfolio, c.order)) return pass('safeMode', 0, 0, 'flag');
  return reject('safeMode', 1, 0, 'flag', `REDUCE: safe mode: ${c.order.side} ${c.order.qty} ${c.order.symbol} would not reduce the position`);
}

/**
 * Price collar (15c3-5 price parameters; FIA price tolerance). A limit order: |limitPrice / close - 1|
 * <= priceCollarFraction. A market order: its fill price (the close) against the reference price (the
 * previous close), |close / reference - 1| <= priceCollarFraction, so a bad print (a x1000 spike) is
 * never traded at. No reference price => pass (the stale-data check covers a missing close).
 */
export function checkPriceCollar(c: Pick<PreTradeContext, 'order' | 'price' | 'limits' | 'referencePrice'>): CheckResult {
  const lp = c.order.limitPrice;
  const limit = c.limits.priceCollarFraction;
  if (lp === undefined) {
    if (!isValidPrice(c.price) || !isValidPrice(c.referencePrice)) return pass('priceCollar', 0, limit, 'fraction');
    const move = Math.abs(c.price / c.referencePrice - 1);
    return move > limit
      ? reject(
          'priceCollar',
          move,
          limit,
          'fraction',
          `market order: the price ${c.price} is ${(move * 100).toFixed(2)}% from the reference ${c.referencePrice} (previous close; collar ${(limit * 100).toFixed(2)}%)`,
        )
      : pass('priceCollar', move, limit, 'fraction');
  }
  if (!isValidPrice(c.price)) return pass('priceCollar', 0, limit, 'fraction');
  const dev = Math.abs(lp / c.price - 1);
  return dev > limit || !(lp > 0)
    ? reject(
        'priceCollar',
        dev,
        limit,
        'fraction',
        `limit price ${lp} is ${(dev * 100).toFixed(2)}% from the last price ${c.price} (collar ${(limit * 100).toFixed(2)}%)`,
      )
    : pass('priceCollar', dev, limit, 'fraction');
}

/** Maximum order size (15c3-5 size parameters; FIA max order size): qty x price <= maxOrderNotionalUsd. */
export function checkMaxOrderNotional(c: Pick<PreTradeContext, 'order' | 'price' | 'limits'>): CheckResult {
  const notional = c.order.qty * (c.price ?? 0);
  const limit = c.limits.maxOrderNotionalUsd;
  return notional > limit
    ? reject('maxOrderNotional', notional, limit, 'USD', `order notional USD ${notional.toFixed(2)} exceeds USD ${limit}`)
    : pass('maxOrderNotional', notional, limit, 'USD');
}

/** Maximum position per symbol (FIA max intraday position): |position after| x price <= maxPositionUsd, unless the order reduces. */
export function checkMaxPosition(c: Pick<PreTradeContext, 'order' | 'price' | 'limits' | 'portfolio'>): CheckResult {
  const held = c.portfolio.positions[c.order.symbol]?.qty ?? 0;
  const after = Math.abs(held + signedQty(c.order.side, c.order.qty)) * (c.price ?? 0);
  const limit = c.limits.maxPositionUsd;
  return after > limit && !reducesPosition(c.portfolio, c.order)
    ? reject('maxPosition', after, limit, 'USD', `position in ${c.order.symbol} after the order USD ${after.toFixed(2)} exceeds USD ${limit}`)
    : pass('maxPosition', after, limit, 'USD');
}

function portfolioAfter(c: Pick<PreTradeContext, 'order' | 'price' | 'portfolio' | 'prices'>): { gross: number; cash: number } {
  const price = c.price ?? 0;
  const held = c.portfolio.positions[c.order.symbol];
  const qty = (held?.qty ?? 0) + signedQty(c.order.side, c.order.qty);
  const positions = { ...c.portfolio.positions, [c.order.symbol]: { qty, avgPrice: held?.avgPrice ?? price } };
  const cash = c.portfolio.cash - signedQty(c.order.side, c.order.qty) * price;
  return { gross: valuePortfolio({ cash, positions }, { ...c.prices, [c.order.symbol]: price }).grossExposureUsd, cash };
}

/**
 * Capital threshold (15c3-5(c)(1)(i)): gross exposure after the order <= reduceAtFraction x
 * maxGrossExposureUsd (default 0.8 x 200,000 = 160,000 USD), unless the order reduces.
 * The order-time cap sits at the risk gate's REDUCE threshold, not at its HALT limit, so that a
 * book filled to the cap is not pushed into a HALT by the next bar's ordinary price moves
 * (measured: filling to the HALT limit itself halted the default config at cycle 2).
 */
export function checkMaxGrossExposure(c: Pick<PreTradeContext, 'order' | 'price' | 'portfolio' | 'prices' | 'limits' | 'workingBuyUsd'>): CheckResult {
  const gross = portfolioAfter(c).gross + (c.workingBuyUsd ?? 0);
  const limit = c.limits.maxGrossExposureUsd * c.limits.reduceAtFraction;
  return gross > limit && !reducesPosition(c.portfolio, c.order)
    ? reject(
        'maxGrossExposure',
        gross,
        limit,
        'USD',
        `gross exposure after the order USD ${gross.toFixed(2)} exceeds USD ${limit} (${c.limits.reduceAtFraction} x maxGrossExposureUsd)`,
      )
    : pass('maxGrossExposure', gross, limit, 'USD');
}

/** Credit threshold (15c3-5(c)(1)(i)): cash after the order >= minCashUsd (sells always pass: they add cash). */
export function checkMinCash(c: Pick<PreTradeContext, 'order' | 'price' | 'portfolio' | 'prices' | 'limits'>): CheckResult {
  const { cash } = portfolioAfter(c);
  const limit = c.limits.minCashUsd;
  return cash < limit && c.order.side === 'BUY'
    ? reject('minCash', cash, limit, 'USD', `cash after the order USD ${cash.toFixed(2)} is below USD ${limit}`)
    : pass('minCash', cash, limit, 'USD');
}

/** FIA max loss: when the latest snapshot's loss of the day exceeds maxDailyLossFraction, only reducing orders pass. */
export function checkMaxDailyLoss(c: Pick<PreTradeContext, 'dailyPnlFraction' | 'limits' | 'portfolio' | 'order'>): CheckResult {
  const loss = Math.max(0, -(c.dailyPnlFraction ?? 0));
  const limit = c.limits.maxDailyLossFraction;
  return loss > limit && !reducesPosition(c.portfolio, c.order)
    ? reject(
        'maxDailyLoss',
        loss,
        limit,
        'fraction',
        `REDUCE: loss of the day ${(loss * 100).toFixed(2)}% exceeds ${(limit * 100).toFixed(2)}%: only reducing orders`,
      )
    : pass('maxDailyLoss', loss, limit, 'fraction');
}

/** Drawdown limit: when the latest snapshot's drawdown exceeds maxDrawdownFraction, only reducing orders pass. */
export function checkMaxDrawdown(c: Pick<PreTradeContext, 'drawdownFraction' | 'limits' | 'portfolio' | 'order'>): CheckResult {
  const dd = c.drawdownFraction ?? 0;
  const limit = c.limits.maxDrawdownFraction;
  return dd > limit && !reducesPosition(c.portfolio, c.order)
    ? reject('maxDrawdown', dd, limit, 'fraction', `REDUCE: drawdown ${(dd * 100).toFixed(2)}% exceeds ${(limit * 100).toFixed(2)}%: only reducing orders`)
    : pass('maxDrawdown', dd, limit, 'fraction');
}

/** Order-rate throttle per agent (FIA message throttles): orders already placed this cycle < maxOrdersPerAgentPerCycle. */
export function checkAgentOrderRate(c: Pick<PreTradeContext, 'agentOrdersThisCycle' | 'limits'>): CheckResult {
  const limit = c.limits.maxOrdersPerAgentPerCycle;
  return c.agentOrdersThisCycle >= limit
    ? reject(
        'maxOrdersPerAgentPerCycle',
        c.agentOrdersThisCycle + 1,
        limit,
        'count',
        `this agent already placed ${c.agentOrdersThisCycle} orders this cycle (limit ${limit})`,
      )
    : pass('maxOrdersPerAgentPerCycle', c.agentOrdersThisCycle + 1, limit, 'count');
}

/** Order-rate throttle for the whole fleet: orders already placed this cycle < maxOrdersPerCycle. */
export function checkCycleOrderRate(c: Pick<PreTradeContext, 'ordersThisCycle' | 'limits'>): CheckResult {
  const limit = c.limits.maxOrdersPerCycle;
  return c.ordersThisCycle >= limit
    ? reject('maxOrdersPerCycle', c.ordersThisCycle + 1, limit, 'count', `the fleet already placed ${c.ordersThisCycle} orders this cycle (limit ${limit})`)
    : pass('maxOrdersPerCycle', c.ordersThisCycle + 1, limit, 'count');
}

/** Order-rate throttle per second (the specification's `execution` rate, 10/s): admitted by the gateway's windowed counter, reported here as PASS; the gateway names it when the window stays full. */
export function checkSecondRate(c: Pick<PreTradeContext, 'limits'>): CheckResult {
  return pass('maxOrdersPerSecond', 0, c.limits.maxOrdersPerSecond, 'count');
}

/** Long-only by default: a SELL beyond the agent's own position is rejected unless the agent may short (`allowShort`). */
export function checkNoShort(c: Pick<PreTradeContext, 'order' | 'portfolio' | 'agentPortfolio' | 'allowShort' | 'agentReservedQty'>): CheckResult {
  if (c.order.side !== 'SELL' || c.allowShort) return pass('noShort', 0, 0, 'count');
  const held = ((c.agentPortfolio ?? c.portfolio).positions[c.order.symbol]?.qty ?? 0) - (c.agentReservedQty?.[c.order.symbol] ?? 0);
  return c.order.qty > held
    ? reject(
        'noShort',
        c.order.qty,
        Math.max(0, held),
        'count',
        `SELL ${c.order.qty} ${c.order.symbol} exceeds this agent's position of ${held} shares (long-only; allowShort is off)`,
      )
    : pass('noShort', c.order.qty, held, 'count');
}

/** The agent's own position budget: |its position after| x price <= `agentBudget.maxPositionUsd`, unless the order reduces it. */
export function checkAgentMaxPosition(c: Pick<PreTradeContext, 'order' | 'price' | 'portfolio' | 'agentPortfolio' | 'agentBudget'>): CheckResult {
  const limit = c.agentBudget?.maxPositionUsd;
  if (limit === undefined) return pass('agentMaxPosition', 0, Infinity, 'USD');
  const book = c.agentPortfolio ?? c.portfolio;
  const held = book.positions[c.order.symbol]?.qty ?? 0;
  const after = Math.abs(held + signedQty(c.order.side, c.order.qty)) * (c.price ?? 0);
  return after > limit && !reducesPosition(book, c.order)
    ? reject(
        'agentMaxPosition',
        after,
        limit,
        'USD',
        `this agent's position in ${c.order.symbol} after the order USD ${after.toFixed(2)} exceeds its budget USD ${limit}`,
      )
    : pass('agentMaxPosition', after, limit, 'USD');
}

/** The agent's own gross-exposure budget: gross exposure of its book after the order <= `agentBudget.maxGrossExposureUsd`, unless the order reduces. */
export function checkAgentMaxGrossExposure(
  c: Pick<PreTradeContext, 'order' | 'price' | 'portfolio' | 'agentPortfolio' | 'prices' | 'agentBudget'>,
): CheckResult {
  const limit = c.agentBudget?.maxGrossExposureUsd;
  if (limit === undefined) return pass('agentMaxGrossExposure', 0, Infinity, 'USD');
  const book = c.agentPortfolio ?? c.portfolio;
  const { gross } = portfolioAfter({ order: c.order, price: c.price, portfolio: book, prices: c.prices });
  return gross > limit && !reducesPosition(book, c.order)
    ? reject(
        'agentMaxGrossExposure',
        gross,
        limit,
        'USD',
        `this agent's gross exposure after the order USD ${gross.toFixed(2)} exceeds its budget USD ${limit}`,
      )
    : pass('agentMaxGrossExposure', gross, limit, 'USD');
}

/**
 * The agent's own daily-loss protection (Freqtrade's "protections"; issue 12): when its P&L today is below
 * `-limitUsd` (`budget.maxDailyLossFraction` x its allocation), the agent is in REDUCE for the rest of the trading
 * day (the bar: one bar is one session): only orders that reduce its own position pass. The fleet is not halted.
 */
export function checkAgentMaxDailyLoss(c: Pick<PreTradeContext, 'order' | 'portfolio' | 'agentPortfolio' | 'agentDailyLoss'>): CheckResult {
  const d = c.agentDailyLoss;
  if (!d) return pass('agentMaxDailyLoss', 0, Infinity, 'USD');
  const loss = Math.max(0, -d.pnlTodayUsd);
  return loss > d.limitUsd && !reducesPosition(c.agentPortfolio ?? c.portfolio, c.order)
    ? reject(
        'agentMaxDailyLoss',
        loss,
        d.limitUsd,
        'USD',
        `REDUCE: this agent lost USD ${loss.toFixed(2)} today, over its daily-loss budget USD ${d.limitUsd.toFixed(2)}: only orders that reduce its own positions, for the rest of the day`,
      )
    : pass('agentMaxDailyLoss', loss, d.limitUsd, 'USD');
}

/** Outcome of {@link runPreTradeChecks}. */
export interface PreTradeOutcome {
  readonly passed: boolean;
  /** Every check's result, in {@link PRE_TRADE_CHECKS} order. */
  readonly results: readonly CheckResult[];
  /** First rejecting check, when not passed. */
  readonly rejectedBy?: CheckResult;
}

/**
 * Runs every check in {@link PRE_TRADE_CHECKS} order; the order passes only when all pass.
 * @throws {RangeError} when qty is not a positive integer (a programming error, not a risk rejection).
 */
export function runPreTradeChecks(c: PreTradeContext): PreTradeOutcome {
  if (!Number.isInteger(c.order.qty) || c.order.qty <= 0) throw new RangeError(`Order qty must be a positive integer, got ${c.order.qty}`);
  const results = [
    checkHaltFlag(c),
    checkStaleData(c),
    checkDuplicateOrder(c),
    checkSafeMode(c),
    checkPriceCollar(c),
    checkMaxOrderNotional(c),
    checkMaxPosition(c),
    checkMaxGrossExposure(c),
    checkMinCash(c),
    checkMaxDailyLoss(c),
    checkMaxDrawdown(c),
    checkAgentOrderRate(c),
    checkCycleOrderRate(c),
    checkSecondRate(c),
    checkNoShort(c),
    checkAgentMaxPosition(c),
    checkAgentMaxGrossExposure(c),
    checkAgentMaxDailyLoss(c),
  ];
  const rejectedBy = results.find((r) => r.status === 'REJECT');
  return { passed: !rejectedBy, results, rejectedBy };
}
