/**
 * Opens a fresh namespace on the real DynamoDB Local (AWS's emulator, started once per Jest run
 * by `test/global-setup.ts`) and creates the project's tables in it, for tests that need
 * DynamoDB. No mocks: DynamoDB Local enforces DynamoDB's own validation (key schema, condition
 * expressions, item size) and runs transactions.
 *
 * Usage:
 *   const db = await startDynalite();          // in beforeAll
 *   process.env.AGENT_STATE_TABLE = db.tables.AgentState; ...   (db.env has them all)
 *   await db.stop();                            // in afterAll
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../../lambdas/shared/env';
import { TABLE_SPECS, type TableSpec } from '../../lambdas/shared/table-specs';
import { startLocalDynamo, tableDefFromSpec } from '../../local/dynamo';

export interface TestDynamo {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Table id -> physical table name. */
  tables: Record<TableSpec['id'], string>;
  /** Environment variables naming the tables (ENV.agentStateTable etc.) plus AWS_ENDPOINT_URL_DYNAMODB and dummy credentials. */
  env: Record<string, string>;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/**
 * Opens a DynamoDB Local namespace and creates every table in {@link TABLE_SPECS}.
 * @param prefix - table name prefix, to keep suites apart. Default `test`.
 */
export async function startDynalite(prefix = 'test'): Promise<TestDynamo> {
  const tables = Object.fromEntries(TABLE_SPECS.map((spec) => [spec.id, `${prefix}-${spec.id}`])) as Record<TableSpec['id'], string>;
  // The local runtime's own starter: the same server and key definitions.
  const local = await startLocalDynamo(TABLE_SPECS.map((spec) => tableDefFromSpec(spec, tables[spec.id])));
  const { endpoint, client } = local;
  const env: Record<string, string> = {
    [ENV.agentStateTable]: tables.AgentState,
    [ENV.controlTable]: tables.Control,
    [ENV.cyclesTable]: tables.Cycles,
    [ENV.ledgerTable]: tables.Ledger,
    ...local.env,
  };
  return {
    endpoint,
    tables,
    env,
    client,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    stop: () => local.stop(),
  };
}
