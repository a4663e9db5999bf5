/**
 * The kill switch's order ports: cancel every working order and count those left, through the
 * order gateway (`lambdas/shared/trading/gateway.ts`), so a cancel is the same one transaction,
 * conditioned on the order still WORKING, as anywhere else: a fill and a cancel never both win.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../shared/env';
import { readSettings, tradingSettingsSchema } from '../shared/settings';
import { createOrderGateway } from '../shared/trading/gateway';
import { listWorkingOrders } from '../shared/trading/ledger';
import type { KillSwitchPorts } from './ports';

/**
 * The order ports for a Ledger, or none when the environment names no Ledger (`LEDGER_TABLE`).
 * @throws {Error} (when a port is called) from `TRADING_SETTINGS` validation or DynamoDB.
 */
export function orderPortsFromEnv(
  doc: DynamoDBDocumentClient,
  env: NodeJS.ProcessEnv = process.env,
): Pick<KillSwitchPorts, 'cancelWorkingOrders' | 'countWorkingOrders'> {
  const ledgerTable = env[ENV.ledgerTable];
  const controlTable = env[ENV.controlTable];
  if (!ledgerTable || !controlTable) return {};
  return {
    cancelWorkingOrders: (reason) =>
      createOrderGateway({ doc, ledgerTable, controlTable, settings: readSettings(ENV.tradingSettings, tradingSettingsSchema) }).cancelAll(reason),
    countWorkingOrders: async () => (await listWorkingOrders(doc, ledgerTable)).length,
  };
}
