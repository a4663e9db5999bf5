/**
 * One cycle on LocalStack (stack deployed by `npm run local:deploy`). The endpoint is probed once,
 * before the tests are collected (LOCALSTACK_ENDPOINT, default
 * http://localhost:4566/_localstack/health): when none answers, Jest reports the suite as SKIPPED,
 * with the reason in its name, and `npm run test:localstack` exits 0; when one answers, the test
 * asserts the execution's real output, `{ cycleId, escalate, escalationReason }` (the OutputPath of
 * "Record outcomes").
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { spawnSync } from 'node:child_process';

const HEALTH = process.env.LOCALSTACK_ENDPOINT ?? 'http://localhost:4566/_localstack/health';
const ENDPOINT = new URL(HEALTH).origin;
const STACK = process.env.STACK_NAME ?? 'AgentFleet';
const clientConfig = { endpoint: ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** Synchronous probe (Jest collects tests synchronously): exit 0 when the health URL answers 2xx within 2 s. */
function localstackAnswers(url: string): boolean {
  const probe = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 5000, stdio: 'ignore' }).status === 0;
}

const up = localstackAnswers(HEALTH);
const suite = up ? describe : describe.skip;
// Jest does not print the names of a wholly skipped suite: say why once, on stderr.
if (!up) process.stderr.write(`LocalStack suite skipped: no LocalStack endpoint answers at ${HEALTH} (start one and run npm run local:deploy)\n`);
const title = up ? `cycle on LocalStack at ${ENDPOINT}` : `cycle on LocalStack (skipped: no LocalStack endpoint answers at ${HEALTH})`;

suite(title, () => {
  it('runs one execution of the deployed cycle to SUCCEEDED with output { cycleId, escalate: false, escalationReason }', async () => {
    const cfn = new CloudFormationClient(clientConfig);
    const sfn = new SFNClient(clientConfig);
    try {
      const stack = (await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks?.[0];
      const arn = stack?.Outputs?.find((o) => o.OutputKey === 'StateMachineArn')?.OutputValue;
      expect(arn).toEqual(expect.stringContaining(':stateMachine:'));
      const name = `localstack-test-${Date.now()}`;
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify({ source: 'operator', requestedBy: 'localstack-test' }) }),
      );
      let status = 'RUNNING';
      let output: string | undefined;
      let error: string | undefined;
      for (let i = 0; i < 240 && status === 'RUNNING'; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        status = d.status ?? 'RUNNING';
        output = d.output;
        error = d.error;
      }
      expect({ status, error }).toEqual({ status: 'SUCCEEDED', error: undefined });
      const result = JSON.parse(output ?? 'null') as Record<string, unknown>;
      expect(Object.keys(result).sort()).toEqual(['cycleId', 'escalate', 'escalationReason']);
      expect(result).toMatchObject({ cycleId: expect.any(String), escalate: false });
      expect(String(result.cycleId).length).toBeGreaterThan(0);
    } finally {
      cfn.destroy();
      sfn.destroy();
    }
  });
});
