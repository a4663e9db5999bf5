/**
 * The real supervisor handler against dynalite: plan (halt flag, cycle counter, breakers, probe
 * claims, dependencies, trading hours, adjustments) and record (validation, attempts, escalation,
 * idempotence, concurrency of conditional writes).
 */
import { DeleteCommand, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentStateItem, CyclePlan, RecordResult, WorkItem } from '../../lambdas/shared/contracts';
import type { SupervisorSettings } from '../../lambdas/shared/settings';
import { freshAgentState } from '../../lambdas/shared/supervision/agent-state';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { savePlan } from '../../lambdas/supervisor/plan-store';
import { createSupervisorHandler, supervisorPortsFromEnv } from '../../lambdas/supervisor/handler';

const NOW = '2024-03-11T14:00:00.000Z'; // Monday 10:00 in New York
const agent = (name: string, faultDomain: 'data' | 'strategy' | 'critical', extra: Partial<SupervisorSettings['agents'][number]> = {}) => ({
  name,
  functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  enabled: true,
  group: 'default',
  dependsOn: [] as string[],
  faultDomain,
  timeoutSeconds: 30,
  params: {},
  ...extra,
});
const SETTINGS: SupervisorSettings = {
  agents: [
    agent('strategy', 'strategy', { params: { fastWindow: 10 } }),
    agent('sentiment', 'data'),
    agent('trading', 'strategy', { dependsOn: ['strategy', 'sentiment'], params: { positionUsd: 20_000, minBreadth: 0.4 } }),
    agent('guard', 'critical'),
    agent('nightly', 'data', { group: 'night', tradingHours: { timezone: 'America/New_York', start: '18:00', end: '20:00', weekdays: [1, 2, 3, 4, 5] } }),
    agent('retired', 'data', { enabled: false }),
  ],
  maxWorkers: 4,
  cadenceMinutes: 15,
  riskTimeoutSeconds: 60,
  reportRetentionDays: 30,
  breaker: { failureThreshold: 5, windowSize: 10, failureRateThreshold: 0.5, minimumRuns: 10, openSeconds: 900, backoffMultiplier: 2, maxOpenSeconds: 14_400 },
  maxRetries: { data: 10, strategy: 5, critical: 0 },
  maxOpenBreakerFraction: 0.5,
  maxParamAdjustFraction: 0.2,
  perAgentMetrics: true,
  // These tests plan cycles without recording them in between: let them overlap (the SKIP policy is tested in slots.test.ts).
  overlapPolicies: { default: 'ALLOW_ALL', night: 'ALLOW_ALL' },
};

let db: TestDynamo;
let handler: (event: unknown) => Promise<unknown>;

beforeAll(async () => {
  db = await startDynalite('supervisor');
  Object.assign(process.env, db.env, { SUPERVISOR_SETTINGS: JSON.stringify(SETTINGS) });
  handler = createSupervisorHandler(supervisorPortsFromEnv(process.env, db.doc));
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

const plan = (executionName: string, trigger: Record<string, unknown> = {}, executionStartTime = NOW) =>
  handler({ action: 'plan', executionName, executionStartTime, trigger: { source: 'schedule', group: 'default', ...trigger } }) as Promise<CyclePlan>;
/** Records like the state machine does: the plan is the one "Plan cycle" stored (stored here for hand-made plans), the payload carries the results. */
const record = async (p: CyclePlan, phaseResults: unknown[], verdict = 'OK') => {
  await savePlan(db.doc, db.tables.Cycles, p, 30, Date.parse(NOW));
  const decision = (await handler({
    action: 'record',
    cycleId: p.cycleId,
    mode: p.mode,
    risk: { assessment: { verdict, reasons: [] } },
    phaseResults,
  })) as RecordResult;
  // The Lambda returns the decision only (the 256 KiB raw-result quota); the outcomes are in the report item.
  expect(Object.keys(decision).sort()).toEqual(['cycleId', 'escalate', 'escalationReason']);
  const report = (await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId: p.cycleId, sk: 'REPORT' }, ConsistentRead: true }))).Item!;
  return { ...decision, outcomes: report.outcomes } as RecordResult;
};
const putState = (s: Partial<AgentStateItem> & { agent: string }) =>
  db.doc.send(new PutCommand({ TableName: db.tables.AgentState, Item: { ...freshAgentState(s.agent), ...s } }));
const getState = async (name: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.tables.AgentState, Key: { agent: name }, ConsistentRead: true }))).Item as AgentStateItem;
const getGroup = async (group: string) =>
  (await db.doc.send(new GetCommand({ TableName: db.tables.Control, Key: { pk: `group#${group}` }, ConsistentRead: true }))).Item as {
    cycleSeq: number;
    slots: Record<string, unknown>;
  };
const getControl = async () => (await db.doc.send(new GetCommand({ TableName: db.tables.Control, Key: { pk: 'control' }, ConsistentRead: true }))).Item;
const ok = (p: CyclePlan, name: string, extra: Record<string, unknown> = {}) => ({
  ok: true,
  result: { agent: name, cycleId: p.cycleId, status: 'SUCCEEDED', summary: 'done', metrics: {}, durationMs: 120, attempt: 0, ...extra },
});
/** phaseResults with every item of the plan succeeding, except overrides by agent name. */
const results = (p: CyclePlan, overrides: Record<string, unknown> = {}) =>
  p.phases.map((ph) => (['data', 'strategy', 'critical'] as const).map((d) => ph[d].map((i: WorkItem) => overrides[i.agent] ?? ok(p, i.agent))));

describe('Plan cycle', () => {
  it('numbers cycles per group and lays the enabled agents of the group out in dependency phases split by fault domain', async () => {
    const p = await plan('slot-1');
    expect(p).toMatchObject({
      cycleId: 'slot-1',
      cycleSeq: 1,
      plannedAt: NOW,
      halted: false,
      mode: 'normal',
      riskTimeoutSeconds: 60,
      group: 'default',
      slot: 'default@run:slot-1',
    });
    expect(
      p.phases.map((ph) => ({ data: ph.data.map((i) => i.agent), strategy: ph.strategy.map((i) => i.agent), critical: ph.critical.map((i) => i.agent) })),
    ).toEqual([
      { data: ['sentiment'], strategy: ['strategy'], critical: ['guard'] },
      { data: [], strategy: ['trading'], critical: [] },
    ]);
    expect(p.phases[0].concurrency).toEqual({ data: 1, strategy: 1, critical: 1 });
    expect(p.phases[1].index).toBe(1);
    expect(p.skipped).toEqual([]);
    expect(p.phases.flatMap((ph) => [...ph.data, ...ph.strategy, ...ph.critical]).map((i) => i.agent)).not.toContain('retired');
    expect((await plan('slot-2')).cycleSeq).toBe(2);
    // The counter is the group's: the night group starts at 1; the control item (the Master's) is not written.
    expect((await plan('night-a', { group: 'night' }, '2024-03-11T22:30:00.000Z')).cycleSeq).toBe(1);
    expect(await getGroup('default')).toMatchObject({ cycleSeq: 2 });
    expect(await getControl()).toBeUndefined();
  });

  it('a trigger with no group is refused when the fleet has several groups', async () => {
    await expect(handler({ action: 'plan', executionName: 'x', executionStartTime: NOW, trigger: { source: 'operator' } })).rejects.toMatchObject({
      name: 'GroupRequired',
      message: expect.stringMatching(/default, night/),
    });
  });

  it('plans only the trigger group, and evaluates trading hours in the agent timezone', async () => {
    const inWindow = await plan('night-1', { group: 'night' }, '2024-03-11T22:30:00.000Z'); // 18:30 EDT
    expect(inWindow.phases.flatMap((ph) => ph.data.map((i) => i.agent))).toEqual(['nightly']);
    expect(inWindow.skipped).toEqual([]);
  });

  it('while halted: returns halted with the reason, no phases, and does not increment cycleSeq', async () => {
    await db.doc.send(
      new PutCommand({
        TableName: db.tables.Control,
        Item: { pk: 'control', halted: true, mode: 'normal', reason: 'operator drill', cycleSeq: 7, version: 3, audit: [] },
      }),
    );
    const p = await plan('slot-halted');
    expect(p).toMatchObject({ halted: true, haltReason: 'operator drill', phases: [], cycleSeq: 1 });
    expect((await getGroup('default')).cycleSeq).toBe(0);
    expect((await getGroup('default')).slots['run:slot-halted']).toMatchObject({ cycleId: 'slot-halted', skip: 'halted' });
  });

  it('skips an OPEN agent (with openUntil) and, transitively, its dependants; DEGRADED agents get bounded size cuts', async () => {
    const until = '2024-03-11T14:10:00.000Z';
    await putState({ agent: 'sentiment', breaker: 'OPEN', tripCount: 1, openedAt: '2024-03-11T13:55:00.000Z', openUntil: until, version: 4 });
    const p = await plan('slot-open');
    expect(p.skipped).toEqual(
      expect.arrayContaining([
        { agent: 'sentiment', reason: `breaker OPEN until ${until}`, breaker: 'OPEN' },
        { agent: 'trading', reason: `dependency sentiment skipped: breaker OPEN until ${until}`, breaker: 'CLOSED' },
      ]),
    );
    expect(p.phases).toHaveLength(1);

    await db.doc.send(new DeleteCommand({ TableName: db.tables.AgentState, Key: { agent: 'sentiment' } }));
    await putState({ agent: 'trading', executions: 10, successes: 9, failures: 1, health: 'DEGRADED', version: 10 });
    const q = await plan('slot-degraded');
    const trading = q.phases[1].strategy[0];
    expect(trading.params).toEqual({ positionUsd: 18_000, minBreadth: 0.4 });
    expect(q.adjustments).toEqual([
      { agent: 'trading', param: 'positionUsd', configured: 20_000, from: 20_000, to: 18_000, reason: 'agent DEGRADED: position size reduced by 10 %' },
    ]);
  });

  it('overlapping cycles: exactly one claims the HALF_OPEN probe; the others skip naming the holder; a retried plan keeps it', async () => {
    await putState({ agent: 'strategy', breaker: 'OPEN', tripCount: 1, openUntil: '2024-03-11T13:59:00.000Z', version: 5 });
    const plans = await Promise.all(Array.from({ length: 8 }, (_, i) => plan(`overlap-${i}`)));
    const probers = plans.filter((p) => p.phases.some((ph) => ph.strategy.some((i) => i.agent === 'strategy' && i.probe)));
    expect(probers).toHaveLength(1);
    const holder = probers[0].cycleId;
    for (const p of plans.filter((x) => x !== probers[0])) {
      // The loser sees the claim either at its conditional write or already in its read (two paths, one meaning).
      expect(p.skipped).toEqual(
        expect.arrayContaining([{ agent: 'strategy', reason: expect.stringMatching(new RegExp(`probe already taken by ${holder}$`)), breaker: 'HALF_OPEN' }]),
      );
    }
    expect(await getState('strategy')).toMatchObject({ breaker: 'HALF_OPEN', probeCycleId: holder, version: 6 });
    const retried = await plan(holder);
    expect(retried.phases[0].strategy[0]).toMatchObject({ agent: 'strategy', probe: true });

    // the probe succeeds: HALF_OPEN -> CLOSED
    const r = await record(retried, results(retried));
    expect(r.outcomes.find((o) => o.name === 'strategy')).toMatchObject({
      outcome: 'SUCCEEDED',
      breaker: 'CLOSED',
      breakerTransition: 'HALF_OPEN->CLOSED',
      probe: true,
    });
    expect(await getState('strategy')).toMatchObject({ breaker: 'CLOSED', tripCount: 0 });
  });
});

describe('Record outcomes', () => {
  it('validates results, derives reasons and attempts, escalates on a critical failure only, writes the report', async () => {
    const p = await plan('rec-1');
    const r = await record(
      p,
      results(p, {
        sentiment: { ok: false, error: 'States.Timeout', cause: 'task timed out' },
        strategy: { ok: true, result: { agent: 'strategy', cycleId: 'rec-1', status: 'SUCCEEDED', summary: 'x', metrics: {}, durationMs: -5, attempt: 0 } },
        trading: { ok: false, error: 'MarketDataError', cause: JSON.stringify({ errorType: 'MarketDataError', errorMessage: 'bar 300 missing' }) },
        guard: { ok: false, error: 'LimitBreach', cause: 'plain text cause' },
      }),
    );
    const by = Object.fromEntries(r.outcomes.map((o) => [o.name, o]));
    expect(by.sentiment).toMatchObject({ outcome: 'FAILED', reason: 'timed out after 30 s', attempts: 1, durationMs: 30_000, phase: 0 });
    expect(by.strategy).toMatchObject({ outcome: 'FAILED', attempts: 1 });
    expect(by.strategy.reason).toMatch(/^malformed result: durationMs: /);
    expect(by.trading).toMatchObject({ outcome: 'FAILED', reason: 'MarketDataError: bar 300 missing', attempts: 6, phase: 1 });
    expect(by.guard).toMatchObject({ outcome: 'FAILED', reason: 'LimitBreach: plain text cause', attempts: 1 });
    expect(by.nightly).toBeUndefined(); // another group's agent: not part of this cycle
    expect(r.escalate).toBe(true);
    expect(r.escalationReason).toBe('critical agent guard failed: LimitBreach: plain text cause');
    expect(await getState('trading')).toMatchObject({ executions: 1, failures: 1, retries: 5, consecutiveFailures: 1, health: 'DEGRADED' });
    const report = (await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId: 'rec-1', sk: 'REPORT' } }))).Item!;
    expect(report).toMatchObject({ startedAt: NOW, riskVerdict: 'OK', mode: 'normal', escalate: true });
    expect(report.outcomes).toHaveLength(4);
    expect(report.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000) + 29 * 86_400);
  });

  it('a strategy or data failure alone does not escalate; a SKIPPED result is not a failure', async () => {
    const p = await plan('rec-2');
    const r = await record(
      p,
      results(p, {
        trading: { ok: false, error: 'Error', cause: JSON.stringify({ errorType: 'Error', errorMessage: 'boom' }) },
        sentiment: { ok: false, error: 'FeedDown' },
        strategy: ok(p, 'strategy', { status: 'SKIPPED', reason: 'no new bar', attempt: 2 }),
      }),
    );
    expect(r).toMatchObject({ escalate: false, escalationReason: '' });
    const strategy = r.outcomes.find((o) => o.name === 'strategy')!;
    expect(strategy).toMatchObject({ outcome: 'SKIPPED', reason: 'no new bar', attempts: 3 });
    expect(r.outcomes.find((o) => o.name === 'sentiment')).toMatchObject({ reason: 'FeedDown', attempts: 11 });
    expect(await getState('strategy')).toMatchObject({ executions: 0, skips: 1, retries: 2 });
  });

  it('escalates when OPEN breakers reach maxOpenBreakerFraction of enabled agents', async () => {
    await putState({ agent: 'nightly', breaker: 'OPEN', tripCount: 1, openUntil: '2099-01-01T00:00:00.000Z', version: 1 });
    await putState({ agent: 'sentiment', breaker: 'OPEN', tripCount: 1, openUntil: '2099-01-01T00:00:00.000Z', version: 1 });
    const p = await plan('rec-3');
    await putState({ agent: 'guard', breaker: 'CLOSED', consecutiveFailures: 4, executions: 4, failures: 4, window: 'FFFF', version: 4 });
    const r = await record(p, results(p, { guard: ok(p, 'guard'), strategy: { ok: false, error: 'Error' } }));
    expect(r.escalate).toBe(false); // 2 of 5 open
    const p2 = await plan('rec-4');
    const r2 = await record(p2, results(p2, { guard: { ok: false, error: 'States.Timeout' } }));
    // guard: critical failure (first failure after a success, not yet OPEN), and 2 of 5 OPEN < 0.5
    expect(r2.escalationReason).toBe('critical agent guard failed: timed out after 30 s');
    await putState({ agent: 'trading', breaker: 'OPEN', tripCount: 1, openUntil: '2099-01-01T00:00:00.000Z', version: 1 });
    const p3 = await plan('rec-5');
    const r3 = await record(p3, results(p3));
    expect(r3).toMatchObject({ escalate: true, escalationReason: '3 of 5 enabled agents have an OPEN breaker (>= 50 %)' });
  });

  it('deterministic agent errors count one attempt; a SystemHalted raced by a halt is SKIPPED and never counts against the agent', async () => {
    const p = await plan('rec-det');
    const cause = (type: string, msg: string) => JSON.stringify({ errorType: type, errorMessage: msg });
    const r = await record(
      p,
      results(p, {
        strategy: { ok: false, error: 'AgentOutputInvalid', cause: cause('AgentOutputInvalid', 'metrics.x: expected number, received NaN') },
        sentiment: { ok: false, error: 'AgentResultTooLarge', cause: cause('AgentResultTooLarge', 'result is 300 KiB, over the 64 KiB limit') },
        trading: { ok: false, error: 'SystemHalted', cause: cause('SystemHalted', 'system halted by operator') },
      }),
    );
    const by = Object.fromEntries(r.outcomes.map((o) => [o.name, o]));
    expect(by.strategy).toMatchObject({ outcome: 'FAILED', attempts: 1, reason: 'AgentOutputInvalid: metrics.x: expected number, received NaN' });
    expect(by.sentiment).toMatchObject({ outcome: 'FAILED', attempts: 1, reason: 'AgentResultTooLarge: result is 300 KiB, over the 64 KiB limit' });
    expect(by.trading).toMatchObject({
      outcome: 'SKIPPED',
      attempts: 1,
      reason: 'system halted while it ran: SystemHalted: system halted by operator',
      health: 'HEALTHY',
    });
    expect(await getState('trading')).toMatchObject({ executions: 0, failures: 0, consecutiveFailures: 0, skips: 1, breaker: 'CLOSED' });
  });

  it('is idempotent for a repeated cycle id (a retried "Record outcomes" does not double count)', async () => {
    const p = await plan('rec-idem');
    const first = await record(p, results(p));
    const second = await record(p, results(p));
    expect(second.outcomes.map((o) => o.outcome)).toEqual(first.outcomes.map((o) => o.outcome));
    expect(await getState('strategy')).toMatchObject({ executions: 1, successes: 1, version: 1 });
  });

  it('five failing cycles open the breaker on the fifth; the next plan skips the agent', async () => {
    let last: RecordResult | undefined;
    for (let i = 0; i < 5; i++) {
      const p = await plan(`fail-${i}`);
      last = await record(p, results(p, { strategy: { ok: false, error: 'Error' } }));
      expect(last.outcomes.find((o) => o.name === 'strategy')!.breaker).toBe(i < 4 ? 'CLOSED' : 'OPEN');
    }
    expect(last!.outcomes.find((o) => o.name === 'strategy')).toMatchObject({ breakerTransition: 'CLOSED->OPEN', health: 'UNHEALTHY' });
    const next = await plan('fail-next');
    expect(next.skipped.find((s) => s.agent === 'strategy')?.reason).toMatch(/^breaker OPEN until /);
  });

  it('50 concurrent records for the same agent (distinct cycle ids) lose no update', async () => {
    const item: WorkItem = { agent: 'strategy', functionArn: 'arn:x', timeoutSeconds: 30, faultDomain: 'strategy', params: {}, dependsOn: [], probe: false };
    const plans: CyclePlan[] = Array.from({ length: 50 }, (_, i) => ({
      cycleId: `conc-${i}`,
      cycleSeq: i + 1,
      plannedAt: NOW,
      halted: false,
      mode: 'normal',
      riskTimeoutSeconds: 60,
      phases: [{ index: 0, data: [], strategy: [item], critical: [], concurrency: { data: 1, strategy: 1, critical: 1 } }],
      skipped: [],
      adjustments: [],
    }));
    await Promise.all(plans.map((p, i) => record(p, [[[], [i % 5 === 0 ? { ok: false, error: 'Error' } : ok(p, 'strategy')], []]])));
    expect(await getState('strategy')).toMatchObject({ executions: 50, successes: 40, failures: 10, version: 50 });
  });

  it('stores the plan for "Record outcomes" (not when halted) and refuses to record a cycle it has no plan for', async () => {
    const p = await plan('stored-plan');
    const item = (await db.doc.send(new GetCommand({ TableName: db.tables.Cycles, Key: { cycleId: 'stored-plan', sk: 'PLAN' }, ConsistentRead: true }))).Item!;
    expect(item.plan).toEqual(p);
    expect(item.expiresAt).toBeGreaterThan(Date.parse(NOW) / 1000);
    await expect(handler({ action: 'record', cycleId: 'never-planned', mode: 'normal', phaseResults: [] })).rejects.toMatchObject({ name: 'PlanNotFound' });
    // A plan too big for a state (Step Functions' 256 KiB) is refused with a clear error, not stored.
    const huge = {
      ...p,
      cycleId: 'huge',
      adjustments: Array.from({ length: 3000 }, (_, i) => ({
        agent: `a${i}`,
        param: 'positionUsd',
        configured: 20_000,
        from: 20_000,
        to: 18_000,
        reason: 'DEGRADED: reduce position sizes by 10 %',
      })),
    };
    await expect(savePlan(db.doc, db.tables.Cycles, huge, 30, Date.parse(NOW))).rejects.toMatchObject({
      name: 'PlanTooLarge',
      message: expect.stringMatching(/split the agents into groups/),
    });
  });

  it('rejects an unknown action with a named error', async () => {
    await expect(handler({ action: 'dance' })).rejects.toMatchObject({ name: 'InvalidSupervisorPayload' });
  });
});
