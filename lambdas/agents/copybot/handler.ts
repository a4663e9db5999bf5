/**
 * Copybot agent: mirrors a reference allocation.
 *
 * Params: `targetWeights` (strings `SYMBOL:weight`, weight a fraction of equity, e.g.
 * `['MSFT:0.04', 'IBM:0.03']`), `rebalanceThreshold` (fraction of equity, default 0.01).
 * For each symbol, drift = |value / equity - weight|; when drift > rebalanceThreshold it
 * orders back to weight x equity. Orders go through the same pre-trade checks; safe mode
 * sends only reducing orders.
 */
import * as z from 'zod';
import { defineAgent, describeProposals } from '../../shared/agent-kit/define-agent';
import type { AgentParams } from '../../shared/contracts';
import { isValidPrice } from '../../shared/trading/market-data';
import { valuePortfolio } from '../../shared/trading/portfolio';
import { ordersForTargets } from '../../shared/trading/targets';

/**
 * Parses `targetWeights` (`['MSFT:0.04', ...]`).
 * @throws {Error} on a malformed entry or a weight outside [0, 1].
 */
export function parseTargetWeights(params: AgentParams): Record<string, number> {
  const raw = params.targetWeights ?? [];
  if (!Array.isArray(raw)) throw new Error('Parameter targetWeights must be a list of "SYMBOL:weight" strings');
  const weights: Record<string, number> = {};
  for (const entry of raw) {
    const m = /^([^:]+):([0-9.]+)$/.exec(String(entry));
    const w = m ? Number(m[2]) : Number.NaN;
    if (!m || !(w >= 0 && w <= 1)) throw new Error(`Parameter targetWeights has a malformed entry "${entry}" (expected SYMBOL:weight, weight 0..1)`);
    weights[m[1]] = w;
  }
  return weights;
}

/** `agents[].params` of copybot (unknown keys are refused; weights are checked by {@link parseTargetWeights}). */
export const copybotParamsSchema = z.strictObject({
  /** `SYMBOL:weight` strings, weight a fraction of equity 0-1. */
  targetWeights: z.array(z.string()).default([]),
  /** Drift (fraction of equity) above which a symbol is rebalanced. */
  rebalanceThreshold: z.number().min(0).max(1).default(0.01),
  /** Resting limit distance from the close (fraction): buy that much under it, sell that much over it. */
  limitOffsetFraction: z.number().min(0).max(0.5).default(0.005),
});

export const handler = defineAgent({
  name: 'copybot',
  params: copybotParamsSchema,
  async run(ctx) {
    const weights = parseTargetWeights(ctx.params);
    const threshold = ctx.params.rebalanceThreshold;
    // Resting limit orders, good for the next session: buy a little under the close, sell a little over it.
    const offset = ctx.params.limitOffsetFraction;
    // Weights are of the fleet's equity; the positions compared with them are copybot's own book,
    // so another agent holding the same symbol neither hides nor doubles copybot's target.
    const [account, book] = await Promise.all([ctx.portfolio(), ctx.book()]);
    const prices: Record<string, number> = {};
    for (const symbol of new Set([...Object.keys(weights), ...Object.keys(account.positions), ...Object.keys(book.positions)])) {
      const p = ctx.feed.priceAt(symbol) ?? ctx.feed.lastPrice(symbol)?.price;
      if (isValidPrice(p)) prices[symbol] = p;
    }
    const equity = valuePortfolio(account, prices).equityUsd;
    // What copybot holds plus what its working orders will add: never order the same drift twice.
    const heldWithWorking: Record<string, { qty: number; avgPrice: number }> = { ...book.positions };
    for (const [symbol, q] of Object.entries(book.workingQty))
      heldWithWorking[symbol] = { qty: (heldWithWorking[symbol]?.qty ?? 0) + q, avgPrice: heldWithWorking[symbol]?.avgPrice ?? 0 };
    const targets: Record<string, number> = {};
    let maxDrift = 0;
    for (const [symbol, w] of Object.entries(weights)) {
      const price = prices[symbol];
      if (!price) continue;
      const drift = Math.abs(((heldWithWorking[symbol]?.qty ?? 0) * price) / equity - w);
      maxDrift = Math.max(maxDrift, drift);
      if (drift > threshold) targets[symbol] = w * equity;
    }
    const orders = ordersForTargets(targets, heldWithWorking, prices, {
      mode: ctx.mode,
      maxOrderNotionalUsd: ctx.settings.limits.maxOrderNotionalUsd,
      maxOrders: ctx.settings.limits.maxOrdersPerAgentPerCycle,
    });
    for (const order of orders) {
      const close = prices[order.symbol];
      const limitPrice = Math.round(close * (order.side === 'BUY' ? 1 - offset : 1 + offset) * 100) / 100;
      await ctx.placeOrder({ ...order, limitPrice, timeInForce: 'DAY' });
    }
    return {
      summary: `${Object.keys(targets).length} of ${Object.keys(weights).length} weights drifted > ${(threshold * 100).toFixed(1)}%; ${describeProposals(ctx)}`,
      metrics: { ordersIntended: orders.length, maxDriftFraction: maxDrift, equityUsd: equity },
      output: { rebalanced: Object.keys(targets), asOf: ctx.feed.asOf },
    };
  },
});
