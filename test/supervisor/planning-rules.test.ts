import fc from 'fast-check';
import { buildPhase, concurrencyShares, topologicalLevels } from '../../lambdas/shared/supervision/phases';
import { localTime, withinTradingHours } from '../../lambdas/shared/supervision/trading-hours';
import { applyBoundedChanges, healthAdjustments, paramBounds } from '../../lambdas/shared/supervision/param-bounds';
import type { WorkItem } from '../../lambdas/shared/contracts';

describe('phases', () => {
  it('topological levels follow dependencies (Kahn), keeping input order inside a level', () => {
    const levels = topologicalLevels([
      { name: 'trading', dependsOn: ['strategy', 'sentiment'] },
      { name: 'strategy', dependsOn: [] },
      { name: 'sentiment', dependsOn: [] },
      { name: 'copybot', dependsOn: [] },
      { name: 'report', dependsOn: ['trading'] },
    ]);
    expect(levels).toEqual([['strategy', 'sentiment', 'copybot'], ['trading'], ['report']]);
  });
  it('rejects a dependency cycle naming the agents in it', () => {
    expect(() =>
      topologicalLevels([
        { name: 'a', dependsOn: ['b'] },
        { name: 'b', dependsOn: ['a'] },
        { name: 'c', dependsOn: [] },
      ]),
    ).toThrow('dependency cycle among: a, b');
  });
  it('concurrency: each domain >= 1, proportional to item counts, non-empty shares sum to <= maxWorkers when it can', () => {
    expect(concurrencyShares({ data: 1, strategy: 3, critical: 0 }, 4)).toEqual({ data: 1, strategy: 3, critical: 1 });
    expect(concurrencyShares({ data: 6, strategy: 2, critical: 0 }, 4)).toEqual({ data: 3, strategy: 1, critical: 1 });
    expect(concurrencyShares({ data: 2, strategy: 2, critical: 2 }, 2)).toEqual({ data: 1, strategy: 1, critical: 1 });
    fc.assert(
      fc.property(fc.nat(30), fc.nat(30), fc.nat(30), fc.integer({ min: 1, max: 40 }), (d, s, c, w) => {
        const counts = { data: d, strategy: s, critical: c };
        const shares = concurrencyShares(counts, w);
        const nonEmpty = (['data', 'strategy', 'critical'] as const).filter((k) => counts[k] > 0);
        for (const k of ['data', 'strategy', 'critical'] as const) expect(shares[k]).toBeGreaterThanOrEqual(1);
        const used = nonEmpty.reduce((a, k) => a + shares[k], 0);
        expect(used).toBeLessThanOrEqual(Math.max(w, nonEmpty.length));
        for (const k of nonEmpty) expect(shares[k]).toBeLessThanOrEqual(Math.max(1, counts[k]));
      }),
      { numRuns: 200 },
    );
  });
  it('buildPhase splits items by fault domain in order', () => {
    const item = (agent: string, faultDomain: WorkItem['faultDomain']): WorkItem => ({
      agent,
      functionArn: `arn:${agent}`,
      timeoutSeconds: 1,
      faultDomain,
      params: {},
      dependsOn: [],
      probe: false,
    });
    const p = buildPhase(0, [item('a', 'data'), item('b', 'strategy'), item('c', 'data')], 4);
    expect(p.data.map((i) => i.agent)).toEqual(['a', 'c']);
    expect(p.strategy.map((i) => i.agent)).toEqual(['b']);
    expect(p.critical).toEqual([]);
  });
});

describe('trading hours (America/New_York across DST)', () => {
  const nyse = { timezone: 'America/New_York', start: '09:30', end: '16:00', weekdays: [1, 2, 3, 4, 5] };
  it('uses EST (UTC-5) before and EDT (UTC-4) after the 2024-03-10 switch', () => {
    // Friday 2024-03-08 14:30 UTC = 09:30 EST: open (start inclusive)
    expect(withinTradingHours(nyse, Date.parse('2024-03-08T14:30:00Z'))).toBe(true);
    expect(withinTradingHours(nyse, Date.parse('2024-03-08T14:29:00Z'))).toBe(false);
    // Monday 2024-03-11 13:30 UTC = 09:30 EDT: open; 14:30 UTC the same wall-clock rule in EST would also be open, 13:29 is not
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T13:30:00Z'))).toBe(true);
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T13:29:00Z'))).toBe(false);
    // end exclusive: 16:00 EDT = 20:00 UTC closed, 19:59 open
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T20:00:00Z'))).toBe(false);
    expect(withinTradingHours(nyse, Date.parse('2024-03-11T19:59:00Z'))).toBe(true);
  });
  it('weekdays are local: Saturday 00:30 UTC is still Friday evening in New York', () => {
    expect(localTime(Date.parse('2024-03-09T00:30:00Z'), 'America/New_York')).toEqual({ isoWeekday: 5, minutes: 19 * 60 + 30 });
    expect(withinTradingHours(nyse, Date.parse('2024-03-09T15:00:00Z'))).toBe(false); // Saturday 10:00
  });
  it('a window that spans midnight', () => {
    const night = { timezone: 'UTC', start: '22:00', end: '02:00', weekdays: [1, 2, 3, 4, 5, 6, 7] };
    expect(withinTradingHours(night, Date.parse('2024-03-09T23:00:00Z'))).toBe(true);
    expect(withinTradingHours(night, Date.parse('2024-03-09T01:59:00Z'))).toBe(true);
    expect(withinTradingHours(night, Date.parse('2024-03-09T02:00:00Z'))).toBe(false);
  });
});

describe('bounded parameter changes (±20 % of configured)', () => {
  it('clamps a request beyond the bound and records from/to/configured/reason', () => {
    const r = applyBoundedChanges('trading', { positionUsd: 20_000, minBreadth: 0.4, label: 'x' }, [{ param: 'positionUsd', to: 10_000, reason: 'cut' }], 0.2);
    expect(r.params.positionUsd).toBe(16_000);
    expect(r.changes).toEqual([
      { agent: 'trading', param: 'positionUsd', configured: 20_000, from: 20_000, to: 16_000, reason: 'cut (clamped to ±20 % of configured)' },
    ]);
  });
  it('rejects non-numeric or unknown params and fractions above the ±20 % boundary (R-PARAM-BOUNDS)', () => {
    expect(() => applyBoundedChanges('a', { label: 'x' }, [{ param: 'label', to: 1, reason: '' }], 0.2)).toThrow(/not a numeric configured parameter/);
    expect(() => applyBoundedChanges('a', { x: 1 }, [{ param: 'x', to: 1, reason: '' }], 0.3)).toThrow(/0\.\.0\.2/);
  });
  it('never leaves ±maxFraction of configured, whatever the requests', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.array(fc.double({ min: -1e7, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        (configured, targets, f) => {
          const r = applyBoundedChanges(
            'a',
            { sizeUsd: configured },
            targets.map((to) => ({ param: 'sizeUsd', to, reason: 'r' })),
            f,
          );
          const { min, max } = paramBounds(configured, f);
          const v = r.params.sizeUsd as number;
          expect(v).toBeGreaterThanOrEqual(min);
          expect(v).toBeLessThanOrEqual(max);
          for (const c of r.changes) expect(Math.abs(c.to - configured)).toBeLessThanOrEqual(Math.abs(configured) * f + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('planner policy: a DEGRADED agent has its *Usd params cut 10 %; a HEALTHY one runs as configured', () => {
    const params = { positionUsd: 20_000, minBreadth: 0.4 };
    expect(healthAdjustments('trading', params, 'HEALTHY', 0.2)).toEqual({ params, changes: [] });
    const d = healthAdjustments('trading', params, 'DEGRADED', 0.2);
    expect(d.params).toEqual({ positionUsd: 18_000, minBreadth: 0.4 });
    expect(d.changes).toHaveLength(1);
    expect(d.changes[0]).toMatchObject({ param: 'positionUsd', configured: 20_000, from: 20_000, to: 18_000 });
    // a 5 % boundary clamps the 10 % cut
    expect(healthAdjustments('trading', params, 'DEGRADED', 0.05).params.positionUsd).toBe(19_000);
  });
});
