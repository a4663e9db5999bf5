/**
 * Paper trading on the real Dow Jones data until a day's loss passes the daily-loss limit: the
 * risk gate says HALT (a limit breach, not a data problem), the cycle engages the kill switch
 * in-band, and no later slot starts a cycle.
 */
import type { LocalRuntime } from '../../local/runtime';
import { e2eConfig, start, E2E_TIMEOUT } from './support';

jest.setTimeout(E2E_TIMEOUT);

describe('daily loss beyond the limit', () => {
  let rt: LocalRuntime;
  afterAll(() => rt?.close());

  it('gets HALT from risk and halts the system', async () => {
    const config = e2eConfig((c) => {
      // A tight daily-loss limit (0.1 % of equity) and a copybot that invests 40 % of equity in four names.
      c.risk!.limits = { ...c.risk!.limits, maxDailyLossFraction: 0.001, reduceAtFraction: 1 };
      c.agents = [{ name: 'copybot', params: { targetWeights: ['IBM:0.1', 'GE:0.1', 'KO:0.1', 'XOM:0.1'], rebalanceThreshold: 0.01 } }];
    });
    rt = await start({ config });
    const reports = await rt.runSlots(20);
    const halted = reports.findIndex((r) => r.status === 'HALTED');
    expect(halted).toBeGreaterThan(0); // the first cycle buys; a later bar loses more than 0.1 %
    expect(reports.slice(0, halted).every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect(reports[halted].risk.verdict).toBe('HALT');
    expect(reports[halted].risk.reasons.join(' ')).toMatch(/Daily loss/);
    expect(reports[halted].agents).toEqual([]); // no agent ran in the halted cycle
    expect(reports.slice(halted + 1).every((r) => r.status === 'NOT_STARTED')).toBe(true);
    const run = await rt.report();
    // The full reason (issue 14): the check, the figure and the limit, as on the flag, the audit trail and the event.
    expect(run.system).toMatchObject({
      halted: true,
      reason: expect.stringMatching(/^Risk verdict HALT: Daily loss .*BREACH: dailyLoss [\d.]+ vs limit 0\.001 fraction/),
      actor: expect.stringMatching(/^cycle:/),
    });
  });
});
