/**
 * The paper portfolio as plain data, and the pure arithmetic on it: valuation and
 * applying a fill. The order gateway (`gateway.ts`) persists it; the risk engine values it.
 *
 * Quantities are whole shares (signed: negative = short; the reference agents stay long).
 * Money is USD. Prices are per share.
 */

/** One position. */
export interface Position {
  /** Signed quantity in shares. */
  readonly qty: number;
  /** Average entry price, USD per share (unchanged by reductions; reset when the position flips side). */
  readonly avgPrice: number;
}

/** Cash and positions. */
export interface Portfolio {
  /** Cash, USD. */
  readonly cash: number;
  /** Symbol -> position (no zero-quantity entries). */
  readonly positions: Readonly<Record<string, Position>>;
}

/** Order side. */
export type Side = 'BUY' | 'SELL';

/** Signed quantity of an order: +qty for BUY, -qty for SELL. */
export function signedQty(side: Side, qty: number): number {
  return side === 'BUY' ? qty : -qty;
}

/** Valuation of a portfolio at given prices. */
export interface Valuation {
  /** Symbol -> signed market value, USD (qty x price). */
  readonly exposureBySymbol: Record<string, number>;
  /** Sum of |market value|, USD. */
  readonly grossExposureUsd: number;
  /** Sum of signed market values, USD. */
  readonly netExposureUsd: number;
  /** cash + net exposure, USD. */
  readonly equityUsd: number;
}

/**
 * Values a portfolio at `prices` (USD per share).
 * @throws {Error} `No price for <symbol>` when a held symbol has no price (the risk engine checks prices first and fails closed).
 */
export function valuePortfolio(portfolio: Portfolio, prices: Readonly<Record<string, number>>): Valuation {
  const exposureBySymbol: Record<string, number> = {};
  let gross = 0;
  let net = 0;
  for (const [symbol, pos] of Object.entries(portfolio.positions)) {
    if (pos.qty === 0) continue;
    const price = prices[symbol];
    if (price === undefined) throw new Error(`No price for ${symbol}`);
    const value = pos.qty * price;
    exposureBySymbol[symbol] = value;
    gross += Math.abs(value);
    net += value;
  }
  return { exposureBySymbol, grossExposureUsd: gross, netExposureUsd: net, equityUsd: portfolio.cash + net };
}

/**
 * Applies a fill: cash -= signedQty x price; position qty += signedQty; the average price
 * is the weighted average when the position grows, unchanged when it shrinks, the fill
 * price when it flips side; a position that reaches zero is removed.
 * @param qty - shares, integer > 0. @param price - fill price USD, > 0.
 * @throws {RangeError} on a non-positive or non-integer qty or a non-positive price.
 */
export function applyFill(portfolio: Portfolio, fill: { symbol: string; side: Side; qty: number; price: number }): Portfolio {
  if (!Number.isInteger(fill.qty) || fill.qty <= 0) throw new RangeError(`Fill qty must be a positive integer, got ${fill.qty}`);
  if (!(fill.price > 0) || !Number.isFinite(fill.price)) throw new RangeError(`Fill price must be positive, got ${fill.price}`);
  const delta = signedQty(fill.side, fill.qty);
  const old = portfolio.positions[fill.symbol] ?? { qty: 0, avgPrice: 0 };
  const qty = old.qty + delta;
  let avgPrice: number;
  if (old.qty === 0 || Math.sign(old.qty) !== Math.sign(qty)) avgPrice = fill.price;
  else if (Math.abs(qty) > Math.abs(old.qty)) avgPrice = (old.qty * old.avgPrice + delta * fill.price) / qty;
  else avgPrice = old.avgPrice;
  const positions: Record<string, Position> = { ...portfolio.positions };
  if (qty === 0) delete positions[fill.symbol];
  else positions[fill.symbol] = { qty, avgPrice };
  return { cash: portfolio.cash - delta * fill.price, positions };
}

/**
 * Checks that a ledger's portfolio is consistent with itself.
 * @returns problems found (empty when consistent): non-finite cash, negative cash with no
 *   positions (nothing could have produced it), a non-integer/non-finite quantity, a non-positive or non-finite average price.
 */
export function portfolioProblems(portfolio: Portfolio): string[] {
  const problems: string[] = [];
  if (!Number.isFinite(portfolio.cash)) problems.push(`cash is not finite (${portfolio.cash})`);
  const held = Object.entries(portfolio.positions).filter(([, p]) => p.qty !== 0);
  if (portfolio.cash < 0 && held.length === 0) problems.push(`cash is negative (${portfolio.cash}) with no positions`);
  for (const [symbol, p] of Object.entries(portfolio.positions)) {
    if (!Number.isFinite(p.qty) || !Number.isInteger(p.qty)) problems.push(`position ${symbol} qty is not a whole number (${p.qty})`);
    if (p.qty !== 0 && (!Number.isFinite(p.avgPrice) || p.avgPrice <= 0)) problems.push(`position ${symbol} avgPrice is invalid (${p.avgPrice})`);
  }
  return problems;
}
