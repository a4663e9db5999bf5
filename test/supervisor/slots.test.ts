/**
 * Exactly one cycle per slot, against dynalite: the slot claim, the per-group number a retried
 * plan keeps, the overlap policies and late slots, with the real planner and recorder.
 */
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CyclePlan, OverlapPolicy } from '../../lambdas/shared/contracts';
import type { SupervisorSettings } from '../../lambdas/shared/settings';
import { AgentStateStore } from '../../lambdas/shared/supervision/agent-state-store';
import { freshAgentState } from '../../lambdas/shared/supervision/agent-state';
import { planCycle, planPayloadSchema } from '../../lambdas/supervisor/plan';
import { savePlan } from '../../lambdas/supervisor/plan-store';
import { recordOutcomes } from '../../lambdas/supervisor/record';
import { readGroup } from '../../lambdas/supervisor/slots';
import { listPausedGroups, setAgentDisabled, setGroupPaused } from '../../lambdas/supervisor/pauses';
import { startDynalite, type TestDynamo } from '../support/dynalite';

const SLOT = '2024-03-11T14:00:00.000Z';
const settings = (policy: OverlapPolicy = 'SKIP', extra: Partial<SupervisorSettings> = {}): SupervisorSettings => ({
  agents: [
    { name: 'alpha', functionArn: 'arn:alpha', enabled: true, group: 'default', dependsOn: [], faultDomain: 'strategy', timeoutSeconds: 30, params: {} },
  ],
  maxWorkers: 4,
  cadenceMinutes: 15,
  riskTimeoutSeconds: 60,
  reportRetentionDays: 30,
  breaker: { failureThreshold: 5, windowSize: 10, failureRateThreshold: 0.5, minimumRuns: 10, openSeconds: 1800, backoffMultiplier: 2, maxOpenSeconds: 14_400 },
  maxRetries: { data: 10, strategy: 5, critical: 0 },
  maxOpenBreakerFraction: 0.5,
  maxParamAdjustFraction: 0.2,
  perAgentMetrics: false,
  overlapPolicies: { default: policy },
  ...extra,
});

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('slots');
});
afterAll(async () => db.stop());
beforeEach(async () => {
  for (const [table, key] of [
    [db.tables.AgentState, ['agent']],
    [db.tables.Control, ['pk']],
    [db.tables.Cycles, ['cycleId', 'sk']],
  ] as const) {
    const items = (await db.doc.send(new ScanCommand({ TableName: table }))).Items ?? [];
    await Promise.all(items.map((i) => db.doc.send(new DeleteCommand({ TableName: table, Key: Object.fromEntries(key.map((k) => [k, i[k]])) }))));
  }
});

/** The clock port of the planning under test (a waiting slot's re-plan reads it). */
let now = () => Date.now();
const deps = (s: SupervisorSettings) => ({
  now: () => now(),
  settings: s,
  store: new AgentStateStore(db.doc, { agentState: db.tables.AgentState, control: db.tables.Control }),
  doc: db.doc,
  controlTable: db.tables.Control,
});
const plan = (s: SupervisorSettings, executionName: string, scheduledTime: string | undefined = SLOT, startedAt = scheduledTime ?? SLOT) =>
  planCycle(
    planPayloadSchema.parse({
      action: 'plan',
      executionName,
      executionStartTime: startedAt,
      trigger: { source: 'schedule', group: 'default', ...(scheduledTime ? { scheduledTime } : {}) },
    }),
    deps(s),
  );
const record = async (s: SupervisorSettings, p: CyclePlan) => {
  await savePlan(db.doc, db.tables.Cycles, p, 30, Date.parse(p.plannedAt));
  const phaseResults = p.phases.map((ph) => [
    [],
    ph.strategy.map((i) => ({
      ok: true,
      result: { agent: i.agent, cycleId: p.cycleId, status: 'SUCCEEDED', summary: 'ok', metrics: {}, durationMs: 5, attempt: 0 },
    })),
    [],
  ]);
  return recordOutcomes({ plan: p, phaseResults }, { ...deps(s), cyclesTable: db.tables.Cycles });
};
const at = (minutes: number) => new Date(Date.parse(SLOT) + minutes * 60_000).toISOString();

describe('slot claim', () => {
  it('many concurrent plans for one slot (distinct execution ids): exactly one runs, the others are skipped duplicates naming it', async () => {
    const s = settings('ALLOW_ALL'); // even when overlaps are allowed, one slot is one cycle
    for (let round = 0; round < 5; round++) {
      const slot = at(15 * round);
      const plans = await Promise.all(Array.from({ length: 12 }, (_, i) => plan(s, `r${round}-attempt-${i}`, slot)));
      const ran = plans.filter((p) => !p.skip && !p.halted);
      expect(ran).toHaveLength(1);
      expect(ran[0].cycleSeq).toBe(round + 1);
      for (const p of plans.filter((x) => x !== ran[0])) {
        expect(p.skip).toEqual({ reason: 'duplicate', detail: expect.stringContaining(`already claimed by ${ran[0].cycleId}`) });
        expect(p.phases).toEqual([]);
      }
    }
    expect((await readGroup(db.doc, db.tables.Control, 'default')).cycleSeq).toBe(5);
  });

  it('a retried plan of the same execution keeps its claim and its number: no bar is skipped', async () => {
    const s = settings();
    const first = await plan(s, 'slot-1', at(0));
    const again = await plan(s, 'slot-1', at(0)); // the first attempt's response was lost
    expect([first.cycleSeq, again.cycleSeq]).toEqual([1, 1]);
    expect(again.skip).toBeUndefined();
    await record(s, again);
    const next = await plan(s, 'slot-2', at(15));
    expect(next.cycleSeq).toBe(2);
  });

  it('numbers are per group: each group replays its own bars', async () => {
    const s = settings('SKIP', {
      agents: [
        { name: 'alpha', functionArn: 'arn:alpha', enabled: true, group: 'default', dependsOn: [], faultDomain: 'strategy', timeoutSeconds: 30, params: {} },
        { name: 'beta', functionArn: 'arn:beta', enabled: true, group: 'night', dependsOn: [], faultDomain: 'strategy', timeoutSeconds: 30, params: {} },
      ],
    });
    const a = await plan(s, 'a-1');
    const b = await planCycle(
      planPayloadSchema.parse({ action: 'plan', executionName: 'b-1', executionStartTime: SLOT, trigger: { group: 'night', scheduledTime: SLOT } }),
      deps(s),
    );
    expect([a.cycleSeq, b.cycleSeq, a.group, b.group]).toEqual([1, 1, 'default', 'night']);
    expect(b.phases[0].strategy.map((i) => i.agent)).toEqual(['beta']);
  });
});

describe('late slots', () => {
  it('a slot started more than maxLatenessSeconds after its scheduled time is skipped as late and takes no number', async () => {
    const s = settings('SKIP', { maxLatenessSeconds: 600 });
    const late = await plan(s, 'late-1', at(0), at(11));
    expect(late.skip).toEqual({ reason: 'late', detail: expect.stringMatching(/660 s after its scheduled time, over cycle.maxLatenessSeconds \(600 s\)/) });
    const onTime = await plan(s, 'on-time', at(15), at(24));
    expect(onTime.skip).toBeUndefined();
    expect(onTime.cycleSeq).toBe(1);
    // A retry of the late plan repeats the decision.
    expect((await plan(s, 'late-1', at(0), at(11))).skip?.reason).toBe('late');
  });
  it('the default limit is one cadence', async () => {
    expect((await plan(settings(), 'x', at(0), at(15))).skip).toBeUndefined();
    expect((await plan(settings('ALLOW_ALL'), 'y', at(15), at(30.5))).skip?.reason).toBe('late');
  });
});

describe('overlap policies', () => {
  it('SKIP: a slot whose group still runs a cycle is skipped naming it; after Record outcomes the next slot runs', async () => {
    const s = settings('SKIP');
    const first = await plan(s, 'slot-1', at(0));
    const second = await plan(s, 'slot-2', at(15));
    expect(second.skip).toEqual({ reason: 'overlap', detail: expect.stringContaining('still runs slot-1') });
    await record(s, first);
    const third = await plan(s, 'slot-3', at(30));
    expect(third.skip).toBeUndefined();
    expect(third.cycleSeq).toBe(2);
  });

  it('SKIP: a running marker from before the last halt is stale (the kill switch stopped that cycle), so a resume is not blocked', async () => {
    const s = settings('SKIP');
    await plan(s, 'slot-1', at(0)); // never recorded: stopped by the kill switch
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.Control,
        Item: {
          pk: 'control',
          halted: false,
          mode: 'normal',
          cycleSeq: 0,
          version: 2,
          audit: [
            { at: at(5), action: 'HALT', actor: 'alarm', reason: 'x', changed: true },
            { at: at(10), action: 'RESUME', actor: 'ops', reason: 'fixed', changed: true },
          ],
        },
      }),
    );
    const next = await plan(s, 'slot-2', at(15));
    expect(next.skip).toBeUndefined();
    expect(next.cycleSeq).toBe(2);
  });

  it('SKIP: many concurrent slots of one group while none runs: exactly one starts (repeated)', async () => {
    const s = settings('SKIP');
    for (let round = 0; round < 4; round++) {
      if (round > 0) await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'group#default' } }));
      // Ten slots delivered within the execution timeout of each other (e.g. a backlog of Scheduler retries), all at once.
      const plans = await Promise.all(Array.from({ length: 10 }, (_, i) => plan(s, `c-${i}`, at(i), at(i))));
      expect(plans.filter((p) => !p.skip)).toHaveLength(1);
      expect(plans.filter((p) => p.skip?.reason === 'overlap')).toHaveLength(9);
    }
  });

  it('ALLOW_ALL: cycles of a group overlap, each with its own number', async () => {
    const s = settings('ALLOW_ALL');
    const [a, b] = [await plan(s, 'slot-1', at(0)), await plan(s, 'slot-2', at(15))];
    expect([a.skip, b.skip, a.cycleSeq, b.cycleSeq]).toEqual([undefined, undefined, 1, 2]);
  });

  it('BUFFER_ONE: one slot waits for the running cycle and runs once it is recorded; a second one is skipped', async () => {
    const s = settings('BUFFER_ONE', { maxLatenessSeconds: 3600 });
    // A waiting slot's re-plan reads the clock port (its execution started before the wait).
    now = () => Date.parse(at(20));
    const first = await plan(s, 'slot-1', at(0));
    const waiting = await plan(s, 'slot-2', at(15));
    expect(waiting.skip).toBeUndefined();
    expect(waiting.waitSeconds).toBe(60);
    const third = await plan(s, 'slot-3', at(30));
    expect(third.skip).toEqual({ reason: 'overlap', detail: expect.stringContaining('slot-2 already waits') });
    expect((await plan(s, 'slot-2', at(15))).waitSeconds).toBe(60); // still waiting
    await record(s, first);
    const runs = await plan(s, 'slot-2', at(15));
    expect([runs.skip, runs.waitSeconds, runs.cycleSeq]).toEqual([undefined, undefined, 2]);
    expect((await readGroup(db.doc, db.tables.Control, 'default')).waiting).toBeUndefined();
    // Waiting past the lateness limit: skipped as late.
    const fourth = await plan(s, 'slot-4', at(45));
    expect(fourth.waitSeconds).toBe(60);
    now = () => Date.parse(at(45 + 61));
    expect((await plan(s, 'slot-4', at(45))).skip?.reason).toBe('late');
    now = () => Date.now();
  });
});

describe('recovery that sticks', () => {
  it('a HALF_OPEN probe claimed by a cycle the kill switch stopped is free after the resume (not held for the 4 h lease)', async () => {
    const s = settings('SKIP');
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.AgentState,
        Item: { ...freshAgentState('alpha'), breaker: 'HALF_OPEN', tripCount: 1, probeCycleId: 'stopped-cycle', probeClaimedAt: at(0), version: 3 },
      }),
    );
    const before = await plan(s, 'slot-2', at(15));
    expect(before.skipped).toEqual([{ agent: 'alpha', reason: 'breaker HALF_OPEN: probe already taken by stopped-cycle', breaker: 'HALF_OPEN' }]);
    await record(s, before);
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.Control,
        Item: {
          pk: 'control',
          halted: false,
          mode: 'normal',
          cycleSeq: 0,
          version: 2,
          audit: [
            { at: at(5), action: 'HALT', actor: 'cycle', reason: 'risk', changed: true },
            { at: at(20), action: 'RESUME', actor: 'ops', reason: 'fixed', changed: true },
          ],
        },
      }),
    );
    const after = await plan(s, 'slot-3', at(30));
    expect(after.phases[0].strategy).toEqual([expect.objectContaining({ agent: 'alpha', probe: true })]);
  });
});

describe('ops run-now', () => {
  it('an operator run is its own slot and obeys the overlap policy: skipped while the group runs a cycle under SKIP', async () => {
    const s = settings('SKIP');
    const scheduled = await plan(s, 'slot-1', at(0));
    const operator = (name: string) =>
      planCycle(
        planPayloadSchema.parse({ action: 'plan', executionName: name, executionStartTime: at(5), trigger: { source: 'operator', requestedBy: 'ops' } }),
        deps(s),
      );
    const during = await operator('manual-1');
    expect(during).toMatchObject({ slot: 'default@run:manual-1', skip: { reason: 'overlap' } });
    await record(s, scheduled);
    const after = await operator('manual-2');
    expect([after.skip, after.cycleSeq]).toEqual([undefined, 2]);
  });
});

describe('pause with a note', () => {
  it('a paused group: its slots are skipped as paused with the note; unpause runs the next; every change audited on the group item', async () => {
    const s = settings('SKIP');
    const first = await setGroupPaused(db.doc, db.tables.Control, {
      group: 'default',
      paused: true,
      reason: 'data vendor outage',
      actor: 'operator:desk',
      nowIso: at(-1),
    });
    const again = await setGroupPaused(db.doc, db.tables.Control, {
      group: 'default',
      paused: true,
      reason: 'still out',
      actor: 'operator:desk',
      nowIso: at(-0.5),
    });
    expect([first.changed, again.changed]).toEqual([true, false]);
    expect(await listPausedGroups(db.doc, db.tables.Control)).toEqual([{ group: 'default', note: `operator:desk at ${at(-1)}: data vendor outage` }]);
    const p = await plan(s, 'slot-1', at(0));
    expect(p.skip).toEqual({ reason: 'paused', detail: `group default paused by operator:desk at ${at(-1)}: data vendor outage` });
    await setGroupPaused(db.doc, db.tables.Control, { group: 'default', paused: false, reason: 'vendor back', actor: 'operator:desk', nowIso: at(1) });
    const q = await plan(s, 'slot-2', at(15));
    expect([q.skip, q.cycleSeq]).toEqual([undefined, 1]);
    expect(await listPausedGroups(db.doc, db.tables.Control)).toEqual([]);
    const item = (await db.doc.send(new GetCommand({ TableName: db.tables.Control, Key: { pk: 'group#default' }, ConsistentRead: true }))).Item!;
    expect(item.pauseAudit.map((e: { action: string; changed: boolean }) => `${e.action}:${e.changed}`)).toEqual(['PAUSE:true', 'PAUSE:false', 'UNPAUSE:true']);
    await expect(setGroupPaused(db.doc, db.tables.Control, { group: 'default', paused: true, reason: ' ', actor: 'x', nowIso: at(2) })).rejects.toMatchObject({
      name: 'PauseReasonRequired',
    });
  });

  it('a paused agent is SKIPPED with the note (no probe claimed, its dependants skipped) until enabled; audited on its item', async () => {
    const s = settings('ALLOW_ALL', {
      agents: [
        { name: 'alpha', functionArn: 'arn:alpha', enabled: true, group: 'default', dependsOn: [], faultDomain: 'strategy', timeoutSeconds: 30, params: {} },
        {
          name: 'beta',
          functionArn: 'arn:beta',
          enabled: true,
          group: 'default',
          dependsOn: ['alpha'],
          faultDomain: 'strategy',
          timeoutSeconds: 30,
          params: {},
        },
      ],
    });
    const store = deps(s).store;
    await setAgentDisabled(store, { agent: 'alpha', disabled: true, reason: 'doubling targets', actor: 'operator:desk', nowIso: at(-1) });
    const p = await plan(s, 'slot-1', at(0));
    expect(p.phases).toEqual([]);
    expect(p.skipped).toEqual([
      { agent: 'alpha', reason: `paused by operator:desk at ${at(-1)}: doubling targets`, breaker: 'CLOSED' },
      { agent: 'beta', reason: `dependency alpha skipped: paused by operator:desk at ${at(-1)}: doubling targets`, breaker: 'CLOSED' },
    ]);
    await record(s, p); // the recorded skip keeps the pause
    expect((await store.getAgentState('alpha')).disabled).toMatchObject({ reason: 'doubling targets' });
    await setAgentDisabled(store, { agent: 'alpha', disabled: false, reason: 'fixed', actor: 'operator:desk', nowIso: at(1) });
    const q = await plan(s, 'slot-2', at(15));
    expect(q.phases.flatMap((ph) => ph.strategy.map((i) => i.agent))).toEqual(['alpha', 'beta']);
    const alpha = await store.getAgentState('alpha');
    expect(alpha.disabled).toBeUndefined();
    expect(alpha.pauseAudit?.map((e) => `${e.action}:${e.reason}`)).toEqual(['DISABLE:doubling targets', 'ENABLE:fixed']);
  });
});
