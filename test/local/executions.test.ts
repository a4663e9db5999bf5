/**
 * Step Functions fails an execution whose state input or output exceeds 256 KiB
 * (States.DataLimitExceeded); the interpreter does not, so the runtime records a warning for
 * every top-level state over the quota and the report carries it.
 */
import { checkPayload, LocalExecutions, type ExecutionEvent, type LocalExecution } from '../../local/executions';
import { SimClock } from '../../local/sim-clock';

const exec = (): LocalExecution => ({
  name: 'x',
  arn: 'arn',
  input: {},
  status: 'RUNNING',
  startMs: 0,
  events: [],
  payloadWarnings: [],
  done: Promise.resolve(undefined as never),
});
const event = (type: string, payload: unknown, extra: Record<string, unknown> = {}): ExecutionEvent =>
  ({ type, simAt: 0, state: { name: 'Record outcomes', type: 'Task', input: payload, output: payload }, ...extra }) as ExecutionEvent;

test('warns for a top-level state input over 256 KiB and not for one under it', () => {
  const e = exec();
  checkPayload(e, event('StateEntered', { blob: 'x'.repeat(256 * 1024) }));
  checkPayload(e, event('StateExited', { blob: 'x'.repeat(200 * 1024) }));
  expect(e.payloadWarnings).toEqual([expect.stringMatching(/^"Record outcomes" input is 256 KiB, over the 256 KiB Step Functions quota/)]);
});

test('map iterations (events with an index) are not measured', () => {
  const e = exec();
  checkPayload(e, event('StateEntered', { blob: 'x'.repeat(300 * 1024) }, { index: 3 }));
  expect(e.payloadWarnings).toEqual([]);
});

describe('raw task results over 256 KiB (checked before ResultSelector, as AWS does)', () => {
  // A Task whose ResultSelector keeps one small field, with a States.ALL catcher: neither saves it in AWS.
  const definition = {
    StartAt: 'Record outcomes',
    States: {
      'Record outcomes': {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'arn:aws:lambda:local:000000000000:function:supervisor', Payload: {} },
        ResultSelector: { 'escalate.$': '$.Payload.escalate' },
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Pass', End: true },
    },
  };
  const run = async (resultBytes: number, handler?: () => Promise<unknown>) => {
    const clock = new SimClock({ startMs: 0, timeScale: 1000 });
    try {
      const executions = new LocalExecutions({
        definition,
        stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:Test',
        clock,
        taskStates: ['Record outcomes'],
        taskHandler: () => handler ?? (async () => ({ Payload: { escalate: false, outcomes: 'x'.repeat(resultBytes) }, StatusCode: 200 })),
      });
      return await executions.start('e1', {}).done;
    } finally {
      clock.dispose();
    }
  };

  it('a 300 KiB raw result fails the execution with States.DataLimitExceeded, past the States.ALL catcher', async () => {
    const e = await run(300 * 1024);
    expect(e).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', dataLimit: { state: 'Record outcomes' } });
    expect(e.dataLimit!.bytes).toBeGreaterThan(300 * 1024);
  });

  it("the Lambda adapter's own States.DataLimitExceeded also fails the execution past the catcher", async () => {
    const e = await run(0, async () => {
      throw Object.assign(new Error('State "Record outcomes": the task\'s raw output is 307300 bytes, over the 262144-byte (256 KiB) state quota'), {
        name: 'States.DataLimitExceeded',
      });
    });
    expect(e).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded', dataLimit: { state: 'Record outcomes', bytes: 307300 } });
  });

  it('a 200 KiB raw result passes (ResultSelector then keeps one field)', async () => {
    const e = await run(200 * 1024);
    expect(e).toMatchObject({ status: 'SUCCEEDED', output: { escalate: false } });
  });
});

describe('definition validation (once per definition and process)', () => {
  const opts = (definition: Record<string, unknown>) => ({
    definition,
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
    clock: new SimClock({ startMs: 0 }),
    taskStates: [],
    taskHandler: () => async () => ({}),
  });
  it('refuses an invalid definition every time it is given, and runs a valid one again without validating it', () => {
    const invalid = { StartAt: 'Nowhere', States: { Done: { Type: 'Succeed' } } };
    expect(() => new LocalExecutions(opts(invalid))).toThrow();
    expect(() => new LocalExecutions(opts(invalid))).toThrow();
    const valid = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
    expect(() => new LocalExecutions(opts(valid))).not.toThrow();
    expect(() => new LocalExecutions(opts(valid))).not.toThrow();
  });
});
