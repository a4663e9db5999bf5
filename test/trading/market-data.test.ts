import { readFileSync } from 'node:fs';
import { maCrossover, marketBreadth, sma } from '../../lambdas/shared/trading/indicators';
import {
  barIndexForCycle,
  createReplayFeed,
  loadMarketData,
  MarketDataExhaustedError,
  parseWideCsv,
  resolveUniverse,
} from '../../lambdas/shared/trading/market-data';
import { DOW_FILE, MSFT_FILE } from './support';

describe('wide CSV loader', () => {
  it('loads the Dow Jones 30 file: 2529 bars, 30 symbols, quoted dates', () => {
    const t = loadMarketData(DOW_FILE);
    expect(t.timestamps).toHaveLength(2529);
    expect(t.symbols).toHaveLength(30);
    expect(t.timestamps[0]).toBe('1990-12-31');
    expect(t.timestamps[2528]).toBe('2001-01-02');
    expect(t.prices.MSFT[9]).toBe(2.13);
  });

  it('treats every non-timestamp column of the MSFT OHLCV file as a series', () => {
    const t = loadMarketData(MSFT_FILE);
    expect(t.symbols).toEqual(['Open', 'High', 'Low', 'Close', 'Volume']);
    const feed = createReplayFeed(t, 1);
    expect(feed.asOf).toBe('2000-09-28');
    expect(feed.priceAt('Close')).toBe(61.3125);
    expect(feed.priceAt('Close', 1)).toBe(60.625);
    expect(resolveUniverse(['Close'], feed)).toEqual(['Close']);
  });

  it('accepts intraday timestamps and keeps empty cells as missing', () => {
    const csv = ['timestamp,AAA,BBB', '2024-03-01 09:30:00,10,20', '2024-03-01 09:45:00,11,', '2024-03-01 10:00:00,12,22'].join('\n');
    const t = parseWideCsv(csv, 'intraday');
    expect(t.timestamps[1]).toBe('2024-03-01 09:45:00');
    const feed = createReplayFeed(t, 1);
    expect(feed.priceAt('BBB')).toBeUndefined();
    expect(feed.lastPrice('BBB')).toEqual({ price: 20, barIndex: 0, staleBars: 1 });
    expect(createReplayFeed(t, 2).history('AAA', 3)).toEqual([10, 11, 12]);
  });

  it('rejects timestamps that are malformed or not increasing', () => {
    expect(() => parseWideCsv('date,A\n2024-01-02,1\n2024-01-01,2')).toThrow(/not after/);
    expect(() => parseWideCsv('date,A\n02/01/2024,1')).toThrow(/not YYYY-MM-DD/);
    expect(() => parseWideCsv('date,A,B\n2024-01-02,1')).toThrow(/line 2 has 2 cells/);
  });
});

describe('replay feed: no look-ahead', () => {
  const table = loadMarketData(DOW_FILE);

  it('maps cycle N to bar startBar + N - 1', () => {
    expect(barIndexForCycle(260, 1)).toBe(260);
    expect(barIndexForCycle(260, 5)).toBe(264);
    expect(() => barIndexForCycle(260, 0)).toThrow(RangeError);
  });

  it('never returns a bar after the current one', () => {
    const feed = createReplayFeed(table, 100);
    expect(feed.asOf).toBe(table.timestamps[100]);
    expect(feed.priceAt('MSFT', -1)).toBeUndefined();
    const h = feed.history('MSFT', 10_000);
    expect(h).toHaveLength(101);
    expect(h[100]).toBe(table.prices.MSFT[100]);
    expect(feed.timestamps(5)).toEqual(table.timestamps.slice(96, 101));
    expect(feed.timestamps(5)).not.toContain(table.timestamps[101]);
  });

  it('computes the same indicators at bar N as on the file truncated after bar N', () => {
    const n = 300;
    const lines = readFileSync(DOW_FILE, 'utf8').split('\n');
    const truncated = parseWideCsv(lines.slice(0, n + 2).join('\n'), 'truncated');
    expect(truncated.timestamps).toHaveLength(n + 1);
    const full = createReplayFeed(table, n);
    const cut = createReplayFeed(truncated, n);
    for (const s of table.symbols) {
      expect(maCrossover(full.history(s, 31), 10, 30)).toEqual(maCrossover(cut.history(s, 31), 10, 30));
      expect(sma(full.history(s, 50), 50)).toBe(sma(cut.history(s, 50), 50));
    }
    const series = (f: typeof full) => Object.fromEntries(table.symbols.map((s) => [s, f.history(s, 50)]));
    expect(marketBreadth(series(full), 50)).toEqual(marketBreadth(series(cut), 50));
  });

  it('throws MarketDataExhausted past the end of the file', () => {
    expect(() => createReplayFeed(table, 2529)).toThrow(MarketDataExhaustedError);
    expect(() => createReplayFeed(table, 2600)).toThrow(expect.objectContaining({ name: 'MarketDataExhausted' }));
    expect(createReplayFeed(table, 2528).asOf).toBe('2001-01-02');
  });
});
