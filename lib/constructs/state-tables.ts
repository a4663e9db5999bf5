/**
 * The four DynamoDB tables (AgentState, Control, Cycles, Ledger), built from the key specs in
 * `lambdas/shared/table-specs.ts` so the deployed tables, dynalite in tests and the local runtime
 * agree on keys.
 *
 * Defaults: on-demand capacity (PAY_PER_REQUEST), point-in-time recovery on, server-side
 * encryption with the AWS managed key (`alias/aws/dynamodb`, no key to pay for or rotate),
 * TTL on `Cycles.expiresAt`.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/env';
import { TABLE_SPECS, type TableSpec } from '../../lambdas/shared/table-specs';

/** Props of {@link StateTables}. */
export interface StateTablesProps {
  /**
   * Keep the tables (and their data) when the stack is deleted: `RemovalPolicy.RETAIN`.
   * `false` destroys them with the stack (throwaway stacks). From `config.retainData`. Default true.
   */
  readonly retainData?: boolean;
}

/** Table id (see {@link TableSpec}) -> environment variable that carries its name (`lambdas/shared/env.ts`). */
export const TABLE_ENV: Readonly<Record<TableSpec['id'], string>> = {
  AgentState: ENV.agentStateTable,
  Control: ENV.controlTable,
  Cycles: ENV.cyclesTable,
  Ledger: ENV.ledgerTable,
};

/** The orchestrator's tables. Construct ids are the spec ids (`AgentState`, `Control`, `Cycles`, `Ledger`). */
export class StateTables extends Construct {
  /** Table id -> table. */
  public readonly tables: Readonly<Record<TableSpec['id'], dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: StateTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const tables = {} as Record<TableSpec['id'], dynamodb.Table>;
    for (const spec of TABLE_SPECS) {
      tables[spec.id] = new dynamodb.Table(this, spec.id, {
        partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: spec.sortKey ? { name: spec.sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        timeToLiveAttribute: spec.ttlAttribute,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        removalPolicy,
      });
    }
    this.tables = tables;
  }

  /**
   * Environment variables naming the given tables (e.g. `{ AGENT_STATE_TABLE: <Ref> }`).
   * @param ids - which tables; default all four.
   */
  public env(ids: ReadonlyArray<TableSpec['id']> = TABLE_SPECS.map((s) => s.id)): Record<string, string> {
    return Object.fromEntries(ids.map((id) => [TABLE_ENV[id], this.tables[id].tableName]));
  }
}
