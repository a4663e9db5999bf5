/**
 * Staged resume (issue 12): HALTED -> REDUCE (reduce-only) -> normal after a cool-down with no new halt in
 * between; `resume.allowDirectToNormal`; the rule lives in the operator function's conditional write, so it
 * holds against racing halts and resumes through the real handlers on DynamoDB Local. Time comes from an
 * injected clock, never the wall clock.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { formatDuration } from '../../lambdas/master/control-store';
import { createMasterHandler, createOperatorHandler, parseResumePolicy, type MasterDeps } from '../../lambdas/master/handler';
import { fullHaltReason } from '../../lambdas/master/triggers';
import { readControlItem } from '../../lambdas/shared/control-read';
import { startDynalite, type TestDynamo } from '../support/dynalite';
import { InMemoryPlatformPorts } from './in-memory-ports';

let db: TestDynamo;
beforeAll(async () => {
  db = await startDynalite('staged-resume');
});
afterAll(async () => db.stop());
beforeEach(async () => {
  await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
});

const T0 = Date.parse('2026-03-02T14:00:00.000Z');
const MIN = 60_000;

function setup(policy = { coolDownSeconds: 900, allowDirectToNormal: false }) {
  const clock = { t: T0 };
  const deps: MasterDeps = {
    ports: new InMemoryPlatformPorts([{ group: 'g', name: 'cycle-default' }]),
    doc: db.doc,
    controlTable: db.tables.Control,
    alarmPolicy: {},
    verifyRetryDelaysMs: [],
    now: () => clock.t,
    resumePolicy: policy,
  };
  const operatorFn = createOperatorHandler(deps);
  const op = async (body: Record<string, unknown>) => {
    const res = await operatorFn({ requestContext: { authorizer: { iam: { userArn: 'arn:aws:iam::1:user/alice' } } }, body: JSON.stringify(body) });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
  };
  const master = createMasterHandler(deps);
  const halt = (reason = 'drill') => master({ action: 'halt', source: 'operator', actor: 'operator:alice', reason });
  return { clock, op, halt };
}

describe('staged resume', () => {
  it('resume takes HALTED into REDUCE (mode safe) with resumedAt and the cool-down end; --to normal is refused before the end and allowed after', async () => {
    const { clock, op, halt } = setup();
    await halt();
    const resumed = await op({ action: 'resume', reason: 'drill over' });
    expect(resumed).toMatchObject({ status: 200, body: { action: 'RESUME', changed: true, stage: 'reduce-only', coolDownUntil: '2026-03-02T14:15:00.000Z' } });
    expect(await readControlItem(db.doc, db.tables.Control)).toMatchObject({
      halted: false,
      mode: 'safe',
      resumedAt: '2026-03-02T14:00:00.000Z',
      coolDownUntil: '2026-03-02T14:15:00.000Z',
    });

    clock.t = T0 + 10 * MIN;
    const before = (await readControlItem(db.doc, db.tables.Control)).version;
    const early = await op({ action: 'resume', to: 'normal', reason: 'looks fine' });
    expect(early).toMatchObject({ status: 400, body: { error: 'ResumeRefused' } });
    expect(early.body.message).toContain('5 min left (until 2026-03-02T14:15:00.000Z');
    // A refusal writes nothing, not even an audit entry.
    expect((await readControlItem(db.doc, db.tables.Control)).version).toBe(before);

    clock.t = T0 + 15 * MIN;
    const normal = await op({ action: 'resume', to: 'normal', reason: 'cool-down over' });
    expect(normal).toMatchObject({ status: 200, body: { action: 'RESUME_TO_NORMAL', changed: true, stage: 'normal' } });
    const item = await readControlItem(db.doc, db.tables.Control);
    expect(item).toMatchObject({ halted: false, mode: 'normal' });
    expect(item.resumedAt).toBeUndefined();
    expect(item.coolDownUntil).toBeUndefined();
    // Twice is harmless: audited, nothing changes.
    expect((await op({ action: 'resume', to: 'normal', reason: 'again' })).body).toMatchObject({ changed: false, stage: 'normal' });
  });

  it('a halt in between restarts the cool-down: the second resume sets a new resumedAt and --to normal waits for its cool-down', async () => {
    const { clock, op, halt } = setup();
    await halt('first');
    await op({ action: 'resume', reason: 'first resume' });
    clock.t = T0 + 5 * MIN;
    await halt('second');
    // Halted again: --to normal is refused (no direct resume), whatever time passed.
    clock.t = T0 + 16 * MIN;
    expect((await op({ action: 'resume', to: 'normal', reason: 'x' })).body.message).toMatch(/the system is HALTED; resume into REDUCE first/);
    clock.t = T0 + 10 * MIN;
    await op({ action: 'resume', reason: 'second resume' });
    clock.t = T0 + 16 * MIN; // past the first resume's cool-down, inside the second's (until 14:25)
    const refused = await op({ action: 'resume', to: 'normal', reason: 'x' });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('after the resume at 2026-03-02T14:10:00.000Z: 9 min left (until 2026-03-02T14:25:00.000Z');
    clock.t = T0 + 25 * MIN;
    expect((await op({ action: 'resume', to: 'normal', reason: 'x' })).status).toBe(200);
  });

  it('--to normal straight from HALTED needs resume.allowDirectToNormal', async () => {
    const strict = setup();
    await strict.halt();
    const refused = await strict.op({ action: 'resume', to: 'normal', reason: 'skip' });
    expect(refused).toMatchObject({ status: 400, body: { error: 'ResumeRefused' } });
    expect(refused.body.message).toContain('resume.allowDirectToNormal is false');
    expect((await readControlItem(db.doc, db.tables.Control)).halted).toBe(true);

    const lenient = setup({ coolDownSeconds: 900, allowDirectToNormal: true });
    const direct = await lenient.op({ action: 'resume', to: 'normal', reason: 'allowed by config' });
    expect(direct).toMatchObject({ status: 200, body: { action: 'RESUME_TO_NORMAL', changed: true, stage: 'normal' } });
    expect(await readControlItem(db.doc, db.tables.Control)).toMatchObject({ halted: false, mode: 'normal' });
  });

  it('safe-mode off is no way around the cool-down, and the Master never resumes', async () => {
    const { clock, op, halt } = setup();
    await halt();
    await op({ action: 'resume', reason: 'r' });
    const off = await op({ action: 'safe-mode', on: false, reason: 'r' });
    expect(off).toMatchObject({ status: 400, body: { error: 'SafeModeRefused' } });
    expect(off.body.message).toMatch(/Safe mode off refused: REDUCE cool-down .*15 min left/);
    clock.t = T0 + 15 * MIN;
    expect((await op({ action: 'safe-mode', on: false, reason: 'r' })).status).toBe(200);
    expect((await readControlItem(db.doc, db.tables.Control)).coolDownUntil).toBeUndefined();
  });

  it('two racing resumes of a halted system: exactly one changes it, both are audited; two racing --to normal: one changes it (20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
      const { clock, op, halt } = setup();
      await halt();
      const two = await Promise.all([op({ action: 'resume', reason: 'a' }), op({ action: 'resume', reason: 'b' })]);
      expect(two.map((r) => r.status)).toEqual([200, 200]);
      expect(two.filter((r) => r.body.changed).length).toBe(1);
      clock.t = T0 + 15 * MIN;
      const normal = await Promise.all([op({ action: 'resume', to: 'normal', reason: 'a' }), op({ action: 'resume', to: 'normal', reason: 'b' })]);
      expect(normal.filter((r) => r.body.changed).length).toBe(1);
      const item = await readControlItem(db.doc, db.tables.Control);
      expect(item.audit.map((a) => a.action)).toEqual(['HALT', 'RESUME', 'RESUME', 'RESUME_TO_NORMAL', 'RESUME_TO_NORMAL']);
      expect(item).toMatchObject({ halted: false, mode: 'normal' });
    }
  });

  it('a halt racing --to normal always wins: the system ends HALTED, and no resume to normal lands after the halt (20 rounds)', async () => {
    for (let round = 0; round < 20; round++) {
      await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
      const { clock, op, halt } = setup();
      await halt('first');
      await op({ action: 'resume', reason: 'r' });
      clock.t = T0 + 15 * MIN;
      const [toNormal, halted] = await Promise.all([op({ action: 'resume', to: 'normal', reason: 'r' }), halt('racing halt')]);
      expect(halted).toMatchObject({ action: 'HALT', changed: true });
      const item = await readControlItem(db.doc, db.tables.Control);
      expect(item.halted).toBe(true);
      const actions = item.audit.map((a) => a.action);
      if (toNormal.status !== 400) {
        // It won the race: its write came before the halt's (its verify may already see the halt's flag or its disabled schedules: incomplete).
        if (toNormal.status === 500) expect(toNormal.body.message).toMatch(/halt flag is still set|schedules still disabled/);
        expect(actions.indexOf('RESUME_TO_NORMAL')).toBeLessThan(actions.lastIndexOf('HALT'));
      } else {
        expect(toNormal.body.message).toMatch(/HALTED/);
        expect(actions).not.toContain('RESUME_TO_NORMAL');
      }
    }
  });
});

describe('helpers', () => {
  it('parseResumePolicy: absent is the default; malformed fails loudly naming the variable', () => {
    expect(parseResumePolicy(undefined)).toEqual({ coolDownSeconds: 900, allowDirectToNormal: false });
    expect(parseResumePolicy('{"coolDownSeconds":60,"allowDirectToNormal":true}')).toEqual({ coolDownSeconds: 60, allowDirectToNormal: true });
    expect(() => parseResumePolicy('{"coolDownSeconds":-1,"allowDirectToNormal":true}')).toThrow(/^RESUME_POLICY is malformed/);
    expect(() => parseResumePolicy('nope')).toThrow(/^RESUME_POLICY is malformed: not JSON/);
  });

  it('formatDuration rounds up to the second', () => {
    expect([formatDuration(0), formatDuration(999), formatDuration(59_001), formatDuration(3_725_000)]).toEqual(['0 s', '1 s', '1 min', '1 h 2 min 5 s']);
  });

  it('the in-band halt reason carries the check, the figure and the limit from the assessment (issue 14)', () => {
    const details = {
      verdict: 'HALT',
      reasons: ['VaR 3.10% of equity exceeds the limit 2.00%'],
      checks: [
        { name: 'varFraction', value: 0.031, limit: 0.02, unit: 'fraction', status: 'BREACH' },
        { name: 'staleData', value: 0, limit: 0, unit: 'bars', status: 'PASS' },
      ],
    };
    expect(fullHaltReason('Risk verdict HALT', details)).toBe(
      'Risk verdict HALT: VaR 3.10% of equity exceeds the limit 2.00%; BREACH: varFraction 0.031 vs limit 0.02 fraction',
    );
    expect(fullHaltReason('Risk verdict HALT', undefined)).toBe('Risk verdict HALT');
    expect(fullHaltReason('Supervisor escalation', { reasons: [] })).toBe('Supervisor escalation');
  });

  it('an in-band halt records the full reason on the flag, in the audit trail and in the SystemHalted event', async () => {
    const ports = new InMemoryPlatformPorts([{ group: 'g', name: 's' }]);
    const master = createMasterHandler({ ports, doc: db.doc, controlTable: db.tables.Control, alarmPolicy: {}, verifyRetryDelaysMs: [] });
    await master({
      action: 'halt',
      source: 'cycle',
      cycleId: 'c-7',
      executionArn: 'arn:x:c-7',
      reason: 'Risk verdict HALT',
      details: {
        reasons: ['drawdown 12.00% exceeds 10.00%'],
        checks: [{ name: 'drawdownFraction', value: 0.12, limit: 0.1, unit: 'fraction', status: 'BREACH' }],
      },
    });
    const want = 'Risk verdict HALT: drawdown 12.00% exceeds 10.00%; BREACH: drawdownFraction 0.12 vs limit 0.1 fraction';
    const item = await readControlItem(db.doc, db.tables.Control);
    expect([item.reason, item.audit[0].reason]).toEqual([want, want]);
    expect(ports.events[0].detail.reason).toBe(want);
  });
});
