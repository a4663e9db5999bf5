/**
 * Technical indicators as pure functions over price arrays (oldest first). They return
 * `undefined` when the history is too short or contains a missing/invalid value, so a
 * caller can never mistake "not enough data" for a signal.
 */
import { isValidPrice } from './market-data';

/**
 * Simple moving average of the last `window` values.
 * @param values - prices, oldest first.
 * @param window - bars, integer >= 1.
 * @returns the mean, or undefined when fewer than `window` values or any of them is missing/invalid.
 */
export function sma(values: ReadonlyArray<number | null>, window: number): number | undefined {
  if (!Number.isInteger(window) || window < 1 || values.length < window) return undefined;
  let sum = 0;
  for (let i = values.length - window; i < values.length; i++) {
    const v = values[i];
    if (!isValidPrice(v)) return undefined;
    sum += v;
  }
  return sum / window;
}

/**
 * Simple returns r_t = p_t / p_{t-1} - 1 (fractions), one per consecutive pair.
 * @returns `values.length - 1` returns; a pair with a missing/invalid price gives NaN.
 */
export function simpleReturns(values: ReadonlyArray<number | null>): number[] {
  const out: number[] = [];
  for (let i = 1; i < values.length; i++) {
    const a = values[i - 1];
    const b = values[i];
    out.push(isValidPrice(a) && isValidPrice(b) ? b / a - 1 : Number.NaN);
  }
  return out;
}

/**
 * Momentum over `lookback` bars: p_t / p_{t-lookback} - 1 (fraction).
 * @returns undefined when history is shorter than lookback + 1 or either price is invalid.
 */
export function momentum(values: ReadonlyArray<number | null>, lookback: number): number | undefined {
  if (!Number.isInteger(lookback) || lookback < 1 || values.length < lookback + 1) return undefined;
  const now = values[values.length - 1];
  const then = values[values.length - 1 - lookback];
  return isValidPrice(now) && isValidPrice(then) ? now / then - 1 : undefined;
}

/** Moving-average crossover signal. */
export type Signal = 'BUY' | 'SELL' | 'HOLD';

/** The two averages behind a crossover signal, now and one bar earlier. */
export interface CrossoverState {
  readonly fast: number;
  readonly slow: number;
  readonly prevFast: number;
  readonly prevSlow: number;
  readonly signal: Signal;
  /** True when the fast average crossed the slow one at this bar (sign of fast - slow changed). */
  readonly crossed: boolean;
}

/**
 * Moving-average crossover (trend following). BUY when the fast SMA is above the slow SMA
 * (the long regime), SELL when below, HOLD when equal. `crossed` marks the bar where the
 * regime changed. Needs `slowWindow + 1` bars.
 * @param values - prices, oldest first, ending at the current bar.
 * @param fastWindow - bars of the fast average (reference agent default 10).
 * @param slowWindow - bars of the slow average (default 30), must exceed fastWindow.
 * @returns undefined when history is too short or has missing prices.
 * @throws {RangeError} when fastWindow >= slowWindow.
 */
export function maCrossover(values: ReadonlyArray<number | null>, fastWindow: number, slowWindow: number): CrossoverState | undefined {
  if (fastWindow >= slowWindow) throw new RangeError(`fastWindow (${fastWindow}) must be smaller than slowWindow (${slowWindow})`);
  const prev = values.slice(0, -1);
  const fast = sma(values, fastWindow);
  const slow = sma(values, slowWindow);
  const prevFast = sma(prev, fastWindow);
  const prevSlow = sma(prev, slowWindow);
  if (fast === undefined || slow === undefined || prevFast === undefined || prevSlow === undefined) return undefined;
  const signal: Signal = fast > slow ? 'BUY' : fast < slow ? 'SELL' : 'HOLD';
  const crossed = Math.sign(fast - slow) !== Math.sign(prevFast - prevSlow);
  return { fast, slow, prevFast, prevSlow, signal, crossed };
}

/** Market breadth at one bar. */
export interface Breadth {
  /** Share (fraction 0..1) of symbols with a valid MA whose price is above their `window`-bar SMA. */
  readonly breadth: number;
  /** Symbols whose price rose since the previous bar. */
  readonly advances: number;
  /** Symbols whose price fell since the previous bar. */
  readonly declines: number;
  /** Symbols unchanged. */
  readonly unchanged: number;
  /** advances / declines; equals `advances` when there are no declines (avoids Infinity in JSON). */
  readonly advanceDeclineRatio: number;
  /** Symbols with enough valid history to count in `breadth`. */
  readonly counted: number;
}

/**
 * Breadth over a set of series, each given oldest first and ending at the same current bar.
 * Symbols without `window` valid bars are left out of `breadth`; symbols without two valid
 * latest bars are left out of the advance/decline count.
 * @param window - SMA window in bars (reference agent default 50).
 */
export function marketBreadth(seriesBySymbol: Readonly<Record<string, ReadonlyArray<number | null>>>, window: number): Breadth {
  let above = 0;
  let counted = 0;
  let advances = 0;
  let declines = 0;
  let unchanged = 0;
  for (const values of Object.values(seriesBySymbol)) {
    const last = values[values.length - 1];
    const ma = sma(values, window);
    if (ma !== undefined && isValidPrice(last)) {
      counted++;
      if (last > ma) above++;
    }
    const prev = values[values.length - 2];
    if (isValidPrice(last) && isValidPrice(prev)) {
      if (last > prev) advances++;
      else if (last < prev) declines++;
      else unchanged++;
    }
  }
  return {
    breadth: counted === 0 ? 0 : above / counted,
    advances,
    declines,
    unchanged,
    advanceDeclineRatio: declines === 0 ? advances : advances / declines,
    counted,
  };
}
