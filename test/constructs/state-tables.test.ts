/**
 * StateTables (lib/constructs/state-tables.ts) on a bare Stack: one table per spec of
 * lambdas/shared/table-specs.ts with its keys, on-demand, PITR, AWS managed encryption, TTL on
 * Cycles.expiresAt, retained unless retainData is false; env() names the tables.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TABLE_SPECS } from '../../lambdas/shared/table-specs';
import { StateTables, TABLE_ENV } from '../../lib/constructs/state-tables';

const build = (props?: ConstructorParameters<typeof StateTables>[2]) => {
  const stack = new Stack(new App(), 'T');
  const tables = new StateTables(stack, 'Tables', props);
  return { stack, tables, template: Template.fromStack(stack) };
};

describe('StateTables', () => {
  it('creates one table per spec with its keys, on-demand, PITR and AWS managed encryption, retained by default', () => {
    const { template } = build();
    template.resourceCountIs('AWS::DynamoDB::Table', TABLE_SPECS.length);
    for (const spec of TABLE_SPECS) {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          KeySchema: [{ AttributeName: spec.partitionKey, KeyType: 'HASH' }, ...(spec.sortKey ? [{ AttributeName: spec.sortKey, KeyType: 'RANGE' }] : [])],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
        }),
      });
    }
  });

  it('sets TTL only where the spec has a TTL attribute (Cycles.expiresAt)', () => {
    const { template } = build();
    const withTtl = Object.values(template.findResources('AWS::DynamoDB::Table')).filter((r) => r.Properties.TimeToLiveSpecification);
    expect(withTtl.map((r) => r.Properties.TimeToLiveSpecification)).toEqual(
      TABLE_SPECS.filter((s) => s.ttlAttribute).map((s) => ({ AttributeName: s.ttlAttribute, Enabled: true })),
    );
    expect(TABLE_SPECS.find((s) => s.id === 'Cycles')!.ttlAttribute).toBe('expiresAt');
  });

  it('retainData: false destroys the tables with the stack', () => {
    const { template } = build({ retainData: false });
    for (const r of Object.values(template.findResources('AWS::DynamoDB::Table'))) expect(r.DeletionPolicy).toBe('Delete');
  });

  it('env() maps each table id to its environment variable and the table name (all four by default)', () => {
    const { stack, tables } = build();
    const env = stack.resolve(tables.env()) as Record<string, unknown>;
    expect(Object.keys(env).sort()).toEqual(Object.values(TABLE_ENV).sort());
    expect(env[TABLE_ENV.Control]).toEqual({ Ref: stack.getLogicalId(tables.tables.Control.node.defaultChild as never) });
    expect(Object.keys(tables.env(['Ledger']))).toEqual([TABLE_ENV.Ledger]);
  });
});
