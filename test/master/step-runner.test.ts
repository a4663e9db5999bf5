/**
 * The step runner of the Master's actions (lambdas/master/step-runner.ts): order, fail-safe continuation,
 * what each step verified, and readable messages for anything thrown.
 */
import { errorText, runSteps, type Step, type StepError } from '../../lambdas/master/step-runner';

describe('runSteps', () => {
  it('records a failing middle step and still runs the later steps, in order', async () => {
    const ran: string[] = [];
    const { records, errors } = await runSteps([
      { step: 'flag', run: async () => (ran.push('flag'), { changed: true }) },
      {
        step: 'schedules',
        failure: 'listing schedules failed',
        run: async () => {
          ran.push('schedules');
          throw Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' });
        },
      },
      { step: 'executions', run: async () => (ran.push('executions'), { stopped: ['arn:1'] }) },
    ]);
    expect(ran).toEqual(['flag', 'schedules', 'executions']);
    expect(records.map((r) => [r.step, r.ok])).toEqual([
      ['flag', true],
      ['schedules', false],
      ['executions', true],
    ]);
    expect(records[1]).toEqual({ step: 'schedules', ok: false, verified: undefined, error: 'listing schedules failed: ThrottlingException: rate exceeded' });
    expect(errors).toEqual([{ step: 'schedules', message: 'listing schedules failed: ThrottlingException: rate exceeded' }]);
  });

  it('lists what every step verified', async () => {
    const { records, errors } = await runSteps([
      { step: 'flag', run: async () => ({ changed: true, version: 3 }) },
      { step: 'orders', run: async () => ({ cancelled: 2 }) },
      { step: 'schedules', run: async () => ({ disabled: ['agent-fleet/cycle-default'], failed: 0 }) },
      { step: 'verify', run: async () => true },
    ] as const);
    expect(records).toEqual([
      { step: 'flag', ok: true, verified: { changed: true, version: 3 } },
      { step: 'orders', ok: true, verified: { cancelled: 2 } },
      { step: 'schedules', ok: true, verified: { disabled: ['agent-fleet/cycle-default'], failed: 0 } },
      { step: 'verify', ok: true, verified: true },
    ]);
    // typed records: the verified value keeps its shape
    const cancelled: number | undefined = records[1].verified?.cancelled;
    expect(cancelled).toBe(2);
    expect(errors).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['a string', 'SNS throttled', 'SNS throttled'],
    ['a number', 503, '503'],
    ['undefined', undefined, 'undefined'],
    ['a plain object', { code: 'Throttling', retryable: true }, '{"code":"Throttling","retryable":true}'],
    ['an empty object', {}, '{}'],
  ])('records a step that throws %s with a readable message', async (_what, thrown, text) => {
    const { records, errors } = await runSteps([
      {
        step: 'notify',
        run: async () => {
          throw thrown;
        },
      },
      { step: 'event', run: async () => 'published' },
    ]);
    expect(records[0]).toMatchObject({ step: 'notify', ok: false, error: text });
    expect(records[1]).toMatchObject({ step: 'event', ok: true, verified: 'published' });
    expect(errors).toEqual([{ step: 'notify', message: text }]);
  });

  it('a step that records failed items goes on and is not ok; failures keep the order they happened in', async () => {
    let seenByVerify: string[] = [];
    const { records, errors } = await runSteps([
      {
        step: 'schedules',
        run: async (scope) => {
          scope.fail('disabling a/one failed: Error: x');
          scope.fail('disabling a/two failed: Error: y');
          return { disabled: ['a/three'] };
        },
      },
      {
        step: 'verify',
        run: async (scope) => {
          seenByVerify = scope.errors.map((e) => e.message);
          scope.fail('schedules still enabled: a/one, a/two');
          return false;
        },
      },
    ]);
    expect(records[0]).toEqual({
      step: 'schedules',
      ok: false,
      verified: { disabled: ['a/three'] },
      error: 'disabling a/one failed: Error: x; disabling a/two failed: Error: y',
    });
    expect(records[1]).toMatchObject({ step: 'verify', ok: false, verified: false });
    expect(errors.map((e) => e.step)).toEqual(['schedules', 'schedules', 'verify']);
    // a later step sees the failures so far
    expect(seenByVerify).toEqual(['disabling a/one failed: Error: x', 'disabling a/two failed: Error: y']);
  });

  it('skips a step whose `when` says no, evaluated after the earlier steps ran; a throwing `when` is that step failure', async () => {
    let acted = false;
    const ran: string[] = [];
    const { records } = await runSteps([
      { step: 'executions', run: async () => ((acted = true), ran.push('executions')) },
      { step: 'notify', when: () => acted, run: async () => ran.push('notify') },
      { step: 'event', when: () => !acted, run: async () => ran.push('event') },
      {
        step: 'verify',
        when: () => {
          throw new TypeError('bad predicate');
        },
        run: async () => ran.push('verify'),
      },
      { step: 'notify', run: async () => ran.push('alert') },
    ]);
    expect(ran).toEqual(['executions', 'notify', 'alert']);
    expect(records[2]).toEqual({ step: 'event', ok: true, skipped: true, verified: undefined });
    expect(records[3]).toEqual({ step: 'verify', ok: false, verified: undefined, error: 'TypeError: bad predicate' });
  });

  it('appends to the list it is given (a second run of the same action keeps the first run failures first)', async () => {
    const errors: StepError[] = [{ step: 'orders', message: 'cancelling working orders failed: Error: down' }];
    const steps: Step[] = [
      {
        step: 'event',
        run: async () => {
          throw new Error('bus down');
        },
      },
    ];
    const out = await runSteps(steps, errors);
    expect(out.errors).toBe(errors);
    expect(errors).toEqual([
      { step: 'orders', message: 'cancelling working orders failed: Error: down' },
      { step: 'event', message: 'Error: bus down' },
    ]);
  });
});

describe('errorText', () => {
  it('names an Error by its name and message, and anything else readably', () => {
    expect(errorText(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))).toBe('AccessDeniedException: denied');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(null)).toBe('null');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorText(cyclic)).toBe('[object Object]');
  });
});
