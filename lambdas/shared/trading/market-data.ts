/**
 * Market data: a loader for "wide" CSV files (first column a timestamp, one column per
 * series) and a replay feed that shows one cycle exactly the history up to its bar.
 *
 * Works unchanged with `data/market/dowjones30-daily.csv` (date + 30 tickers, closes) and
 * `data/market/msft-daily.csv` (date, Open, High, Low, Close, Volume: every non-timestamp
 * column is a series; a config universe such as `['Close']` picks one). Timestamps are
 * `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (intraday) and must be strictly increasing.
 *
 * No look-ahead: {@link createReplayFeed} copies only bars `0..barIndex` into the feed
 * object, so nothing an agent or the risk engine does with a feed can see a later bar.
 *
 * May be imported by: the risk Lambda, agents, `local/`, `bench/`, `test/`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** A parsed wide CSV. `prices[symbol][i]` is the value at `timestamps[i]`: a number (possibly NaN or <= 0 when the file says so) or `null` when the cell is empty. */
export interface MarketTable {
  /** Path or label the table came from (for error messages). */
  readonly source: string;
  /** Bar timestamps as written in the file, strictly increasing. */
  readonly timestamps: readonly string[];
  /** Series (column) names in file order, timestamp column excluded. */
  readonly symbols: readonly string[];
  /** Values per series, one per bar. */
  readonly prices: Readonly<Record<string, ReadonlyArray<number | null>>>;
}

/** Thrown when a CSV cannot be parsed; `name` = `MarketDataInvalid`. */
export class MarketDataInvalidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MarketDataInvalid';
  }
}

/** Thrown when a cycle's bar lies beyond the end of the file; `name` = `MarketDataExhausted`. The risk engine turns it into HALT. */
export class MarketDataExhaustedError extends Error {
  constructor(
    readonly barIndex: number,
    readonly barCount: number,
  ) {
    super(`Bar ${barIndex} is beyond the end of the market data (${barCount} bars, last index ${barCount - 1})`);
    this.name = 'MarketDataExhausted';
  }
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?$/;

function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

/**
 * Parses a wide CSV. Empty cells and `NA`/`null` become `null` (missing); any other
 * non-numeric cell becomes `NaN` (kept, so the risk engine can fail closed on it).
 * @param text - the file's contents (header row first; quoted or bare cells; no embedded commas).
 * @param source - label for error messages. Default `csv`.
 * @throws {MarketDataInvalidError} on no data rows, a bad or non-increasing timestamp, or a row with the wrong number of cells.
 */
export function parseWideCsv(text: string, source = 'csv'): MarketTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) throw new MarketDataInvalidError(`${source}: needs a header row and at least one data row`);
  const header = lines[0].split(',').map(unquote);
  const symbols = header.slice(1);
  if (symbols.length === 0) throw new MarketDataInvalidError(`${source}: header has no series columns`);
  const timestamps: string[] = [];
  const cols: Array<Array<number | null>> = symbols.map(() => []);
  for (let r = 1; r < lines.length; r++) {
    const cells = lines[r].split(',').map(unquote);
    if (cells.length !== header.length) {
      throw new MarketDataInvalidError(`${source}: line ${r + 1} has ${cells.length} cells, header has ${header.length}`);
    }
    const ts = cells[0];
    if (!TIMESTAMP.test(ts)) throw new MarketDataInvalidError(`${source}: line ${r + 1} timestamp "${ts}" is not YYYY-MM-DD[ HH:MM[:SS]]`);
    if (timestamps.length > 0 && ts <= timestamps[timestamps.length - 1]) {
      throw new MarketDataInvalidError(`${source}: line ${r + 1} timestamp "${ts}" is not after "${timestamps[timestamps.length - 1]}"`);
    }
    timestamps.push(ts);
    for (let c = 1; c < cells.length; c++) {
      const cell = cells[c];
      cols[c - 1].push(cell === '' || /^(na|null|nan)$/i.test(cell) ? (/^nan$/i.test(cell) ? Number.NaN : null) : Number(cell));
    }
  }
  const prices: Record<string, Array<number | null>> = {};
  symbols.forEach((s, i) => (prices[s] = cols[i]));
  return { source, timestamps, symbols, prices };
}

const tableCache = new Map<string, MarketTable>();

/**
 * Loads (once per process, cached by absolute path) a wide CSV file.
 * @param file - path; relative paths resolve against the working directory (the repo root locally, the bundle root in Lambda).
 * @throws {MarketDataInvalidError} when the file cannot be read or parsed.
 */
export function loadMarketData(file: string): MarketTable {
  const path = resolve(file);
  const cached = tableCache.get(path);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MarketDataInvalidError(`Cannot read market data file ${path}: ${(err as Error).message}`);
  }
  const table = parseWideCsv(text, file);
  tableCache.set(path, table);
  return table;
}

/**
 * Bar index a cycle sees: `startBar + cycleSeq - 1` (cycleSeq is 1-based; see `TradingSettings.startBar`).
 * @throws {RangeError} when cycleSeq < 1 or startBar < 0.
 */
export function barIndexForCycle(startBar: number, cycleSeq: number): number {
  if (!Number.isInteger(cycleSeq) || cycleSeq < 1) throw new RangeError(`cycleSeq must be an integer >= 1, got ${cycleSeq}`);
  if (!Number.isInteger(startBar) || startBar < 0) throw new RangeError(`startBar must be an integer >= 0, got ${startBar}`);
  return startBar + cycleSeq - 1;
}

/** The latest usable price of a series at or before the current bar. */
export interface LastPrice {
  /** The value (may be NaN or <= 0 if the file says so: callers validate with {@link isValidPrice}). */
  readonly price: number;
  /** Bar index the price comes from. */
  readonly barIndex: number;
  /** Bars between that bar and the current bar (0 = fresh). */
  readonly staleBars: number;
}

/**
 * What agents and the risk engine see of the market in one cycle. It holds only bars
 * `0..barIndex`: there is no method that reaches past the current bar.
 */
export interface MarketDataProvider {
  /** Index of the current bar (0-based, in the file). */
  readonly barIndex: number;
  /** Timestamp of the current bar, as in the file. */
  readonly asOf: string;
  /** Every series in the data (file order). */
  readonly symbols: readonly string[];
  /** Value at the current bar (`barsAgo` = 0) or `barsAgo` bars earlier; undefined when missing or before the first bar. */
  priceAt(symbol: string, barsAgo?: number): number | undefined;
  /** Latest non-missing value at or before the current bar, with its staleness; undefined when the series has none or is unknown. */
  lastPrice(symbol: string): LastPrice | undefined;
  /** The last `length` values ending at the current bar (oldest first; fewer when history is shorter; null = missing). */
  history(symbol: string, length: number): ReadonlyArray<number | null>;
  /** Timestamps of the last `length` bars ending at the current bar (oldest first). */
  timestamps(length: number): readonly string[];
  /** True when the symbol is a series of this data. */
  has(symbol: string): boolean;
}

/** A price the engine may value a position at: finite and strictly positive. */
export function isValidPrice(p: number | null | undefined): p is number {
  return typeof p === 'number' && Number.isFinite(p) && p > 0;
}

/**
 * Builds the feed for one bar. The feed copies bars `0..barIndex` only (no look-ahead).
 * @throws {MarketDataExhaustedError} when `barIndex` is at or past the end of the data.
 * @throws {RangeError} when `barIndex` is negative or not an integer.
 */
export function createReplayFeed(table: MarketTable, barIndex: number): MarketDataProvider {
  if (!Number.isInteger(barIndex) || barIndex < 0) throw new RangeError(`barIndex must be an integer >= 0, got ${barIndex}`);
  if (barIndex >= table.timestamps.length) throw new MarketDataExhaustedError(barIndex, table.timestamps.length);
  const ts = table.timestamps.slice(0, barIndex + 1);
  const series = new Map<string, ReadonlyArray<number | null>>(table.symbols.map((s) => [s, table.prices[s].slice(0, barIndex + 1)]));
  const symbols = [...table.symbols];
  return {
    barIndex,
    asOf: ts[barIndex],
    symbols,
    has: (symbol) => series.has(symbol),
    priceAt(symbol, barsAgo = 0) {
      const s = series.get(symbol);
      if (!s || barsAgo < 0 || !Number.isInteger(barsAgo)) return undefined;
      const v = s[barIndex - barsAgo];
      return v === null || v === undefined ? undefined : v;
    },
    lastPrice(symbol) {
      const s = series.get(symbol);
      if (!s) return undefined;
      for (let i = barIndex; i >= 0; i--) {
        const v = s[i];
        if (v !== null) return { price: v, barIndex: i, staleBars: barIndex - i };
      }
      return undefined;
    },
    history(symbol, length) {
      const s = series.get(symbol);
      if (!s || length <= 0) return [];
      return s.slice(Math.max(0, barIndex + 1 - length));
    },
    timestamps(length) {
      return length <= 0 ? [] : ts.slice(Math.max(0, barIndex + 1 - length));
    },
  };
}

/** Bars of history the first cycle gets by default (a year of daily bars plus a margin: the VaR window). */
export const DEFAULT_START_BAR = 260;

/**
 * The first cycle's bar: the configured `startBar`, or by default {@link DEFAULT_START_BAR} bars
 * in, but never past the middle of a shorter file, so any wide CSV replays unchanged (a 249-bar
 * file starts at bar 124 and its VaR window uses the 124 bars it has).
 */
export function resolveStartBar(startBar: number | undefined, bars: number): number {
  return startBar ?? Math.min(DEFAULT_START_BAR, Math.floor(bars / 2));
}

/**
 * The feed a cycle sees: bar `resolveStartBar(startBar) + cycleSeq - 1` of `file`.
 * @throws {MarketDataExhaustedError} past the end of the file; {@link MarketDataInvalidError} when the file is unreadable.
 */
export function feedForCycle(file: string, startBar: number | undefined, cycleSeq: number): MarketDataProvider {
  const table = loadMarketData(file);
  return createReplayFeed(table, barIndexForCycle(resolveStartBar(startBar, table.timestamps.length), cycleSeq));
}

/**
 * The symbols the system trades: the configured universe, or every series when it is empty.
 * @param universe - `TradingSettings.universe`.
 */
export function resolveUniverse(universe: readonly string[], feed: Pick<MarketDataProvider, 'symbols'>): string[] {
  return universe.length > 0 ? [...universe] : [...feed.symbols];
}
