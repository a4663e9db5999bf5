/**
 * The cycle definition's supervisor states, parsed (never string-matched): the skip path of a slot
 * that runs no cycle, the Retry and Catch of "Plan cycle" and "Record outcomes" (a record that
 * cannot be written is an in-band halt with the cause), and "Verify risk verdict" before the verdict is read.
 */
import { validateConfig } from '../../lib/config/schema';
import { renderCycleDefinition } from '../../lib/state-machine/definition';
import defaultConfig from '../fixtures/fleet';

const def = renderCycleDefinition(validateConfig(defaultConfig)) as unknown as { States: Record<string, any> };
const S = def.States;
const deterministic = (state: any): string[] => state.Retry.filter((r: any) => r.MaxAttempts === 0).flatMap((r: any) => r.ErrorEquals);

describe('supervisor states of the cycle', () => {
  it('"Plan cycle" re-reads the execution input (a BUFFER_ONE re-plan), retries transient errors only, and is caught', () => {
    const plan = S['Plan cycle'];
    expect(plan.Parameters.Payload['trigger.$']).toBe('$$.Execution.Input');
    expect(plan.Retry[0]).toEqual({ ErrorEquals: ['InvalidSupervisorPayload', 'GroupRequired', 'PlanTooLarge'], MaxAttempts: 0 });
    expect(plan.Retry[1]).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 });
    expect(plan.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.planError', Next: 'Cycle not planned' }]);
    expect(S['Cycle not planned']).toMatchObject({ Type: 'Fail', Error: 'PlanFailed', CausePath: '$.planError.Cause' });
  });

  it('a skipped slot ends at "Skip cycle (slot not run)"; a BUFFER_ONE slot waits and plans again', () => {
    const choices = S['Check halt flag'].Choices;
    expect(choices).toEqual(
      expect.arrayContaining([
        { Variable: '$.plan.skip', IsPresent: true, Next: 'Skip cycle (slot not run)' },
        { Variable: '$.plan.waitSeconds', IsPresent: true, Next: 'Wait for the running cycle' },
      ]),
    );
    expect(S['Skip cycle (slot not run)'].Type).toBe('Succeed');
    expect(S['Wait for the running cycle']).toMatchObject({ Type: 'Wait', SecondsPath: '$.plan.waitSeconds', Next: 'Plan cycle' });
  });

  it('"Verify risk verdict" sits between "Assess risk" and the verdict; its failure fails closed', () => {
    expect(S['Assess risk'].Next).toBe('Verify risk verdict');
    const v = S['Verify risk verdict'];
    expect(v.Parameters.Payload).toMatchObject({ action: 'verify-risk', 'cycleId.$': '$.plan.cycleId', 'assessment.$': '$.risk.assessment' });
    expect(v.ResultPath).toBe('$.risk');
    expect(v.Next).toBe('Check risk verdict');
    expect(v.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'Fail closed' });
  });

  it('"Record outcomes" retries transient errors; after them the halt is in-band with the cause', () => {
    const rec = S['Record outcomes'];
    expect(deterministic(rec)).toEqual(['InvalidSupervisorPayload', 'PlanNotFound']);
    expect(rec.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: 'Record failed: escalate' }]);
    const esc = S['Record failed: escalate'];
    expect(esc).toMatchObject({ Type: 'Pass', Next: 'Engage kill switch (supervisor)' });
    expect(esc.Parameters).toMatchObject({ 'cycleId.$': '$.plan.cycleId', escalate: true });
    expect(esc.Parameters['escalationReason.$']).toMatch(
      /^States\.Format\('Record outcomes failed after its retries: \{\}: \{\}', \$\.recordError\.Error, \$\.recordError\.Cause\)$/,
    );
    expect(S['Engage kill switch (supervisor)'].Parameters.Payload['reason.$']).toBe('$.escalationReason');
  });
});
