import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { buildCycleReport, riskFigures, type CycleReport } from '../../local/report';
import type { LocalExecution } from '../../local/executions';
import { LocalTemplate, localFunctionArn } from '../../local/template';
import { startDynalite } from '../support/dynalite';

const exited = (name: string, output: unknown) => ({ type: 'StateExited', simAt: 0, state: { name, output } });
const entered = (name: string) => ({ type: 'StateEntered', simAt: 0, state: { name } });

function exec(partial: Partial<LocalExecution>): LocalExecution {
  return {
    name: 'c1',
    arn: 'arn',
    input: {},
    status: 'SUCCEEDED',
    startMs: 1000,
    endMs: 61_000,
    wallMs: 12,
    events: [],
    payloadWarnings: [],
    cycle: 1,
    done: Promise.resolve({} as LocalExecution),
    ...partial,
  } as LocalExecution;
}

describe('buildCycleReport', () => {
  const noDoc = { doc: {} as never, cyclesTable: '', invocations: [] };

  it('reads plan, risk and outcomes from the event log and counts transitions', async () => {
    const outcomes = [
      {
        name: 'trading',
        outcome: 'SUCCEEDED',
        durationMs: 5,
        attempts: 1,
        breaker: 'CLOSED',
        summary: 'placed 3 orders, 3 rejected (maxOrderNotional x2, priceCollar)',
        metrics: { ordersPlaced: 3, ordersRejected: 3 },
      },
      { name: 'copybot', outcome: 'FAILED', durationMs: 0, attempts: 6, breaker: 'OPEN', breakerTransition: 'CLOSED->OPEN', reason: 'InjectedFault: x' },
    ];
    const e = exec({
      events: [
        entered('Plan cycle'),
        exited('Plan cycle', { plan: { halted: false } }),
        entered('Assess risk'),
        exited('Assess risk', { risk: { assessment: { verdict: 'OK', reasons: [], metrics: { equityUsd: 1_000_000 } } } }),
        entered('Record outcomes'),
        exited('Record outcomes', { cycleId: 'c1', escalate: false, escalationReason: '' }),
      ] as never,
    });
    // The outcomes come from the cycle report item the supervisor wrote (the state keeps only the decision).
    const db = await startDynalite('report');
    let rep: CycleReport;
    try {
      await db.doc.send(
        new PutCommand({ TableName: db.tables.Cycles, Item: { cycleId: 'c1', sk: 'REPORT', outcomes, escalate: false, escalationReason: '' } }),
      );
      rep = await buildCycleReport(e, { doc: db.doc, cyclesTable: db.tables.Cycles, invocations: [] });
    } finally {
      await db.stop();
    }
    expect(rep).toMatchObject({ status: 'SUCCEEDED', durationMs: 60_000, transitions: 3, risk: { verdict: 'OK', reasons: [] } });
    expect(rep.trading).toBeUndefined(); // trading figures come from the Ledger when the runtime names it (test/e2e/order-path.test.ts)
    expect(rep.risk.figures).toEqual({ equityUsd: 1_000_000 });
    expect(rep.agents[1]).toEqual({
      name: 'copybot',
      outcome: 'FAILED',
      durationMs: 0,
      attempts: 6,
      breaker: 'OPEN',
      breakerTransition: 'CLOSED->OPEN',
      reason: 'InjectedFault: x',
    });
  });

  it('maps statuses: halted plan, risk halt, abort, other failure', async () => {
    const halted = await buildCycleReport(exec({ events: [exited('Plan cycle', { plan: { halted: true, haltReason: 'ops' } })] as never }), noDoc);
    expect(halted).toMatchObject({ status: 'SKIPPED', skip: 'halted', reason: 'halted: system halted: ops' });
    const risk = await buildCycleReport(
      exec({
        status: 'FAILED',
        error: 'RiskHalt',
        events: [exited('Fail closed', { risk: { assessment: { verdict: 'HALT', reasons: ['Risk check failed'] } } })] as never,
      }),
      noDoc,
    );
    expect(risk).toMatchObject({ status: 'HALTED', reason: 'risk: Risk check failed', risk: { verdict: 'HALT' } });
    expect(await buildCycleReport(exec({ status: 'ABORTED', cause: 'halt by alarm' }), noDoc)).toMatchObject({
      status: 'HALTED',
      reason: 'stopped: halt by alarm',
    });
    expect(await buildCycleReport(exec({ status: 'FAILED', error: 'States.Runtime', cause: 'bad path' }), noDoc)).toMatchObject({
      status: 'FAILED',
      reason: 'States.Runtime: bad path',
    });
  });
});

describe('risk figures and verdict', () => {
  it('keeps the figures of the risk gate, rounded, and nothing else of its metrics', () => {
    expect(
      riskFigures({
        equityUsd: 1000.004,
        cashUsd: 900,
        dailyPnlUsd: -1.5,
        grossExposureUsd: 100,
        drawdownFraction: 0.0123456789,
        positions: 1,
        varFraction: 0.01,
      }),
    ).toEqual({
      equityUsd: 1000,
      cashUsd: 900,
      dailyPnlUsd: -1.5,
      grossExposureUsd: 100,
      drawdownFraction: 0.012346,
      positions: 1,
    });
    expect(riskFigures({ varFraction: 0.01 })).toBeUndefined();
    expect(riskFigures(undefined)).toBeUndefined();
  });

  it('a risk result without a verdict (--fail risk=garbage) is reported as no verdict, never "undefined"', async () => {
    const rep = await buildCycleReport(
      exec({ status: 'FAILED', error: 'RiskHalt', events: [exited('Fail closed', { risk: { assessment: { nonsense: true } } })] as never }),
      { doc: {} as never, cyclesTable: '', invocations: [] },
    );
    expect(rep.risk).toEqual({ verdict: null, reasons: ['the risk gate returned no valid verdict'] });
    expect(JSON.stringify(rep)).not.toContain('undefined');
  });
});

describe('LocalTemplate', () => {
  const tpl = new LocalTemplate(
    {
      Resources: {
        Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
        Tbl: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'my-table' } },
        Sm: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'AgentFleet-cycle' } },
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
      },
    },
    'AgentFleet',
  );
  it('resolves Ref, GetAtt Arn, Join and Sub with pseudo parameters to local values', () => {
    expect(tpl.resolve({ Ref: 'Tbl' })).toBe('my-table');
    expect(tpl.resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe(localFunctionArn('Fn'));
    expect(
      tpl.resolve({
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':stateMachine:AgentFleet-cycle'],
        ],
      }),
    ).toBe(tpl.arn('Sm'));
    expect(tpl.resolve({ 'Fn::Sub': '${AWS::StackName}-${Tbl}' })).toBe('AgentFleet-my-table');
    expect(tpl.resolve({ Ref: 'Topic' })).toBe('arn:aws:sns:local:000000000000:Topic');
    expect(() => tpl.resolve({ 'Fn::ImportValue': 'x' })).toThrow(/Fn::ImportValue/);
  });
});

describe('apportionCents', () => {
  it('rounds shares to cents that add up to the rounded total', async () => {
    const { apportionCents } = await import('../../local/trading-report');
    const shares: Array<[string, number]> = [
      ['a', 0.333333],
      ['b', 0.333333],
      ['c', 0.333334],
    ];
    const out = apportionCents(shares, 1);
    expect([...out.values()].reduce((x, y) => x + Math.round(y * 100), 0)).toBe(100);
    const neg = apportionCents(
      [
        ['a', -10.004],
        ['b', 5.006],
        ['c', -0.001],
      ],
      -4.999,
    );
    expect([...neg.values()].reduce((x, y) => x + Math.round(y * 100), 0)).toBe(-500);
  });
});
