/**
 * Large fleets: with per-agent alarms off, the per-agent alerts (R-ALERTS) become three fleet alarms
 * on the worst agent's value, so the alarm count (and the stack's resource count) does not grow
 * with the fleet. The supervisor computes those worst-agent values.
 */
import { validateConfig } from '../../lib/config/schema';
import { alarmPolicy, fleetAlarmSpecs } from '../../lib/constructs/alarm-catalog';
import { freshAgentState } from '../../lambdas/shared/supervision/agent-state';
import { fleetAggregates } from '../../lambdas/supervisor/metrics';
import defaults from '../fixtures/fleet';

const many = (n: number, perAgentAlarms: boolean) =>
  validateConfig({
    ...defaults,
    monitoring: { perAgentAlarms },
    agents: Array.from({ length: n }, (_, i) => ({ name: `a${i}`, entry: 'bench/fixtures/synthetic-agent.ts' })),
  });

test('alarm count is constant in the fleet size without per-agent alarms', () => {
  const small = fleetAlarmSpecs(many(5, false), 'S');
  const large = fleetAlarmSpecs(many(500, false), 'S');
  expect(large).toHaveLength(small.length);
  const byKind = new Map(large.map((a) => [a.kind, a]));
  expect(byKind.get('AnyAgentUnhealthy')).toMatchObject({
    metricName: 'MaxAgentUnhealthyCycles',
    threshold: 3,
    comparison: 'GreaterThanOrEqualToThreshold',
    policy: 'notify',
  });
  expect(byKind.get('AnyAgentLowSuccessRate')).toMatchObject({ metricName: 'MinAgentSuccessRate', threshold: 80, comparison: 'LessThanThreshold' });
  expect(byKind.get('AnyAgentFailureStreak')).toMatchObject({ metricName: 'MaxAgentConsecutiveFailures', threshold: 5 });
  expect(fleetAlarmSpecs(many(5, true), 'S').length).toBe(small.length - 3 + 5 * 3);
});

test('the Master policy stays small: per-agent alarms fall under "*"', () => {
  const policy = alarmPolicy(many(200, true), 'S');
  expect(policy['*']).toBe('notify');
  expect(Object.keys(policy).some((k) => k.startsWith('S-a1-'))).toBe(false);
  expect(JSON.stringify(policy).length).toBeLessThan(1024);
});

test('per-agent alarms without per-agent metrics is a config error with the field path', () => {
  expect(() => validateConfig({ ...defaults, monitoring: { perAgentMetrics: false } })).toThrow(
    /monitoring\.perAgentAlarms: per-agent alarms need monitoring\.perAgentMetrics/,
  );
});

test('fleet aggregates are the worst agent values; agents that never ran do not lower the success rate', () => {
  const a = { ...freshAgentState('a'), executions: 10, successes: 7, consecutiveFailures: 3, unhealthyCycles: 4 };
  const b = { ...freshAgentState('b'), executions: 20, successes: 19, consecutiveFailures: 0, unhealthyCycles: 0 };
  const idle = freshAgentState('idle');
  expect(fleetAggregates([a, b, idle])).toEqual({ maxUnhealthyCycles: 4, minSuccessRatePercent: 70, maxConsecutiveFailures: 3 });
  expect(fleetAggregates([idle])).toEqual({ maxUnhealthyCycles: 0, minSuccessRatePercent: 100, maxConsecutiveFailures: 0 });
});
