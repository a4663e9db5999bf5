/** Shared fixtures of the trading and agent tests: settings and a scratch CSV writer. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TradingSettings } from '../../lambdas/shared/settings';

/** Path of the real Dow Jones 30 daily closes. */
export const DOW_FILE = join(__dirname, '../../data/market/dowjones30-daily.csv');
/** Path of the real MSFT OHLCV file. */
export const MSFT_FILE = join(__dirname, '../../data/market/msft-daily.csv');

/** The config defaults (lib/config/schema.ts), with overrides. */
export function testSettings(overrides: Partial<TradingSettings> = {}, limits: Partial<TradingSettings['limits']> = {}): TradingSettings {
  return {
    startingCashUsd: 1_000_000,
    universe: [],
    varWindow: 250,
    varConfidence: 0.95,
    startBar: 260,
    maxStaleBars: 0,
    suspectMoveFraction: 0.5,
    allowShort: [],
    budgets: {},
    perAgentMetrics: false,
    ...overrides,
    limits: {
      maxOrderNotionalUsd: 25_000,
      maxPositionUsd: 50_000,
      maxGrossExposureUsd: 200_000,
      maxDailyLossFraction: 0.03,
      maxDrawdownFraction: 0.1,
      minCashUsd: 10_000,
      maxOrdersPerAgentPerCycle: 10,
      maxOrdersPerCycle: 30,
      maxOrdersPerSecond: 1000,
      priceCollarFraction: 0.05,
      maxVarFraction: 0.02,
      maxConcentrationFraction: 0.5,
      reduceAtFraction: 0.8,
      ...(overrides.limits ?? {}),
      ...limits,
    },
  };
}

/** Writes `text` to a fresh temp file and returns its path. */
export function writeTempCsv(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-fleet-md-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
