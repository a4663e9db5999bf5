import { readFileSync } from 'node:fs';
import { maCrossover, marketBreadth, sma } from '../../lambdas/shared/trading/indicators';
import {
  barIndexForCycle,
  createReplayFeed,
  loadMarketData,
  MarketDataExhausted,
  MarketDataInvalid,
  parseWideCsv,
  resolveUniverse,
  symbolFromFileName,
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

  it('reads the MSFT OHLCV file as one symbol named from the file name, trading on Close', () => {
    const t = loadMarketData(MSFT_FILE);
    expect(t.symbols).toEqual(['MSFT']);
    expect(t.ohlcv).toEqual({ symbol: 'MSFT', columns: ['Open', 'High', 'Low', 'Close', 'Volume'] });
    const feed = createReplayFeed(t, 1);
    expect(feed.asOf).toBe('2000-09-28');
    expect(feed.priceAt('MSFT')).toBe(61.3125);
    expect(feed.priceAt('MSFT', 1)).toBe(60.625);
    expect(feed.has('Close')).toBe(false);
    expect(resolveUniverse([], feed)).toEqual(['MSFT']);
  });

  it('names the symbol of an OHLCV file by option, else by the file name up to its first "-" or "."', () => {
    const csv = 'Date,open,HIGH,Low,Close,Adj Close,Volume\n2024-01-02,1,2,0.5,1.5,1.4,100\n2024-01-03,1.5,2,1,1.75,1.7,90';
    expect(parseWideCsv(csv, 'x/ibm.csv').symbols).toEqual(['IBM']);
    expect(parseWideCsv(csv, 'x/brk.b-2024.csv').symbols).toEqual(['BRK']);
    const t = parseWideCsv(csv, 'x/whatever-daily.csv', { symbol: 'KO' });
    expect(t.symbols).toEqual(['KO']);
    expect(t.prices.KO).toEqual([1.5, 1.75]);
    expect(symbolFromFileName('/data/msft-daily.csv')).toBe('MSFT');
    expect(() => symbolFromFileName('-daily.csv')).toThrow(/--symbol/);
    // A file with other columns besides OHLCV ones is a wide file.
    expect(parseWideCsv('date,Close,XOM\n2024-01-02,1,2', 'w.csv').symbols).toEqual(['Close', 'XOM']);
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
    expect(() => parseWideCsv('date,A,B\n2024-01-02,1')).toThrow(/line 2: has 2 cells/);
  });

  describe('validated as an exchange would, one line naming file, line and column', () => {
    const bad = (csv: string) => {
      try {
        parseWideCsv(csv, 'data/p.csv');
      } catch (err) {
        expect(err).toBeInstanceOf(MarketDataInvalid);
        expect((err as Error).message).not.toContain('\n');
        return (err as Error).message;
      }
      throw new Error('parsed without an error');
    };
    it.each([
      ['a duplicate column name', 'date,AAA,BBB,AAA\n2024-01-02,1,2,3', 'data/p.csv line 1, column 4 (AAA): duplicate column name "AAA" (also column 2)'],
      ['month 13', 'date,AAA\n2024-01-02,1\n2024-13-01,2', 'data/p.csv line 3, column 1 (date): timestamp "2024-13-01" is not a real date and time'],
      ['31 April', 'date,AAA\n2024-04-31,1', 'data/p.csv line 2, column 1 (date): timestamp "2024-04-31" is not a real date and time'],
      ['29 February of a common year', 'date,AAA\n2023-02-29,1', 'line 2, column 1 (date): timestamp "2023-02-29" is not a real date'],
      ['hour 24', 'date,AAA\n2024-01-02 24:00,1', 'line 2, column 1 (date): timestamp "2024-01-02 24:00" is not a real'],
      ['a repeated timestamp', 'date,AAA\n2024-01-02,1\n2024-01-02,2', 'data/p.csv line 3, column 1 (date): timestamp "2024-01-02" is not after "2024-01-02"'],
      ['a hex number', 'date,AAA,BBB\n2024-01-02,1,0x12', 'data/p.csv line 2, column 3 (BBB): "0x12" is not a plain decimal number'],
      ['Infinity', 'date,AAA\n2024-01-02,Infinity', 'line 2, column 2 (AAA): "Infinity" is not a plain decimal'],
      ['a thousands separator', 'date,AAA\n2024-01-02,"1 000"', 'line 2, column 2 (AAA): "1 000" is not a plain decimal'],
      ['text', 'date,AAA\n2024-01-02,abc', 'line 2, column 2 (AAA): "abc" is not a plain decimal'],
    ])('%s', (_what, csv, message) => {
      expect(bad(csv)).toContain(message);
    });

    it('counts lines of the file, blank lines included', () => {
      expect(bad('date,AAA\n\n2024-01-02,1\n\n2024-01-02,2')).toContain('line 5, column 1');
    });

    it('accepts plain decimals, signs, exponents and the missing markers', () => {
      const t = parseWideCsv('date,A,B,C,D\n2024-02-29,-1.5,.25,1e3,NA\n2024-03-01,+2,3.,NaN,', 'ok.csv');
      expect(t.prices.A).toEqual([-1.5, 2]);
      expect(t.prices.B).toEqual([0.25, 3]);
      expect(t.prices.C).toEqual([1000, Number.NaN]);
      expect(t.prices.D).toEqual([null, null]);
    });

    it('rejects the real files when a cell is broken (a month-13 date in the Dow file)', () => {
      const lines = readFileSync(DOW_FILE, 'utf8').split('\n');
      lines[10] = lines[10].replace(/^"\d{4}-\d{2}/, '"1991-13');
      expect(() => parseWideCsv(lines.join('\n'), 'dow.csv')).toThrow(/^dow\.csv line 11, column 1 \(date\): timestamp "1991-13-\d\d" is not a real date/);
    });
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
    expect(() => createReplayFeed(table, 2529)).toThrow(MarketDataExhausted);
    expect(() => createReplayFeed(table, 2600)).toThrow(expect.objectContaining({ name: 'MarketDataExhausted' }));
    expect(createReplayFeed(table, 2528).asOf).toBe('2001-01-02');
  });
});
