/**
 * Several schedule slots on the local runtime: circuit breaker transitions, in-band risk halt,
 * and an alarm-driven halt (agents keep failing -> FleetFailing alarm -> Master halts).
 */
import { parseFault } from '../../local/faults';
import type { LocalRuntime } from '../../local/runtime';
import { e2eConfig, start, E2E_TIMEOUT } from './support';

/** The default breaker (OPEN wait 1,800 s = two 15-minute cycles), so an OPEN breaker visibly skips cycles. */
const breakerConfig = () => e2eConfig(() => undefined);

jest.setTimeout(E2E_TIMEOUT);

describe('circuit breaker over cycles (--fail trading=throw)', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('opens after the 5th consecutive failure, skips trading without invoking it, probes HALF_OPEN and closes when the fault ends', async () => {
    rt = await start({ config: breakerConfig(), faults: [parseFault('trading=throw@1-6')] });
    const reps = await rt.runSlots(8);
    const trading = reps.map((r) => r.agents.find((a) => a.name === 'trading'));
    expect(reps.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(trading.slice(0, 5).map((t) => t?.outcome)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED']);
    expect(trading.slice(0, 4).map((t) => t?.breaker)).toEqual(['CLOSED', 'CLOSED', 'CLOSED', 'CLOSED']);
    expect(trading[4]).toMatchObject({ breaker: 'OPEN', breakerTransition: 'CLOSED->OPEN' });
    // while OPEN: skipped, no invocation in that cycle, the others still run
    const skipped = reps.findIndex((r) => r.agents.find((a) => a.name === 'trading')?.outcome === 'SKIPPED');
    expect(skipped).toBeGreaterThan(4);
    expect(rt.invocations().filter((i) => i.execution === reps[skipped].cycleId && i.target === 'trading')).toHaveLength(0);
    expect(reps[skipped].agents.filter((a) => a.name !== 'trading').every((a) => a.outcome === 'SUCCEEDED')).toBe(true);
    // a later cycle probes (HALF_OPEN), the fault has ended, the probe succeeds, the breaker closes
    const probe = trading.findIndex((t, i) => i > skipped && t?.outcome === 'SUCCEEDED');
    expect(probe).toBeGreaterThan(skipped);
    expect(probe + 1).toBeGreaterThan(6); // after the fault range 1-6
    expect(trading[probe]).toMatchObject({ breaker: 'CLOSED', breakerTransition: 'HALF_OPEN->CLOSED' });
    expect(rt.invocations().filter((i) => i.execution === reps[probe].cycleId && i.target === 'trading')).toHaveLength(1);
    const transitions = trading.map((t) => t?.breakerTransition).filter(Boolean);
    expect(transitions[0]).toBe('CLOSED->OPEN');
    expect(transitions[transitions.length - 1]).toBe('HALF_OPEN->CLOSED');
    expect((await rt.report()).agents.trading).toMatchObject({ breaker: 'CLOSED', tripCount: 0 });
  });
});

describe('a failing probe', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('re-opens the breaker (HALF_OPEN->OPEN) when the fault persists, and waits longer after the second trip', async () => {
    rt = await start({ config: breakerConfig(), faults: [parseFault('trading=throw')] });
    const reps = await rt.runSlots(10);
    const trading = reps.map((r) => r.agents.find((a) => a.name === 'trading'));
    // OPEN wait 1,800 s after the first trip: slots 6-7 skipped, slot 8 probes; 3,600 s after the second: 9-10 skipped.
    expect(trading.map((t) => t?.outcome)).toEqual(['FAILED', 'FAILED', 'FAILED', 'FAILED', 'FAILED', 'SKIPPED', 'SKIPPED', 'FAILED', 'SKIPPED', 'SKIPPED']);
    expect(trading[4]?.breakerTransition).toBe('CLOSED->OPEN');
    expect(trading[7]).toMatchObject({ breaker: 'OPEN', breakerTransition: 'HALF_OPEN->OPEN', attempts: 6 });
    const skippedCycles = new Set([5, 6, 8, 9].map((i) => reps[i].cycleId));
    expect(rt.invocations().filter((i) => i.target === 'trading' && skippedCycles.has(i.execution))).toHaveLength(0);
    expect(reps.every((r) => r.status === 'SUCCEEDED')).toBe(true);
  });
});

describe('in-band risk halt (--fail risk=throw@3-3 --cycles 8)', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('runs cycles 1-2, halts in cycle 3, starts no later cycle, and reports reason, actor and time to halt', async () => {
    rt = await start({ faults: [parseFault('risk=throw@3-3')] });
    const reps = await rt.runSlots(8);
    expect(reps.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'HALTED', 'NOT_STARTED', 'NOT_STARTED', 'NOT_STARTED', 'NOT_STARTED', 'NOT_STARTED']);
    expect(reps[2].risk.verdict).toBe('HALT');
    expect(rt.executions()).toHaveLength(3);
    const run = await rt.report();
    expect(run.system.halted).toBe(true);
    expect(run.system.reason).toBe('Risk verdict HALT: Risk check failed after its retries; failing closed'); // the full reason (issue 14)
    expect(run.system.actor).toBe(`cycle:${reps[2].cycleId}`);
    expect(run.system.timeToHaltMs).toEqual(expect.any(Number));
    expect(run.notifications.some((n) => n.channel === 'eventbridge' && n.subject === 'SystemHalted')).toBe(true);
  });
});

describe('alarm-driven halt', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('strategy, copybot and trading failing for 3 cycles -> FleetFailing ALARM -> Master halts (not in-band) -> no further cycle', async () => {
    rt = await start({ faults: ['strategy=throw', 'copybot=throw', 'trading=throw'].map((f) => parseFault(f)) });
    const reps = await rt.runSlots(6);
    expect(reps.slice(0, 3).map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(reps.slice(3).map((r) => r.status)).toEqual(['NOT_STARTED', 'NOT_STARTED', 'NOT_STARTED']);
    const run = await rt.report();
    expect(run.system.halted).toBe(true);
    expect(run.system.actor).toBe('alarm:AgentFleet-FleetFailing');
    const fleet = run.alarmTransitions.find((t) => t.alarm === 'AgentFleet-FleetFailing' && t.to === 'ALARM');
    expect(fleet?.at).toBe(reps[3].slot);
    // the halt came from the alarm action, not from a cycle's kill-switch state
    for (const r of reps.slice(0, 3))
      expect(rt.executionEvents(r.cycleId).some((e) => String((e.state as { name?: string })?.name).startsWith('Engage kill switch'))).toBe(false);
    expect(run.notifications.some((n) => n.channel === 'master' && /alarm AgentFleet-FleetFailing/.test(n.subject))).toBe(true);
  });
});
