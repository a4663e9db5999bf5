/**
 * The trading figures of one cycle for the run report, read from the Ledger after the cycle
 * ended (the order gateway's records are the source of truth, not the agents' summaries):
 * orders filled and rejected by check, cash, equity, gross exposure, and per agent its orders and
 * P&L, all marked at the cycle's bar.
 *
 * P&L per agent = its book's net cash flow + the market value of its own positions; the agents'
 * P&L sums to the fleet's (equity - starting cash), since the account is the sum of the books.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TradingSettings } from '../lambdas/shared/settings';
import { latestEquitySnapshot, listBooks, listCycleOrders, listWorkingOrders, readAccount } from '../lambdas/shared/trading/ledger';
import { feedForCycle, isValidPrice, type MarketDataProvider } from '../lambdas/shared/trading/market-data';
import { valuePortfolio, type Position } from '../lambdas/shared/trading/portfolio';

/** One agent's trading in the cycle. */
export interface AgentTrading {
  /** Orders of this agent the gateway filled this cycle. */
  ordersPlaced: number;
  /** Orders of this agent the gateway rejected this cycle. */
  ordersRejected: number;
  /** The agent's working (resting) orders after the cycle. */
  workingOrders: number;
  /** Realised + unrealised P&L of the agent's own book since the start, USD, marked at this cycle's bar (cents). */
  pnlUsd: number;
  /** Gross exposure of the agent's own positions, USD (cents). */
  grossExposureUsd: number;
  /** Unrealised P&L of its open positions at this cycle's bar: Σ qty x (close - average price), USD (cents). */
  unrealisedPnlUsd?: number;
  /** Realised P&L: `pnlUsd - unrealisedPnlUsd`, USD (cents). */
  realisedPnlUsd?: number;
  /** Gross exposure / its `budget.maxGrossExposureUsd`, fraction (1 = used up); absent without that budget. */
  budgetUsedFraction?: number;
  /** Drawdown of its P&L from its running peak, fraction, as the risk gate measured it at the start of this cycle. */
  drawdownFraction?: number;
  /** True while its daily-loss protection keeps it in REDUCE (only reducing orders) for the rest of the day. */
  reduceOnly?: boolean;
}

/** The cycle's trading figures (report field `trading`). */
export interface CycleTrading {
  /** Orders filled this cycle, all agents. */
  ordersPlaced: number;
  /** Check name -> orders it rejected this cycle. */
  ordersRejected: Record<string, number>;
  /** USD, cents. */
  cashUsd: number;
  /** Cash + market value of positions at this cycle's bar, USD, cents. */
  equityUsd: number;
  /** USD, cents. */
  grossExposureUsd: number;
  /** Equity - starting cash, USD, cents. */
  pnlUsd: number;
  /** Working (resting limit) orders after the cycle, all agents. */
  workingOrders: number;
  /** Cash reserved by working BUY orders, USD, cents. */
  reservedCashUsd: number;
  /** Drawdown of equity from its running peak over the run so far, fraction (0 when at the peak); from the risk gate's equity snapshots. */
  drawdownFraction?: number;
  /** Agent -> its figures (agents with a book or an order this cycle). */
  byAgent: Record<string, AgentTrading>;
}

const cents = (x: number) => Math.round(x * 100) / 100;

function pricesFor(feed: MarketDataProvider, positions: Readonly<Record<string, Position>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of Object.keys(positions)) {
    const p = feed.priceAt(s) ?? feed.lastPrice(s)?.price;
    out[s] = isValidPrice(p) ? p : (positions[s].avgPrice ?? 0);
  }
  return out;
}

/**
 * Rounds each share to cents so that the rounded shares add up exactly to `totalUsd` (largest
 * remainder): per-agent P&L then sums to the fleet's P&L to the cent.
 */
export function apportionCents(shares: ReadonlyArray<readonly [string, number]>, totalUsd: number): Map<string, number> {
  const floors = shares.map(([k, x]) => ({ k, c: Math.floor(x * 100), frac: x * 100 - Math.floor(x * 100) }));
  let left = Math.round(totalUsd * 100) - floors.reduce((a, f) => a + f.c, 0);
  const order = [...floors].sort((a, b) => b.frac - a.frac);
  for (let i = 0; left > 0 && order.length; i = (i + 1) % order.length, left--) order[i].c++;
  for (let i = order.length - 1; left < 0 && order.length; i = (i - 1 + order.length) % order.length, left++) order[i].c--;
  return new Map(floors.map((f) => [f.k, f.c / 100]));
}

/**
 * Reads the Ledger and computes the figures of cycle `cycleId` (number `cycleSeq`).
 * @throws {Error} from DynamoDB or from reading the market data file.
 */
export async function cycleTrading(ctx: {
  doc: DynamoDBDocumentClient;
  ledgerTable: string;
  settings: TradingSettings;
  marketDataFile: string;
  cycleId: string;
  cycleSeq: number;
}): Promise<CycleTrading> {
  const [account, books, orders, working] = await Promise.all([
    readAccount(ctx.doc, ctx.ledgerTable, ctx.settings.startingCashUsd),
    listBooks(ctx.doc, ctx.ledgerTable),
    listCycleOrders(ctx.doc, ctx.ledgerTable, ctx.cycleId),
    listWorkingOrders(ctx.doc, ctx.ledgerTable),
  ]);
  const feed = feedForCycle(ctx.marketDataFile, ctx.settings.startBar, ctx.cycleSeq);
  const snapshot = await latestEquitySnapshot(ctx.doc, ctx.ledgerTable, feed.barIndex);
  const v = valuePortfolio(account, pricesFor(feed, account.positions));
  const ordersRejected: Record<string, number> = {};
  const byAgent: Record<string, AgentTrading> = {};
  const entry = (agent: string) => (byAgent[agent] ??= { ordersPlaced: 0, ordersRejected: 0, workingOrders: 0, pnlUsd: 0, grossExposureUsd: 0 });
  for (const w of working) entry(w.agent).workingOrders++;
  for (const o of orders) {
    const a = entry(o.agent);
    if (o.status === 'FILLED') a.ordersPlaced++;
    else if (o.status === 'REJECTED') {
      a.ordersRejected++;
      const by = o.rejectedBy ?? 'unknown';
      ordersRejected[by] = (ordersRejected[by] ?? 0) + 1;
    }
  }
  const raw: Array<[string, number]> = [];
  const unrealised = new Map<string, number>();
  for (const b of books) {
    const prices = pricesFor(feed, b.positions);
    const bv = valuePortfolio({ cash: b.cashFlowUsd, positions: b.positions }, prices);
    const a = entry(b.agent);
    a.grossExposureUsd = cents(bv.grossExposureUsd);
    unrealised.set(
      b.agent,
      Object.entries(b.positions).reduce((sum, [sym, p]) => sum + (p && p.qty ? p.qty * (prices[sym] - p.avgPrice) : 0), 0),
    );
    const budget = ctx.settings.budgets?.[b.agent]?.maxGrossExposureUsd;
    if (budget) a.budgetUsedFraction = bv.grossExposureUsd / budget;
    const fig = snapshot?.agents?.[b.agent];
    if (fig) {
      a.drawdownFraction = fig.drawdownFraction;
      a.reduceOnly = fig.reduceOnly;
    }
    raw.push([b.agent, bv.equityUsd]);
  }
  const pnlUsd = cents(v.equityUsd - ctx.settings.startingCashUsd);
  for (const [agent, c] of apportionCents(raw, pnlUsd)) {
    const a = entry(agent);
    a.pnlUsd = c;
    const u = unrealised.get(agent);
    if (u !== undefined) {
      a.unrealisedPnlUsd = cents(u);
      a.realisedPnlUsd = cents(c - cents(u));
    }
  }
  return {
    ordersPlaced: orders.filter((o) => o.status === 'FILLED').length,
    ordersRejected,
    cashUsd: cents(account.cash),
    equityUsd: cents(v.equityUsd),
    grossExposureUsd: cents(v.grossExposureUsd),
    pnlUsd,
    workingOrders: working.length,
    reservedCashUsd: cents(account.reservedCashUsd),
    ...(snapshot ? { drawdownFraction: snapshot.drawdownFraction } : {}),
    byAgent,
  };
}
