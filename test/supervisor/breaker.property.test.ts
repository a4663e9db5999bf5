/**
 * Property tests of the breaker and agent-state rules under random outcome sequences and random
 * interleavings of overlapping cycles (plan reads, probe claims with a version check, records).
 */
import fc from 'fast-check';
import type { AgentStateItem } from '../../lambdas/shared/contracts';
import { applyOutcome, freshAgentState, resetAgentState } from '../../lambdas/shared/supervision/agent-state';
import { claimProbe, planBreakerDecision, type BreakerSettings } from '../../lambdas/shared/supervision/breaker';
import { validateConfig } from '../../lib/config/schema';

/** The config's breaker defaults. */
const DEFAULT_BREAKER_SETTINGS: BreakerSettings = validateConfig({ agents: [{ name: 'a', entry: 'a.ts' }] }).breaker;

const T0 = Date.parse('2024-01-01T00:00:00Z');
const FAST: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS, failureThreshold: 3, openSeconds: 60, maxOpenSeconds: 600, minimumRuns: 4, windowSize: 6 };
const LEASE = 1e9; // no stale-claim takeover in these runs

type Cycle =
  { id: string; phase: 'claiming'; snapshot: AgentStateItem; nowMs: number } | { id: string; phase: 'running'; probe: boolean } | { id: string; phase: 'done' };

const event = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('start' as const) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('claim' as const), which: fc.nat(5) }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant('record' as const),
      which: fc.nat(5),
      outcome: fc.constantFrom('SUCCEEDED', 'FAILED', 'FAILED', 'FAILED', 'SKIPPED') as fc.Arbitrary<'SUCCEEDED' | 'FAILED' | 'SKIPPED'>,
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 700 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('reset' as const) }), weight: 1 },
);

const COUNTERS = ['executions', 'successes', 'failures', 'skips', 'retries'] as const;

describe('breaker properties (random interleavings of overlapping cycles)', () => {
  it('never two live probes, OPEN never straight to CLOSED, counters only decrease via resetAgentState', () => {
    let probesGranted = 0;
    fc.assert(
      fc.property(fc.array(event, { minLength: 20, maxLength: 120, size: 'max' }), (events) => {
        let state = freshAgentState('a');
        let now = T0;
        let n = 0;
        const cycles: Cycle[] = [];
        const set = (next: AgentStateItem, viaReset = false) => {
          if (state.breaker === 'OPEN' && !viaReset) expect(next.breaker).not.toBe('CLOSED');
          if (!viaReset) for (const c of COUNTERS) expect(next[c]).toBeGreaterThanOrEqual(state[c]);
          state = next;
        };
        const liveProbes = () => cycles.filter((c) => c.phase === 'running' && c.probe).length;
        const grant = (id: string, probe: boolean) => {
          if (probe) {
            expect(liveProbes()).toBe(0);
            probesGranted++;
          }
          return { id, phase: 'running' as const, probe };
        };
        const skip = (id: string): Cycle => {
          set(applyOutcome(state, { outcome: 'SKIPPED', durationMs: 0, attempts: 0 }, { cycleId: id, nowMs: now, breaker: FAST }).state);
          return { id, phase: 'done' };
        };
        const decideFresh = (id: string): Cycle => {
          const d = planBreakerDecision(state, id, now, LEASE);
          if (d.action === 'run') return grant(id, false);
          if (d.action === 'probe') return grant(id, true);
          if (d.action === 'skip') return skip(id);
          set({ ...claimProbe(state, id, new Date(now).toISOString()), version: state.version + 1 });
          return grant(id, true);
        };
        for (const e of events) {
          if (e.kind === 'advance') now += e.seconds * 1000;
          else if (e.kind === 'reset') {
            set(resetAgentState(state), true);
            // the operator's reset clears the probe claim: a running probe is no longer the probe
            cycles.forEach((c, i) => {
              if (c.phase === 'running' && c.probe) cycles[i] = { ...c, probe: false };
            });
          } else if (e.kind === 'start') {
            const id = `c${n++}`;
            const d = planBreakerDecision(state, id, now, LEASE);
            if (d.action === 'claim') cycles.push({ id, phase: 'claiming', snapshot: state, nowMs: now });
            else cycles.push(decideFresh(id));
          } else if (e.kind === 'claim') {
            const pending = cycles.filter((c) => c.phase === 'claiming');
            if (pending.length === 0) continue;
            const c = pending[e.which % pending.length] as Extract<Cycle, { phase: 'claiming' }>;
            const idx = cycles.indexOf(c);
            if (state.version === c.snapshot.version) {
              set({ ...claimProbe(c.snapshot, c.id, new Date(c.nowMs).toISOString()), version: c.snapshot.version + 1 });
              cycles[idx] = grant(c.id, true);
            } else {
              cycles[idx] = decideFresh(c.id); // lost the race: re-read and recompute, like AgentStateStore.update
            }
          } else {
            const running = cycles.filter((c) => c.phase === 'running');
            if (running.length === 0) continue;
            const c = running[e.which % running.length];
            set(applyOutcome(state, { outcome: e.outcome, durationMs: 10, attempts: 1 }, { cycleId: c.id, nowMs: now, breaker: FAST }).state);
            cycles[cycles.indexOf(c)] = { id: c.id, phase: 'done' };
          }
          // the stored item never names a probe holder that is not HALF_OPEN
          if (state.probeCycleId) expect(state.breaker).toBe('HALF_OPEN');
        }
      }),
      { numRuns: 300 },
    );
    expect(probesGranted).toBeGreaterThan(100); // the random runs do reach HALF_OPEN and probe
  });

  it('with default settings and a success-only history, the breaker opens at exactly the 5th consecutive failure', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.integer({ min: 5, max: 9 }), (successes, failures) => {
        let s = freshAgentState('a');
        let i = 0;
        for (; i < successes; i++)
          s = applyOutcome(s, { outcome: 'SUCCEEDED', durationMs: 1, attempts: 1 }, { cycleId: `s${i}`, nowMs: T0, breaker: DEFAULT_BREAKER_SETTINGS }).state;
        for (let f = 1; f <= failures; f++) {
          const r = applyOutcome(s, { outcome: 'FAILED', durationMs: 1, attempts: 1 }, { cycleId: `f${f}`, nowMs: T0, breaker: DEFAULT_BREAKER_SETTINGS });
          expect(r.transition).toBe(f === 5 ? 'CLOSED->OPEN' : undefined);
          expect(r.state.breaker).toBe(f < 5 ? 'CLOSED' : 'OPEN');
          s = r.state;
        }
      }),
      { numRuns: 100 },
    );
  });

  it('with the failure-rate rule out of reach, any outcome sequence opens the breaker exactly when consecutive failures reach 5', () => {
    const noRate = { ...DEFAULT_BREAKER_SETTINGS, minimumRuns: 100 };
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (oks) => {
        let s = freshAgentState('a');
        oks.forEach((ok, i) => {
          const before = s;
          s = applyOutcome(s, { outcome: ok ? 'SUCCEEDED' : 'FAILED', durationMs: 1, attempts: 1 }, { cycleId: `c${i}`, nowMs: T0 + i, breaker: noRate }).state;
          if (before.breaker === 'CLOSED') expect(s.breaker === 'OPEN').toBe(!ok && before.consecutiveFailures + 1 === 5);
        });
      }),
      { numRuns: 200 },
    );
  });
});
