/**
 * The indicators (lambdas/shared/trading/indicators.ts) against values computed by hand on the first 10 rows
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
import { maCrossover, marketBreadth, momentum, simpleReturns, sma } from '../../lambdas/shared/trading/indicators';
import { createReplayFeed, loadMarketData } from '../../lambdas/shared/trading/market-data';
import { DOW_FILE } from './support';

const feed = createReplayFeed(loadMarketData(DOW_FILE), 9);

describe('indicators on the real slice', () => {
  it('SMA', () => {
    // MSFT bars 5..9: (2.04 + 2.06 + 2.17 + 2.17 + 2.13) / 5 = 10.57 / 5 = 2.114
    expect(sma(feed.history('MSFT', 5), 5)).toBeCloseTo(2.114, 10);
    // KO bars 7..9: (9.55 + 9.66 + 9.69) / 3 = 28.90 / 3 = 9.633333...
    expect(sma(feed.history('KO', 3), 3)).toBeCloseTo(9.6333333333, 9);
    expect(sma(feed.history('KO', 3), 4)).toBeUndefined(); // not enough history
  });

  it('returns and momentum', () => {
    // MSFT r9 = 2.13 / 2.17 - 1 = -0.0184331797
    expect(simpleReturns(feed.history('MSFT', 2))[0]).toBeCloseTo(-0.0184331797, 9);
    // MSFT 3-bar momentum = 2.13 / 2.06 (bar 6) - 1 = 0.0339805825
    expect(momentum(feed.history('MSFT', 4), 3)).toBeCloseTo(0.0339805825, 9);
  });

  it('moving-average crossover SMA(2) vs SMA(4)', () => {
    // bar 9: fast (2.17 + 2.13)/2 = 2.15; slow (2.06 + 2.17 + 2.17 + 2.13)/4 = 2.1325 => BUY
    // bar 8: fast 2.17, slow (2.04 + 2.06 + 2.17 + 2.17)/4 = 2.11 => also above: no cross at 9
    const at9 = maCrossover(feed.history('MSFT', 5), 2, 4)!;
    expect(at9.fast).toBeCloseTo(2.15, 10);
    expect(at9.slow).toBeCloseTo(2.1325, 10);
    expect(at9.signal).toBe('BUY');
    expect(at9.crossed).toBe(false);
    // bar 7: fast (2.06 + 2.17)/2 = 2.115 > slow (2.08 + 2.04 + 2.06 + 2.17)/4 = 2.0875
    // bar 6: fast (2.04 + 2.06)/2 = 2.05 < slow (2.11 + 2.08 + 2.04 + 2.06)/4 = 2.0725 => crossed at 7
    const at7 = maCrossover(createReplayFeed(loadMarketData(DOW_FILE), 7).history('MSFT', 5), 2, 4)!;
    expect(at7.signal).toBe('BUY');
    expect(at7.crossed).toBe(true);
    expect(() => maCrossover([], 4, 2)).toThrow(RangeError);
  });

  it('breadth and advance/decline', () => {
    // SMA(5) at bar 9: AA (5.63+5.53+5.67+5.68+5.68)/5 = 5.638 < 5.68 above
    //                  KO (9.60+9.38+9.55+9.66+9.69)/5 = 9.576 < 9.69 above
    //                  MSFT 2.114 < 2.13 above; IBM (27.08+26.55+26.93+26.86+26.52)/5 = 26.788 > 26.52 below
    // => breadth 3/4 = 0.75. Bar 8 -> 9: KO up; MSFT, IBM down; AA unchanged => 1 / 2, ratio 0.5
    const b = marketBreadth({ AA: feed.history('AA', 5), KO: feed.history('KO', 5), MSFT: feed.history('MSFT', 5), IBM: feed.history('IBM', 5) }, 5);
    expect(b).toEqual({ breadth: 0.75, advances: 1, declines: 2, unchanged: 1, advanceDeclineRatio: 0.5, counted: 4 });
  });
});
