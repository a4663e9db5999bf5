/** Jest global teardown: stops the DynamoDB Local server that the global setup started. */
import type { DynamoDbLocalServer } from '../local/dynamo';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __dynamoLocal?: DynamoDbLocalServer }).__dynamoLocal?.stop();
}
