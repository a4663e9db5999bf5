/**
 * Starts a real dynalite (DynamoDB API in pure JS) on loopback and creates the project's
 * tables in it, for tests that need DynamoDB. No mocks: dynalite enforces DynamoDB's own
 * validation (key schema, condition expressions, item size).
 *
 * Usage:
 *   const db = await startDynalite();          // in beforeAll
 *   process.env.AGENT_STATE_TABLE = db.tables.AgentState; ...   (db.env has them all)
 *   await db.stop();                            // in afterAll
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AddressInfo } from 'node:net';
import { ENV } from '../../lambdas/shared/env';
import { TABLE_SPECS, type TableSpec } from '../../lambdas/shared/table-specs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: Record<string, unknown>) => import('node:http').Server;

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
 * Starts dynalite on 127.0.0.1 (random port) and creates every table in {@link TABLE_SPECS}.
 * @param prefix - table name prefix, to keep suites apart. Default `test`.
 */
export async function startDynalite(prefix = 'test'): Promise<TestDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const tables = {} as Record<TableSpec['id'], string>;
  for (const spec of TABLE_SPECS) {
    const name = `${prefix}-${spec.id}`;
    tables[spec.id] = name;
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: spec.partitionKey, AttributeType: 'S' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey, AttributeType: 'S' as const }] : [])],
        KeySchema: [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey, KeyType: 'RANGE' as const }] : [])],
      }),
    );
  }
  const env: Record<string, string> = {
    [ENV.agentStateTable]: tables.AgentState,
    [ENV.controlTable]: tables.Control,
    [ENV.cyclesTable]: tables.Cycles,
    [ENV.ledgerTable]: tables.Ledger,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  return {
    endpoint,
    tables,
    env,
    client,
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
