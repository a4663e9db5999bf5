/**
 * decideEscalation (lambdas/supervisor/escalation.ts): a critical agent's failure or OPEN breakers
 * reaching maxOpenBreakerFraction of the enabled agents escalate to the Master; a data or strategy
 * failure alone never does (its breaker handles it).
 */
import { decideEscalation } from '../../lambdas/supervisor/escalation';

describe('decideEscalation', () => {
  it('a critical FAILED outcome escalates with its reason; data and strategy failures do not', () => {
    expect(decideEscalation([{ name: 'hedge', outcome: 'FAILED', faultDomain: 'critical', reason: 'Timeout' }], 0, 4, 0.5)).toEqual({
      escalate: true,
      escalationReason: 'critical agent hedge failed: Timeout',
    });
    expect(
      decideEscalation(
        [
          { name: 'feed', outcome: 'FAILED', faultDomain: 'data' },
          { name: 'alpha', outcome: 'FAILED', faultDomain: 'strategy' },
          { name: 'hedge', outcome: 'SUCCEEDED', faultDomain: 'critical' },
        ],
        1,
        4,
        0.5,
      ),
    ).toEqual({ escalate: false, escalationReason: '' });
  });

  it('OPEN breakers escalate from the fraction on (>=), with the count and the percentage', () => {
    expect(decideEscalation([], 1, 4, 0.5).escalate).toBe(false);
    expect(decideEscalation([], 2, 4, 0.5)).toEqual({ escalate: true, escalationReason: '2 of 4 enabled agents have an OPEN breaker (>= 50 %)' });
    expect(decideEscalation([], 0, 0, 0.5).escalate).toBe(false);
  });

  it('joins several reasons; an unknown reason says so', () => {
    const e = decideEscalation([{ name: 'hedge', outcome: 'FAILED', faultDomain: 'critical' }], 3, 4, 0.5);
    expect(e.escalationReason).toBe('critical agent hedge failed: unknown reason; 3 of 4 enabled agents have an OPEN breaker (>= 50 %)');
  });
});
