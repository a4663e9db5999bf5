/**
 * Authority from IAM, not from the payload: the Master (invokable by alarms, the cycle and
 * CloudFormation) never loosens control; the operator function does, for the IAM identity Lambda
 * verified, whatever the body claims. And the Master's answer to CloudFormation after a deploy.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { createMasterHandler, createOperatorHandler, type CustomResourceResponse, type FunctionUrlRequest } from '../../lambdas/master/handler';
import { readControlItem } from '../../lambdas/shared/control-read';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { InMemoryPlatformPorts } from './in-memory-ports';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('master-authority');
});
afterAll(async () => db.stop());
beforeEach(async () => {
  await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
});

function setup() {
  const ports = new InMemoryPlatformPorts([{ group: 'g', name: 's' }], ['slot-1']);
  const responses: Array<{ url: string; body: CustomResourceResponse }> = [];
  const deps = {
    ports,
    doc: db.doc,
    controlTable: db.tables.Control,
    alarmPolicy: {},
    verifyRetryDelaysMs: [],
    respond: async (url: string, body: CustomResourceResponse) => void responses.push({ url, body }),
  };
  const operatorFn = createOperatorHandler(deps);
  const call = async (body: unknown, userArn?: string) => {
    const event: FunctionUrlRequest = { requestContext: userArn ? { authorizer: { iam: { userArn } } } : {}, body: JSON.stringify(body) };
    const res = await operatorFn(event);
    return { status: res.statusCode, body: JSON.parse(res.body) };
  };
  return { ports, master: createMasterHandler(deps), call, responses };
}

const ALICE = 'arn:aws:iam::123456789012:user/alice';

it('the Master refuses resume and safe mode off even from an operator payload that claims an alarm actor', async () => {
  const { master } = setup();
  await master({ action: 'halt', source: 'operator', actor: 'operator:bob', reason: 'drill' });
  await expect(master({ action: 'resume', source: 'operator', actor: 'alarm:AgentFleet-RiskHalt', reason: 'ok' })).rejects.toMatchObject({
    name: 'ResumeRefused',
  });
  await expect(master({ action: 'safe-mode', on: false, source: 'operator', actor: 'operator:bob', reason: 'ok' })).rejects.toMatchObject({
    name: 'SafeModeRefused',
  });
  expect((await readControlItem(db.doc, db.tables.Control)).halted).toBe(true);
  // Tightening stays open: safe mode on.
  await expect(master({ action: 'safe-mode', on: true, source: 'operator', actor: 'operator:bob', reason: 'careful' })).resolves.toMatchObject({
    action: 'SAFE_MODE_ON',
  });
});

it('the operator function resumes for the verified IAM identity and audits it, ignoring any actor in the body', async () => {
  const { master, call, ports } = setup();
  await master({ action: 'halt', source: 'operator', actor: 'operator:bob', reason: 'drill' });
  const res = await call({ action: 'resume', reason: 'drill over', actor: 'alarm:AgentFleet-RiskHalt' }, ALICE);
  expect(res).toMatchObject({ status: 200, body: { action: 'RESUME', changed: true } });
  const item = await readControlItem(db.doc, db.tables.Control);
  expect(item).toMatchObject({ halted: false, actor: ALICE });
  expect(item.audit.map((a) => [a.action, a.actor])).toEqual([
    ['HALT', 'operator:bob'],
    ['RESUME', ALICE],
  ]);
  expect(ports.schedules[0].enabled).toBe(true);
});

it('the operator function answers 403 without an IAM identity and 400 for a refused or malformed request, changing nothing', async () => {
  const { master, call } = setup();
  await master({ action: 'halt', source: 'operator', actor: 'operator:bob', reason: 'drill' });
  expect(await call({ action: 'resume', reason: 'ok' })).toMatchObject({ status: 403, body: { error: 'Forbidden' } });
  expect(await call({ action: 'resume', reason: '  ' }, ALICE)).toMatchObject({ status: 400, body: { error: 'ResumeRefused' } });
  expect(await call({ action: 'safe-mode', reason: 'x' }, ALICE)).toMatchObject({
    status: 400,
    body: { error: 'InvalidTrigger', message: expect.stringContaining('body.on') },
  });
  expect((await readControlItem(db.doc, db.tables.Control)).halted).toBe(true);
});

describe('CloudFormation custom resource (Custom::ReapplyHalt)', () => {
  const request = (RequestType: string) => ({
    RequestType,
    ResponseURL: 'https://cfn.example/response',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/AgentFleet/uuid',
    RequestId: 'r1',
    LogicalResourceId: 'KillSwitchReapplyHaltOnDeploy',
    ResourceType: 'Custom::ReapplyHalt',
    ...(RequestType !== 'Create' ? { PhysicalResourceId: 'reapply-halt' } : {}),
  });

  it('after an update that re-enabled a schedule of a halted system, disables it again and answers SUCCESS', async () => {
    const { master, ports, responses } = setup();
    await master({ action: 'halt', source: 'operator', actor: 'operator:bob', reason: 'drill' });
    ports.schedules[0].enabled = true; // what CloudFormation's update of the schedule did
    const out = await master(request('Update'));
    expect(out).toMatchObject({ action: 'DEPLOY', halted: true, reapplied: true, result: { disabledSchedules: ['g/s'], verified: { ok: true } } });
    expect(ports.schedules[0].enabled).toBe(false);
    expect(responses).toEqual([
      {
        url: 'https://cfn.example/response',
        body: expect.objectContaining({
          Status: 'SUCCESS',
          PhysicalResourceId: 'reapply-halt',
          RequestId: 'r1',
          LogicalResourceId: 'KillSwitchReapplyHaltOnDeploy',
        }),
      },
    ]);
    const item = await readControlItem(db.doc, db.tables.Control);
    expect(item.audit.map((a) => [a.action, a.changed, a.actor])).toEqual([
      ['HALT', true, 'operator:bob'],
      ['HALT', false, 'cloudformation:AgentFleet'],
    ]);
  });

  it('on a running system, or a Delete, changes nothing and still answers SUCCESS', async () => {
    const { master, ports, responses } = setup();
    expect(await master(request('Create'))).toMatchObject({ action: 'DEPLOY', halted: false, reapplied: false });
    expect(await master(request('Delete'))).toMatchObject({ action: 'DEPLOY', reapplied: false });
    expect(ports.schedules[0].enabled).toBe(true);
    expect(ports.executions[0].status).toBe('RUNNING');
    expect(responses.map((r) => r.body.Status)).toEqual(['SUCCESS', 'SUCCESS']);
    expect((await readControlItem(db.doc, db.tables.Control)).audit).toEqual([]);
  });
});
