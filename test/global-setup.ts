/**
 * Jest global setup: one DynamoDB Local server for the whole run. Every suite opens its own
 * namespace on it (`startLocalDynamo` picks a unique access key id), so suites never see each
 * other's tables, and the JVM starts once instead of once per suite.
 */
import type { DynamoDbLocalServer } from '../local/dynamo';

export default async function globalSetup(): Promise<void> {
  // Before the SDK loads (test/setup.ts does the same in each worker): the SDK's Node < 22 warning, once per process, is in the README.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { SHARED_ENDPOINT_ENV, startDynamoDbLocalServer } = await import('../local/dynamo');
  if (process.env[SHARED_ENDPOINT_ENV]) return;
  const server = await startDynamoDbLocalServer();
  (globalThis as { __dynamoLocal?: DynamoDbLocalServer }).__dynamoLocal = server;
  process.env[SHARED_ENDPOINT_ENV] = server.endpoint;
}
