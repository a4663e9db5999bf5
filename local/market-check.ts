/**
 * Start-of-run check that the market data holds the symbols the config names: the portfolio's
 * universe and the symbols in each agent's params. Requirement: issue 14 "Market data that says
 * what it is" (a missing symbol is named in a warning at start; an agent left with none is an
 * error), instead of a silent "0 of 6" in the first cycle.
 */
import type { OrchestratorConfig } from '../lib/config/schema';

/** A ticker-like string in params: `MSFT`, `BRK.B`, or `MSFT:0.04` (`SYMBOL:weight`, as copybot's `targetWeights`). */
const SYMBOL_ENTRY = /^([A-Z][A-Z0-9.]{0,9})(?::.*)?$/;

/**
 * The symbols an agent's params name: every string array param whose entries all look like
 * tickers (`['MSFT', 'IBM']`) or `SYMBOL:value` pairs (`['MSFT:0.04']`), and every string param
 * named `symbol`. Pure.
 * @param params - the agent's `params` from the validated config.
 */
export function symbolsInParams(params: Record<string, unknown> | undefined): string[] {
  const out = new Set<string>();
  for (const [key, v] of Object.entries(params ?? {})) {
    if (Array.isArray(v) && v.length > 0 && v.every((e) => typeof e === 'string' && SYMBOL_ENTRY.test(e))) {
      for (const e of v as string[]) out.add(SYMBOL_ENTRY.exec(e)![1]);
    } else if (key === 'symbol' && typeof v === 'string' && SYMBOL_ENTRY.test(v)) out.add(SYMBOL_ENTRY.exec(v)![1]);
  }
  return [...out];
}

/** What {@link checkSymbols} found. */
export interface SymbolCheck {
  /** One line per problem that does not stop the run (a universe or params symbol missing from the data). */
  warnings: string[];
  /** One line per agent whose params name symbols none of which is in the data (the run must not start). */
  errors: string[];
}

/**
 * Compares the config's symbols with the data's. Pure.
 * @param config - validated config (`portfolio.universe`, `agents[].params`).
 * @param dataSymbols - the series of the market data (`MarketTable.symbols`).
 * @param file - the data file, for the messages.
 */
export function checkSymbols(
  config: Pick<OrchestratorConfig, 'agents'> & { portfolio?: { universe?: readonly string[] } },
  dataSymbols: readonly string[],
  file: string,
): SymbolCheck {
  const have = new Set(dataSymbols);
  const shown = dataSymbols.length > 8 ? `${dataSymbols.slice(0, 8).join(', ')}, ... (${dataSymbols.length})` : dataSymbols.join(', ');
  const warnings: string[] = [];
  const errors: string[] = [];
  const universe = config.portfolio?.universe ?? [];
  const missingU = universe.filter((s) => !have.has(s));
  if (missingU.length) {
    const line = `portfolio.universe names ${missingU.join(', ')}, not in ${file} (it has ${shown})`;
    if (missingU.length === universe.length) errors.push(`${line}: no symbol of the universe is left to trade`);
    else warnings.push(line);
  }
  for (const a of config.agents) {
    if (a.enabled === false) continue;
    const named = symbolsInParams(a.params as Record<string, unknown> | undefined);
    const missing = named.filter((s) => !have.has(s));
    if (!missing.length) continue;
    const line = `agent ${a.name}: params name ${missing.join(', ')}, not in ${file} (it has ${shown})`;
    if (missing.length === named.length) errors.push(`${line}: the agent is left with no symbol`);
    else warnings.push(line);
  }
  return { warnings, errors };
}
