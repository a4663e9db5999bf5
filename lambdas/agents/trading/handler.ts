/**
 * Trading agent (depends on strategy and sentiment): turns signals into target positions
 * and orders through the pre-trade checks via the paper broker.
 *
 * Params: `positionUsd` (target value per BUY symbol, USD, default 20,000), `minBreadth`
 * (fraction, default 0.4: below it BUY targets are 0, the market is too weak to add risk),
 * `minTradeFraction` (fraction of positionUsd below which a difference is not traded, default 0.1).
 * Targets: BUY => positionUsd when breadth >= minBreadth else 0; SELL => 0; HOLD => unchanged.
 * Safe mode: only orders that reduce a position are sent.
 */
import * as z from 'zod';
import { defineAgent, describeProposals } from '../../shared/agent-kit/define-agent';
import { sentimentOutputSchema, strategyOutputSchema } from '../../shared/agent-kit/reference-outputs';
import { ordersForTargets } from '../../shared/trading/targets';

/** `agents[].params` of the trading agent (unknown keys are refused). */
export const tradingParamsSchema = z.strictObject({
  /** Target value per BUY symbol, USD. */
  positionUsd: z.number().positive().default(20_000),
  /** Breadth (fraction 0-1) below which BUY targets are 0. */
  minBreadth: z.number().min(0).max(1).default(0.4),
  /** Fraction of positionUsd below which a difference is not traded. */
  minTradeFraction: z.number().min(0).max(1).default(0.1),
});

export const handler = defineAgent({
  name: 'trading',
  params: tradingParamsSchema,
  async run(ctx) {
    const strategy = strategyOutputSchema.parse(ctx.deps.strategy);
    const sentiment = sentimentOutputSchema.parse(ctx.deps.sentiment);
    const { positionUsd, minBreadth } = ctx.params;
    const minTradeUsd = positionUsd * ctx.params.minTradeFraction;
    const bullish = sentiment.breadth >= minBreadth;

    const targets: Record<string, number> = {};
    for (const [symbol, signal] of Object.entries(strategy.signals)) {
      if (signal === 'BUY') targets[symbol] = bullish ? positionUsd : 0;
      else if (signal === 'SELL') targets[symbol] = 0;
    }
    // Its own book: a long-only agent trades only what it bought itself.
    const portfolio = await ctx.book();
    const prices: Record<string, number | undefined> = {};
    for (const symbol of Object.keys(targets)) prices[symbol] = ctx.feed.priceAt(symbol);
    const orders = ordersForTargets(targets, portfolio.positions, prices, {
      minTradeUsd,
      mode: ctx.mode,
      maxOrderNotionalUsd: ctx.settings.limits.maxOrderNotionalUsd,
      maxOrders: ctx.settings.limits.maxOrdersPerAgentPerCycle,
    });
    for (const order of orders) await ctx.placeOrder(order);
    return {
      summary: `${describeProposals(ctx)}; breadth ${(sentiment.breadth * 100).toFixed(0)}% ${bullish ? '>=' : '<'} ${(minBreadth * 100).toFixed(0)}%${ctx.mode === 'safe' ? ', safe mode (reduce only)' : ''}`,
      metrics: { ordersIntended: orders.length },
      output: { orders: orders.length, asOf: ctx.feed.asOf },
    };
  },
});
