/**
 * The circuit breaker as a pure state machine (lambdas/shared/supervision/breaker.ts): CLOSED -> OPEN
 * after the failure threshold or rate, HALF_OPEN probes, back-off of the OPEN wait. Properties: breaker.property.test.ts.
 */
import { breakerAfterOutcome, claimProbe, openWaitSeconds, planBreakerDecision, tripReason } from '../../lambdas/shared/supervision/breaker';
import { applyOutcome, freshAgentState, resetAgentState } from '../../lambdas/shared/supervision/agent-state';
import type { AgentStateItem } from '../../lambdas/shared/contracts';
import type { BreakerSettings } from '../../lambdas/shared/supervision/breaker';
import { validateConfig } from '../../lib/config/schema';

/** The config's breaker defaults, with a first OPEN wait of 900 s (the default is two cadences). */
const S: BreakerSettings = { ...validateConfig({ agents: [{ name: 'a', entry: 'a.ts' }] }).breaker, openSeconds: 900 };

const T0 = Date.parse('2024-03-04T15:00:00Z');

describe('breaker (pure state machine)', () => {
  it('open wait grows exponentially per trip and is capped', () => {
    expect(openWaitSeconds(1, S)).toBe(900);
    expect(openWaitSeconds(2, S)).toBe(1800);
    expect(openWaitSeconds(4, S)).toBe(7200);
    expect(openWaitSeconds(5, S)).toBe(14_400);
    expect(openWaitSeconds(9, S)).toBe(14_400);
  });
  it('trips at failureThreshold consecutive failures, not before', () => {
    expect(tripReason(4, 'FFFF', S)).toBeUndefined();
    expect(tripReason(5, 'FFFFF', S)).toMatch(/5 consecutive failures/);
  });
  it('trips on failure rate only with minimumRuns in the window', () => {
    expect(tripReason(1, 'SFSFSFSFF', S)).toBeUndefined(); // 9 runs < 10
    expect(tripReason(1, 'SFSFSFSFSF', S)).toMatch(/failure rate 50 %/);
    expect(tripReason(1, 'SSSSSSFSSF', S)).toBeUndefined(); // 20 %
  });
  it('five failures from fresh open the breaker with openUntil = now + 900 s', () => {
    let s: AgentStateItem = freshAgentState('a');
    const transitions: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const r = applyOutcome(s, { outcome: 'FAILED', durationMs: 10, attempts: 1 }, { cycleId: `c${i}`, nowMs: T0, breaker: S });
      s = r.state;
      transitions.push(r.transition);
    }
    expect(transitions).toEqual([undefined, undefined, undefined, undefined, 'CLOSED->OPEN']);
    expect(s.breaker).toBe('OPEN');
    expect(s.tripCount).toBe(1);
    expect(s.openUntil).toBe(new Date(T0 + 900_000).toISOString());
    expect(s.health).toBe('UNHEALTHY');
  });
  it('plan: OPEN before openUntil skips with the time, at openUntil claims, HALF_OPEN held by another skips', () => {
    const open = { ...freshAgentState('a'), breaker: 'OPEN' as const, tripCount: 1, openUntil: new Date(T0 + 1000).toISOString() };
    expect(planBreakerDecision(open, 'c', T0, 3600)).toEqual({ action: 'skip', reason: `breaker OPEN until ${open.openUntil}` });
    expect(planBreakerDecision(open, 'c', T0 + 1000, 3600)).toEqual({ action: 'claim' });
    const half = claimProbe(open, 'c1', new Date(T0 + 1000).toISOString());
    expect(half.breaker).toBe('HALF_OPEN');
    expect(planBreakerDecision(half, 'c1', T0 + 2000, 3600)).toEqual({ action: 'probe' });
    expect(planBreakerDecision(half, 'c2', T0 + 2000, 3600)).toEqual({ action: 'skip', reason: 'breaker HALF_OPEN: probe already taken by c1' });
    // a stale claim (older than the lease) may be taken over
    expect(planBreakerDecision(half, 'c2', T0 + 1000 + 3600_000, 3600)).toEqual({ action: 'claim' });
  });
  it('HALF_OPEN probe success closes and resets; probe failure re-opens with a doubled wait', () => {
    const half: AgentStateItem = {
      ...freshAgentState('a'),
      breaker: 'HALF_OPEN',
      tripCount: 1,
      probeCycleId: 'p',
      consecutiveFailures: 5,
      window: 'FFFFF',
      executions: 5,
      failures: 5,
    };
    const ok = applyOutcome(half, { outcome: 'SUCCEEDED', durationMs: 5, attempts: 1 }, { cycleId: 'p', nowMs: T0, breaker: S });
    expect(ok.transition).toBe('HALF_OPEN->CLOSED');
    expect(ok.state).toMatchObject({ breaker: 'CLOSED', tripCount: 0, consecutiveFailures: 0, window: '', executions: 6, successes: 1, failures: 5 });
    expect(ok.state.probeCycleId).toBeUndefined();
    const bad = applyOutcome(half, { outcome: 'FAILED', durationMs: 5, attempts: 1 }, { cycleId: 'p', nowMs: T0, breaker: S });
    expect(bad.transition).toBe('HALF_OPEN->OPEN');
    expect(bad.state).toMatchObject({ breaker: 'OPEN', tripCount: 2, openUntil: new Date(T0 + 1800_000).toISOString() });
  });
  it('a non-probe success never closes an OPEN or HALF_OPEN breaker', () => {
    const open: AgentStateItem = { ...freshAgentState('a'), breaker: 'OPEN', tripCount: 1, openUntil: new Date(T0).toISOString() };
    expect(breakerAfterOutcome(open, 'SUCCEEDED', 'late', T0, S).fields.breaker).toBe('OPEN');
    const half: AgentStateItem = { ...open, breaker: 'HALF_OPEN', probeCycleId: 'p' };
    expect(breakerAfterOutcome(half, 'SUCCEEDED', 'other', T0, S).fields.breaker).toBe('HALF_OPEN');
  });
  it('a skip changes no breaker state; a skipped probe releases its claim', () => {
    const half: AgentStateItem = { ...freshAgentState('a'), breaker: 'HALF_OPEN', tripCount: 1, probeCycleId: 'p', probeClaimedAt: 'x' };
    const r = applyOutcome(half, { outcome: 'SKIPPED', durationMs: 0, attempts: 0 }, { cycleId: 'p', nowMs: T0, breaker: S });
    expect(r.state.breaker).toBe('HALF_OPEN');
    expect(r.state.probeCycleId).toBeUndefined();
    expect(r.state.skips).toBe(1);
    expect(r.state.executions).toBe(0);
    expect(planBreakerDecision(r.state, 'q', T0, 3600)).toEqual({ action: 'claim' });
  });
  it('counters: running mean, retries, unhealthyCycles; repeated cycle id is not applied twice; reset zeroes', () => {
    let s = freshAgentState('a');
    s = applyOutcome(s, { outcome: 'SUCCEEDED', durationMs: 100, attempts: 1 }, { cycleId: 'c1', nowMs: T0, breaker: S }).state;
    s = applyOutcome(s, { outcome: 'SUCCEEDED', durationMs: 300, attempts: 3 }, { cycleId: 'c2', nowMs: T0, breaker: S }).state;
    expect(s).toMatchObject({ executions: 2, successes: 2, avgDurationMs: 200, lastDurationMs: 300, retries: 2, version: 2 });
    const again = applyOutcome(s, { outcome: 'FAILED', durationMs: 1, attempts: 1 }, { cycleId: 'c1', nowMs: T0, breaker: S });
    expect(again.applied).toBe(false);
    expect(again.state).toBe(s);
    let u: AgentStateItem = { ...s, executions: 10, successes: 5, consecutiveFailures: 3 };
    u = applyOutcome(
      u,
      { outcome: 'FAILED', durationMs: 1, attempts: 1 },
      { cycleId: 'c3', nowMs: T0, breaker: { ...S, failureThreshold: 50, minimumRuns: 100 } },
    ).state;
    u = applyOutcome(u, { outcome: 'SKIPPED', durationMs: 0, attempts: 0 }, { cycleId: 'c4', nowMs: T0, breaker: S }).state;
    expect(u.health).toBe('UNHEALTHY');
    expect(u.unhealthyCycles).toBe(2);
    const r = resetAgentState(u);
    expect(r).toMatchObject({ executions: 0, successes: 0, failures: 0, skips: 0, retries: 0, breaker: 'CLOSED', health: 'HEALTHY', version: u.version + 1 });
  });
});
