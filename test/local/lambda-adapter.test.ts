/** The local Lambda adapter is as strict as AWS on payloads: a raw task output over 256 KiB fails with States.DataLimitExceeded before any ResultSelector. */
import { createLambdaAdapter, lambdaContext, STATE_PAYLOAD_LIMIT_BYTES, type LambdaHandler } from '../../local/lambda-adapter';
import { SimClock } from '../../local/sim-clock';

const notes = { retryCountKeys: {}, timeoutPathStates: [], staticTimeouts: {}, retries: {}, tasks: { 'Run data agent': 'arn:aws:states:::lambda:invoke' } };

function adapterReturning(bytes: number) {
  const clock = new SimClock({ startMs: 0 });
  const adapter = createLambdaAdapter({
    clock,
    notes,
    functions: [
      {
        arn: 'arn:aws:lambda:local:000000000000:function:big',
        name: 'big',
        target: 'big',
        timeoutSeconds: 10,
        handler: async () => ({ blob: 'x'.repeat(bytes) }),
      },
    ],
  });
  return { clock, run: () => adapter.taskHandler('exec', 'Run data agent')({ FunctionName: 'big', Payload: {} }) };
}

test('a 300 KiB raw task output fails with States.DataLimitExceeded, as in AWS', async () => {
  const { clock, run } = adapterReturning(300 * 1024);
  try {
    await expect(run()).rejects.toMatchObject({
      name: 'States.DataLimitExceeded',
      message: expect.stringMatching(/raw output is \d+ bytes, over the 262144-byte \(256 KiB\) state quota/),
    });
  } finally {
    clock.dispose();
  }
});

test('an output just under the quota passes', async () => {
  const { clock, run } = adapterReturning(STATE_PAYLOAD_LIMIT_BYTES - 1024);
  try {
    await expect(run()).resolves.toMatchObject({ StatusCode: 200 });
  } finally {
    clock.dispose();
  }
});

it("lambdaContext: the function's names, a fresh request id, the time left until the deadline on the simulated clock", () => {
  let wall = 0;
  const clock = new SimClock({ startMs: 1_000_000, wallNow: () => wall });
  const fn = { name: 'AgentFleet-risk', arn: 'arn:aws:lambda:local:000000000000:function:AgentFleet-risk', timeoutSeconds: 60, memoryMb: 512 };
  const a = lambdaContext(fn, clock);
  const b = lambdaContext(fn, clock, 1_000_000 + 5_000);
  expect([a.functionName, a.invokedFunctionArn, a.memoryLimitInMB, a.logGroupName]).toEqual([fn.name, fn.arn, '512', '/aws/lambda/AgentFleet-risk']);
  expect(a.awsRequestId).not.toBe(b.awsRequestId);
  wall = 1_000;
  expect(a.getRemainingTimeInMillis()).toBe(59_000);
  expect(b.getRemainingTimeInMillis()).toBe(4_000);
  wall = 10_000;
  expect(b.getRemainingTimeInMillis()).toBe(0);
  clock.dispose();
});

it('aborts the signal of an invocation cut at its timeout (an isolated handler is terminated then)', async () => {
  const clock = new SimClock({ startMs: 0, timeScale: 1000 });
  let signal: AbortSignal | undefined;
  const hangs: LambdaHandler = (_e, _c, s) => ((signal = s), new Promise(() => undefined));
  const adapter = createLambdaAdapter({
    clock,
    notes: { ...notes, staticTimeouts: { 'Run data agent': 1 } },
    functions: [{ arn: 'arn:aws:lambda:local:000000000000:function:a', name: 'a', target: 'a', timeoutSeconds: 1, handler: hangs, holdsClock: true }],
  });
  try {
    await expect(adapter.taskHandler('exec', 'Run data agent')({ FunctionName: 'a', Payload: {} })).rejects.toMatchObject({ name: 'States.Timeout' });
    expect(signal?.aborted).toBe(true);
  } finally {
    clock.dispose();
  }
});

test('close ends an invocation in flight with LocalRuntimeClosed (its handler aborted) and refuses new ones', async () => {
  const clock = new SimClock({ startMs: 0 });
  let signal: AbortSignal | undefined;
  const adapter = createLambdaAdapter({
    clock,
    notes,
    functions: [
      {
        arn: 'arn:aws:lambda:local:000000000000:function:hung',
        name: 'hung',
        target: 'hung',
        timeoutSeconds: 300,
        // Never settles on its own, and the deadline is 300 simulated s away.
        handler: (_e, _c, s) => ((signal = s), new Promise(() => undefined)),
      },
    ],
  });
  const run = () => adapter.taskHandler('exec', 'Run data agent')({ FunctionName: 'hung', Payload: {} });
  try {
    const inFlight = run();
    await new Promise((r) => setImmediate(r));
    expect(signal?.aborted).toBe(false);
    adapter.close();
    await expect(inFlight).rejects.toMatchObject({ name: 'LocalRuntimeClosed' });
    expect(signal?.aborted).toBe(true);
    await expect(run()).rejects.toMatchObject({ name: 'LocalRuntimeClosed', message: 'the local runtime is closed' });
  } finally {
    clock.dispose();
  }
});
