/**
 * Market data: a loader for "wide" CSV files (first column a timestamp, one column per
 * symbol) and one-symbol OHLCV files, validated on load, and a replay feed that shows one cycle
 * exactly the history up to its bar.
 *
 * Works unchanged with `data/market/dowjones30-daily.csv` (date + 30 tickers, closes) and
 * `data/market/msft-daily.csv` (date, Open, High, Low, Close, Volume: read as one symbol, `MSFT`
 * from the file name or `MARKET_DATA_SYMBOL` / `--symbol`, trading on Close). Timestamps are
 * `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]` (intraday), real dates, strictly increasing.
 *
 * No look-ahead: {@link createReplayFeed} copies only bars `0..barIndex` into the feed
 * object, so nothing an agent or the risk engine does with a feed can see a later bar.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OrchestratorError } from '../errors';

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
  /** Set when the file was a one-symbol OHLCV file: the symbol it was read as (its Close column) and the file's columns. */
  readonly ohlcv?: { readonly symbol: string; readonly columns: readonly string[] };
}

/** Thrown when a CSV cannot be parsed or read. */
export class MarketDataInvalid extends OrchestratorError {
  override name = 'MarketDataInvalid' as const;
}

/** Thrown when a cycle's bar lies beyond the end of the file; `name` = `MarketDataExhausted`. The risk engine turns it into HALT. */
export class MarketDataExhausted extends OrchestratorError {
  override name = 'MarketDataExhausted' as const;
  constructor(
    readonly barIndex: number,
    readonly barCount: number,
  ) {
    super(`Bar ${barIndex} is beyond the end of the market data (${barCount} bars, last index ${barCount - 1})`);
  }
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/;
/** A plain decimal number: optional sign, digits with an optional fraction, optional decimal exponent (`12`, `-0.5`, `.25`, `1.5e-3`). No hex, no `Infinity`, no thousands separators. */
const PLAIN_DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Column names of a one-symbol OHLCV file (case-insensitive). */
const OHLCV_COLUMNS = new Set(['open', 'high', 'low', 'close', 'adj close', 'adj_close', 'adjclose', 'volume']);

function unquote(cell: string): string {
  const t = cell.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

/** True when `y-m-d h:mi:s` is a real calendar date and time (month 1-12, the month's days, 00:00:00-23:59:59). */
function isRealDateTime(y: number, m: number, d: number, h: number, mi: number, s: number): boolean {
  if (m < 1 || m > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= daysInMonth;
}

/**
 * The symbol a one-symbol OHLCV file stands for, from its file name: the base name up to its first
 * `-` or `.`, upper-cased (`data/market/msft-daily.csv` is `MSFT`). Requirement: issue 14 "Market
 * data that says what it is".
 * @throws {MarketDataInvalid} when the name yields no symbol (e.g. `-daily.csv`).
 */
export function symbolFromFileName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? '';
  const symbol = (base.split(/[-.]/)[0] ?? '').toUpperCase();
  if (!symbol) throw new MarketDataInvalid(`${file}: cannot name the symbol of this OHLCV file from its file name; pass one (--symbol)`);
  return symbol;
}

/** Options of {@link parseWideCsv} and {@link loadMarketData}. */
export interface MarketDataOptions {
  /**
   * Symbol of a one-symbol OHLCV file (columns Open/High/Low/Close/Volume, any case, `Adj Close`
   * allowed): the file is read as this one series, its Close column. Ignored for a wide file.
   * @default `process.env.MARKET_DATA_SYMBOL`, else {@link symbolFromFileName} of the source.
   */
  readonly symbol?: string;
}

/**
 * Parses a market data CSV: a "wide" file (first column a timestamp, one column per symbol) or a
 * one-symbol OHLCV file (Open/High/Low/Close/Volume), which is read as one series named
 * `opts.symbol` holding the Close column.
 *
 * Validated as an exchange would (issue 10, "Prices and orders checked like an exchange would"):
 * column names are unique, every timestamp is a real date (`YYYY-MM-DD` or
 * `YYYY-MM-DD HH:MM[:SS]`, no month 13, no 31 April) and strictly after the previous row's, every
 * cell is empty, `NA`/`null` (missing, `null`), `NaN` (kept as NaN, so the risk engine fails
 * closed on it) or a plain decimal number (no `0x12`, `Infinity` or `1,000`).
 * @param text - the file's contents (header row first; quoted or bare cells; no embedded commas; blank lines ignored).
 * @param source - label for error messages (the file name). Default `csv`.
 * @throws {MarketDataInvalid} with one line `SOURCE line L, column C (NAME): problem` (1-based line of the file and column) for any of the above, a row with the wrong number of cells, or no data rows.
 */
export function parseWideCsv(text: string, source = 'csv', opts: MarketDataOptions = {}): MarketTable {
  const all = text.split(/\r?\n/);
  const rows: Array<{ line: number; text: string }> = [];
  all.forEach((t, i) => t.trim() !== '' && rows.push({ line: i + 1, text: t }));
  if (rows.length < 2) throw new MarketDataInvalid(`${source}: needs a header row and at least one data row`);
  const at = (line: number, col: number, name: string | undefined) =>
    `${source} line ${line}, column ${col}${name !== undefined && name !== '' ? ` (${name})` : ''}`;
  const headerRow = rows[0];
  const header = headerRow.text.split(',').map(unquote);
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    if (i > 0 && name === '') throw new MarketDataInvalid(`${at(headerRow.line, i + 1, undefined)}: empty column name`);
    const prev = seen.get(name);
    if (prev !== undefined) throw new MarketDataInvalid(`${at(headerRow.line, i + 1, name)}: duplicate column name "${name}" (also column ${prev + 1})`);
    seen.set(name, i);
  });
  const columns = header.slice(1);
  if (columns.length === 0) throw new MarketDataInvalid(`${source}: header has no series columns`);
  const lower = columns.map((c) => c.toLowerCase());
  const ohlcv = lower.includes('close') && lower.every((c) => OHLCV_COLUMNS.has(c));
  const timestamps: string[] = [];
  const cols: Array<Array<number | null>> = columns.map(() => []);
  for (let r = 1; r < rows.length; r++) {
    const { line, text: rowText } = rows[r];
    const cells = rowText.split(',').map(unquote);
    if (cells.length !== header.length) {
      throw new MarketDataInvalid(`${source} line ${line}: has ${cells.length} cells, header has ${header.length}`);
    }
    const ts = cells[0];
    const m = TIMESTAMP.exec(ts);
    if (!m) throw new MarketDataInvalid(`${at(line, 1, header[0])}: timestamp "${ts}" is not YYYY-MM-DD[ HH:MM[:SS]]`);
    const [y, mo, d, h, mi, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
    if (!isRealDateTime(y, mo, d, h, mi, s)) throw new MarketDataInvalid(`${at(line, 1, header[0])}: timestamp "${ts}" is not a real date and time`);
    if (timestamps.length > 0 && ts <= timestamps[timestamps.length - 1]) {
      throw new MarketDataInvalid(
        `${at(line, 1, header[0])}: timestamp "${ts}" is not after "${timestamps[timestamps.length - 1]}" (timestamps must be strictly increasing)`,
      );
    }
    timestamps.push(ts);
    for (let c = 1; c < cells.length; c++) {
      const cell = cells[c];
      let v: number | null;
      if (cell === '' || /^(na|null)$/i.test(cell)) v = null;
      else if (/^nan$/i.test(cell)) v = Number.NaN;
      else if (PLAIN_DECIMAL.test(cell)) v = Number(cell);
      else throw new MarketDataInvalid(`${at(line, c + 1, header[c])}: "${cell}" is not a plain decimal number`);
      cols[c - 1].push(v);
    }
  }
  if (ohlcv) {
    const symbol = opts.symbol ?? (process.env.MARKET_DATA_SYMBOL || symbolFromFileName(source));
    return { source, timestamps, symbols: [symbol], prices: { [symbol]: cols[lower.indexOf('close')] }, ohlcv: { symbol, columns } };
  }
  const prices: Record<string, Array<number | null>> = {};
  columns.forEach((s, i) => (prices[s] = cols[i]));
  return { source, timestamps, symbols: columns, prices };
}

const tableCache = new Map<string, MarketTable>();

/**
 * Loads (once per process, cached by absolute path and symbol) a market data CSV file; see {@link parseWideCsv}.
 * @param file - path; relative paths resolve against the working directory (the repo root locally, the bundle root in Lambda).
 * @throws {MarketDataInvalid} when the file cannot be read or is invalid (the message names file, line and column).
 */
export function loadMarketData(file: string, opts: MarketDataOptions = {}): MarketTable {
  const path = resolve(file);
  const key = `${path}\u0000${opts.symbol ?? process.env.MARKET_DATA_SYMBOL ?? ''}`;
  const cached = tableCache.get(key);
  if (cached) return cached;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MarketDataInvalid(`Cannot read market data file ${path}: ${(err as Error).message}`, { cause: err });
  }
  const table = parseWideCsv(text, file, opts);
  tableCache.set(key, table);
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
 * @throws {MarketDataExhausted} when `barIndex` is at or past the end of the data.
 * @throws {RangeError} when `barIndex` is negative or not an integer.
 */
export function createReplayFeed(table: MarketTable, barIndex: number): MarketDataProvider {
  if (!Number.isInteger(barIndex) || barIndex < 0) throw new RangeError(`barIndex must be an integer >= 0, got ${barIndex}`);
  if (barIndex >= table.timestamps.length) throw new MarketDataExhausted(barIndex, table.timestamps.length);
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
 * @throws {MarketDataExhausted} past the end of the file; {@link MarketDataInvalid} when the file is unreadable.
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
