/**
 * The local alarm evaluator is as strict as CloudWatch where a deploy goes wrong: alarms exist from
 * the deploy and are evaluated every minute, with CloudWatch's missing-data rules, so a halting
 * alarm that treats missing data as breaching fires a minute after a fresh deploy. The synthesized
 * NoSuccessfulCycle alarm (metric math) does not, and still fires when cycles start and none succeeds.
 */
import { alarmSpecFromProps, LocalCloudWatch, parseExpression } from '../../local/alarms';
import { LocalTemplate } from '../../local/template';
import { synthAppModel } from '../../local/runtime';
import { validateConfig } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';

const DEPLOY = Date.parse('2026-01-05T14:22:30.000Z');
const MIN = 60_000;

describe('alarm evaluation from deploy time', () => {
  const model = synthAppModel(validateConfig(defaultConfig));
  const tpl = new LocalTemplate(model.template, model.stackName);
  const specs = tpl.ofType('AWS::CloudWatch::Alarm').map((id) => alarmSpecFromProps(id, tpl.props(id)));
  const noSuccess = specs.find((a) => a.name === 'AgentFleet-NoSuccessfulCycle')!;
  const arn = noSuccess.dims.StateMachineArn;
  const states = (cw: LocalCloudWatch, name: string, v: number, at: number) =>
    cw.put({ namespace: 'AWS/States', name, dims: { StateMachineArn: arn }, value: v, at });

  it('a breaching single-metric alarm (the old NoSuccessfulCycle) goes to ALARM at the first evaluation after a deploy with no data', () => {
    const old = alarmSpecFromProps('Old', {
      AlarmName: 'Old',
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsSucceeded',
      Dimensions: [{ Name: 'StateMachineArn', Value: arn }],
      Statistic: 'Sum',
      Period: 1800,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    const cw = new LocalCloudWatch([old], { createdAtMs: DEPLOY });
    // Deployed at 14:22:30; evaluated at whole minutes, the first at 14:23:00.
    expect(cw.evaluateUntil(DEPLOY + 30_000 - 1)).toEqual([]);
    expect(cw.evaluateUntil(DEPLOY + 30_000)).toEqual([expect.objectContaining({ alarm: 'Old', from: 'INSUFFICIENT_DATA', to: 'ALARM', at: DEPLOY + 30_000 })]);
  });

  it('no synthesized alarm goes to ALARM on a fresh stack with no data', () => {
    const cw = new LocalCloudWatch(specs, { createdAtMs: DEPLOY });
    const transitions = cw.evaluateUntil(DEPLOY + 6 * 3_600_000);
    expect(transitions.filter((t) => t.to === 'ALARM')).toEqual([]);
    expect(cw.states.get(noSuccess.name)?.value).toBe('OK');
  });

  it('NoSuccessfulCycle halts only when cycles start and none succeeds for two cadences, not when a cycle straddles a period end', () => {
    const cw = new LocalCloudWatch([noSuccess], { createdAtMs: DEPLOY });
    const slot = Date.parse('2026-01-05T14:30:00.000Z');
    const p = 15 * MIN;
    // A cycle that starts at 14:44:59 and succeeds at 14:45:30: one period with a start and no success only.
    states(cw, 'ExecutionsStarted', 1, slot);
    states(cw, 'ExecutionsSucceeded', 1, slot + 2 * MIN);
    states(cw, 'ExecutionsStarted', 1, slot + p - 1000);
    states(cw, 'ExecutionsSucceeded', 1, slot + p + 30_000);
    states(cw, 'ExecutionsStarted', 1, slot + p + 30_000);
    expect(cw.evaluateUntil(slot + 3 * p).filter((t) => t.to === 'ALARM')).toEqual([]);
    // Then two cadences in which cycles start and never succeed (they hang or abort).
    states(cw, 'ExecutionsStarted', 1, slot + 3 * p);
    states(cw, 'ExecutionsAborted', 1, slot + 3 * p + MIN);
    states(cw, 'ExecutionsStarted', 1, slot + 4 * p);
    const t = cw.evaluateUntil(slot + 5 * p + MIN);
    // Evaluated at whole minutes: the window ending at the period end is seen at that minute.
    expect(t).toEqual([expect.objectContaining({ alarm: noSuccess.name, to: 'ALARM', at: slot + 5 * p })]);
  });

  it('refuses metric math it cannot evaluate, naming the alarm', () => {
    expect(() => parseExpression('ANOMALY_DETECTION_BAND(m1)', 'X')).toThrow(
      /Alarm X: metric math .* not supported locally \(function ANOMALY_DETECTION_BAND\)/,
    );
    expect(parseExpression('IF(a > 1 AND NOT b, 1, -2) * 3')).toBeDefined();
  });
});
