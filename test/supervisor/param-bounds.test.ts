/**
 * Bounded parameter changes (lambdas/shared/supervision/param-bounds.ts): the supervisor's health
 * adjustments stay within ±maxParamAdjustFraction of the configured value.
 */
import fc from 'fast-check';
import { applyBoundedChanges, healthAdjustments, paramBounds } from '../../lambdas/shared/supervision/param-bounds';

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
