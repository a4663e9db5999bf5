/**
 * Step Functions fails an execution whose state input or output exceeds 256 KiB
 * (States.DataLimitExceeded); the interpreter does not, so the runtime records a warning for
 * every top-level state over the quota and the report carries it.
 */
import { checkPayload, type ExecutionEvent, type LocalExecution } from '../../local/executions';

const exec = (): LocalExecution => ({ name: 'x', arn: 'arn', input: {}, status: 'RUNNING', startMs: 0, events: [], payloadWarnings: [], done: Promise.resolve(undefined as never) });
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
