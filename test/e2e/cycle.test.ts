/**
 * One cycle end to end on the local runtime: real handlers, dynalite, the deployed ASL.
 */
import { e2eConfig, entered, start, E2E_TIMEOUT } from './support';
import type { LocalRuntime } from '../../local/runtime';

jest.setTimeout(E2E_TIMEOUT);

describe('a healthy cycle', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('plans, assesses risk before any agent, runs every enabled agent, then records', async () => {
    rt = await start();
    const [rep] = await rt.runSlots(1);
    expect(rep.status).toBe('SUCCEEDED');
    expect(rep.risk.verdict).toBe('OK');
    const names = entered(rt.executionEvents(rep.cycleId));
    expect(names[0]).toBe('Plan cycle');
    const risk = names.indexOf('Assess risk');
    const agentIdx = names.map((n, i) => (/^Run \w+ agent:/.test(n) ? i : -1)).filter((i) => i >= 0);
    expect(risk).toBeGreaterThan(0);
    expect(Math.min(...agentIdx)).toBeGreaterThan(risk);
    expect(names.indexOf('Record outcomes')).toBeGreaterThan(Math.max(...agentIdx));
    const ran = names
      .filter((n) => /^Run \w+ agent:/.test(n))
      .map((n) => n.split(':')[1])
      .sort();
    expect(ran).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
    // trading depends on strategy and sentiment: a later phase
    expect(names.indexOf('Run strategy agent:trading')).toBeGreaterThan(names.indexOf('Run data agent:sentiment'));
    expect(rep.agents.map((a) => [a.name, a.outcome]).sort()).toEqual([
      ['copybot', 'SUCCEEDED'],
      ['sentiment', 'SUCCEEDED'],
      ['strategy', 'SUCCEEDED'],
      ['trading', 'SUCCEEDED'],
    ]);
    expect(rep.transitions).toBe(names.length);
    const run = await rt.report();
    expect(run.system.halted).toBe(false);
    expect(Object.keys(run.agents).sort()).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
  });
});

describe('agent faults stay in their own outcome', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('a throwing agent fails only its own outcome, after its fault domain retries', async () => {
    rt = await start({ faults: [{ target: 'copybot', mode: 'throw' }] });
    const [rep] = await rt.runSlots(1);
    expect(rep.status).toBe('SUCCEEDED');
    const copybot = rep.agents.find((a) => a.name === 'copybot')!;
    expect(copybot.outcome).toBe('FAILED');
    expect(copybot.reason).toMatch(/InjectedFault/);
    expect(rt.invocations().filter((i) => i.target === 'copybot')).toHaveLength(1 + rt.config.faultDomains.strategy.maxRetries);
    expect(
      rt
        .invocations()
        .filter((i) => i.target === 'copybot')
        .map((i) => i.attempt),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    for (const other of ['strategy', 'sentiment', 'trading']) expect(rep.agents.find((a) => a.name === other)?.outcome).toBe('SUCCEEDED');
  });

  it('a timing-out agent is cut at its timeout on the simulated clock, not retried', async () => {
    rt = await start({ faults: [{ target: 'copybot', mode: 'timeout' }] });
    const [rep] = await rt.runSlots(1);
    const copybot = rep.agents.find((a) => a.name === 'copybot')!;
    expect(copybot.outcome).toBe('FAILED');
    expect(copybot.reason).toMatch(/time/i);
    const calls = rt.invocations().filter((i) => i.target === 'copybot');
    expect(calls).toHaveLength(1);
    const simulated = calls[0].endMs - calls[0].startMs;
    expect(simulated).toBeGreaterThanOrEqual(300_000);
    // Cut at the timeout, not after a retry: a second attempt would end 300 s later. The margin below that covers
    // the simulated time the scaled clock adds while the runtime's own thread waits on a loaded machine (1 wall ms =
    // timeScale simulated ms); no bound on wall time (it depends on the machine's load).
    expect(simulated).toBeLessThan(600_000);
    expect(rep.agents.find((a) => a.name === 'strategy')?.outcome).toBe('SUCCEEDED');
  });

  it('a garbage result is a FAILED outcome with the validation reason', async () => {
    rt = await start({ faults: [{ target: 'copybot', mode: 'garbage' }] });
    const [rep] = await rt.runSlots(1);
    const copybot = rep.agents.find((a) => a.name === 'copybot')!;
    expect(copybot.outcome).toBe('FAILED');
    expect(copybot.reason).toMatch(/invalid|valid|expected|required/i);
    expect(rt.invocations().filter((i) => i.target === 'copybot')).toHaveLength(1);
  });
});

describe('the risk gate fails closed', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('a throwing risk step halts: no agent invoked, system halted, later slots start no cycle', async () => {
    rt = await start({ faults: [{ target: 'risk', mode: 'throw' }] });
    const reps = await rt.runSlots(3);
    expect(reps[0].status).toBe('HALTED');
    expect(reps[0].risk.verdict).toBe('HALT');
    expect(rt.invocations().filter((i) => i.state.startsWith('Run '))).toHaveLength(0);
    expect(rt.invocations().filter((i) => i.target === 'risk')).toHaveLength(1 + rt.config.risk.maxRetries);
    expect(entered(rt.executionEvents(reps[0].cycleId))).toContain('Engage kill switch (risk)');
    expect(reps.slice(1).map((r) => [r.status, r.reason])).toEqual([
      ['NOT_STARTED', 'skipped: schedule disabled'],
      ['NOT_STARTED', 'skipped: schedule disabled'],
    ]);
    const run = await rt.report();
    // The full reason (issue 14): the generic in-band reason completed from the assessment.
    expect(run.system).toMatchObject({ halted: true, reason: 'Risk verdict HALT: Risk check failed after its retries; failing closed' });
    expect(run.system.actor).toMatch(/^cycle:/);
    expect(rt.schedules().every((s) => s.state === 'DISABLED')).toBe(true);
  });
});

describe('schedules and execution names', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('a disabled schedule fires nothing', async () => {
    rt = await start();
    for (const s of rt.schedules()) s.state = 'DISABLED';
    const reps = await rt.runSlots(2);
    expect(reps.map((r) => r.status)).toEqual(['NOT_STARTED', 'NOT_STARTED']);
    expect(rt.executions()).toHaveLength(0);
    expect(rt.invocations()).toHaveLength(0);
  });

  it('the same execution name twice runs one cycle (a double trigger of one slot)', async () => {
    rt = await start();
    const [rep] = await rt.runSlots(1);
    await expect(rt.startExecution(rep.cycleId)).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(rt.executions()).toHaveLength(1);
    expect(rt.invocations().filter((i) => i.state === 'Plan cycle')).toHaveLength(1);
  });
});

describe('a critical agent', () => {
  let rt: LocalRuntime;
  afterEach(() => rt?.close());

  it('failing halts the system through the supervisor escalation', async () => {
    const config = e2eConfig((c) => {
      c.agents = c.agents.map((a) => (a.name === 'copybot' ? { ...a, faultDomain: 'critical' } : a));
    });
    rt = await start({ config, faults: [{ target: 'copybot', mode: 'throw' }] });
    const reps = await rt.runSlots(2);
    expect(reps[0].status).toBe('HALTED');
    expect(reps[0].reason).toMatch(/supervisor escalation/);
    expect(rt.invocations().filter((i) => i.target === 'copybot')).toHaveLength(1); // critical: fail-stop, no retry
    expect(entered(rt.executionEvents(reps[0].cycleId))).toContain('Engage kill switch (supervisor)');
    expect(reps[1].status).toBe('NOT_STARTED');
    const run = await rt.report();
    expect(run.system.halted).toBe(true);
    expect(run.system.actor).toMatch(/^supervisor:/);
  });
});
