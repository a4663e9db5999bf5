/**
 * Key schemas of the four DynamoDB tables, in one place. The CDK construct
 * (`lib/constructs/state-tables.ts`) builds the tables from these specs; the test helper
 * (`test/support/dynalite.ts`) creates the same tables in dynalite; the local runtime creates
 * its tables from the synthesized template (and a test checks the two agree).
 */

/** One table's keys. Attribute types are all strings (`S`). */
export interface TableSpec {
  /** Logical name, also the construct id. */
  readonly id: 'AgentState' | 'Control' | 'Cycles' | 'Ledger';
  /** Partition key attribute name. */
  readonly partitionKey: string;
  /** Sort key attribute name, if any. */
  readonly sortKey?: string;
  /** TTL attribute (epoch seconds), if any. */
  readonly ttlAttribute?: string;
}

/** AgentState: one item per agent, pk `agent`. Health counters and the circuit breaker. */
export const AGENT_STATE_TABLE: TableSpec = { id: 'AgentState', partitionKey: 'agent' };

/** Control: the system control item (pk `control`): halt flag, mode, cycle counter, audit trail. */
export const CONTROL_TABLE: TableSpec = { id: 'Control', partitionKey: 'pk' };

/**
 * Cycles: per cycle (pk `cycleId`), the report (sk `REPORT`) and each agent's output
 * (sk `OUTPUT#<agent>`) that dependent agents read. Items expire via TTL `expiresAt`.
 */
export const CYCLES_TABLE: TableSpec = { id: 'Cycles', partitionKey: 'cycleId', sortKey: 'sk', ttlAttribute: 'expiresAt' };

/**
 * Ledger: the paper broker. pk/sk single-table design: account (`ACCOUNT`/`STATE`), positions,
 * orders (idempotent on cycle id + agent + symbol), fills, equity history.
 */
export const LEDGER_TABLE: TableSpec = { id: 'Ledger', partitionKey: 'pk', sortKey: 'sk' };

/** Every table spec. */
export const TABLE_SPECS: readonly TableSpec[] = [AGENT_STATE_TABLE, CONTROL_TABLE, CYCLES_TABLE, LEDGER_TABLE];
