/**
 * The kill switch's order ports: cancel every working order, count those left, list them, and an operator's
 * flatten, through the order gateway (`lambdas/shared/trading/gateway.ts`), so a cancel is the same one
 * transaction, conditioned on the order still WORKING, as anywhere else: a fill and a cancel never both win.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../shared/env';
import { readSettings, tradingSettingsSchema } from '../shared/settings';
import { createOrderGateway } from '../shared/trading/gateway';
import { latestEquitySnapshot, listWorkingOrders } from '../shared/trading/ledger';
import { createReplayFeed, loadMarketData, resolveStartBar } from '../shared/trading/market-data';
import type { KillSwitchPorts } from './ports';

/** Highest bar index an equity snapshot can have (8-digit sort key): "the latest snapshot". */
const LAST_BAR = 99_999_999;

/**
 * The order ports for a Ledger, or none when the environment names no Ledger (`LEDGER_TABLE`).
 * `flattenPositions` also needs `MARKET_DATA_FILE`: it closes at the close of the bar of the latest equity
 * snapshot (the last cycle's bar, so no look-ahead), or of the start bar before any cycle.
 * @throws {Error} (when a port is called) from `TRADING_SETTINGS` validation, the market data or DynamoDB.
 */
export function orderPortsFromEnv(
  doc: DynamoDBDocumentClient,
  env: NodeJS.ProcessEnv = process.env,
  now: () => number = Date.now,
): Pick<KillSwitchPorts, 'cancelWorkingOrders' | 'countWorkingOrders' | 'listWorkingOrders' | 'flattenPositions'> {
  const ledgerTable = env[ENV.ledgerTable];
  const controlTable = env[ENV.controlTable];
  if (!ledgerTable || !controlTable) return {};
  const settings = () => readSettings(ENV.tradingSettings, tradingSettingsSchema);
  const marketDataFile = env[ENV.marketDataFile];
  return {
    cancelWorkingOrders: (reason) => createOrderGateway({ doc, ledgerTable, controlTable, settings: settings(), now }).cancelAll(reason),
    countWorkingOrders: async () => (await listWorkingOrders(doc, ledgerTable)).length,
    listWorkingOrders: () => listWorkingOrders(doc, ledgerTable),
    ...(marketDataFile
      ? {
          flattenPositions: async (req) => {
            const s = settings();
            const table = loadMarketData(marketDataFile);
            const latest = await latestEquitySnapshot(doc, ledgerTable, LAST_BAR);
            const bar = Math.min(latest?.barIndex ?? resolveStartBar(s.startBar, table.timestamps.length), table.timestamps.length - 1);
            const feed = createReplayFeed(table, bar);
            return createOrderGateway({ doc, ledgerTable, controlTable, settings: s, feed, now }).flatten(req);
          },
        }
      : {}),
  };
}
