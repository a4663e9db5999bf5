/**
 * Cycle control on the local runtime (the deployed ASL, the real handlers, dynalite, the simulated
 * clock), one run with every schedule and supervisor fault: a duplicate delivery, a plan whose
 * response is lost after it ran, a record whose response is lost after it ran (while a breaker
 * trips), a late slot and an overlapping one.
 */
import { parseFault } from '../../local/faults';
import type { LocalRuntime } from '../../local/runtime';
import { e2eConfig, start, E2E_TIMEOUT } from '../e2e/support';

jest.setTimeout(E2E_TIMEOUT);

describe('exactly one cycle per slot, supervisor faults handled (local runtime)', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it('duplicate@2, plan=throw@3, record=throw@4 (with a breaker trip), late@5, overlap@7', async () => {
    // failureThreshold 1: trading's single failure at slot 4 opens its breaker in the cycle whose record is retried.
    const config = e2eConfig((c) => {
      c.breaker = { failureThreshold: 1 };
      c.faultDomains = { strategy: { maxRetries: 0 } };
      c.cycle = {
        ...c.cycle,
        triggers: [{ name: 'earnings', eventPattern: { source: ['acme.news'], 'detail-type': ['Earnings'], detail: { symbol: [{ prefix: 'IB' }] } } }],
      };
    });
    rt = await start({
      config,
      faults: ['schedule=duplicate@2', 'plan=throw@3', 'record=throw@4', 'trading=throw@4', 'schedule=late@5', 'schedule=overlap@7'].map((f) => parseFault(f)),
    });
    const delivered = await rt.runSlots(7);
    // Slot 2's two deliveries race for the claim: either may win; order them winner first.
    const reps = [...delivered].sort((a, b) => a.cycle - b.cycle || (a.status === 'SKIPPED' ? 1 : 0) - (b.status === 'SKIPPED' ? 1 : 0));
    const run = await rt.report();
    const view = reps.map((r) => ({ cycle: r.cycle, status: r.status, cycleSeq: r.cycleSeq, skip: r.skip }));
    expect(view).toEqual([
      { cycle: 1, status: 'SUCCEEDED', cycleSeq: 1, skip: undefined },
      { cycle: 2, status: 'SUCCEEDED', cycleSeq: 2, skip: undefined },
      { cycle: 2, status: 'SKIPPED', cycleSeq: undefined, skip: 'duplicate' },
      { cycle: 3, status: 'SUCCEEDED', cycleSeq: 3, skip: undefined },
      { cycle: 4, status: 'SUCCEEDED', cycleSeq: 4, skip: undefined },
      { cycle: 5, status: 'SKIPPED', cycleSeq: undefined, skip: 'late' },
      { cycle: 6, status: 'SUCCEEDED', cycleSeq: 5, skip: undefined },
      { cycle: 7, status: 'SKIPPED', cycleSeq: undefined, skip: 'overlap' },
    ]);
    expect(reps[2].reason).toMatch(new RegExp(`^duplicate: slot default@${reps[1].slot} is already claimed by ${reps[1].cycleId}`));
    expect(reps[5].reason).toMatch(/^late: .* over cycle.maxLatenessSeconds \(900 s\)/);
    expect(reps[7].reason).toMatch(new RegExp(`^overlap: group default still runs ${reps[6].cycleId}`));

    // Slot 2 ran every agent once; the duplicate ran none.
    const agentCalls = (execution: string) => rt.invocations().filter((i) => i.execution === execution && /agent/.test(i.state) && i.target !== 'gateway');
    expect(
      agentCalls(reps[1].cycleId)
        .map((i) => i.target)
        .sort(),
    ).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
    expect(agentCalls(reps[2].cycleId)).toEqual([]);
    // The faults did fire: the plan of slot 3 and the record of slot 4 ran twice, the first response lost.
    const steps = (execution: string, state: string) =>
      rt
        .invocations()
        .filter((i) => i.execution === execution && i.state === state)
        .map((i) => i.outcome);
    expect(steps(reps[3].cycleId, 'Plan cycle')).toEqual(['error', 'ok']);
    expect(steps(reps[4].cycleId, 'Record outcomes')).toEqual(['error', 'ok']);
    // The retried record still reports the breaker transition the first attempt made.
    expect(reps[4].agents.find((a) => a.name === 'trading')).toMatchObject({ outcome: 'FAILED', breaker: 'OPEN', breakerTransition: 'CLOSED->OPEN' });
    expect(run.agents.trading).toMatchObject({ executions: 5, failures: 1 }); // slots 1, 2, 3, 4 and the HALF_OPEN probe at 6
    // Skipped slots neither halt nor fail anything; the late one is counted and notifies people.
    expect(run.system.halted).toBe(false);
    const late = run.alarmTransitions.find((t) => t.alarm === 'AgentFleet-LateSlot' && t.to === 'ALARM');
    expect(late).toBeDefined();
    expect(Date.parse(late!.at)).toBeGreaterThan(Date.parse(reps[5].slot));
    expect(run.alarmTransitions.filter((t) => t.to === 'ALARM').map((t) => t.alarm)).not.toContain('AgentFleet-CycleFailed');

    // Event-driven cycles: a matching event starts a cycle through the same claim; its redelivery is a duplicate; others start nothing.
    const event = { id: 'evt-1', source: 'acme.news', 'detail-type': 'Earnings', detail: { symbol: 'IBM' } };
    const [byEvent] = await rt.putEvent(event);
    expect(byEvent).toMatchObject({ status: 'SUCCEEDED', cycleSeq: 6 });
    expect(
      agentCalls(byEvent.cycleId)
        .map((i) => i.target)
        .sort(),
    ).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
    const [redelivered] = await rt.putEvent(event);
    expect(redelivered).toMatchObject({
      status: 'SKIPPED',
      skip: 'duplicate',
      reason: expect.stringContaining(`slot default@event:earnings:evt-1 is already claimed by ${byEvent.cycleId}`),
    });
    expect(await rt.putEvent({ id: 'evt-2', source: 'acme.news', 'detail-type': 'Earnings', detail: { symbol: 'KO' } })).toEqual([]);
  });
});

describe('a risk verdict must prove itself (local runtime)', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it('a risk entry returning { verdict: "OK" } alone halts the system in its first cycle; no agent runs', async () => {
    rt = await start({ config: e2eConfig((c) => (c.risk = { ...c.risk, entry: 'test/supervisor/fixtures/bare-ok-risk.ts' })) });
    const [first, second] = await rt.runSlots(2);
    expect(first).toMatchObject({ status: 'HALTED', cycleSeq: 1, risk: { verdict: 'HALT' } });
    expect(first.risk.reasons[0]).toMatch(/^Risk verdict refused: the result is not a RiskAssessment: cycleId: /);
    expect(rt.invocations().filter((i) => i.execution === first.cycleId && /agent/.test(i.state))).toEqual([]);
    expect(second.status).toBe('NOT_STARTED'); // the kill switch disabled the schedule
    expect((await rt.report()).system).toMatchObject({ halted: true });
  });
});

describe('a record that cannot be written (local runtime)', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it('record=down@1: after its retries, an in-band halt with the cause; never a lost one', async () => {
    rt = await start({ faults: [parseFault('record=down@1')] });
    const [first] = await rt.runSlots(1);
    expect(first.status).toBe('HALTED');
    expect(first.reason).toMatch(/^supervisor escalation: Record outcomes failed after its retries: InjectedFault: .*"record" ran, then its response was lost/);
    expect(rt.invocations().filter((i) => i.execution === first.cycleId && i.state === 'Record outcomes')).toHaveLength(4); // 1 + 3 retries
    const run = await rt.report();
    expect(run.system).toMatchObject({ halted: true, reason: expect.stringMatching(/Record outcomes failed after its retries/) });
  });
});
