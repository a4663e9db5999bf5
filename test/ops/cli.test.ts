/**
 * The operator command, run through runCli/buildProgram with injected targets (no AWS calls):
 * - a recording target for argument parsing, refusals and exit codes;
 * - a target that sends the SAME payloads as ops/aws-target.ts to the REAL Master handler
 *   (dynalite + in-memory platform ports), to prove the operator path end to end.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMasterHandler, createOperatorHandler, type MasterStatusResponse } from '../../lambdas/master/handler';
import { agentRow, manualExecutionName, operatorPayloads, operatorRequests, pickStackOutputs, REQUIRED_OUTPUTS } from '../../ops/aws-target';
import { awsSetupHint, createTargetFactory, DEFAULT_LOCAL_DIR, normalizeArgv, renderStatus, runCli, type TargetOptions } from '../../ops/cli';
import type { OpsStatus, OpsTarget } from '../../ops/target';
import { InMemoryPlatformPorts } from '../master/in-memory-ports';
import { startDynalite, type TestDynamo } from '../support/dynalite';

const baseStatus = (): OpsStatus => ({
  halted: true,
  mode: 'safe',
  reason: 'drill',
  actor: 'operator:alice',
  at: '2024-03-01T12:00:00.000Z',
  agents: [{ name: 'trading', health: 'DEGRADED', breaker: 'HALF_OPEN', successRate: 0.875, consecutiveFailures: 2, openUntil: '2024-03-01T13:00:00.000Z' }],
  schedules: [{ group: 'agent-fleet', name: 'cycle-default', enabled: false }],
  runningExecutions: [{ name: 'slot-0915', startDate: '2024-03-01T09:15:00.000Z' }],
  audit: Array.from({ length: 12 }, (_, i) => ({
    at: `2024-03-01T12:${String(i).padStart(2, '0')}:00.000Z`,
    action: 'HALT' as const,
    actor: `a${i}`,
    reason: `entry-${i}`,
    changed: i === 0,
  })),
});

class RecordingTarget implements OpsTarget {
  calls: Array<[string, ...unknown[]]> = [];
  closed = false;
  constructor(
    private readonly failWith?: Error,
    private readonly halted = true,
  ) {}
  describe() {
    return 'recording target';
  }
  async status() {
    this.calls.push(['status']);
    return { ...baseStatus(), halted: this.halted };
  }
  async halt(reason: string, actor: string) {
    if (this.failWith) throw this.failWith;
    this.calls.push(['halt', reason, actor]);
    return { action: 'HALT', changed: true };
  }
  async resume(reason: string, actor: string, to?: 'reduce' | 'normal') {
    if (this.failWith) throw this.failWith;
    this.calls.push(to ? ['resume', reason, actor, to] : ['resume', reason, actor]);
    return { action: 'RESUME' };
  }
  async cancelAll(reason: string, actor: string) {
    this.calls.push(['cancelAll', reason, actor]);
    return { action: 'CANCEL_ALL', cancelled: 3, remaining: 0 };
  }
  async flatten(reason: string, actor: string) {
    this.calls.push(['flatten', reason, actor]);
    return { action: 'FLATTEN', closed: 2 };
  }
  async safeMode(on: boolean, reason: string, actor: string) {
    this.calls.push(['safeMode', on, reason, actor]);
    return { action: on ? 'SAFE_MODE_ON' : 'SAFE_MODE_OFF' };
  }
  async pauseGroup(group: string, paused: boolean, reason: string, actor: string) {
    this.calls.push(['pauseGroup', group, paused, reason, actor]);
    return { action: paused ? 'PAUSE' : 'UNPAUSE', changed: true };
  }
  async disableAgent(agent: string, disabled: boolean, reason: string, actor: string) {
    this.calls.push(['disableAgent', agent, disabled, reason, actor]);
    return { action: disabled ? 'DISABLE' : 'ENABLE', changed: true };
  }
  async runNow(actor: string) {
    this.calls.push(['runNow', actor]);
    return { executionName: 'manual-2024-03-01T12-00-00-000Z' };
  }
  async close() {
    this.closed = true;
  }
}

async function run(argv: string[], target: OpsTarget = new RecordingTarget()) {
  const out: string[] = [];
  const err: string[] = [];
  const opened: TargetOptions[] = [];
  const code = await runCli(
    argv,
    async (o) => {
      opened.push(o);
      return target;
    },
    { out: (t) => out.push(t), err: (t) => err.push(t) },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), opened, target };
}

describe('argument parsing and refusals', () => {
  it.each([['halt'], ['resume'], ['safe-mode', 'on'], ['halt', '--reason', '  ']])(
    '%s without --reason is refused with exit 2 and never opens the target',
    async (...argv) => {
      const r = await run([...argv, '--stack', 'S']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^Refusing to .* without a reason: add --reason/);
      expect(r.opened).toEqual([]);
    },
  );

  it('halt with a reason calls the target with the reason and the --actor override, and closes it', async () => {
    const r = await run(['halt', '--reason', 'VaR breach', '--actor', 'operator:risk-desk', '--stack', 'MyStack', '--region', 'eu-west-1']);
    expect(r.code).toBe(0);
    expect((r.target as RecordingTarget).calls).toEqual([['halt', 'VaR breach', 'operator:risk-desk']]);
    expect(r.opened).toEqual([{ stackName: 'MyStack', region: 'eu-west-1', profile: undefined }]);
    expect((r.target as RecordingTarget).closed).toBe(true);
    expect(r.out).toContain('"action": "HALT"');
  });

  it('pause / unpause GROUP and agent disable / enable NAME need a reason and call the target with it', async () => {
    const actor = ['--actor', 'operator:desk', '--stack', 'S'];
    expect((await run(['pause', 'default', '--reason', 'data vendor outage', ...actor])).target).toMatchObject({
      calls: [['pauseGroup', 'default', true, 'data vendor outage', 'operator:desk']],
    });
    expect((await run(['unpause', 'default', '--reason', 'vendor back', ...actor])).target).toMatchObject({
      calls: [['pauseGroup', 'default', false, 'vendor back', 'operator:desk']],
    });
    expect((await run(['agent', 'disable', 'copybot', '--reason', 'doubling targets', ...actor])).target).toMatchObject({
      calls: [['disableAgent', 'copybot', true, 'doubling targets', 'operator:desk']],
    });
    expect((await run(['agent', 'enable', 'copybot', '--reason', 'fixed', ...actor])).target).toMatchObject({
      calls: [['disableAgent', 'copybot', false, 'fixed', 'operator:desk']],
    });
    const refused = await run(['pause', 'default', '--stack', 'S']);
    expect([refused.code, refused.opened]).toEqual([2, []]);
  });

  it('the actor defaults to operator:<os user>', async () => {
    const r = await run(['resume', '--reason', 'checked', '--stack', 'S']);
    expect(r.code).toBe(0);
    expect((r.target as RecordingTarget).calls[0]).toEqual(['resume', 'checked', expect.stringMatching(/^operator:.+/)]);
  });

  it('resume --to normal passes the stage; --to takes only reduce or normal', async () => {
    const r = await run(['resume', '--to', 'normal', '--reason', 'cool-down over', '--actor', 'operator:a', '--stack', 'S']);
    expect(r.code).toBe(0);
    expect((r.target as RecordingTarget).calls).toEqual([['resume', 'cool-down over', 'operator:a', 'normal']]);
    const bad = await run(['resume', '--to', 'max', '--reason', 'x', '--stack', 'S']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/Allowed choices are reduce, normal/);
  });

  it('a refusal by the operator function (ResumeRefused, SafeModeRefused, OrderActionRefused) exits 2 with its one line', async () => {
    const refused = new RecordingTarget(
      Object.assign(new Error('Resume to normal refused: REDUCE cool-down after the resume at t: 14 min 59 s left (until u, config resume.coolDownSeconds)'), {
        name: 'ResumeRefused',
      }),
    );
    const r = await run(['resume', '--to', 'normal', '--reason', 'x', '--stack', 'S'], refused);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'ops: ResumeRefused: Resume to normal refused: REDUCE cool-down after the resume at t: 14 min 59 s left (until u, config resume.coolDownSeconds)',
    );
  });

  it('cancel-all and flatten need a reason; cancel-all prints the count, --json the result', async () => {
    for (const cmd of ['cancel-all', 'flatten']) {
      const refused = await run([cmd, '--stack', 'S']);
      expect([refused.code, refused.opened]).toEqual([2, []]);
    }
    const c = await run(['cancel-all', '--reason', 'venue issue', '--actor', 'operator:a', '--stack', 'S']);
    expect([c.code, c.out]).toEqual([0, '3 working orders cancelled']);
    expect((c.target as RecordingTarget).calls).toEqual([['cancelAll', 'venue issue', 'operator:a']]);
    const j = await run(['cancel-all', '--reason', 'venue issue', '--stack', 'S', '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ action: 'CANCEL_ALL', cancelled: 3 });
    const f = await run(['flatten', '--reason', 'end of drill', '--actor', 'operator:a', '--stack', 'S', '--json']);
    expect(JSON.parse(f.out)).toMatchObject({ action: 'FLATTEN', closed: 2 });
    expect((f.target as RecordingTarget).calls).toEqual([['flatten', 'end of drill', 'operator:a']]);
  });

  it('safe-mode on|off maps to a boolean; other values are a usage error', async () => {
    const on = await run(['safe-mode', 'on', '--reason', 'r', '--stack', 'S']);
    const off = await run(['safe-mode', 'off', '--reason', 'r', '--stack', 'S']);
    expect((on.target as RecordingTarget).calls[0].slice(0, 2)).toEqual(['safeMode', true]);
    expect((off.target as RecordingTarget).calls[0].slice(0, 2)).toEqual(['safeMode', false]);
    const bad = await run(['safe-mode', 'maybe', '--reason', 'r', '--stack', 'S']);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/Allowed choices are on, off/);
  });

  it('--local selects the local target (default dir, or the given dir); the stack is then not looked up', async () => {
    expect((await run(['--local', 'status'])).opened[0]).toMatchObject({ localDir: DEFAULT_LOCAL_DIR });
    expect((await run(['status', '--local'])).opened[0]).toMatchObject({ localDir: DEFAULT_LOCAL_DIR });
    expect((await run(['--local', '/tmp/state', 'status'])).opened[0]).toMatchObject({ localDir: '/tmp/state' });
    expect(normalizeArgv(['--local', 'halt', '--reason', 'x'])).toEqual([`--local=${DEFAULT_LOCAL_DIR}`, 'halt', '--reason', 'x']);
  });

  it('without --stack the stack name comes from the config', async () => {
    // The fixture fleet (stackName AgentFleet), not the user's config/orchestrator.config.ts.
    const r = await run(['status', '--config', join(__dirname, '..', 'fixtures', 'fleet.ts')]);
    expect(r.opened[0].stackName).toBe('AgentFleet');
  });

  describe('the config of the default stack name (resolveConfig, as npm start and cdk)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-config-'));
    const cfg = join(dir, 'cfg.json');
    const typo = join(dir, 'typo.json');
    writeFileSync(cfg, JSON.stringify({ stackName: 'FromFile', agents: [{ name: 'alpha' }] }));
    writeFileSync(typo, JSON.stringify({ stackName: 'FromFile', agents: [{ name: 'alpha', timeoutSeconds: 0 }] }));
    const saved = process.env.ORCHESTRATOR_CONFIG;
    afterEach(() => {
      if (saved === undefined) delete process.env.ORCHESTRATOR_CONFIG;
      else process.env.ORCHESTRATOR_CONFIG = saved;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('ORCHESTRATOR_CONFIG or --config names the file; stderr says which', async () => {
      process.env.ORCHESTRATOR_CONFIG = cfg;
      const fromEnv = await run(['status']);
      expect([fromEnv.code, fromEnv.opened[0].stackName]).toEqual([0, 'FromFile']);
      expect(fromEnv.err).toContain(`config: ${cfg} (ORCHESTRATOR_CONFIG)`);
      delete process.env.ORCHESTRATOR_CONFIG;
      const fromFlag = await run(['--config', cfg, 'status']);
      expect([fromFlag.code, fromFlag.opened[0].stackName]).toEqual([0, 'FromFile']);
      expect(fromFlag.err).toContain(`config: ${cfg} (--config)`);
    });

    it('an invalid or missing config exits 2 with one line naming the file and the field, and never opens the target', async () => {
      process.env.ORCHESTRATOR_CONFIG = typo;
      const bad = await run(['status']);
      expect(bad.code).toBe(2);
      expect(bad.err.split('\n').filter((l) => !l.startsWith('config: '))).toEqual([
        expect.stringMatching(/^ops: config .*typo\.json \(ORCHESTRATOR_CONFIG\): invalid config: agents\[0\]\.timeoutSeconds: /),
      ]);
      expect(bad.opened).toEqual([]);
      const missing = await run(['--config', join(dir, 'nope.json'), 'status']);
      expect(missing.code).toBe(2);
      expect(missing.err).toMatch(/^ops: config .*nope\.json \(--config\): file not found/);
    });

    it('--stack or --local: no config is read', async () => {
      process.env.ORCHESTRATOR_CONFIG = typo;
      expect((await run(['--stack', 'S', 'status'])).code).toBe(0);
      expect((await run(['--local', 'status'])).code).toBe(0);
    });
  });

  it('a target error exits 1 with one line naming the error', async () => {
    const failing = new RecordingTarget(Object.assign(new Error('Halt incomplete: schedules: AccessDenied\nstack...'), { name: 'KillSwitchIncomplete' }));
    const r = await run(['halt', '--reason', 'x', '--stack', 'S'], failing);
    expect(r.code).toBe(1);
    expect(r.err).toBe('ops: KillSwitchIncomplete: Halt incomplete: schedules: AccessDenied');
    expect(failing.closed).toBe(true);
  });

  it('run-now prints the execution name on a running system', async () => {
    const r = await run(['run-now', '--stack', 'S', '--actor', 'operator:x'], new RecordingTarget(undefined, false));
    expect(r.code).toBe(0);
    expect(r.out).toContain('manual-2024-03-01T12-00-00-000Z');
    expect((r.target as RecordingTarget).calls).toEqual([['status'], ['runNow', 'operator:x']]);
  });

  it('run-now on a halted system is refused with exit 2 and one line naming the halt, and starts nothing', async () => {
    const r = await run(['run-now', '--stack', 'S', '--actor', 'operator:x']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('Refusing run-now: the system is halted (operator:alice: drill); resume it first (npm run ops -- resume --reason "...")');
    expect((r.target as RecordingTarget).calls).toEqual([['status']]);
  });

  it.each([
    [['explode'], "ops: unknown command 'explode'"],
    [['--local', 'explode'], "ops: unknown command 'explode'"],
    [[], 'ops: no command given'],
  ])('%j: exit 2 with one line listing the commands, not the whole help', async (argv, first) => {
    const r = await run(argv as string[]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(1);
    expect(r.err).toContain(first);
    expect(r.err).toContain('commands: status, halt, resume, safe-mode, run-now');
    expect(r.out).toBe('');
    expect(r.opened).toEqual([]);
  });

  it('an unknown option is a usage error: exit 2, one line', async () => {
    const r = await run(['status', '--stack', 'S', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("error: unknown option '--bogus'");
  });

  it('--help exits 0 with usage lines that name how to run it', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: ops \[--local \[dir\] \| --stack NAME --region REGION\] <command> \[options\]/);
  });

  it('halt, resume and safe-mode print only JSON on stdout (the "requested by" line on stderr; none with --json)', async () => {
    for (const argv of [
      ['halt', '--reason', 'x'],
      ['resume', '--reason', 'x'],
      ['safe-mode', 'on', '--reason', 'x'],
    ]) {
      const r = await run([...argv, '--stack', 'S']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toHaveProperty('action');
      expect(r.err).toMatch(/requested on recording target by operator:/);
      const quiet = await run([...argv, '--stack', 'S', '--json']);
      expect(JSON.parse(quiet.out)).toHaveProperty('action');
      expect(quiet.err).toBe('');
    }
  });

  it('no AWS region or credentials: exit 2 with one line naming --region / AWS_REGION and --local', async () => {
    const errs: string[] = [];
    const r = await runCli(
      ['status', '--stack', 'S'],
      async () => {
        throw new Error('Region is missing');
      },
      { out: () => undefined, err: (t) => errs.push(t) },
    );
    expect(r).toBe(2);
    expect(errs).toEqual([
      "ops: no AWS region: pass --region REGION or set AWS_REGION (and credentials, e.g. --profile NAME), or use --local for the local runtime's state",
    ]);
    expect(awsSetupHint({ name: 'CredentialsProviderError', message: 'Could not load credentials from any providers' })).toMatch(/--profile NAME .* --local/);
    expect(awsSetupHint({ name: 'ResourceNotFoundException', message: 'Stack S does not exist' })).toBeUndefined();
  });

  it('a missing local state is a usage error (exit 2), one line', async () => {
    const errs: string[] = [];
    // The factory bin/ops.ts wires: the local target behind --local.
    const factory = createTargetFactory(async (dir) => (await import('../../local/ops-target')).openLocalOpsTarget(dir));
    const code = await runCli(['--local', '/nonexistent/state', 'status'], factory, { out: () => undefined, err: (t) => errs.push(t) });
    expect(code).toBe(2);
    expect(errs).toEqual(['ops: No local state in /nonexistent/state (run `npm start` first, or name the directory: --local DIR)']);
  });
});

describe('status output', () => {
  it('prints the halt flag, mode, agents, schedules, running executions and the last 10 audit entries', async () => {
    const r = await run(['status', '--stack', 'S']);
    expect(r.code).toBe(0);
    for (const text of [
      'HALTED',
      'safe',
      'drill',
      'trading',
      'HALF_OPEN',
      '87.5 %',
      'cycle-default',
      'DISABLED',
      'slot-0915',
      'last 10 of 12',
      'entry-11',
      'entry-2',
    ])
      expect(r.out).toContain(text);
    expect(r.out).not.toContain('entry-1 ');
    expect(r.out).not.toMatch(/entry-0\b/);
  });

  it('--json prints the status object', async () => {
    const r = await run(['status', '--json', '--stack', 'S']);
    expect(JSON.parse(r.out)).toEqual(baseStatus());
  });

  it('renderStatus has no ANSI codes unless asked for colour', () => {
    expect(renderStatus(baseStatus(), 't')).not.toContain('\x1b[');
    // With colour asked for, cli-table3's colour library still decides by the terminal (none under CI=true), so only
    // the table's content is the same either way.
    expect(renderStatus(baseStatus(), 't', true).replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')).toBe(renderStatus(baseStatus(), 't'));
  });

  it('renderStatus says so when there is nothing to list', () => {
    const text = renderStatus({ halted: false, mode: 'normal', agents: [], schedules: [], runningExecutions: [], audit: [] }, 't');
    expect(text).toContain('running');
    expect(text).toContain('Running executions: none');
    expect(text).toContain('(empty)');
    expect(text).not.toContain('Paused groups');
  });

  it('renderStatus shows paused groups and a paused agent with their notes', () => {
    const agent = {
      name: 'copybot',
      health: 'HEALTHY' as const,
      breaker: 'CLOSED' as const,
      successRate: 1,
      consecutiveFailures: 0,
      paused: 'operator:desk at T: doubling targets',
    };
    const text = renderStatus(
      {
        halted: false,
        mode: 'normal',
        agents: [agent],
        schedules: [],
        runningExecutions: [],
        audit: [],
        pausedGroups: [{ group: 'night', note: 'operator:desk at T: vendor outage' }],
      },
      't',
    );
    expect(text).toContain('Paused groups: night (operator:desk at T: vendor outage)');
    expect(text).toContain('doubling targets');
  });
});

describe('aws-target helpers', () => {
  it('pickStackOutputs names every missing output', () => {
    const outputs = REQUIRED_OUTPUTS.filter((k) => k !== 'ScheduleNames' && k !== 'AlertTopicArn').map((k) => ({ OutputKey: k, OutputValue: `v-${k}` }));
    expect(() => pickStackOutputs('S', outputs)).toThrow('Stack S lacks outputs: ScheduleNames, AlertTopicArn');
    expect(
      pickStackOutputs('S', [...outputs, { OutputKey: 'ScheduleNames', OutputValue: 'g/n' }, { OutputKey: 'AlertTopicArn', OutputValue: 'arn' }]).ScheduleNames,
    ).toBe('g/n');
  });

  it('agentRow computes the success rate as a fraction and tolerates a fresh item', () => {
    expect(agentRow({ agent: 'a', executions: 8, successes: 6, consecutiveFailures: 2, health: 'DEGRADED', breaker: 'OPEN', openUntil: 'x' })).toEqual({
      name: 'a',
      health: 'DEGRADED',
      breaker: 'OPEN',
      successRate: 0.75,
      consecutiveFailures: 2,
      openUntil: 'x',
    });
    expect(agentRow({ agent: 'b' })).toMatchObject({ successRate: 1, breaker: 'CLOSED', health: 'HEALTHY' });
  });

  it('manualExecutionName is a valid Step Functions execution name', () => {
    const name = manualExecutionName(Date.UTC(2024, 2, 1, 12, 0, 0, 5));
    expect(name).toBe('manual-2024-03-01T12-00-00-005Z');
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});

describe('operator path through the real Master handler', () => {
  let db: TestDynamo;
  beforeAll(async () => {
    db = await startDynalite('ops-master');
  });
  afterAll(async () => db.stop());
  beforeEach(async () => {
    await db.doc.send(new DeleteCommand({ TableName: db.tables.Control, Key: { pk: 'control' } }));
  });

  /** An OpsTarget that sends ops/aws-target.ts's payloads to the real Master handler in-process. */
  function masterBackedTarget(ports: InMemoryPlatformPorts, now?: () => number): OpsTarget {
    const deps = {
      ports,
      doc: db.doc,
      controlTable: db.tables.Control,
      alarmPolicy: {},
      verifyRetryDelaysMs: [],
      resumePolicy: { coolDownSeconds: 900, allowDirectToNormal: false },
      ...(now ? { now } : {}),
    };
    const master = createMasterHandler(deps);
    // Resume and safe mode go through the operator function (function URL; the caller's IAM identity is the actor).
    const operatorFn = createOperatorHandler(deps);
    const operator = async (body: Record<string, unknown>, actor: string) => {
      const res = await operatorFn({ requestContext: { authorizer: { iam: { userArn: actor } } }, body: JSON.stringify(body) });
      const parsed = JSON.parse(res.body);
      if (res.statusCode >= 400) throw Object.assign(new Error(parsed.message), { name: parsed.error });
      return parsed;
    };
    return {
      describe: () => 'in-process Master',
      async status() {
        const s = (await master({ action: 'status' })) as MasterStatusResponse;
        return {
          halted: s.halted,
          mode: s.mode,
          stage: s.stage,
          ...(s.coolDownUntil ? { coolDownUntil: s.coolDownUntil, resumedAt: s.resumedAt } : {}),
          reason: s.reason,
          actor: s.actor,
          at: s.at,
          agents: [],
          schedules: s.schedules,
          runningExecutions: s.runningExecutions,
          audit: s.audit,
        };
      },
      halt: (reason, actor) => master(operatorPayloads.halt(reason, actor)),
      resume: (reason, actor, to) => operator(operatorRequests.resume(reason, to), actor),
      cancelAll: (reason, actor) => operator(operatorRequests.cancelAll(reason), actor),
      flatten: (reason, actor) => operator(operatorRequests.flatten(reason), actor),
      safeMode: (on, reason, actor) => operator(operatorRequests.safeMode(on, reason), actor),
      runNow: async () => ({ executionName: 'unused' }),
      pauseGroup: async () => ({}),
      disableAgent: async () => ({}),
      close: async () => undefined,
    };
  }

  it('halt, status, resume: audited with the operator actor, schedules disabled then re-enabled', async () => {
    const ports = new InMemoryPlatformPorts([{ group: 'agent-fleet', name: 'cycle-default' }], ['slot-1']);
    const target = masterBackedTarget(ports);
    expect((await run(['halt', '--reason', 'drill', '--actor', 'operator:alice', '--stack', 'S'], target)).code).toBe(0);
    expect(ports.schedules[0].enabled).toBe(false);
    expect(ports.executions[0].status).toBe('ABORTED');

    const status = await run(['status', '--stack', 'S'], target);
    expect(status.out).toContain('HALTED');
    expect(status.out).toContain('operator:alice');

    expect((await run(['resume', '--reason', 'drill over', '--actor', 'operator:alice', '--stack', 'S'], target)).code).toBe(0);
    expect(ports.schedules[0].enabled).toBe(true);
    const final = JSON.parse((await run(['status', '--json', '--stack', 'S'], target)).out) as OpsStatus;
    expect(final.halted).toBe(false);
    expect(final.audit.map((a) => [a.action, a.actor])).toEqual([
      ['HALT', 'operator:alice'],
      ['RESUME', 'operator:alice'],
    ]);
  });

  it('staged resume: resume lands in REDUCE with the cool-down end in status; --to normal exits 2 naming the time left until the cool-down is over', async () => {
    let t = Date.parse('2026-03-02T14:00:00.000Z');
    const ports = new InMemoryPlatformPorts([{ group: 'agent-fleet', name: 'cycle-default' }]);
    const target = masterBackedTarget(ports, () => t);
    const argv = (...a: string[]) => [...a, '--actor', 'operator:alice', '--stack', 'S'];
    expect((await run(argv('halt', '--reason', 'drill'), target)).code).toBe(0);
    // From HALTED, --to normal needs resume.allowDirectToNormal.
    const direct = await run(argv('resume', '--to', 'normal', '--reason', 'skip the stage'), target);
    expect(direct.code).toBe(2);
    expect(direct.err).toMatch(/^ops: ResumeRefused: Resume to normal refused: the system is HALTED; resume into REDUCE first/);

    expect((await run(argv('resume', '--reason', 'drill over'), target)).code).toBe(0);
    const reduce = JSON.parse((await run(['status', '--json', '--stack', 'S'], target)).out) as OpsStatus;
    expect(reduce).toMatchObject({ halted: false, mode: 'safe', stage: 'reduce-only', coolDownUntil: '2026-03-02T14:15:00.000Z' });
    expect((await run(['status', '--stack', 'S'], target)).out).toContain('resume --to normal allowed from 2026-03-02T14:15:00.000Z');

    t += 14 * 60_000 + 1_000;
    const early = await run(argv('resume', '--to', 'normal', '--reason', 'looks fine'), target);
    expect(early.code).toBe(2);
    expect(early.err).toMatch(/REDUCE cool-down .*: 59 s left \(until 2026-03-02T14:15:00.000Z/);
    // Safe mode off is no back door around the cool-down.
    const off = await run(argv('safe-mode', 'off', '--reason', 'looks fine'), target);
    expect(off.code).toBe(2);
    expect(off.err).toMatch(/^ops: SafeModeRefused: Safe mode off refused: REDUCE cool-down/);

    t += 60_000;
    expect((await run(argv('resume', '--to', 'normal', '--reason', 'cool-down over'), target)).code).toBe(0);
    const normal = JSON.parse((await run(['status', '--json', '--stack', 'S'], target)).out) as OpsStatus;
    expect(normal).toMatchObject({ halted: false, mode: 'normal', stage: 'normal' });
    expect(normal.coolDownUntil).toBeUndefined();
    expect(normal.audit.map((a) => [a.action, a.changed])).toEqual([
      ['HALT', true],
      ['RESUME', true],
      ['RESUME_TO_NORMAL', true],
    ]);
  });
});
