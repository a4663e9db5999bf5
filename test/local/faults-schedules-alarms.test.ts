import { faultFor, parseFault } from '../../local/faults';
import { fillScheduleInput, nextFireTime, slotExecutionName } from '../../local/schedules';
import { alarmSpecFromProps, LocalCloudWatch, parseEmf } from '../../local/alarms';

describe('parseFault', () => {
  const known = ['trading', 'risk'];
  it('parses modes and ranges', () => {
    expect(parseFault('trading=throw', known)).toEqual({ target: 'trading', mode: 'throw' });
    expect(parseFault('risk=timeout@3', known)).toEqual({ target: 'risk', mode: 'timeout', first: 3, last: 3 });
    expect(parseFault('trading=garbage@2-4', known)).toEqual({ target: 'trading', mode: 'garbage', first: 2, last: 4 });
    expect(parseFault('trading=throw@2-', known)).toEqual({ target: 'trading', mode: 'throw', first: 2 });
  });
  it.each([
    ['nobody=throw', /unknown agent "nobody"/],
    ['trading=explode', /unknown mode/],
    ['trading=throw@5-2', /empty/],
    ['trading=throw@0', /start at 1/],
    ['trading', /expected TARGET=MODE/],
    ['schedule=throw@2', /mode "throw" does not apply to "schedule" \(use duplicate, late, overlap\)/],
    ['plan=timeout', /does not apply to "plan" \(use throw, down\)/],
    ['trading=duplicate', /does not apply to an agent/],
  ])('refuses %s', (spec, re) => expect(() => parseFault(spec, known)).toThrow(re));
  it('parses schedule and supervisor-step faults whatever the agent names', () => {
    expect(parseFault('schedule=duplicate@2', known)).toEqual({ target: 'schedule', mode: 'duplicate', first: 2, last: 2 });
    expect(parseFault('plan=throw@2', known)).toEqual({ target: 'plan', mode: 'throw', first: 2, last: 2 });
    expect(parseFault('record=throw', known)).toEqual({ target: 'record', mode: 'throw' });
  });
  it('applies a fault only inside its range', () => {
    const f = [parseFault('trading=throw@2-3')];
    expect([1, 2, 3, 4].map((c) => Boolean(faultFor(f, 'trading', c)))).toEqual([false, true, true, false]);
    expect(faultFor(f, 'risk', 2)).toBeUndefined();
  });
});

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

describe('LocalCloudWatch', () => {
  const props = {
    AlarmName: 'Failing',
    Namespace: 'AgentFleet',
    MetricName: 'FailedAgentFraction',
    Dimensions: [{ Name: 'service', Value: 'agent-fleet' }],
    Statistic: 'Maximum',
    Period: 900,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 0.5,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: ['arn:x'],
  };
  it('goes to ALARM when DatapointsToAlarm of EvaluationPeriods breach, and back to OK', () => {
    const cw = new LocalCloudWatch([alarmSpecFromProps('A', props)]);
    const put = (v: number, at: number) => cw.put({ namespace: 'AgentFleet', name: 'FailedAgentFraction', dims: { service: 'agent-fleet' }, value: v, at });
    put(0.75, 100);
    expect(cw.evaluateUntil(900_000)).toEqual([expect.objectContaining({ to: 'OK' })]); // 1 of 3 breaching
    put(0.75, 900_100);
    expect(cw.evaluateUntil(1_800_000)).toEqual([expect.objectContaining({ from: 'OK', to: 'ALARM', at: 1_800_000 })]);
    expect(cw.evaluateUntil(3_600_000 + 900_000)).toEqual([expect.objectContaining({ from: 'ALARM', to: 'OK' })]);
  });
  it('matches the exact dimension set (a per-agent datapoint does not feed a fleet alarm)', () => {
    const cw = new LocalCloudWatch([alarmSpecFromProps('A', { ...props, EvaluationPeriods: 1, DatapointsToAlarm: 1 })]);
    cw.put({ namespace: 'AgentFleet', name: 'FailedAgentFraction', dims: { service: 'agent-fleet', agent: 'x' }, value: 1, at: 10 });
    expect(cw.evaluateUntil(900_000)).toEqual([expect.objectContaining({ to: 'OK' })]);
  });
  it('refuses metric math', () => expect(() => alarmSpecFromProps('M', { AlarmName: 'M', Metrics: [{}] })).toThrow(/metric math/));
  it('parses EMF lines into one datapoint per metric and dimension set', () => {
    const line = JSON.stringify({
      _aws: {
        Timestamp: 1,
        CloudWatchMetrics: [{ Namespace: 'AgentFleet', Dimensions: [['service', 'agent']], Metrics: [{ Name: 'AgentFailed', Unit: 'Count' }] }],
      },
      service: 'agent-fleet',
      agent: 'trading',
      AgentFailed: 1,
    });
    expect(parseEmf(line, 42)).toEqual([
      { namespace: 'AgentFleet', name: 'AgentFailed', dims: { service: 'agent-fleet', agent: 'trading' }, value: 1, at: 42 },
    ]);
    expect(parseEmf('{"level":"INFO"}', 1)).toEqual([]);
  });
});
