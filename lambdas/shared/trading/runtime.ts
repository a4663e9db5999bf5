/**
 * The trading Lambdas' ports (risk, agents, the order gateway) and how a deployed function builds
 * them from its environment. Handlers are factories of these ports (`createRiskHandler`,
 * `createAgentHandler`, `createGatewayActions`); their module-level `handler` calls
 * {@link tradingPortsFromEnv} once, at its first invocation, and reuses the result across warm
 * invocations (Powertools / Lambda best practice: clients outside the handler). The local runtime
 * and the tests build the ports themselves.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, requireEnvIn } from '../env';
import { readSettings, tradingSettingsSchema, type TradingSettings } from '../settings';
import { feedForCycle, type MarketDataProvider } from './market-data';
import { traceClient } from '../tracing';

/** Physical table names the trading functions use. */
export interface TradingTables {
  /** Ledger table (`LEDGER_TABLE`): account, books, orders, fills. */
  readonly ledger: string;
  /** Control table (`CONTROL_TABLE`): the halt flag and mode. */
  readonly control: string;
  /** Cycles table (`CYCLES_TABLE`): agents' per-cycle outputs and cycle reports. */
  readonly cycles: string;
}

/** What the trading functions need from the outside world. */
export interface TradingPorts {
  /** DynamoDB document client (marshalling drops undefined values). */
  readonly doc: DynamoDBDocumentClient;
  readonly tables: TradingTables;
  /** Validated `TRADING_SETTINGS` (limits in USD, fractions 0..1, universe, starting cash USD). */
  readonly settings: TradingSettings;
  /** Path of the market data CSV (`MARKET_DATA_FILE`). */
  readonly marketDataFile: string;
  /** This cycle's market data: bar `startBar + cycleSeq - 1` of {@link TradingPorts.marketDataFile}. */
  readonly feedFor: (cycleSeq: number) => MarketDataProvider;
}

/** A document client on `client` (default: a new `DynamoDBClient` configured by the SDK's usual environment, `AWS_ENDPOINT_URL_DYNAMODB` included). */
export function newDocumentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

let shared: DynamoDBDocumentClient | undefined;

/**
 * The process's document client, created at the first call and reused (one per Lambda sandbox); its
 * `DynamoDBClient` is captured by the Tracer when tracing is on (`lambdas/shared/tracing.ts`).
 */
export function documentClient(): DynamoDBDocumentClient {
  return (shared ??= newDocumentClient(traceClient(new DynamoDBClient({}))));
}

/**
 * The trading ports of a deployed function, from its environment.
 * @param env - the environment. @default process.env
 * @param doc - the document client. @default {@link documentClient}
 * @throws {Error} `Missing environment variable NAME` for a missing table or file variable, or the
 *   settings error of `readSettings` (variable and first invalid field).
 */
export function tradingPortsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, doc?: DynamoDBDocumentClient): TradingPorts {
  const tables = {
    ledger: requireEnvIn(env, ENV.ledgerTable),
    control: requireEnvIn(env, ENV.controlTable),
    cycles: requireEnvIn(env, ENV.cyclesTable),
  };
  const marketDataFile = requireEnvIn(env, ENV.marketDataFile);
  const settings = readSettings(ENV.tradingSettings, tradingSettingsSchema, env);
  return {
    doc: doc ?? documentClient(),
    tables,
    settings,
    marketDataFile,
    feedFor: (cycleSeq) => feedForCycle(marketDataFile, settings.startBar, cycleSeq),
  };
}
