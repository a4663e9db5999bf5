/**
 * The real Master handler (createMasterHandler) over dynalite and the in-memory platform
 * ports: payload in, kill switch action out. Plus the pure helpers of the AWS ports.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { parseScheduleNames, snsSubject, updateInputFromSchedule } from '../../lambdas/master/aws-ports';
import { createMasterHandler, type MasterStatusResponse } from '../../lambdas/master/handler';
import type { HaltResult } from '../../lambdas/master/kill-switch';
import { readControlItem } from '../../lambdas/shared/control-read';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { InMemoryPlatformPorts } from './in-memory-ports';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('master-handler');
});
afterAll(async () => db.stop());
beforeEach(async () => {
  await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
});

function setup(now?: () => number) {
  const ports = new InMemoryPlatformPorts([{ group: 'agent-fleet', name: 'cycle-default' }], ['slot-1', 'slot-2']);
  const handler = createMasterHandler({
    ports,
    doc: db.doc,
    controlTable: db.tables.Control,
    alarmPolicy: { 'AgentFleet-CriticalFailure': 'halt', 'AgentFleet-Var': 'safe-mode' },
    verifyRetryDelaysMs: [],
    ...(now ? { now } : {}),
  });
  return { ports, handler };
}

const alarm = (name: string, value: string, timestamp: string) => ({
  source: 'aws.cloudwatch',
  alarmArn: `arn:aws:cloudwatch:us-east-1:000000000000:alarm:${name}`,
  time: timestamp,
  alarmData: { alarmName: name, state: { value, reason: 'Threshold Crossed', timestamp }, previousState: { value: 'OK' } },
});

it('an alarm with policy halt halts everything and reports time to halt from the alarm timestamp', async () => {
  const { ports, handler } = setup(() => Date.parse('2024-03-01T12:36:20.000Z'));
  const result = (await handler(alarm('AgentFleet-CriticalFailure', 'ALARM', '2024-03-01T12:36:15.000+0000'))) as HaltResult;
  expect(result).toMatchObject({ action: 'HALT', changed: true, verified: { ok: true }, timeToHaltMs: 5000 });
  expect(ports.executions.every((e) => e.status === 'ABORTED')).toBe(true);
  expect(await readControlItem(db.doc, db.tables.Control)).toMatchObject({ halted: true, actor: 'alarm:AgentFleet-CriticalFailure' });
});

it('an alarm returning to OK is ignored and changes nothing', async () => {
  const { ports, handler } = setup();
  const result = await handler(alarm('AgentFleet-CriticalFailure', 'OK', '2024-03-01T12:40:00.000+0000'));
  expect(result).toMatchObject({ action: 'IGNORED' });
  expect((await readControlItem(db.doc, db.tables.Control)).halted).toBe(false);
  expect(ports.schedules[0].enabled).toBe(true);
});

it('an in-band halt leaves the calling execution to fail by itself', async () => {
  const { ports, handler } = setup();
  const result = (await handler({
    action: 'halt',
    source: 'cycle',
    cycleId: 'slot-2',
    executionArn: ports.arnOf('slot-2'),
    reason: 'Risk verdict HALT',
  })) as HaltResult;
  expect(result.stoppedExecutions).toEqual([ports.arnOf('slot-1')]);
  expect(result.excludedExecutionArn).toBe(ports.arnOf('slot-2'));
  expect(result.verified.noRunningExecutions).toBe(true);
  expect(ports.executions.find((e) => e.name === 'slot-2')?.status).toBe('RUNNING');
});

it('an unknown alarm only notifies', async () => {
  const { ports, handler } = setup();
  const result = await handler(alarm('Unlisted', 'ALARM', '2024-03-01T12:36:15.000+0000'));
  expect(result).toMatchObject({ action: 'NOTIFY' });
  expect(ports.notifications).toHaveLength(1);
  expect((await readControlItem(db.doc, db.tables.Control)).halted).toBe(false);
});

it('operator resume through the handler is refused without operator source, and status reports the state', async () => {
  const { handler } = setup();
  await handler({ action: 'halt', source: 'operator', actor: 'operator:alice', reason: 'drill' });
  await expect(handler({ action: 'resume', source: 'alarm', actor: 'alarm:x', reason: 'ok' })).rejects.toMatchObject({ name: 'ResumeRefused' });
  const status = (await handler({ action: 'status' })) as MasterStatusResponse;
  expect(status).toMatchObject({
    action: 'STATUS',
    halted: true,
    reason: 'drill',
    schedules: [{ group: 'agent-fleet', name: 'cycle-default', enabled: false }],
    runningExecutions: [],
  });
  expect(status.audit).toHaveLength(1);
});

it('a malformed payload throws InvalidTrigger', async () => {
  const { handler } = setup();
  await expect(handler({ action: 'halt', source: 'cycle' })).rejects.toMatchObject({ name: 'InvalidTrigger', path: 'cycleId' });
});

it('the deployed handler module imports without env vars and fails only when invoked, naming the missing variable', async () => {
  const saved = process.env.STATE_MACHINE_ARN;
  delete process.env.STATE_MACHINE_ARN;
  const mod = await import('../../lambdas/master/handler');
  await expect(mod.handler({ action: 'status' })).rejects.toThrow(/Missing environment variable STATE_MACHINE_ARN/);
  if (saved !== undefined) process.env.STATE_MACHINE_ARN = saved;
});

describe('AWS ports helpers', () => {
  it('parseScheduleNames reads group/name lists', () => {
    expect(parseScheduleNames('agent-fleet/cycle-default, agent-fleet/cycle-asia,,solo')).toEqual([
      { group: 'agent-fleet', name: 'cycle-default' },
      { group: 'agent-fleet', name: 'cycle-asia' },
      { group: 'default', name: 'solo' },
    ]);
  });

  it('snsSubject keeps subjects within SNS limits (100 printable ASCII chars, one line)', () => {
    const s = snsSubject(`[agent-fleet] HALT: ${'é'.repeat(10)}\n${'x'.repeat(200)}`);
    expect(s.length).toBeLessThanOrEqual(100);
    expect(s).toMatch(/^[\x20-\x7e]+$/);
  });

  it('updateInputFromSchedule sends every field back with only State changed, dropping a past StartDate', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    const current = {
      Name: 'cycle-default',
      GroupName: 'agent-fleet',
      ScheduleExpression: 'rate(15 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      StartDate: new Date('2024-01-01T00:00:00Z'),
      EndDate: new Date('2030-01-01T00:00:00Z'),
      Description: 'Cycle',
      State: 'ENABLED' as const,
      Target: { Arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Cycle', RoleArn: 'arn:aws:iam::000000000000:role/r', Input: '{"source":"schedule"}' },
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      ActionAfterCompletion: 'NONE' as const,
      Arn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/agent-fleet/cycle-default',
    };
    const input = updateInputFromSchedule(current, false, now);
    expect(input).toEqual({
      Name: 'cycle-default',
      GroupName: 'agent-fleet',
      ScheduleExpression: 'rate(15 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      StartDate: undefined,
      EndDate: current.EndDate,
      Description: 'Cycle',
      KmsKeyArn: undefined,
      Target: current.Target,
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'NONE',
      State: 'DISABLED',
    });
    expect(updateInputFromSchedule({ ...current, StartDate: new Date('2026-01-01T00:00:00Z') }, true, now)).toMatchObject({
      StartDate: new Date('2026-01-01T00:00:00Z'),
      State: 'ENABLED',
    });
  });
});
