/**
 * Process-wide, lazily created resources of the trading Lambdas (risk and agents): one
 * DynamoDB document client and the validated `TRADING_SETTINGS`, created on first use and
 * reused across warm invocations (Powertools / Lambda best practice: clients outside the
 * handler). The SDK honours `AWS_ENDPOINT_URL_DYNAMODB`, so tests and the local runtime
 * point it at dynalite with no code here.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnv } from '../env';
import { readSettings, tradingSettingsSchema, type TradingSettings } from '../settings';

let doc: DynamoDBDocumentClient | undefined;
let docEndpoint: string | undefined;

/**
 * The shared document client (marshalling drops undefined values). Re-created only when
 * `AWS_ENDPOINT_URL_DYNAMODB` changes (a test suite starting a new dynalite).
 */
export function documentClient(): DynamoDBDocumentClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!doc || endpoint !== docEndpoint) {
    doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
    docEndpoint = endpoint;
  }
  return doc;
}

let settingsRaw: string | undefined;
let settings: TradingSettings | undefined;

/**
 * `TRADING_SETTINGS`, validated once per distinct value of the variable.
 * @throws {Error} naming the variable and the invalid field (see `readSettings`).
 */
export function tradingSettings(): TradingSettings {
  const raw = process.env[ENV.tradingSettings];
  if (!settings || raw !== settingsRaw) {
    settings = readSettings(ENV.tradingSettings, tradingSettingsSchema);
    settingsRaw = raw;
  }
  return settings;
}

/** Table names and the market data path from the environment. @throws {Error} when one is missing. */
export function tradingEnv(): { ledgerTable: string; controlTable: string; cyclesTable: string; marketDataFile: string } {
  return {
    ledgerTable: requireEnv(ENV.ledgerTable),
    controlTable: requireEnv(ENV.controlTable),
    cyclesTable: requireEnv(ENV.cyclesTable),
    marketDataFile: requireEnv(ENV.marketDataFile),
  };
}
