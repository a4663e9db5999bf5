/**
 * Jest global setup: one DynamoDB Local server for the whole run. Every suite opens its own
 * namespace on it (`startLocalDynamo` picks a unique access key id), so suites never see each
 * other's tables, and the JVM starts once instead of once per suite.
 */
import { SHARED_ENDPOINT_ENV, startDynamoDbLocalServer, type DynamoDbLocalServer } from '../local/dynamo';

export default async function globalSetup(): Promise<void> {
  if (process.env[SHARED_ENDPOINT_ENV]) return;
  const server = await startDynamoDbLocalServer();
  (globalThis as { __dynamoLocal?: DynamoDbLocalServer }).__dynamoLocal = server;
  process.env[SHARED_ENDPOINT_ENV] = server.endpoint;
}
