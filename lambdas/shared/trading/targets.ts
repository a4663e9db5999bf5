/**
 * Turning target positions into orders, as a pure function the reference trading agents
 * share: compare each target value (USD) with the current position's value at the current
 * close, and order the difference in whole shares.
 */
import type { Mode } from '../contracts';
import { isValidPrice } from './market-data';
import type { Position } from './portfolio';
import type { OrderIntent } from './pre-trade-checks';

/** Options of {@link ordersForTargets}. */
export interface TargetOptions {
  /** Differences smaller than this (USD) are not traded (avoids churning on price drift). Default 0. */
  readonly minTradeUsd?: number;
  /** `safe`: drop orders that would not reduce |position| (agents may reduce risk but not add it). */
  readonly mode: Mode;
  /** Cap of one order's notional, USD (pass `limits.maxOrderNotionalUsd` to stay within the pre-trade limit and approach big targets over several cycles). Default none. */
  readonly maxOrderNotionalUsd?: number;
  /**
   * At most this many orders (pass `limits.maxOrdersPerAgentPerCycle`: the gateway would reject the
   * rest as throttled every cycle, the same warning again and again); sells are kept first. Default none.
   */
  readonly maxOrders?: number;
}

/**
 * Orders that move each symbol toward its target value.
 * qty = trunc(|target - qty_now x price| / price) shares (capped at maxOrderNotionalUsd / price),
 * side by the sign; targets of 0 sell the whole position (capped likewise). Sells come first (they free cash for the buys), then buys, each
 * alphabetical, cut at `maxOrders`; the rest wait for a later cycle. Symbols without a valid price are left out (the stale-data check would reject them).
 * @param targetsUsd - symbol -> target market value, USD (>= 0 for the long-only reference agents).
 * @param prices - symbol -> current close, USD per share.
 */
export function ordersForTargets(
  targetsUsd: Readonly<Record<string, number>>,
  positions: Readonly<Record<string, Position>>,
  prices: Readonly<Record<string, number | undefined>>,
  opts: TargetOptions,
): OrderIntent[] {
  const sells: OrderIntent[] = [];
  const buys: OrderIntent[] = [];
  for (const symbol of Object.keys(targetsUsd).sort()) {
    const price = prices[symbol];
    if (!isValidPrice(price)) continue;
    const held = positions[symbol]?.qty ?? 0;
    const target = targetsUsd[symbol];
    const delta = target - held * price;
    if (Math.abs(delta) < (opts.minTradeUsd ?? 0) && target !== 0) continue;
    const wanted = target === 0 ? Math.abs(held) : Math.trunc(Math.abs(delta) / price);
    const qty = opts.maxOrderNotionalUsd !== undefined ? Math.min(wanted, Math.floor(opts.maxOrderNotionalUsd / price)) : wanted;
    if (qty === 0) continue;
    const side = target === 0 ? (held > 0 ? 'SELL' : 'BUY') : delta > 0 ? 'BUY' : 'SELL';
    const after = held + (side === 'BUY' ? qty : -qty);
    if (opts.mode === 'safe' && !(Math.abs(after) < Math.abs(held))) continue;
    (side === 'SELL' ? sells : buys).push({ symbol, side, qty });
  }
  return [...sells, ...buys].slice(0, opts.maxOrders ?? Infinity);
}
