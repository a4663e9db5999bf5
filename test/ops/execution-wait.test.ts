/** waitForExecution: `ops run-now` against AWS polls DescribeExecution until the cycle ends. */
import { waitForExecution, type ExecutionDescription } from '../../ops/execution-wait';

/** A DescribeExecution stand-in answering from a script (the AWS call itself is the SDK's). */
function scripted(answers: ExecutionDescription[]) {
  let calls = 0;
  const slept: number[] = [];
  return {
    describe: async () => answers[Math.min(calls++, answers.length - 1)],
    sleep: async (ms: number) => void slept.push(ms),
    calls: () => calls,
    slept,
  };
}

describe('waitForExecution', () => {
  it('polls while RUNNING, then returns the status, the parsed output and the duration', async () => {
    const s = scripted([
      { status: 'RUNNING' },
      { status: 'RUNNING' },
      { status: 'SUCCEEDED', output: '{"escalate":false}', startDate: new Date(0), stopDate: new Date(42_500) },
    ]);
    const r = await waitForExecution({ describe: s.describe, sleep: s.sleep, pollMs: 1_000 });
    expect(r).toEqual({ status: 'SUCCEEDED', output: { escalate: false }, durationMs: 42_500 });
    expect(s.calls()).toBe(3);
    expect(s.slept).toEqual([1_000, 1_000]);
  });

  it('a failed execution comes back with "error: cause" as its reason', async () => {
    const s = scripted([{ status: 'FAILED', error: 'States.Timeout', cause: 'Assess risk timed out' }]);
    expect(await waitForExecution({ describe: s.describe, sleep: s.sleep })).toEqual({ status: 'FAILED', reason: 'States.Timeout: Assess risk timed out' });
  });

  it('gives up after timeoutMs with RUNNING and says the execution goes on', async () => {
    const s = scripted([{ status: 'RUNNING' }]);
    const r = await waitForExecution({ describe: s.describe, sleep: s.sleep, pollMs: 5_000, timeoutMs: 20_000 });
    expect(r.status).toBe('RUNNING');
    expect(r.reason).toMatch(/still running after 20 s/);
    expect(s.slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(20_000);
  });
});
