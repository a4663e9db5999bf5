/**
 * DynamoDB, locally: dynalite on 127.0.0.1 (random port) with the tables of the synthesized
 * template (their KeySchema and AttributeDefinitions), and dump / restore of every item for the
 * state directory.
 *
 * May be imported by: `local/`, `test/`.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TableSpec } from '../lambdas/shared/table-specs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;

/** A table to create: physical name plus its key definition as in the template. */
export interface TableDef {
  name: string;
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
}

/**
 * A table definition from the project's key specs (`lambdas/shared/table-specs.ts`), for callers
 * without a synthesized template (test helpers, the benchmark). All key attributes are strings.
 */
export function tableDefFromSpec(spec: TableSpec, name: string): TableDef {
  return {
    name,
    KeySchema: [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey, KeyType: 'RANGE' as const }] : [])],
    AttributeDefinitions: [{ AttributeName: spec.partitionKey, AttributeType: 'S' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey, AttributeType: 'S' as const }] : [])],
  };
}

/** A running local DynamoDB. */
export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  /** Every item of every table, raw AttributeValue maps, by table name. */
  dump(): Promise<Record<string, Record<string, AttributeValue>[]>>;
  /** Puts the items of a dump back (tables must exist). */
  restore(data: Record<string, Record<string, AttributeValue>[]>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts dynalite and creates the tables.
 * @throws {Error} naming the table when CreateTable fails.
 */
export async function startLocalDynamo(tables: TableDef[]): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  for (const t of tables) {
    try {
      await client.send(new CreateTableCommand({ TableName: t.name, BillingMode: 'PAY_PER_REQUEST', KeySchema: t.KeySchema, AttributeDefinitions: t.AttributeDefinitions }));
    } catch (err) {
      throw new Error(`Creating local table ${t.name} failed: ${(err as Error).message}`);
    }
  }
  return {
    endpoint,
    client,
    async dump() {
      const out: Record<string, Record<string, AttributeValue>[]> = {};
      for (const t of tables) {
        const items: Record<string, AttributeValue>[] = [];
        let start: Record<string, AttributeValue> | undefined;
        do {
          const page = await client.send(new ScanCommand({ TableName: t.name, ExclusiveStartKey: start, ConsistentRead: true }));
          items.push(...(page.Items ?? []));
          start = page.LastEvaluatedKey;
        } while (start);
        out[t.name] = items;
      }
      return out;
    },
    async restore(data) {
      for (const [name, items] of Object.entries(data)) {
        if (!tables.some((t) => t.name === name)) continue;
        for (const Item of items) await client.send(new PutItemCommand({ TableName: name, Item }));
      }
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
