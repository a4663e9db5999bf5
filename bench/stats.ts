/**
 * Small statistics for benchmark samples: median and spread (min, max, and the relative
 * half-range), so every printed figure says how much it moved between runs.
 */

/** A summary of repeated measurements of one figure. */
export interface Summary {
  /** Number of samples. */
  n: number;
  median: number;
  min: number;
  max: number;
  /** (max - min) / 2 / median, as a fraction (0 when median is 0). */
  spread: number;
}

/**
 * Summarizes samples.
 * @throws {Error} on an empty sample list.
 */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  return { n: samples.length, median, min, max, spread: median ? (max - min) / 2 / median : 0 };
}

/** `123.4 ±5%` style rendering of a summary. */
export function fmt(s: Summary, digits = 1, unit = ''): string {
  return `${s.median.toFixed(digits)}${unit} ±${(s.spread * 100).toFixed(0)}%`;
}

/**
 * Makespan of the best schedule of `durations` on `slots` parallel workers, by longest
 * processing time first (LPT). LPT is optimal for the specification's example and within 4/3 of optimal in
 * general (Graham 1969), which is the bound the "ideal" uses for other inputs.
 */
export function lptMakespan(durations: readonly number[], slots: number): number {
  const loads = new Array<number>(Math.max(1, slots)).fill(0);
  for (const d of [...durations].sort((a, b) => b - a)) {
    let i = 0;
    for (let j = 1; j < loads.length; j++) if (loads[j] < loads[i]) i = j;
    loads[i] += d;
  }
  return Math.max(...loads);
}
