/**
 * DynamoDB error helpers shared by every conditional writer (agent state, control item, ledger,
 * cycle statistics).
 */

/**
 * True when a write lost its condition (`ConditionalCheckFailedException`): the caller re-reads and
 * decides again. Matched by name, so it holds for the SDK's class and for errors that crossed a
 * module boundary (bundles, the local runtime's fresh module loads).
 */
export function isConditionalCheckFailed(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
