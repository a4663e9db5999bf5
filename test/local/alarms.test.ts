/**
 * The local CloudWatch (local/alarms.ts): EMF parsing, alarm specs from the template, evaluation.
 */
import { alarmSpecFromProps, LocalCloudWatch, parseEmf } from '../../local/alarms';

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
