/**
 * The first cycle's bar: configured, or 260 bars of history by default, or half of a shorter
 * file, so a different wide CSV (fewer bars) replays unchanged instead of failing closed at once.
 */
import { join } from 'node:path';
import { DEFAULT_START_BAR, feedForCycle, loadMarketData, resolveStartBar } from '../../lambdas/shared/trading/market-data';

const MSFT = join(__dirname, '..', '..', 'data', 'market', 'msft-daily.csv');
const DOW = join(__dirname, '..', '..', 'data', 'market', 'dowjones30-daily.csv');

test('an explicit startBar wins; the default is 260 or half of a shorter file', () => {
  expect(resolveStartBar(10, 249)).toBe(10);
  expect(resolveStartBar(undefined, 2529)).toBe(DEFAULT_START_BAR);
  expect(resolveStartBar(undefined, 249)).toBe(124);
});

test('the MSFT file (249 bars) replays from its middle; the Dow file from bar 260', () => {
  const msft = loadMarketData(MSFT);
  expect(feedForCycle(MSFT, undefined, 1).timestamps(1)).toEqual([msft.timestamps[124]]);
  expect(feedForCycle(MSFT, undefined, 3).timestamps(1)).toEqual([msft.timestamps[126]]);
  expect(feedForCycle(DOW, undefined, 1).timestamps(1)).toEqual([loadMarketData(DOW).timestamps[260]]);
});
