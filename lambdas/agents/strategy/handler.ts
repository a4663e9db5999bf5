/**
 * Strategy agent: moving-average crossover per symbol (trend following).
 * Params: `fastWindow` (bars, default 10), `slowWindow` (bars, default 30); rounded to whole
 * bars because the supervisor may tune numeric params by up to ±20 %.
 * Output {@link StrategyOutput}: BUY when the fast SMA is above the slow SMA, SELL when below,
 * HOLD when equal or history is too short; `crossovers` lists symbols that crossed at this bar.
 */
import * as z from 'zod';
import { defineAgent } from '../../shared/agent-kit/define-agent';
import { strategyOutputSchema, type StrategyOutput } from '../../shared/agent-kit/reference-outputs';
import { maCrossover, type Signal } from '../../shared/trading/indicators';
import { resolveUniverse } from '../../shared/trading/market-data';

/** `agents[].params` of the strategy agent, bars (any positive number: rounded, since the supervisor may tune them by up to ±20 %). */
export const strategyParamsSchema = z.strictObject({
  fastWindow: z.number().positive().default(10),
  slowWindow: z.number().positive().default(30),
});

export const handler = defineAgent({
  name: 'strategy',
  outputSchema: strategyOutputSchema as z.ZodType<StrategyOutput>,
  params: strategyParamsSchema,
  async run(ctx) {
    const fast = Math.max(1, Math.round(ctx.params.fastWindow));
    const slow = Math.max(fast + 1, Math.round(ctx.params.slowWindow));
    const signals: Record<string, Signal> = {};
    const crossovers: string[] = [];
    for (const symbol of resolveUniverse(ctx.settings.universe, ctx.feed)) {
      const state = maCrossover(ctx.feed.history(symbol, slow + 1), fast, slow);
      signals[symbol] = state?.signal ?? 'HOLD';
      if (state?.crossed) crossovers.push(symbol);
    }
    const count = (s: Signal) => Object.values(signals).filter((v) => v === s).length;
    const [buy, sell, hold] = [count('BUY'), count('SELL'), count('HOLD')];
    return {
      summary: `SMA(${fast}) vs SMA(${slow}) at ${ctx.feed.asOf}: ${buy} BUY, ${sell} SELL, ${hold} HOLD, ${crossovers.length} crossed`,
      metrics: { signalsBuy: buy, signalsSell: sell, signalsHold: hold, crossovers: crossovers.length },
      output: { signals, crossovers, asOf: ctx.feed.asOf },
    };
  },
});
