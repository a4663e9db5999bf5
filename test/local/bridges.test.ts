/**
 * Pins the gaps between aws-local-stepfunctions 3.0.0 and AWS that local/bridges.ts bridges,
 * and checks the bridge on the real cycle definition.
 */
import '../../local/polyfills';
import { StateMachine } from 'aws-local-stepfunctions';
import { bridgeDefinition, matchRetryRule, retryDelaySeconds, SIM_START_TIME, TIMEOUT_PARAM, UnsupportedDefinitionError } from '../../local/bridges';
import { renderCycleDefinition, substituteArns } from '../../lib/state-machine/definition';
import { validateConfig } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';

const arns = { SupervisorFunctionArn: 'arn:sup', RiskFunctionArn: 'arn:risk', MasterFunctionArn: 'arn:master', GatewayFunctionArn: 'arn:gateway' };
const lambdaTask = (extra: Record<string, unknown>) => ({
  StartAt: 'T',
  States: {
    T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'f', Payload: { 'x.$': '$.x' } }, End: true, ...extra },
  },
});
const run = (def: unknown, input: unknown, handler: (i: unknown) => Promise<unknown>) =>
  new StateMachine(def as never, { validationOptions: { checkArn: false } }).run(input as never, {
    overrides: { taskResourceLocalHandlers: { T: handler as never } },
  }).result;

describe('gaps of the interpreter (pinned: if one closes, the bridge can go)', () => {
  it('gap 1: TimeoutSecondsPath is resolved against the input after Parameters', async () => {
    await expect(run(lambdaTask({ TimeoutSecondsPath: '$.t' }), { t: 5, x: 1 }, async (i) => i)).rejects.toThrow(/'\$\.t' does not point to a value/);
  });
  it('gap 2: $$.State.RetryCount is not provided', async () => {
    const def = lambdaTask({});
    (def.States.T.Parameters.Payload as Record<string, string>)['n.$'] = '$$.State.RetryCount';
    await expect(run(def, { x: 1 }, async (i) => i)).rejects.toThrow(/State\.RetryCount' does not point to a value/);
  });
  it('gap 3: an explicit ResultPath "$" is treated as a key', async () => {
    const out = await new StateMachine({ StartAt: 'P', States: { P: { Type: 'Pass', Result: { a: 1 }, ResultPath: '$', End: true } } } as never).run({ x: 1 })
      .result;
    expect(out).toEqual({ x: 1, $: { a: 1 } });
  });
  it('gap 5: $$.Execution.StartTime is the real time, whatever the context says', async () => {
    const def = { StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { 't.$': '$$.Execution.StartTime' }, End: true } } };
    const out = (await new StateMachine(def as never).run({}, { context: { Execution: { StartTime: '2000-01-01T00:00:00.000Z' } } as never }).result) as {
      t: string;
    };
    expect(out.t).not.toBe('2000-01-01T00:00:00.000Z');
  });
});

describe('bridgeDefinition', () => {
  it('rewrites $$.Execution.StartTime to the simulated start time the runtime puts in the context', async () => {
    const { definition } = bridgeDefinition({ StartAt: 'P', States: { P: { Type: 'Pass', Parameters: { 't.$': '$$.Execution.StartTime' }, End: true } } });
    const out = (await new StateMachine(definition as never).run({}, { context: { Execution: { [SIM_START_TIME]: '2000-01-01T00:00:00.000Z' } } as never })
      .result) as { t: string };
    expect(out.t).toBe('2000-01-01T00:00:00.000Z');
  });

  it('moves TimeoutSecondsPath into Parameters, resolved against the state input like AWS', async () => {
    const { definition, notes } = bridgeDefinition(lambdaTask({ TimeoutSecondsPath: '$.t' }));
    const seen: unknown[] = [];
    await run(definition, { t: 5, x: 1 }, async (i) => (seen.push(i), { Payload: 1 }));
    expect(seen[0]).toEqual({ FunctionName: 'f', Payload: { x: 1 }, [TIMEOUT_PARAM]: 5 });
    expect(notes.timeoutPathStates).toEqual(['T']);
  });

  it('rewrites the real cycle definition: no TimeoutSecondsPath, no RetryCount, attempt key recorded per agent task', () => {
    const def = substituteArns(renderCycleDefinition(validateConfig(defaultConfig)), arns);
    const { definition, notes } = bridgeDefinition(def as never);
    const text = JSON.stringify(definition);
    expect(text).not.toContain('TimeoutSecondsPath');
    expect(text).not.toContain('$$.State.RetryCount');
    expect(notes.retryCountKeys).toEqual({ 'Run data agent': ['attempt'], 'Run strategy agent': ['attempt'], 'Run critical agent': ['attempt'] });
    expect(notes.timeoutPathStates.sort()).toEqual(['Assess risk', 'Run critical agent', 'Run data agent', 'Run strategy agent']);
    expect(Object.keys(notes.tasks)).toHaveLength(13); // 8 + "Match working orders" + one "Execute ... agent orders" per fault domain + "Verify risk verdict"
    expect(JSON.stringify(def)).toContain('TimeoutSecondsPath'); // input untouched
  });

  it.each([
    ['QueryLanguage JSONata', { QueryLanguage: 'JSONata' }, /JSONata/],
    ['Assign', { Assign: { a: 1 } }, /Assign/],
    ['Output', { Output: '{% $x %}' }, /Output/],
    ['Arguments', { Arguments: {} }, /Arguments/],
    ['ResultPath $', { ResultPath: '$' }, /ResultPath/],
  ])('refuses %s with the state path', (_, extra, re) => {
    expect(() => bridgeDefinition(lambdaTask(extra))).toThrow(re);
    expect(() => bridgeDefinition(lambdaTask(extra))).toThrow(/States\["T"\]/);
  });

  it('refuses a Distributed Map, ItemReader and ToleratedFailure*, naming the nested path', () => {
    const map = (extra: Record<string, unknown>, mode = 'INLINE') => ({
      StartAt: 'M',
      States: {
        M: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: mode }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true, ...extra },
      },
    });
    expect(() => bridgeDefinition(map({}, 'DISTRIBUTED'))).toThrow(UnsupportedDefinitionError);
    expect(() => bridgeDefinition(map({}, 'DISTRIBUTED'))).toThrow(/States\["M"\].*Distributed/);
    expect(() => bridgeDefinition(map({ ItemReader: {} }))).toThrow(/ItemReader/);
    expect(() => bridgeDefinition(map({ ToleratedFailureCount: 1 }))).toThrow(/ToleratedFailureCount/);
    expect(() => bridgeDefinition(map({}))).not.toThrow();
  });

  it('refuses a Task that is not lambda:invoke', () => {
    expect(() => bridgeDefinition({ StartAt: 'T', States: { T: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } })).toThrow(
      /sqs:sendMessage/,
    );
  });
});

describe('retry helpers', () => {
  it('computes IntervalSeconds x BackoffRate^n capped by MaxDelaySeconds', () => {
    expect([0, 1, 2, 3].map((n) => retryDelaySeconds({ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, BackoffRate: 2 }, n))).toEqual([2, 4, 8, 16]);
    expect(retryDelaySeconds({ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, BackoffRate: 2, MaxDelaySeconds: 5 }, 3)).toBe(5);
  });
  it('matches like ASL: exact name, States.ALL, States.TaskFailed excludes States.Timeout', () => {
    const rules = [{ ErrorEquals: ['States.Timeout'], MaxAttempts: 0 }, { ErrorEquals: ['States.TaskFailed'] }];
    expect(matchRetryRule(rules, 'States.Timeout')).toBe(0);
    expect(matchRetryRule(rules, 'Boom')).toBe(1);
    expect(matchRetryRule([{ ErrorEquals: ['States.TaskFailed'] }], 'States.Timeout')).toBe(-1);
  });
});
