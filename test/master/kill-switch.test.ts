/**
 * Kill switch behaviour against a real DynamoDB API (dynalite on loopback) and the
 * in-memory platform ports (test double, see in-memory-ports.ts).
 */
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_RETAINED_ENTRIES } from '../../lambdas/master/control-store';
import { createKillSwitch, KillSwitchIncomplete, ResumeRefused, SafeModeRefused, type HaltResult } from '../../lambdas/master/kill-switch';
import { readControlItem } from '../../lambdas/shared/control-read';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { InMemoryPlatformPorts } from './in-memory-ports';

let db: TestDynamo;
let table: string;

beforeAll(async () => {
  db = await startDynalite('master-ks');
  table = db.tables.Control;
});
afterAll(async () => db.stop());
beforeEach(async () => {
  await db.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'control' } }));
});

function setup(running: string[] = ['cycle-1', 'cycle-2', 'cycle-3'], now?: () => number) {
  const ports = new InMemoryPlatformPorts(
    [
      { group: 'agent-fleet', name: 'cycle-default' },
      { group: 'agent-fleet', name: 'cycle-us-equities' },
      { group: 'agent-fleet', name: 'cycle-asia', enabled: false },
    ],
    running,
  );
  const ks = createKillSwitch({ ports, doc: db.doc, controlTable: table, verifyRetryDelaysMs: [], ...(now ? { now } : {}) });
  return { ports, ks };
}

describe('halt', () => {
  it('sets the flag with an audit entry, disables every schedule, stops running executions except the excluded one, notifies and verifies', async () => {
    const { ports, ks } = setup();
    const result = await ks.halt({
      actor: 'cycle:cycle-2',
      reason: 'Risk verdict HALT',
      source: 'cycle',
      excludeExecutionArn: ports.arnOf('cycle-2'),
      cycleId: 'cycle-2',
    });

    expect(result.changed).toBe(true);
    expect(result.verified).toEqual({ haltFlagSet: true, schedulesDisabled: true, noRunningExecutions: true, noWorkingOrders: true, ok: true });
    expect(result.disabledSchedules.sort()).toEqual(['agent-fleet/cycle-default', 'agent-fleet/cycle-us-equities']);
    expect(result.stoppedExecutions.sort()).toEqual([ports.arnOf('cycle-1'), ports.arnOf('cycle-3')]);
    expect(result.errors).toEqual([]);

    const item = await readControlItem(db.doc, table);
    expect(item).toMatchObject({ halted: true, reason: 'Risk verdict HALT', actor: 'cycle:cycle-2', version: 1 });
    expect(item.audit).toEqual([expect.objectContaining({ action: 'HALT', actor: 'cycle:cycle-2', reason: 'Risk verdict HALT', changed: true })]);
    expect(result.audit).toEqual(item.audit[0]);

    expect(ports.schedules.every((s) => !s.enabled)).toBe(true);
    expect(ports.executions.find((e) => e.name === 'cycle-2')?.status).toBe('RUNNING');
    expect(ports.executions.find((e) => e.name === 'cycle-1')).toMatchObject({ status: 'ABORTED', cause: expect.stringContaining('Risk verdict HALT') });
    // the already-disabled schedule was not touched
    expect(ports.calls.setScheduleEnabled).toBe(2);

    expect(ports.events).toEqual([
      { detailType: 'SystemHalted', detail: expect.objectContaining({ actor: 'cycle:cycle-2', changed: true, reason: 'Risk verdict HALT' }) },
    ]);
    expect(ports.notifications).toHaveLength(1);
    expect(ports.notifications[0].subject).toContain('HALT');
    expect(ports.notifications[0].message).toContain('cycle-1');
  });

  it('a second halt changes nothing but appends an audit entry and keeps the original reason', async () => {
    const { ports, ks } = setup();
    await ks.halt({ actor: 'alarm:AgentFleet-ConsecutiveFailures', reason: 'first', source: 'alarm' });
    const eventsAfterFirst = ports.events.length;
    const second = await ks.halt({ actor: 'operator:alice', reason: 'second', source: 'operator' });

    expect(second.changed).toBe(false);
    expect(second.disabledSchedules).toEqual([]);
    expect(second.stoppedExecutions).toEqual([]);
    expect(second.verified.ok).toBe(true);
    const item = await readControlItem(db.doc, table);
    expect(item).toMatchObject({ halted: true, reason: 'first', actor: 'alarm:AgentFleet-ConsecutiveFailures', version: 2 });
    expect(item.audit.map((a) => [a.actor, a.changed])).toEqual([
      ['alarm:AgentFleet-ConsecutiveFailures', true],
      ['operator:alice', false],
    ]);
    expect(item.audit[1].reason).toBe('already halted: second');
    // nothing new to announce
    expect(ports.events).toHaveLength(eventsAfterFirst);
  });

  it('re-applies enforcement on a repeated halt when a schedule was re-enabled behind its back', async () => {
    const { ports, ks } = setup([]);
    await ks.halt({ actor: 'operator:alice', reason: 'drill', source: 'operator' });
    ports.schedules[0].enabled = true;
    const again = await ks.halt({ actor: 'operator:alice', reason: 'drill again', source: 'operator' });
    expect(again.changed).toBe(false);
    expect(again.disabledSchedules).toEqual(['agent-fleet/cycle-default']);
    expect(ports.schedules[0].enabled).toBe(false);
  });

  it('10 concurrent halts: exactly one changes the state, the audit trail has 10 entries', async () => {
    const { ks } = setup([]);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => ks.halt({ actor: `alarm:a${i}`, reason: `r${i}`, source: 'alarm' })));
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    const item = await readControlItem(db.doc, table);
    expect(item.audit).toHaveLength(10);
    expect(item.audit.filter((a) => a.changed)).toHaveLength(1);
    expect(item.version).toBe(10);
    const winner = results.find((r) => r.changed) as HaltResult;
    expect(item.actor).toBe(winner.audit?.actor);
  });

  it('a throwing port does not stop the halt: flag set, later steps run, KillSwitchIncomplete names the step', async () => {
    const { ports, ks } = setup(['cycle-9']);
    ports.failOn.set('setScheduleEnabled', Object.assign(new Error('AccessDenied on UpdateSchedule'), { name: 'AccessDeniedException' }));
    const err = await ks.halt({ actor: 'operator:bob', reason: 'test', source: 'operator' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(KillSwitchIncomplete);
    const incomplete = err as KillSwitchIncomplete;
    expect(incomplete.name).toBe('KillSwitchIncomplete');
    expect(incomplete.steps).toEqual(expect.arrayContaining(['schedules', 'verify']));
    expect(incomplete.message).toMatch(/schedules: disabling agent-fleet\/cycle-default failed: AccessDeniedException/);
    const result = incomplete.result as HaltResult;
    expect(result.timeToHaltMs).toBeNull();
    expect(result.verified).toMatchObject({ haltFlagSet: true, schedulesDisabled: false, noRunningExecutions: true, ok: false });
    // the flag is set and the later step (stop executions) still ran
    expect((await readControlItem(db.doc, table)).halted).toBe(true);
    expect(ports.executions[0].status).toBe('ABORTED');
    expect(ports.notifications.map((n) => n.subject)).toEqual(expect.arrayContaining([expect.stringContaining('HALT NOT VERIFIED')]));
    // The result records every step in the order it ran, what it verified, and which failed.
    expect(result.steps.map((s) => [s.step, s.ok, s.skipped ?? false])).toEqual([
      ['flag', true, false],
      ['orders', true, true],
      ['schedules', false, false],
      ['executions', true, false],
      ['notify', true, false],
      ['event', true, false],
      ['verify', false, false],
      ['notify', true, false],
    ]);
    expect(result.steps[0].verified).toEqual({ changed: true, version: expect.any(Number) });
    expect(result.steps[2].error).toMatch(/disabling agent-fleet\/cycle-default failed: AccessDeniedException/);
    expect(result.steps[2].verified).toEqual({ disabled: 0, failed: 2 }); // each schedule failed, recorded, none skipped
    expect(result.steps[3].verified).toEqual({ stopped: 1 });
  });

  it('a failing notification is reported but the halt itself is complete and verified', async () => {
    const { ports, ks } = setup();
    ports.failOn.set('notify', new Error('SNS down'));
    const err = (await ks.halt({ actor: 'operator:bob', reason: 'x', source: 'operator' }).catch((e: unknown) => e)) as KillSwitchIncomplete;
    expect(err.steps).toEqual(['notify']);
    expect((err.result as HaltResult).verified.ok).toBe(true);
    expect(ports.events).toHaveLength(1);
  });

  it('acts in the declared order (flag, orders, schedules, executions, notify, event, verify) and a non-Error thrown by notify skips nothing', async () => {
    const calls: string[] = [];
    class RecordingPorts extends InMemoryPlatformPorts {
      working = 2;
      async cancelWorkingOrders(): Promise<number> {
        calls.push('cancelWorkingOrders');
        const n = this.working;
        this.working = 0;
        return n;
      }
      async countWorkingOrders(): Promise<number> {
        calls.push('countWorkingOrders');
        return this.working;
      }
      override async listSchedules() {
        calls.push('listSchedules');
        return super.listSchedules();
      }
      override async setScheduleEnabled(group: string, name: string, enabled: boolean) {
        calls.push('setScheduleEnabled');
        return super.setScheduleEnabled(group, name, enabled);
      }
      override async listRunningExecutions() {
        calls.push('listRunningExecutions');
        return super.listRunningExecutions();
      }
      override async stopExecution(arn: string, cause: string) {
        calls.push('stopExecution');
        return super.stopExecution(arn, cause);
      }
      override async notify(): Promise<void> {
        calls.push('notify');
        throw 'SNS throttled'; // a non-Error, as some clients throw
      }
      override async publishEvent(detailType: Parameters<InMemoryPlatformPorts['publishEvent']>[0], detail: Record<string, unknown>) {
        calls.push('publishEvent');
        return super.publishEvent(detailType, detail);
      }
    }
    const ports = new RecordingPorts([{ group: 'agent-fleet', name: 'cycle-default' }], ['cycle-1']);
    const ks = createKillSwitch({ ports, doc: db.doc, controlTable: table, verifyRetryDelaysMs: [] });
    const err = (await ks.halt({ actor: 'operator:bob', reason: 'order test', source: 'operator' }).catch((e: unknown) => e)) as KillSwitchIncomplete;

    expect(err).toBeInstanceOf(KillSwitchIncomplete);
    expect(calls).toEqual([
      'cancelWorkingOrders',
      'listSchedules',
      'setScheduleEnabled',
      'listRunningExecutions',
      'stopExecution',
      'notify',
      'publishEvent',
      'listSchedules',
      'listRunningExecutions',
      'countWorkingOrders',
    ]);
    const result = err.result as HaltResult;
    expect(result.errors).toEqual([{ step: 'notify', message: 'SNS throttled' }]);
    expect(result).toMatchObject({ changed: true, workingOrdersCancelled: 2, disabledSchedules: ['agent-fleet/cycle-default'] });
    expect(result.stoppedExecutions).toEqual([ports.arnOf('cycle-1')]);
    expect(result.verified).toEqual({ haltFlagSet: true, schedulesDisabled: true, noRunningExecutions: true, noWorkingOrders: true, ok: true });
    // the event carries the failure of the notice before it (the same list as the result's)
    expect(ports.events[0].detail.errors).toEqual([{ step: 'notify', message: 'SNS throttled' }]);
  });

  it('a failed flag write is recorded first and every later step still runs (people are told)', async () => {
    const ports = new InMemoryPlatformPorts([{ group: 'agent-fleet', name: 'cycle-default' }], ['cycle-1']);
    const ks = createKillSwitch({ ports, doc: db.doc, controlTable: 'no-such-table', verifyRetryDelaysMs: [] });
    const err = (await ks.halt({ actor: 'alarm:X', reason: 'flag test', source: 'alarm' }).catch((e: unknown) => e)) as KillSwitchIncomplete;

    const result = err.result as HaltResult;
    expect(err.steps).toEqual(['flag', 'verify']);
    expect(result.errors[0]).toEqual({ step: 'flag', message: expect.stringContaining('ResourceNotFoundException') });
    expect(result.errors[1]).toEqual({ step: 'verify', message: expect.stringMatching(/^reading the halt flag failed: /) });
    expect(result).toMatchObject({ changed: false, audit: null, timeToHaltMs: null, disabledSchedules: ['agent-fleet/cycle-default'] });
    expect(result.verified).toEqual({ haltFlagSet: false, schedulesDisabled: true, noRunningExecutions: true, noWorkingOrders: true, ok: false });
    expect(ports.executions[0].status).toBe('ABORTED');
    expect(ports.notifications.map((n) => n.subject)).toEqual(['[agent-fleet] HALT: flag test', '[agent-fleet] HALT NOT VERIFIED']);
    expect(ports.events.map((e) => e.detailType)).toEqual(['SystemHalted']);
  });

  it('computes timeToHaltMs from detectedAt with an injected clock', async () => {
    let t = 1_000_000;
    const { ks } = setup([], () => (t += 40));
    const result = await ks.halt({ actor: 'alarm:x', reason: 'y', source: 'alarm', detectedAt: 990_000 });
    // clock reads: start 1_000_040, flag set 1_000_080, schedules disabled 1_000_120
    expect(result.timeToHaltMs).toBe(1_000_120 - 990_000);
    expect(result.detectedAt).toBe(new Date(990_000).toISOString());
    expect(result.audit?.at).toBe(new Date(1_000_040).toISOString());
  });

  it('defaults detection time to the start of the call', async () => {
    let t = 5_000;
    const { ks } = setup([], () => (t += 10));
    const result = await ks.halt({ actor: 'operator:a', reason: 'b', source: 'operator' });
    expect(result.timeToHaltMs).toBe(20);
  });
});

describe('resume', () => {
  it.each(['alarm', 'cycle', 'supervisor'] as const)('is refused from source %s and changes nothing', async (source) => {
    const { ports, ks } = setup([]);
    await ks.halt({ actor: 'operator:a', reason: 'drill', source: 'operator' });
    const err = await ks.resume({ actor: `${source}:x`, reason: 'all good', source }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResumeRefused);
    expect((err as Error).name).toBe('ResumeRefused');
    expect((err as Error).message).toContain(`source was '${source}'`);
    const item = await readControlItem(db.doc, table);
    expect(item.halted).toBe(true);
    expect(item.audit).toHaveLength(1);
    expect(ports.schedules.some((s) => s.enabled)).toBe(false);
  });

  it('is refused from an operator without a reason', async () => {
    const { ks } = setup([]);
    await ks.halt({ actor: 'operator:a', reason: 'drill', source: 'operator' });
    await expect(ks.resume({ actor: 'operator:a', reason: '   ', source: 'operator' })).rejects.toThrow(/reason is required/);
    expect((await readControlItem(db.doc, table)).halted).toBe(true);
  });

  it('an operator with a reason clears the flag, re-enables every schedule, publishes SystemResumed and verifies', async () => {
    const { ports, ks } = setup([]);
    await ks.halt({ actor: 'operator:a', reason: 'drill', source: 'operator' });
    const result = await ks.resume({ actor: 'operator:a', reason: 'drill over', source: 'operator' });
    expect(result.changed).toBe(true);
    expect(result.verified).toEqual({ haltFlagCleared: true, schedulesEnabled: true, ok: true });
    expect(result.enabledSchedules.sort()).toEqual(['agent-fleet/cycle-asia', 'agent-fleet/cycle-default', 'agent-fleet/cycle-us-equities']);
    expect(ports.schedules.every((s) => s.enabled)).toBe(true);
    expect(ports.events.map((e) => e.detailType)).toEqual(['SystemHalted', 'SystemResumed']);
    const item = await readControlItem(db.doc, table);
    expect(item.halted).toBe(false);
    expect(item.audit.map((a) => [a.action, a.changed, a.reason])).toEqual([
      ['HALT', true, 'drill'],
      ['RESUME', true, 'drill over'],
    ]);
  });

  it('when not halted, resuming changes nothing on the flag but is audited', async () => {
    const { ks } = setup([]);
    const result = await ks.resume({ actor: 'operator:a', reason: 'just in case', source: 'operator' });
    expect(result.changed).toBe(false);
    expect(result.audit.reason).toBe('not halted: just in case');
  });
});

describe('safe mode', () => {
  it('on then off is audited and publishes SafeModeChanged; cycles keep running (no halt, schedules untouched)', async () => {
    const { ports, ks } = setup(['cycle-1']);
    const on = await ks.setSafeMode({ on: true, actor: 'alarm:VaR', reason: 'VaR near limit', source: 'alarm' });
    expect(on).toMatchObject({ action: 'SAFE_MODE_ON', changed: true, mode: 'safe' });
    expect((await readControlItem(db.doc, table)).mode).toBe('safe');
    const again = await ks.setSafeMode({ on: true, actor: 'alarm:VaR', reason: 'still', source: 'alarm' });
    expect(again.changed).toBe(false);
    const off = await ks.setSafeMode({ on: false, actor: 'operator:a', reason: 'VaR back to normal', source: 'operator' });
    expect(off).toMatchObject({ action: 'SAFE_MODE_OFF', changed: true, mode: 'normal' });

    const item = await readControlItem(db.doc, table);
    expect(item).toMatchObject({ mode: 'normal', halted: false });
    expect(item.audit.map((a) => [a.action, a.changed])).toEqual([
      ['SAFE_MODE_ON', true],
      ['SAFE_MODE_ON', false],
      ['SAFE_MODE_OFF', true],
    ]);
    expect(ports.events.map((e) => [e.detailType, e.detail.mode])).toEqual([
      ['SafeModeChanged', 'safe'],
      ['SafeModeChanged', 'normal'],
    ]);
    expect(ports.executions[0].status).toBe('RUNNING');
    expect(ports.calls.setScheduleEnabled).toBeUndefined();
  });

  it('only an operator switches safe mode off', async () => {
    const { ks } = setup([]);
    await ks.setSafeMode({ on: true, actor: 'alarm:VaR', reason: 'r', source: 'alarm' });
    await expect(ks.setSafeMode({ on: false, actor: 'alarm:VaR', reason: 'OK again', source: 'alarm' })).rejects.toBeInstanceOf(SafeModeRefused);
    expect((await readControlItem(db.doc, table)).mode).toBe('safe');
  });
});

describe('control item', () => {
  it('keeps cycleSeq written by Plan cycle and bounds the audit trail', async () => {
    const { ks } = setup([]);
    await db.doc.send(
      new (await import('@aws-sdk/lib-dynamodb')).PutCommand({
        TableName: table,
        Item: { pk: 'control', halted: false, mode: 'normal', cycleSeq: 41, version: 7, audit: [] },
      }),
    );
    await ks.halt({ actor: 'operator:a', reason: 'x', source: 'operator' });
    const raw = (await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'control' } }))).Item;
    expect(raw).toMatchObject({ cycleSeq: 41, version: 8, halted: true });

    for (let i = 0; i < AUDIT_RETAINED_ENTRIES + 5; i++) await ks.setSafeMode({ on: i % 2 === 0, actor: 'operator:a', reason: `n${i}`, source: 'operator' });
    const item = await readControlItem(db.doc, table);
    expect(item.audit).toHaveLength(AUDIT_RETAINED_ENTRIES);
    expect(item.audit[item.audit.length - 1].reason).toBe(`n${AUDIT_RETAINED_ENTRIES + 4}`);
  });
});
