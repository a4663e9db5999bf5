/**
 * The risk engine's math, as pure functions: exposure, P&L of the day, drawdown,
 * historical VaR / CVaR, concentration, and the verdict. The risk Lambda
 * (`lambdas/risk/handler.ts`) gathers the inputs (ledger, market data, equity history)
 * and calls {@link assessPortfolio}. Formulas and verdict rules: `docs/risk.md`.
 *
 * Units: USD for money, fractions (0.05 = 5 %) for ratios, bars for windows.
 */
import type { LimitCheck, RiskVerdict } from '../contracts';
import type { RiskLimits } from '../settings';
import { simpleReturns } from './indicators';
import { valuePortfolio, type Portfolio } from './portfolio';

/** Re-export: exposure and equity of a portfolio at given prices. */
export { valuePortfolio };

/**
 * P&L of the day on the positions held through the bar: Σ qty x (close_now - close_prev), USD,
 * and as a fraction of the previous bar's equity (cash + Σ qty x close_prev).
 * Fills happen at the close, so they do not change equity: this equals
 * equity(now) - equity(previous bar).
 * @returns `{ pnlUsd, pnlFraction, previousEquityUsd }`; pnlFraction is 0 when previous equity <= 0.
 * @throws {Error} when a held symbol lacks a price in either map.
 */
export function dailyPnl(
  portfolio: Portfolio,
  pricesNow: Readonly<Record<string, number>>,
  pricesPrev: Readonly<Record<string, number>>,
): { pnlUsd: number; pnlFraction: number; previousEquityUsd: number } {
  const now = valuePortfolio(portfolio, pricesNow).equityUsd;
  const prev = valuePortfolio(portfolio, pricesPrev).equityUsd;
  const pnlUsd = now - prev;
  return { pnlUsd, pnlFraction: prev > 0 ? pnlUsd / prev : 0, previousEquityUsd: prev };
}

/**
 * Drawdown from the equity peak: (peak - equity) / peak, a fraction >= 0 (0 at a new peak).
 * @param peakUsd - highest equity seen so far (including now), USD; 0 or less gives 0.
 */
export function drawdownFraction(peakUsd: number, equityUsd: number): number {
  if (!(peakUsd > 0)) return 0;
  return Math.max(0, (peakUsd - equityUsd) / peakUsd);
}

/**
 * Hypothetical P&L series of the CURRENT portfolio over history (historical simulation):
 * for each past bar t, Σ_symbols value_now(symbol) x r_t(symbol), USD, where
 * r_t = p_t / p_{t-1} - 1 from `history[symbol]` (oldest first, same length for every symbol).
 * A flat portfolio gives all zeros.
 * @throws {Error} when a history has a missing/invalid price (NaN return) for a held symbol.
 */
export function hypotheticalPnlSeries(
  exposureBySymbol: Readonly<Record<string, number>>,
  history: Readonly<Record<string, ReadonlyArray<number | null>>>,
): number[] {
  const held = Object.entries(exposureBySymbol).filter(([, v]) => v !== 0);
  const lengths = Object.values(history).map((h) => h.length);
  const n = Math.max(0, (lengths.length ? Math.min(...lengths) : 0) - 1);
  const out = new Array<number>(n).fill(0);
  for (const [symbol, value] of held) {
    const h = history[symbol];
    if (!h) throw new Error(`No price history for held symbol ${symbol}`);
    const returns = simpleReturns(h.slice(h.length - n - 1));
    returns.forEach((r, t) => {
      if (!Number.isFinite(r)) throw new Error(`Missing or invalid price in ${symbol}'s VaR window`);
      out[t] += value * r;
    });
  }
  return out;
}

/**
 * Historical VaR and CVaR (expected shortfall) of a P&L sample, USD, reported as positive losses.
 * Sort P&L ascending; k = ceil(n x (1 - confidence)) (at least 1) tail scenarios;
 * VaR = max(0, -pnl[k-1]) (the k-th worst), CVaR = max(0, -mean(pnl[0..k-1])) (mean of the k worst).
 * @param confidence - e.g. 0.95 (fraction, 0 < c < 1).
 * @returns `{ varUsd: 0, cvarUsd: 0 }` for an empty sample.
 */
export function historicalVar(pnls: readonly number[], confidence: number): { varUsd: number; cvarUsd: number; tailCount: number } {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const n = pnls.length;
  if (n === 0) return { varUsd: 0, cvarUsd: 0, tailCount: 0 };
  const sorted = [...pnls].sort((a, b) => a - b);
  // 1e-9 guards against 0.05 * 20 = 1.0000000000000002 rounding up to 2.
  const k = Math.min(n, Math.max(1, Math.ceil(n * (1 - confidence) - 1e-9)));
  const tail = sorted.slice(0, k);
  const mean = tail.reduce((a, b) => a + b, 0) / k;
  return { varUsd: Math.max(0, -sorted[k - 1]), cvarUsd: Math.max(0, -mean), tailCount: k };
}

/** Largest single-symbol share of gross exposure (fraction 0..1); 0 when flat. */
export function concentrationFraction(exposureBySymbol: Readonly<Record<string, number>>): number {
  const abs = Object.values(exposureBySymbol).map(Math.abs);
  const gross = abs.reduce((a, b) => a + b, 0);
  return gross > 0 ? Math.max(...abs) / gross : 0;
}

/** Everything the verdict needs, already computed. */
export interface RiskFigures {
  readonly equityUsd: number;
  readonly cashUsd: number;
  readonly grossExposureUsd: number;
  readonly netExposureUsd: number;
  /** Signed P&L of the day as a fraction of the previous bar's equity (negative = loss). */
  readonly dailyPnlFraction: number;
  readonly dailyPnlUsd: number;
  readonly peakEquityUsd: number;
  readonly drawdownFraction: number;
  readonly varFraction: number;
  readonly cvarFraction: number;
  readonly concentrationFraction: number;
}

/**
 * Compares every limit and decides the verdict.
 *
 * HALT limits (status BREACH and verdict HALT when exceeded; status REDUCE and verdict
 * REDUCE when above `reduceAtFraction` of the limit):
 *   dailyLoss (max(0, -dailyPnlFraction) > maxDailyLossFraction),
 *   drawdown (> maxDrawdownFraction), grossExposure (> maxGrossExposureUsd),
 *   minCash (cash < minCashUsd; REDUCE when cash < minCashUsd / reduceAtFraction).
 * REDUCE limits (status REDUCE and verdict REDUCE when exceeded, never HALT):
 *   var (varFraction > maxVarFraction), concentration (> maxConcentrationFraction).
 * `headroom` = limit - value for "max" limits and value - limit for minCash (negative = breached).
 * Boundaries: equal to a limit passes (strictly greater breaches).
 */
export function decideVerdict(f: RiskFigures, limits: RiskLimits): { verdict: RiskVerdict; reasons: string[]; checks: LimitCheck[] } {
  const checks: LimitCheck[] = [];
  const reasons: string[] = [];
  const r = limits.reduceAtFraction;
  const haltMax = (name: string, value: number, limit: number, unit: LimitCheck['unit'], label: string) => {
    const status = value > limit ? 'BREACH' : value > r * limit ? 'REDUCE' : 'PASS';
    checks.push({ name, value, limit, headroom: limit - value, unit, status });
    if (status === 'BREACH') reasons.push(`${label} ${fmt(value, unit)} exceeds the limit ${fmt(limit, unit)} (HALT)`);
    if (status === 'REDUCE') reasons.push(`${label} ${fmt(value, unit)} is above ${r * 100}% of the limit ${fmt(limit, unit)} (REDUCE)`);
  };
  haltMax('dailyLoss', Math.max(0, -f.dailyPnlFraction), limits.maxDailyLossFraction, 'fraction', 'Daily loss');
  haltMax('drawdown', f.drawdownFraction, limits.maxDrawdownFraction, 'fraction', 'Drawdown');
  haltMax('grossExposure', f.grossExposureUsd, limits.maxGrossExposureUsd, 'USD', 'Gross exposure');
  {
    const status = f.cashUsd < limits.minCashUsd ? 'BREACH' : f.cashUsd < limits.minCashUsd / r ? 'REDUCE' : 'PASS';
    checks.push({ name: 'minCash', value: f.cashUsd, limit: limits.minCashUsd, headroom: f.cashUsd - limits.minCashUsd, unit: 'USD', status });
    if (status === 'BREACH') reasons.push(`Cash ${fmt(f.cashUsd, 'USD')} is below the minimum ${fmt(limits.minCashUsd, 'USD')} (HALT)`);
    if (status === 'REDUCE') reasons.push(`Cash ${fmt(f.cashUsd, 'USD')} is within ${fmt(limits.minCashUsd / r, 'USD')} of the minimum (REDUCE)`);
  }
  const reduceMax = (name: string, value: number, limit: number, label: string) => {
    const status = value > limit ? 'REDUCE' : 'PASS';
    checks.push({ name, value, limit, headroom: limit - value, unit: 'fraction', status });
    if (status === 'REDUCE') reasons.push(`${label} ${fmt(value, 'fraction')} exceeds the limit ${fmt(limit, 'fraction')} (REDUCE)`);
  };
  reduceMax('var', f.varFraction, limits.maxVarFraction, 'VaR');
  reduceMax('concentration', f.concentrationFraction, limits.maxConcentrationFraction, 'Concentration');
  const verdict: RiskVerdict = checks.some((c) => c.status === 'BREACH') ? 'HALT' : checks.some((c) => c.status === 'REDUCE') ? 'REDUCE' : 'OK';
  return { verdict, reasons, checks };
}

function fmt(value: number, unit: LimitCheck['unit']): string {
  if (unit === 'USD') return `USD ${value.toFixed(2)}`;
  if (unit === 'fraction') return `${(value * 100).toFixed(2)}%`;
  return String(value);
}

/** Inputs of {@link assessPortfolio}. */
export interface PortfolioRiskInput {
  readonly portfolio: Portfolio;
  /** Close of every held symbol at the current bar, USD. */
  readonly pricesNow: Readonly<Record<string, number>>;
  /** Close of every held symbol at the previous bar, USD (same as now on the first bar). */
  readonly pricesPrev: Readonly<Record<string, number>>;
  /** Price history per held symbol, oldest first, ending at the current bar: varWindow + 1 bars for varWindow returns. */
  readonly history: Readonly<Record<string, ReadonlyArray<number | null>>>;
  /** Highest equity recorded before this bar (or the starting cash), USD. */
  readonly previousPeakUsd: number;
  readonly varConfidence: number;
}

/**
 * Computes every figure of {@link RiskFigures} from the portfolio and market data.
 * VaR/CVaR fractions are capped at 1 when equity is not positive (the handler HALTs on that anyway).
 * @throws {Error} when a held symbol lacks a price or has a gap in its VaR window.
 */
export function computeRiskFigures(input: PortfolioRiskInput): RiskFigures {
  const valuation = valuePortfolio(input.portfolio, input.pricesNow);
  const pnl = dailyPnl(input.portfolio, input.pricesNow, input.pricesPrev);
  const peak = Math.max(input.previousPeakUsd, valuation.equityUsd);
  const series = hypotheticalPnlSeries(valuation.exposureBySymbol, input.history);
  const { varUsd, cvarUsd } = historicalVar(series, input.varConfidence);
  const eq = valuation.equityUsd;
  return {
    equityUsd: eq,
    cashUsd: input.portfolio.cash,
    grossExposureUsd: valuation.grossExposureUsd,
    netExposureUsd: valuation.netExposureUsd,
    dailyPnlFraction: pnl.pnlFraction,
    dailyPnlUsd: pnl.pnlUsd,
    peakEquityUsd: peak,
    drawdownFraction: drawdownFraction(peak, eq),
    varFraction: eq > 0 ? varUsd / eq : varUsd > 0 ? 1 : 0,
    cvarFraction: eq > 0 ? cvarUsd / eq : cvarUsd > 0 ? 1 : 0,
    concentrationFraction: concentrationFraction(valuation.exposureBySymbol),
  };
}
