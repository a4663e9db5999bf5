/** The local Lambda adapter is as strict as AWS on payloads: a raw task output over 256 KiB fails with States.DataLimitExceeded before any ResultSelector. */
import { createLambdaAdapter, STATE_PAYLOAD_LIMIT_BYTES } from '../../local/lambda-adapter';
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
