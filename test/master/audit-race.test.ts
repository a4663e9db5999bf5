/**
 * A halt is never refused and concurrent halts lose no audit entry: fifty halts raced through the
 * real Master handler on dynalite, many times; oversized free text is bounded, not rejected.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_REASON_CHARS } from '../../lambdas/master/control-store';
import { createMasterHandler } from '../../lambdas/master/handler';
import { MAX_ACTOR_CHARS } from '../../lambdas/master/triggers';
import { readControlItem } from '../../lambdas/shared/control-read';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { InMemoryPlatformPorts } from './in-memory-ports';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('master-audit-race');
});
afterAll(async () => db.stop());
beforeEach(async () => {
  await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
});

const master = () =>
  createMasterHandler({
    ports: new InMemoryPlatformPorts([{ group: 'g', name: 's' }]),
    doc: db.doc,
    controlTable: db.tables.Control,
    alarmPolicy: { 'AgentFleet-RiskHalt': 'halt' },
    verifyRetryDelaysMs: [],
  });

it('50 concurrent halts (alarms, cycles, operators) all land in the audit trail, exactly one changes the state; 5 rounds', async () => {
  for (let round = 0; round < 5; round++) {
    await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
    const handler = master();
    const events = Array.from({ length: 50 }, (_, i) =>
      i % 3 === 0
        ? { action: 'halt', source: 'cycle', cycleId: `c${i}`, executionArn: `arn:x:${i}`, reason: `risk ${i}` }
        : i % 3 === 1
          ? {
              source: 'aws.cloudwatch',
              alarmData: { alarmName: 'AgentFleet-RiskHalt', state: { value: 'ALARM', reason: `r${i}`, timestamp: '2026-01-05T14:30:00.000+0000' } },
            }
          : { action: 'halt', source: 'operator', actor: `operator:o${i}`, reason: `drill ${i}` },
    );
    const results = await Promise.allSettled(events.map((e) => handler(e)));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const item = await readControlItem(db.doc, db.tables.Control);
    expect(item.halted).toBe(true);
    expect(item.audit).toHaveLength(50);
    expect(item.audit.filter((a) => a.changed)).toHaveLength(1);
    expect(item.version).toBe(50);
  }
});

it('a halt with a 390 KB actor and reason is bounded and still sets the flag', async () => {
  const huge = 'x'.repeat(390 * 1024);
  const result = await master()({ action: 'halt', source: 'operator', actor: huge, reason: huge });
  expect(result).toMatchObject({ action: 'HALT', changed: true });
  const item = await readControlItem(db.doc, db.tables.Control);
  expect(item.halted).toBe(true);
  expect(item.actor!.length).toBe(MAX_ACTOR_CHARS);
  expect(item.reason!.length).toBe(MAX_REASON_CHARS);
  expect(item.audit[0].actor.length).toBe(MAX_ACTOR_CHARS);
});
