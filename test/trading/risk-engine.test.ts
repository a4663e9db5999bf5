/**
 * The risk engine (lambdas/shared/trading/risk-engine.ts): figures and verdict rules against values computed by hand on the first 10 rows
 * of data/market/dowjones30-daily.csv (bars 0..9, 1990-12-31 .. 1991-01-14):
 *
 *   bar  date        AA    KO    MSFT  IBM
 *   0    1990-12-31  5.92  9.88  2.08  27.86
 *   1    1991-01-02  5.92  9.88  2.08  27.86
 *   2    1991-01-03  5.88  9.60  2.09  27.95
 *   3    1991-01-04  5.76  9.85  2.11  27.86
 *   4    1991-01-07  5.72  9.69  2.08  27.39
 *   5    1991-01-08  5.63  9.60  2.04  27.08
 *   6    1991-01-09  5.53  9.38  2.06  26.55
 *   7    1991-01-10  5.67  9.55  2.17  26.93
 *   8    1991-01-11  5.68  9.66  2.17  26.86
 *   9    1991-01-14  5.68  9.69  2.13  26.52
 */
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { applyFill, portfolioProblems, type Portfolio } from '../../lambdas/shared/trading/portfolio';
import {
  computeRiskFigures,
  concentrationFraction,
  dailyPnl,
  decideVerdict,
  drawdownFraction,
  historicalVar,
  hypotheticalPnlSeries,
  valuePortfolio,
  type RiskFigures,
} from '../../lambdas/shared/trading/risk-engine';
import { DOW_FILE, testSettings } from './support';

const feed = createReplayFeed(loadMarketData(DOW_FILE), 9);
const px = (s: string, ago = 0) => feed.priceAt(s, ago)!;

describe('risk figures on the real slice', () => {
  // cash 1000 USD, 100 MSFT, 50 KO
  const portfolio: Portfolio = { cash: 1000, positions: { MSFT: { qty: 100, avgPrice: 2 }, KO: { qty: 50, avgPrice: 9 } } };
  const now = { MSFT: px('MSFT'), KO: px('KO') };
  const prev = { MSFT: px('MSFT', 1), KO: px('KO', 1) };

  it('exposure and equity at the current close', () => {
    // MSFT 100 x 2.13 = 213; KO 50 x 9.69 = 484.5; gross = net = 697.5; equity = 1000 + 697.5 = 1697.5
    const v = valuePortfolio(portfolio, now);
    expect(v.exposureBySymbol.MSFT).toBeCloseTo(213, 10);
    expect(v.exposureBySymbol.KO).toBeCloseTo(484.5, 10);
    expect(v.grossExposureUsd).toBeCloseTo(697.5, 10);
    expect(v.netExposureUsd).toBeCloseTo(697.5, 10);
    expect(v.equityUsd).toBeCloseTo(1697.5, 10);
    // a short: -100 MSFT => gross 213 + 484.5 = 697.5, net 484.5 - 213 = 271.5
    const short = valuePortfolio({ cash: 0, positions: { MSFT: { qty: -100, avgPrice: 2 }, KO: { qty: 50, avgPrice: 9 } } }, now);
    expect(short.grossExposureUsd).toBeCloseTo(697.5, 10);
    expect(short.netExposureUsd).toBeCloseTo(271.5, 10);
  });

  it('P&L of the day', () => {
    // MSFT 100 x (2.13 - 2.17) = -4; KO 50 x (9.69 - 9.66) = +1.5; total -2.5 USD
    // previous equity = 1000 + 217 + 483 = 1700; fraction = -2.5 / 1700 = -0.00147058823
    const p = dailyPnl(portfolio, now, prev);
    expect(p.pnlUsd).toBeCloseTo(-2.5, 10);
    expect(p.previousEquityUsd).toBeCloseTo(1700, 10);
    expect(p.pnlFraction).toBeCloseTo(-0.0014705882, 9);
  });

  it('drawdown from the peak', () => {
    // (2000 - 1697.5) / 2000 = 302.5 / 2000 = 0.15125; at or above the peak => 0
    expect(drawdownFraction(2000, 1697.5)).toBeCloseTo(0.15125, 12);
    expect(drawdownFraction(1697.5, 1697.5)).toBe(0);
    expect(drawdownFraction(0, 10)).toBe(0);
  });

  it('concentration', () => {
    // largest |exposure| / gross = 484.5 / 697.5 = 0.6946236559
    expect(concentrationFraction({ MSFT: 213, KO: 484.5 })).toBeCloseTo(0.6946236559, 9);
    expect(concentrationFraction({})).toBe(0);
  });

  it('historical VaR and CVaR of 100 MSFT over the 9 returns of bars 0..9', () => {
    // value now 213 USD. Returns: 0, +0.01/2.08, +0.02/2.09, -0.03/2.11, -0.04/2.08, +0.02/2.04, +0.11/2.06, 0, -0.04/2.17
    // P&L = 213 x r: the three worst are -4.096154 (213 x -0.04/2.08), -3.926267 (213 x -0.04/2.17), -3.028436 (213 x -0.03/2.11)
    const pnl = hypotheticalPnlSeries({ MSFT: 213 }, { MSFT: feed.history('MSFT', 10) });
    expect(pnl).toHaveLength(9);
    expect(Math.min(...pnl)).toBeCloseTo(-4.0961538, 6);
    // 80 %: k = ceil(9 x 0.2) = 2 => VaR = 2nd worst = 3.926267; CVaR = (4.096154 + 3.926267) / 2 = 4.011210
    const v80 = historicalVar(pnl, 0.8);
    expect(v80.tailCount).toBe(2);
    expect(v80.varUsd).toBeCloseTo(3.9262673, 6);
    expect(v80.cvarUsd).toBeCloseTo(4.0112105, 6);
    // 90 %: k = ceil(0.9) = 1 => VaR = CVaR = worst = 4.096154
    const v90 = historicalVar(pnl, 0.9);
    expect(v90.varUsd).toBeCloseTo(4.0961538, 6);
    expect(v90.cvarUsd).toBeCloseTo(4.0961538, 6);
    // As fractions of equity 1000 + 213 = 1213: VaR80 = 3.926267 / 1213 = 0.0032368
    const f = computeRiskFigures({
      portfolio: { cash: 1000, positions: { MSFT: { qty: 100, avgPrice: 2 } } },
      pricesNow: { MSFT: 2.13 },
      pricesPrev: { MSFT: 2.17 },
      history: { MSFT: feed.history('MSFT', 10) },
      previousPeakUsd: 1000,
      varConfidence: 0.8,
    });
    expect(f.varFraction).toBeCloseTo(0.0032368, 6);
    expect(f.cvarFraction).toBeCloseTo(4.0112105 / 1213, 8);
    // peak = max(1000, 1213) = 1213 => drawdown 0; P&L -4 / 1217 = -0.0032868
    expect(f.peakEquityUsd).toBeCloseTo(1213, 10);
    expect(f.drawdownFraction).toBe(0);
    expect(f.dailyPnlFraction).toBeCloseTo(-0.0032867707, 9);
  });

  it('a flat portfolio has VaR 0', () => {
    expect(historicalVar(hypotheticalPnlSeries({}, { MSFT: feed.history('MSFT', 10) }), 0.95)).toEqual({ varUsd: 0, cvarUsd: 0, tailCount: 1 });
  });

  it('applies fills: cash, quantity, average price', () => {
    // buy 100 @ 2 then 100 @ 3 => qty 200, avg 2.5, cash 1000 - 200 - 300 = 500; sell 50 keeps avg 2.5
    let p: Portfolio = { cash: 1000, positions: {} };
    p = applyFill(p, { symbol: 'X', side: 'BUY', qty: 100, price: 2 });
    p = applyFill(p, { symbol: 'X', side: 'BUY', qty: 100, price: 3 });
    expect(p).toEqual({ cash: 500, positions: { X: { qty: 200, avgPrice: 2.5 } } });
    p = applyFill(p, { symbol: 'X', side: 'SELL', qty: 200, price: 4 });
    expect(p).toEqual({ cash: 1300, positions: {} });
    expect(portfolioProblems({ cash: -5, positions: {} })).toEqual(['cash is negative (-5) with no positions']);
    expect(portfolioProblems({ cash: Number.NaN, positions: {} })[0]).toMatch(/not finite/);
  });
});

describe('verdict rules', () => {
  const limits = testSettings().limits;
  const calm: RiskFigures = {
    equityUsd: 1_000_000,
    cashUsd: 900_000,
    grossExposureUsd: 100_000,
    netExposureUsd: 100_000,
    dailyPnlFraction: 0.001,
    dailyPnlUsd: 1000,
    peakEquityUsd: 1_000_000,
    drawdownFraction: 0,
    varFraction: 0.001,
    cvarFraction: 0.002,
    concentrationFraction: 0.2,
  };
  const verdict = (f: Partial<RiskFigures>) => decideVerdict({ ...calm, ...f }, limits);

  it('OK when every limit has headroom, with every limit listed', () => {
    const v = verdict({});
    expect(v.verdict).toBe('OK');
    expect(v.checks.map((c) => c.name)).toEqual(['dailyLoss', 'drawdown', 'grossExposure', 'minCash', 'var', 'concentration']);
    expect(v.checks.find((c) => c.name === 'grossExposure')!.headroom).toBe(100_000);
  });

  it.each([
    ['daily loss beyond maxDailyLossFraction', { dailyPnlFraction: -0.031 }, 'dailyLoss'],
    ['drawdown beyond maxDrawdownFraction', { drawdownFraction: 0.11 }, 'drawdown'],
    ['gross beyond maxGrossExposureUsd', { grossExposureUsd: 200_001 }, 'grossExposure'],
    ['cash below minCashUsd', { cashUsd: 9_999 }, 'minCash'],
  ])('HALT on %s', (_label, figures, name) => {
    const v = verdict(figures);
    expect(v.verdict).toBe('HALT');
    expect(v.checks.find((c) => c.name === name)!.status).toBe('BREACH');
    expect(v.reasons.join(' ')).toMatch(/HALT/);
  });

  it.each([
    ['daily loss above 80 % of its limit', { dailyPnlFraction: -0.025 }, 'dailyLoss'],
    ['gross above 80 % of its limit', { grossExposureUsd: 170_000 }, 'grossExposure'],
    ['cash within minCash / 0.8', { cashUsd: 12_000 }, 'minCash'],
    ['VaR above maxVarFraction', { varFraction: 0.021 }, 'var'],
    ['concentration above maxConcentrationFraction', { concentrationFraction: 0.51 }, 'concentration'],
  ])('REDUCE on %s', (_label, figures, name) => {
    const v = verdict(figures);
    expect(v.verdict).toBe('REDUCE');
    expect(v.checks.find((c) => c.name === name)!.status).toBe('REDUCE');
  });

  it('a limit reached exactly passes (strictly greater breaches)', () => {
    expect(verdict({ grossExposureUsd: 200_000 }).checks.find((c) => c.name === 'grossExposure')!.status).toBe('REDUCE');
    expect(verdict({ varFraction: 0.02 }).verdict).toBe('OK');
  });
});
