/**
 * The risk gate's per-agent view (issue 12, "per-agent risk budgets and books"): from each agent's own book
 * (`BOOK/<agent>`: positions and net cash flow, which the ledger identity ties to the fill records), its P&L
 * since the start and of the day, its gross exposure, its budget used, and its drawdown from its running
 * peak; and whether its daily-loss protection puts it in REDUCE for the rest of the day (one bar).
 *
 * Pure functions: `risk-assessment.ts` gathers the books and prices, writes the figures into the bar's
 * equity snapshot (the order gateway's `agentMaxDailyLoss` check reads them there) and reports a bounded
 * selection in the verdict ({@link selectReportedAgents}).
 *
 * Units: USD for money, fractions (0.05 = 5 %) for ratios.
 */
import type { TradingSettings } from '../settings';
import type { AgentBook, AgentRiskFigures } from './ledger';

/**
 * Most agents whose figures travel in the verdict (the state machine's state is capped at 256 KiB, AWS Step
 * Functions quota, and a fleet may have a thousand agents): about 250 bytes each. Every agent's figures are in
 * the bar's equity snapshot item regardless.
 */
export const MAX_AGENTS_IN_VERDICT = 20;

/**
 * Figures of every agent book at this bar.
 * @param books - every agent book (positions, net cash flow).
 * @param pricesNow - close of each symbol at this bar, USD (a held symbol without one counts at its average price).
 * @param pricesPrev - close one bar earlier, USD (absent: `pricesNow`, a P&L of the day of 0 for that symbol).
 * @param previous - the previous bar's snapshot figures, for the running peak (absent: peak 0, the start).
 * @param budgets - `TradingSettings.budgets`.
 * @param startingCashUsd - the account's starting cash: the drawdown base of an agent without an allocation.
 * @returns agent -> figures; an agent with an empty book has P&L 0.
 */
export function computeAgentFigures(
  books: readonly AgentBook[],
  pricesNow: Readonly<Record<string, number>>,
  pricesPrev: Readonly<Record<string, number>>,
  previous: Readonly<Record<string, AgentRiskFigures>> | undefined,
  budgets: TradingSettings['budgets'],
  startingCashUsd: number,
): Record<string, AgentRiskFigures> {
  const out: Record<string, AgentRiskFigures> = {};
  for (const book of books) {
    let marketValue = 0;
    let gross = 0;
    let pnlToday = 0;
    for (const [symbol, p] of Object.entries(book.positions)) {
      if (!p || p.qty === 0) continue;
      const now = pricesNow[symbol] ?? p.avgPrice;
      const prev = pricesPrev[symbol] ?? now;
      marketValue += p.qty * now;
      gross += Math.abs(p.qty * now);
      pnlToday += p.qty * (now - prev);
    }
    const budget = budgets[book.agent];
    const pnlUsd = book.cashFlowUsd + marketValue;
    const peakPnlUsd = Math.max(0, previous?.[book.agent]?.peakPnlUsd ?? 0, pnlUsd);
    const base = (budget?.allocationUsd ?? startingCashUsd) + peakPnlUsd;
    const dailyLossLimitUsd =
      budget?.maxDailyLossFraction !== undefined && budget.allocationUsd !== undefined ? budget.maxDailyLossFraction * budget.allocationUsd : undefined;
    out[book.agent] = {
      pnlUsd,
      pnlTodayUsd: pnlToday,
      grossExposureUsd: gross,
      ...(budget?.allocationUsd !== undefined ? { allocationUsd: budget.allocationUsd } : {}),
      peakPnlUsd,
      drawdownFraction: base > 0 ? Math.max(0, (peakPnlUsd - pnlUsd) / base) : 0,
      ...(budget?.maxGrossExposureUsd !== undefined ? { budgetUsedFraction: gross / budget.maxGrossExposureUsd } : {}),
      ...(dailyLossLimitUsd !== undefined ? { dailyLossLimitUsd } : {}),
      reduceOnly: dailyLossLimitUsd !== undefined && -pnlToday > dailyLossLimitUsd,
    };
  }
  return out;
}

/**
 * The agents whose figures go into the verdict, at most {@link MAX_AGENTS_IN_VERDICT}: the agents in REDUCE
 * first, then by budget used (highest first), then by loss of the day (largest first), then by name.
 */
export function selectReportedAgents(figures: Readonly<Record<string, AgentRiskFigures>>, max = MAX_AGENTS_IN_VERDICT): Record<string, AgentRiskFigures> {
  const ranked = Object.entries(figures).sort(
    ([a, x], [b, y]) =>
      Number(y.reduceOnly) - Number(x.reduceOnly) ||
      (y.budgetUsedFraction ?? 0) - (x.budgetUsedFraction ?? 0) ||
      x.pnlTodayUsd - y.pnlTodayUsd ||
      a.localeCompare(b),
  );
  return Object.fromEntries(ranked.slice(0, max));
}
