/**
 * Agent health (lambdas/shared/supervision/health.ts): HEALTHY / DEGRADED / UNHEALTHY from the
 * recent outcomes, and the success rate.
 */
import { classifyHealth, successRate } from '../../lambdas/shared/supervision/health';

describe('health (R-HEALTH rule)', () => {
  it('fresh agent is HEALTHY', () => {
    expect(classifyHealth({ executions: 0, successes: 0, consecutiveFailures: 0 })).toBe('HEALTHY');
    expect(successRate({ executions: 0, successes: 0 })).toBe(1);
  });
  it('95 % with no consecutive failure is HEALTHY, just below is DEGRADED', () => {
    expect(classifyHealth({ executions: 20, successes: 19, consecutiveFailures: 0 })).toBe('HEALTHY');
    expect(classifyHealth({ executions: 100, successes: 94, consecutiveFailures: 0 })).toBe('DEGRADED');
  });
  it('one consecutive failure keeps a 99 % agent DEGRADED, not HEALTHY', () => {
    expect(classifyHealth({ executions: 100, successes: 99, consecutiveFailures: 1 })).toBe('DEGRADED');
  });
  it('80 % boundary: exactly 80 % is DEGRADED even with many consecutive failures; below with >2 is UNHEALTHY', () => {
    expect(classifyHealth({ executions: 20, successes: 16, consecutiveFailures: 4 })).toBe('DEGRADED');
    expect(classifyHealth({ executions: 100, successes: 79, consecutiveFailures: 3 })).toBe('UNHEALTHY');
  });
  it('2 consecutive failures keep a low-rate agent DEGRADED, 3 make it UNHEALTHY', () => {
    expect(classifyHealth({ executions: 10, successes: 5, consecutiveFailures: 2 })).toBe('DEGRADED');
    expect(classifyHealth({ executions: 10, successes: 5, consecutiveFailures: 3 })).toBe('UNHEALTHY');
  });
});
