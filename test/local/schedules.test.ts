/**
 * The local EventBridge Scheduler (local/schedules.ts): fire times, execution names, target input.
 */
import { fillScheduleInput, nextFireTime, slotExecutionName } from '../../local/schedules';

describe('schedules', () => {
  const epoch = Date.parse('2026-01-05T14:30:00Z');
  it('rate(15 minutes) fires at multiples of the rate from the epoch', () => {
    expect(new Date(nextFireTime('rate(15 minutes)', 'UTC', epoch - 1, epoch)).toISOString()).toBe('2026-01-05T14:30:00.000Z');
    expect(new Date(nextFireTime('rate(15 minutes)', 'UTC', epoch, epoch)).toISOString()).toBe('2026-01-05T14:45:00.000Z');
  });
  it('cron(0/15 * * * ? *) fires on the quarter hour; cron honours the timezone', () => {
    expect(new Date(nextFireTime('cron(0/15 * * * ? *)', 'UTC', epoch + 1, epoch)).toISOString()).toBe('2026-01-05T14:45:00.000Z');
    // 09:30 New York (EST, UTC-5) on weekdays
    expect(new Date(nextFireTime('cron(30 9 ? * MON-FRI *)', 'America/New_York', epoch, epoch)).toISOString()).toBe('2026-01-06T14:30:00.000Z');
  });
  it('refuses an unknown expression', () => expect(() => nextFireTime('at(2026-01-01T00:00:00)', 'UTC', 0, 0)).toThrow(/Unsupported/));
  it('execution names are deterministic per slot and fill the placeholders', () => {
    const s = { name: 'AgentFleet-default', group: 'AgentFleet', expression: '', timezone: 'UTC', state: 'ENABLED' as const, targetArn: '', input: '' };
    expect(slotExecutionName(s, epoch)).toBe('AgentFleet-default-20260105T143000Z');
    expect(
      fillScheduleInput('{"Name":"<aws.scheduler.execution-id>","t":"<aws.scheduler.scheduled-time>"}', {
        scheduledTime: 'T',
        executionId: 'E',
        scheduleArn: 'A',
      }),
    ).toEqual({ Name: 'E', t: 'T' });
  });
});
