/**
 * Output schemas of the reference agents, shared by producers (strategy, sentiment) and
 * consumers (trading), so a dependent validates what it reads from the Cycles table.
 */
import * as z from 'zod';

/** Strategy agent output: one signal per symbol at `asOf`. */
export const strategyOutputSchema = z.object({
  signals: z.record(z.string(), z.enum(['BUY', 'SELL', 'HOLD'])),
  /** Symbols whose fast and slow averages crossed at this bar. */
  crossovers: z.array(z.string()),
  asOf: z.string(),
});
export type StrategyOutput = z.infer<typeof strategyOutputSchema>;

/** Sentiment agent output: market breadth at `asOf`. */
export const sentimentOutputSchema = z.object({
  /** Share (0..1) of symbols above their `window`-bar moving average. */
  breadth: z.number().min(0).max(1),
  advances: z.number().int().min(0),
  declines: z.number().int().min(0),
  unchanged: z.number().int().min(0),
  advanceDeclineRatio: z.number().min(0),
  asOf: z.string(),
});
export type SentimentOutput = z.infer<typeof sentimentOutputSchema>;
