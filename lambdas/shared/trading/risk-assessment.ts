/**
 * The risk gate's I/O around the pure engine (`risk-engine.ts`): load this cycle's bar, the
 * ledger and the previous equity snapshot, validate the data, compute the figures, decide
 * the verdict and record this bar's equity snapshot (idempotent by bar index).
 *
 * FAILS CLOSED: a bar past the end of the file, an unknown, missing (beyond maxStaleBars),
 * non-positive or NaN price of a held or universe symbol, a gap in a held symbol's VaR
 * window, or a ledger inconsistent with itself all give verdict HALT with the reason.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { riskAssessmentSchema, type LimitCheck, type RiskAssessment } from '../contracts';
import type { TradingSettings } from '../settings';
import {
  latestEquitySnapshot,
  listBooks,
  type AgentRiskFigures,
  listFills,
  listWorkingOrders,
  putEquitySnapshotOnce,
  readAccount,
  reconcileLedger,
  replayFills,
} from './ledger';
import { barIndexForCycle, feedForCycle, isValidPrice, loadMarketData, resolveStartBar, resolveUniverse, type MarketDataProvider } from './market-data';
import { portfolioProblems } from './portfolio';
import { computeRiskFigures, decideVerdict, type RiskFigures } from './risk-engine';
import { computeAgentFigures, selectReportedAgents } from './risk-agents';

/** Input of the risk Lambda ("Assess risk" payload). */
export interface RiskInput {
  readonly cycleId: string;
  /** 1-based cycle number; the bar assessed is startBar + cycleSeq - 1. */
  readonly cycleSeq: number;
  readonly mode: 'normal' | 'safe';
}

/** Dependencies. */
export interface RiskDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly ledgerTable: string;
  readonly settings: TradingSettings;
  /** Path of the wide CSV. */
  readonly marketDataFile: string;
  /**
   * Called with every agent's figures at this bar (the snapshot's), after the snapshot is stored: the handler
   * publishes them as per-agent metrics when `perAgentMetrics` is on (`risk-metrics.ts`). @default none
   */
  readonly onAgentFigures?: (figures: Readonly<Record<string, AgentRiskFigures>>) => void;
}

function halt(cycleId: string, asOf: string, reasons: string[], checks: LimitCheck[] = [], metrics: Record<string, number> = {}): RiskAssessment {
  return { cycleId, verdict: 'HALT', reasons, checks, metrics, asOf };
}

function dataCheck(problems: number): LimitCheck {
  return { name: 'marketData', value: problems, limit: 0, headroom: -problems, unit: 'count', status: problems > 0 ? 'BREACH' : 'PASS' };
}

/**
 * Assesses the portfolio at this cycle's bar.
 * @returns the assessment (never throws for bad data: that is a HALT verdict). DynamoDB
 *   errors do throw, so Step Functions retries and, after the retries, fails closed.
 */
export async function assessRisk(deps: RiskDeps, input: RiskInput): Promise<RiskAssessment> {
  const { settings } = deps;
  let feed: MarketDataProvider;
  try {
    feed = feedForCycle(deps.marketDataFile, settings.startBar, input.cycleSeq);
  } catch (err) {
    const e = err as Error;
    let asOf = 'unknown';
    try {
      const t = loadMarketData(deps.marketDataFile).timestamps;
      asOf = `after ${t[t.length - 1]} (bar ${barIndexForCycle(resolveStartBar(settings.startBar, t.length), input.cycleSeq)})`;
    } catch {
      /* the file itself is unreadable: the reason says so */
    }
    return halt(input.cycleId, asOf, [`Market data unavailable: ${e.name}: ${e.message}`], [dataCheck(1)]);
  }

  const [account, books, fills, working] = await Promise.all([
    readAccount(deps.doc, deps.ledgerTable, settings.startingCashUsd),
    listBooks(deps.doc, deps.ledgerTable),
    listFills(deps.doc, deps.ledgerTable),
    listWorkingOrders(deps.doc, deps.ledgerTable),
  ]);
  const ledgerProblems = portfolioProblems(account);
  if (ledgerProblems.length)
    return halt(
      input.cycleId,
      feed.asOf,
      ledgerProblems.map((p) => `Ledger inconsistent: ${p}`),
      [dataCheck(ledgerProblems.length)],
    );
  // The ledger identity: the account and every agent book equal the replay of the fill records, and the
  // cash reserved equals the working BUY orders.
  const mismatches = reconcileLedger(account, books, replayFills(fills, settings.startingCashUsd), working);
  if (mismatches.length) {
    const reasons = mismatches
      .slice(0, 10)
      .map((m) => `Ledger does not match its fills: ${m.what} is ${m.stored} stored vs ${m.replayed} replayed from ${fills.length} fills`);
    return halt(input.cycleId, feed.asOf, reasons, [
      { name: 'ledgerIdentity', value: mismatches.length, limit: 0, headroom: -mismatches.length, unit: 'count', status: 'BREACH' },
    ]);
  }

  const held = Object.entries(account.positions)
    .filter(([, p]) => p.qty !== 0)
    .map(([s]) => s);
  const symbols = [...new Set([...resolveUniverse(settings.universe, feed), ...held])];
  const problems: string[] = [];
  const pricesNow: Record<string, number> = {};
  const pricesPrev: Record<string, number> = {};
  const history: Record<string, ReadonlyArray<number | null>> = {};
  let maxStale = 0;
  for (const symbol of symbols) {
    if (!feed.has(symbol)) {
      problems.push(`${symbol} is not in the market data`);
      continue;
    }
    const last = feed.lastPrice(symbol);
    if (!last) {
      problems.push(`no price for ${symbol} at or before bar ${feed.barIndex} (${feed.asOf})`);
      continue;
    }
    maxStale = Math.max(maxStale, last.staleBars);
    if (last.staleBars > settings.maxStaleBars) {
      problems.push(`price of ${symbol} is ${last.staleBars} bars stale at ${feed.asOf} (max ${settings.maxStaleBars})`);
      continue;
    }
    if (!isValidPrice(last.price)) {
      problems.push(`price of ${symbol} at ${feed.asOf} is not a positive number (${last.price})`);
      continue;
    }
    pricesNow[symbol] = last.price;
    const before = feed.priceAt(symbol, 1);
    if (last.staleBars === 0 && isValidPrice(before) && Math.abs(last.price / before - 1) > settings.suspectMoveFraction) {
      problems.push(
        `suspect price: ${symbol} moved ${((last.price / before - 1) * 100).toFixed(1)}% in one bar (${before} -> ${last.price}; band ${(settings.suspectMoveFraction * 100).toFixed(0)}%)`,
      );
      continue;
    }
    if (held.includes(symbol)) {
      const prev = feed.priceAt(symbol, 1);
      pricesPrev[symbol] = isValidPrice(prev) ? prev : last.price;
      const h = feed.history(symbol, settings.varWindow + 1);
      if (h.some((v) => !isValidPrice(v))) problems.push(`gap or invalid price in ${symbol}'s ${settings.varWindow}-bar VaR window`);
      history[symbol] = h;
    }
  }
  const staleCheck: LimitCheck = {
    name: 'staleData',
    value: maxStale,
    limit: settings.maxStaleBars,
    headroom: settings.maxStaleBars - maxStale,
    unit: 'bars',
    status: maxStale > settings.maxStaleBars ? 'BREACH' : 'PASS',
  };
  if (problems.length)
    return halt(
      input.cycleId,
      feed.asOf,
      problems.map((p) => `Bad market data: ${p}`),
      [dataCheck(problems.length), staleCheck],
    );

  // Align the VaR histories (a symbol listed late has a shorter history: use the common length).
  const previous = await latestEquitySnapshot(deps.doc, deps.ledgerTable, feed.barIndex - 1);
  const figures: RiskFigures = computeRiskFigures({
    portfolio: account,
    pricesNow,
    pricesPrev,
    history,
    previousPeakUsd: previous?.peakEquityUsd ?? settings.startingCashUsd,
    varConfidence: settings.varConfidence,
  });
  const metrics: Record<string, number> = { ...figures, barIndex: feed.barIndex, positions: held.length };
  if (!Number.isFinite(figures.equityUsd) || figures.equityUsd <= 0) {
    return halt(
      input.cycleId,
      feed.asOf,
      [`Ledger inconsistent: equity is not a positive finite number (${figures.equityUsd})`],
      [dataCheck(1)],
      Number.isFinite(figures.equityUsd) ? metrics : {},
    );
  }
  const { verdict, reasons, checks } = decideVerdict(figures, settings.limits);
  const agents = computeAgentFigures(books, pricesNow, pricesPrev, previous?.agents, settings.budgets, settings.startingCashUsd);
  // First write wins: a retried assessment of this bar reports the figures the order gateway judges by.
  const stored = await putEquitySnapshotOnce(deps.doc, deps.ledgerTable, {
    barIndex: feed.barIndex,
    asOf: feed.asOf,
    equityUsd: figures.equityUsd,
    cashUsd: figures.cashUsd,
    grossExposureUsd: figures.grossExposureUsd,
    peakEquityUsd: figures.peakEquityUsd,
    dailyPnlFraction: figures.dailyPnlFraction,
    drawdownFraction: figures.drawdownFraction,
    cycleId: input.cycleId,
    agents,
  });
  deps.onAgentFigures?.(stored.agents ?? agents);
  return {
    cycleId: input.cycleId,
    verdict,
    reasons,
    checks: [dataCheck(0), staleCheck, ...checks],
    metrics,
    asOf: feed.asOf,
    agents: selectReportedAgents(stored.agents ?? agents),
  };
}

/** What a verdict must match to count: this cycle, and the group's verdict history. */
export interface VerdictExpectation {
  /** This cycle's id (the execution name). */
  readonly cycleId: string;
  /** This cycle's number in its group. */
  readonly cycleSeq: number;
  /** ISO time the cycle was planned: a bar from after it is refused. */
  readonly plannedAt: string;
  /** The accepted verdict of the group's highest-numbered cycle so far: its number and `asOf` (epoch ms). */
  readonly previous?: { readonly cycleSeq: number; readonly asOfMs: number };
}

/** Result of {@link verifyRiskVerdict}: the assessment that counts (the risk gate's own, or a HALT saying why not). */
export interface VerifiedVerdict {
  readonly assessment: RiskAssessment;
  /** False when the risk gate's result was replaced by a HALT. */
  readonly accepted: boolean;
  /** `asOf` of the accepted assessment, epoch ms (absent when not accepted). */
  readonly asOfMs?: number;
}

/**
 * A risk verdict must prove itself (docs/risk.md, "A verdict must prove itself"): OK or REDUCE
 * counts only when the whole result is a valid {@link RiskAssessment}, carries this cycle's id,
 * an `asOf` that is a time, not after the plan and not older than the group's previous accepted
 * verdict (a stale or replayed verdict), and no check in BREACH. Anything else is HALT, with the
 * reason first and the gate's own reasons after it. A HALT from the gate passes through as it is
 * (made valid when it is not: a HALT never needs proof).
 *
 * Freshness against the market data itself is the gate's `staleData` check (a stale price is a
 * BREACH, `marketData.maxStaleBars`), which this rule enforces.
 */
export function verifyRiskVerdict(raw: unknown, expect: VerdictExpectation): VerifiedVerdict {
  const halt = (why: string, base?: Partial<RiskAssessment>): VerifiedVerdict => ({
    accepted: false,
    assessment: {
      cycleId: expect.cycleId,
      verdict: 'HALT',
      reasons: [`Risk verdict refused: ${why}`, ...(Array.isArray(base?.reasons) ? base.reasons.map(String) : [])],
      checks: Array.isArray(base?.checks) ? base.checks : [],
      metrics: base?.metrics && typeof base.metrics === 'object' ? base.metrics : {},
      asOf: typeof base?.asOf === 'string' ? base.asOf : 'unknown',
    },
  });
  const parsed = riskAssessmentSchema.safeParse(raw);
  const rawVerdict = (raw as { verdict?: unknown } | null)?.verdict;
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (rawVerdict === 'HALT')
      return halt(`the HALT result is malformed at ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`, raw as Partial<RiskAssessment>);
    return halt(`the result is not a RiskAssessment: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  const a = parsed.data;
  if (a.verdict === 'HALT') return { accepted: true, assessment: a, ...(Number.isFinite(Date.parse(a.asOf)) ? { asOfMs: Date.parse(a.asOf) } : {}) };
  if (a.cycleId !== expect.cycleId) return halt(`${a.verdict} is for cycle "${a.cycleId}", not this cycle "${expect.cycleId}"`, a);
  const asOfMs = Date.parse(a.asOf);
  if (!Number.isFinite(asOfMs)) return halt(`asOf "${a.asOf}" is not a time`, a);
  if (asOfMs > Date.parse(expect.plannedAt)) return halt(`asOf ${a.asOf} is after the cycle was planned (${expect.plannedAt})`, a);
  const prev = expect.previous;
  if (prev && prev.cycleSeq < expect.cycleSeq && asOfMs < prev.asOfMs) {
    return halt(`asOf ${a.asOf} is older than the verdict of cycle ${prev.cycleSeq} (${new Date(prev.asOfMs).toISOString()}): a stale or replayed verdict`, a);
  }
  const breached = a.checks.filter((c) => c.status === 'BREACH');
  if (breached.length) return halt(`${a.verdict} contradicts ${breached.map((c) => `${c.name} in BREACH`).join(', ')}`, a);
  return { accepted: true, assessment: a, asOfMs };
}
