/**
 * Dependency phases (lambdas/shared/supervision/phases.ts): topological levels of dependsOn, a
 * phase's work items split by fault domain, and each fault domain's share of maxWorkers.
 */
import fc from 'fast-check';
import { buildPhase, concurrencyShares, topologicalLevels } from '../../lambdas/shared/supervision/phases';
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
