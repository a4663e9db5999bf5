/** Trigger parsing: every payload shape the Master accepts, and what it refuses. */
import { SnsEnvelope } from '@aws-lambda-powertools/parser/envelopes/sns';
import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SnsSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import { InvalidTrigger, parseAlarmPolicy, parseAwsTimestamp, parseTrigger, snsAlarmMessageSchema, type AlarmPolicy } from '../../lambdas/master/triggers';

const policy: AlarmPolicy = { 'AgentFleet-CriticalFailure': 'halt', 'AgentFleet-VarNearLimit': 'safe-mode', 'AgentFleet-SlowCycle': 'notify' };

/** CloudWatch's Lambda alarm action payload (shape from the CloudWatch user guide, "Invoke a Lambda function from an alarm"). */
function alarmEvent(alarmName: string, value: string, timestamp = '2024-03-01T12:36:15.490+0000') {
  return {
    source: 'aws.cloudwatch',
    alarmArn: `arn:aws:cloudwatch:us-east-1:000000000000:alarm:${alarmName}`,
    accountId: '000000000000',
    time: timestamp,
    region: 'us-east-1',
    alarmData: {
      alarmName,
      state: { value, reason: 'Threshold Crossed: 1 out of the last 1 datapoints [1.0] was greater than or equal to the threshold (1.0).', timestamp },
      previousState: { value: 'OK', reason: 'ok', timestamp: '2024-03-01T12:00:00.000+0000' },
      configuration: { metrics: [] },
    },
  };
}

function snsEvent(message: unknown) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        Sns: { Type: 'Notification', Subject: 'ALARM: "x" in US East (N. Virginia)', Message: typeof message === 'string' ? message : JSON.stringify(message) },
      },
    ],
  };
}

describe('parseTrigger: alarms', () => {
  it('a direct alarm going to ALARM with policy halt becomes a halt by alarm:<name>, detected at the state timestamp', () => {
    const cmd = parseTrigger(alarmEvent('AgentFleet-CriticalFailure', 'ALARM'), policy);
    expect(cmd).toEqual({
      kind: 'halt',
      request: {
        actor: 'alarm:AgentFleet-CriticalFailure',
        source: 'alarm',
        reason: expect.stringContaining('Threshold Crossed'),
        detectedAt: Date.UTC(2024, 2, 1, 12, 36, 15, 490),
      },
    });
  });

  it.each(['OK', 'INSUFFICIENT_DATA'])('a transition to %s is ignored', (value) => {
    const cmd = parseTrigger(alarmEvent('AgentFleet-CriticalFailure', value), policy);
    expect(cmd).toEqual({ kind: 'ignore', ignore: expect.stringContaining(`went to ${value}`) });
  });

  it("'*' gives every alarm not named its policy, without a warning (per-agent alarms)", () => {
    const withDefault = { 'AgentFleet-CycleFailed': 'halt' as const, '*': 'notify' as const };
    const cmd = parseTrigger(alarmEvent('AgentFleet-trading-FailureStreak', 'ALARM'), withDefault);
    expect(cmd).toMatchObject({ kind: 'notify' });
    expect(cmd).not.toHaveProperty('warning');
    expect(parseTrigger(alarmEvent('AgentFleet-CycleFailed', 'ALARM'), withDefault)).toMatchObject({ kind: 'halt' });
  });

  it('policy safe-mode switches safe mode on; notify only notifies; an unknown alarm notifies with a warning', () => {
    expect(parseTrigger(alarmEvent('AgentFleet-VarNearLimit', 'ALARM'), policy)).toMatchObject({
      kind: 'safe-mode',
      request: { on: true, source: 'alarm', actor: 'alarm:AgentFleet-VarNearLimit' },
    });
    const notify = parseTrigger(alarmEvent('AgentFleet-SlowCycle', 'ALARM'), policy);
    expect(notify).toMatchObject({ kind: 'notify', subject: expect.stringContaining('AgentFleet-SlowCycle') });
    expect(notify).not.toHaveProperty('warning');
    expect(parseTrigger(alarmEvent('Someone-Else', 'ALARM'), policy)).toMatchObject({
      kind: 'notify',
      warning: expect.stringContaining('not in ALARM_POLICY'),
    });
  });

  it('parses the same alarm delivered through SNS', () => {
    const cmd = parseTrigger(
      snsEvent({
        AlarmName: 'AgentFleet-CriticalFailure',
        AlarmDescription: null,
        AWSAccountId: '000000000000',
        NewStateValue: 'ALARM',
        NewStateReason: 'Threshold Crossed',
        StateChangeTime: '2024-03-01T12:36:15.490+0000',
        Region: 'US East (N. Virginia)',
        OldStateValue: 'OK',
      }),
      policy,
    );
    expect(cmd).toMatchObject({ kind: 'halt', request: { actor: 'alarm:AgentFleet-CriticalFailure', detectedAt: Date.UTC(2024, 2, 1, 12, 36, 15, 490) } });
    expect(
      parseTrigger(
        snsEvent({ AlarmName: 'AgentFleet-CriticalFailure', NewStateValue: 'OK', NewStateReason: '', StateChangeTime: '2024-03-01T12:36:15.490+0000' }),
        policy,
      ),
    ).toMatchObject({
      kind: 'ignore',
    });
  });
});

describe('parseTrigger: in-band, operator, status', () => {
  it('an in-band halt from the cycle excludes the calling execution and names the cycle as actor', () => {
    const cmd = parseTrigger(
      {
        action: 'halt',
        source: 'cycle',
        cycleId: 'slot-0915',
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Cycle:slot-0915',
        reason: 'Risk verdict HALT',
        details: { verdict: 'HALT' },
      },
      policy,
    );
    expect(cmd).toEqual({
      kind: 'halt',
      request: {
        actor: 'cycle:slot-0915',
        source: 'cycle',
        reason: 'Risk verdict HALT',
        cycleId: 'slot-0915',
        excludeExecutionArn: 'arn:aws:states:us-east-1:000000000000:execution:Cycle:slot-0915',
        details: { verdict: 'HALT' },
      },
    });
  });

  it('an in-band supervisor escalation with an empty reason gets a default reason', () => {
    const cmd = parseTrigger({ action: 'halt', source: 'supervisor', cycleId: 'c', executionArn: 'arn:x', reason: '' }, policy);
    expect(cmd).toMatchObject({ kind: 'halt', request: { reason: 'Supervisor escalation', actor: 'supervisor:c' } });
  });

  it('operator commands and status', () => {
    expect(parseTrigger({ action: 'halt', source: 'operator', actor: 'operator:alice', reason: 'drill' }, policy)).toEqual({
      kind: 'halt',
      request: { actor: 'operator:alice', source: 'operator', reason: 'drill' },
    });
    expect(parseTrigger({ action: 'resume', source: 'operator', actor: 'operator:alice', reason: 'ok' }, policy)).toMatchObject({ kind: 'resume' });
    expect(parseTrigger({ action: 'safe-mode', on: false, source: 'operator', actor: 'operator:alice', reason: 'ok' }, policy)).toMatchObject({
      kind: 'safe-mode',
      request: { on: false },
    });
    expect(parseTrigger({ action: 'status' }, policy)).toEqual({ kind: 'status' });
  });
});

describe('parseTrigger: malformed payloads throw InvalidTrigger with the path', () => {
  const cases: Array<[string, unknown, string]> = [
    [
      'alarm with an unknown state',
      { ...alarmEvent('A', 'ALARM'), alarmData: { ...alarmEvent('A', 'ALARM').alarmData, state: { value: 'RED', timestamp: 't' } } },
      'alarmData.state.value',
    ],
    ['alarm with a bad timestamp', alarmEvent('A', 'ALARM', 'yesterday'), 'alarmData.state.timestamp'],
    ['SNS message that is not JSON', snsEvent('not json'), 'Records.0.Sns.Message'],
    ['SNS message without AlarmName', snsEvent({ NewStateValue: 'ALARM', StateChangeTime: '2024-03-01T00:00:00Z' }), 'Records.0.Sns.Message.AlarmName'],
    ['SNS envelope whose record is not from SNS', { Records: [{ ...snsEvent({}).Records[0], EventSource: 'aws:sqs' }] }, 'Records.0.EventSource'],
    [
      'SNS envelope whose record has no Message',
      { Records: [{ EventSource: 'aws:sns', Sns: { Type: 'Notification', Subject: 's' } }] },
      'Records.0.Sns.Message',
    ],
    ['SNS envelope without records', { Records: [] }, 'Records'],
    ['in-band halt without executionArn', { action: 'halt', source: 'cycle', cycleId: 'c', reason: 'r' }, 'executionArn'],
    ['safe-mode without on', { action: 'safe-mode', source: 'operator', actor: 'a', reason: 'r' }, 'on'],
    ['operator halt without actor', { action: 'halt', source: 'operator', reason: 'r' }, 'actor'],
    ['unknown action', { action: 'explode' }, 'action'],
    ['not an object', 'halt', '(root)'],
  ];
  it.each(cases)('%s', (_label, event, path) => {
    let caught: unknown;
    try {
      parseTrigger(event, policy);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidTrigger);
    expect((caught as InvalidTrigger).name).toBe('InvalidTrigger');
    expect((caught as InvalidTrigger).path).toBe(path);
    expect((caught as Error).message).toContain(`at ${path}`);
  });
});

describe('helpers', () => {
  it('parseAlarmPolicy accepts JSON maps of known actions and names the bad field', () => {
    expect(parseAlarmPolicy(undefined)).toEqual({});
    expect(parseAlarmPolicy('{"A":"halt","B":"notify"}')).toEqual({ A: 'halt', B: 'notify' });
    expect(() => parseAlarmPolicy('{"A":"explode"}')).toThrow(/ALARM_POLICY is malformed at A/);
    expect(() => parseAlarmPolicy('{')).toThrow(/not JSON/);
  });

  it('parseAwsTimestamp reads CloudWatch offsets without a colon and ISO 8601', () => {
    expect(parseAwsTimestamp('2024-03-01T12:36:15.490+0000')).toBe(Date.UTC(2024, 2, 1, 12, 36, 15, 490));
    expect(parseAwsTimestamp('2024-03-01T14:36:15.490+0200')).toBe(Date.UTC(2024, 2, 1, 12, 36, 15, 490));
    expect(parseAwsTimestamp('2024-03-01T12:36:15Z')).toBe(Date.UTC(2024, 2, 1, 12, 36, 15));
    expect(parseAwsTimestamp('nope')).toBeNaN();
  });
});

/**
 * The SNS event exactly as Lambda receives it from a topic (AWS Lambda developer guide, "Using Lambda with Amazon SNS";
 * Powertools Parser's `SnsSchema` requires every one of these fields).
 */
function fullSnsEvent(message: unknown) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:000000000000:alerts:0b2e4d0c-1b4e-4c59-9d0c-6f2b7a4f8a11',
        Sns: {
          Type: 'Notification',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          TopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
          Subject: 'ALARM: "AgentFleet-CriticalFailure" in US East (N. Virginia)',
          Message: JSON.stringify(message),
          Timestamp: '2024-03-01T12:36:16.012Z',
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
          UnsubscribeUrl: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:000000000000:alerts:0b2e',
          MessageAttributes: {},
        },
      },
    ],
  };
}

describe('parseTrigger: the SNS envelope agrees with Powertools Parser', () => {
  // The Master keeps its own small envelope schema (it reads EventSource and Sns.Message only): Parser's schemas import
  // `{ z }` from zod, which bundles every zod locale into the Master (+360 KB, README "Performance"). Parser is the reference here.
  const alarm = {
    AlarmName: 'AgentFleet-CriticalFailure',
    NewStateValue: 'ALARM',
    NewStateReason: 'Threshold Crossed',
    StateChangeTime: '2024-03-01T12:36:15.490+0000',
    OldStateValue: 'OK',
  };

  it("an event Parser's SnsSchema accepts gives the alarm Parser's SnsEnvelope extracts with the Master's message schema", () => {
    const event = fullSnsEvent(alarm);
    expect(SnsSchema.safeParse(event).success).toBe(true);
    const [viaParser] = SnsEnvelope.parse(event, JSONStringified(snsAlarmMessageSchema));
    const cmd = parseTrigger(event, policy);
    expect(cmd).toEqual({
      kind: 'halt',
      request: {
        actor: `alarm:${viaParser.AlarmName}`,
        reason: `Alarm ${viaParser.AlarmName} in ALARM: ${viaParser.NewStateReason}`,
        source: 'alarm',
        detectedAt: parseAwsTimestamp(viaParser.StateChangeTime),
      },
    });
  });

  it('a message Parser refuses with the alarm schema, the Master refuses at the same field', () => {
    const event = fullSnsEvent({ ...alarm, NewStateValue: 'RED' });
    expect(SnsEnvelope.safeParse(event, JSONStringified(snsAlarmMessageSchema)).success).toBe(false);
    expect(() => parseTrigger(event, policy)).toThrow(/Invalid trigger \(sns alarm\) at Records\.0\.Sns\.Message\.NewStateValue: /);
  });
});
