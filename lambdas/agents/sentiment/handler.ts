/**
 * Sentiment agent: market breadth at the current bar.
 * Param `window` (bars, default 50, rounded): breadth = share of universe symbols whose close
 * is above their `window`-bar SMA; advances/declines = symbols up/down since the previous bar.
 * Output {@link SentimentOutput}.
 */
import * as z from 'zod';
import { defineAgent } from '../../shared/agent-kit/define-agent';
import { sentimentOutputSchema, type SentimentOutput } from '../../shared/agent-kit/reference-outputs';
import { marketBreadth } from '../../shared/trading/indicators';
import { resolveUniverse } from '../../shared/trading/market-data';

/** `agents[].params` of the sentiment agent: `window` in bars (rounded). */
export const sentimentParamsSchema = z.strictObject({ window: z.number().positive().default(50) });

export const handler = defineAgent({
  name: 'sentiment',
  outputSchema: sentimentOutputSchema as z.ZodType<SentimentOutput>,
  params: sentimentParamsSchema,
  async run(ctx) {
    const window = Math.max(1, Math.round(ctx.params.window));
    const series: Record<string, ReadonlyArray<number | null>> = {};
    for (const symbol of resolveUniverse(ctx.settings.universe, ctx.feed)) series[symbol] = ctx.feed.history(symbol, window);
    const b = marketBreadth(series, window);
    return {
      summary: `breadth ${(b.breadth * 100).toFixed(1)}% above SMA(${window}), ${b.advances} advances / ${b.declines} declines at ${ctx.feed.asOf}`,
      metrics: { breadthFraction: b.breadth, advances: b.advances, declines: b.declines },
      output: {
        breadth: b.breadth,
        advances: b.advances,
        declines: b.declines,
        unchanged: b.unchanged,
        advanceDeclineRatio: b.advanceDeclineRatio,
        asOf: ctx.feed.asOf,
      },
    };
  },
});
