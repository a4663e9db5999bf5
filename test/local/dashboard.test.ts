/**
 * The per-cycle terminal dashboard, its progress filter, the start-of-run symbol check and the
 * CLI helpers (colour, paths), on report entries and configs built here.
 */
import { join } from 'node:path';
import { colorEnabled, resolveFromUserCwd, resolveInputPath, stripAnsi } from '../../local/cli-env';
import { createProgressFilter, cycleStatusText, formatDuration, formatHandlerLog, renderDashboard, truncate, usd } from '../../local/dashboard';
import { liveDashboardWanted, liveFrame } from '../../local/live-dashboard';
import { checkSymbols, symbolsInParams } from '../../local/market-check';
import type { CycleReport, RunReport } from '../../local/report';
import { isHandlerLogLine } from '../../local/runtime';

const cycle = (over: Partial<CycleReport> = {}): CycleReport => ({
  cycle: 2,
  cycleId: 'AgentFleet-default-1',
  slot: '2026-01-05T14:45:00.000Z',
  status: 'SUCCEEDED',
  durationMs: 1234,
  wallMs: 900,
  risk: {
    verdict: 'OK',
    reasons: [],
    figures: { equityUsd: 1_234_000, cashUsd: 2000, grossExposureUsd: 4000, dailyPnlUsd: -12.5, drawdownFraction: 0.0123, positions: 1 },
  },
  transitions: 20,
  agents: [
    { name: 'trading', outcome: 'SUCCEEDED', durationMs: 12, attempts: 1, breaker: 'CLOSED', summary: 'placed 1 order' },
    {
      name: 'strategy',
      outcome: 'FAILED',
      durationMs: 730,
      attempts: 3,
      breaker: 'OPEN',
      breakerTransition: 'CLOSED->OPEN',
      reason: `InjectedFault: ${'x'.repeat(200)}`,
    },
  ],
  trading: {
    ordersPlaced: 3,
    ordersRejected: { minCash: 2, priceCollar: 1 },
    equityUsd: 1_234_567.891,
    cashUsd: 1000,
    grossExposureUsd: 5000,
    pnlUsd: 234_567.89,
    workingOrders: 2,
    reservedCashUsd: 1500,
    byAgent: {},
  },
  ...over,
});

const run = (over: Partial<RunReport> = {}): RunReport => ({
  config: {
    cadenceMinutes: 15,
    maxWorkers: 4,
    agents: [
      { name: 'strategy', faultDomain: 'strategy', enabled: true, dependsOn: [], timeoutSeconds: 300 },
      { name: 'trading', faultDomain: 'strategy', enabled: true, dependsOn: ['strategy'], timeoutSeconds: 300 },
    ],
  },
  cycles: [],
  agents: {
    trading: {
      health: 'HEALTHY',
      breaker: 'CLOSED',
      successRate: 1,
      executions: 2,
      successes: 2,
      failures: 0,
      consecutiveFailures: 0,
      avgDurationMs: 20,
      tripCount: 0,
    },
    strategy: {
      health: 'UNHEALTHY',
      breaker: 'OPEN',
      successRate: 0.5,
      executions: 2,
      successes: 1,
      failures: 1,
      consecutiveFailures: 1,
      avgDurationMs: 400,
      tripCount: 1,
    },
  },
  system: { halted: false, mode: 'normal' },
  alarms: [],
  alarmTransitions: [
    { alarm: 'A', from: 'OK', to: 'ALARM', at: '2026-01-05T14:46:00.000Z', reason: 'r' },
    { alarm: 'Old', from: 'OK', to: 'ALARM', at: '2026-01-05T14:00:00.000Z', reason: 'r' },
  ],
  notifications: [],
  portfolio: { cashUsd: 1000, positions: [{ symbol: 'MSFT', qty: 10, avgPrice: 61.25 }] },
  simulatedMs: 0,
  wallMs: 0,
  ...over,
});

describe('renderDashboard', () => {
  const text = renderDashboard(cycle(), run(), { alertsSince: '2026-01-05T14:45:00.000Z' });
  const lines = text.split('\n');

  it('says in the status line that agents failed in a SUCCEEDED cycle', () => {
    expect(lines[0]).toMatch(/^Cycle 2 {2}2026-01-05T14:45:00\.000Z {2}SUCCEEDED, 1 of 2 agents FAILED {2}simulated 1\.2 s, wall 900 ms, 20 transitions$/);
    expect(cycleStatusText(cycle({ agents: [] }))).toBe('SUCCEEDED');
  });

  it('shows the trading view: P&L today and drawdown at the risk check, the account after the cycle, orders by check, positions', () => {
    expect(text).toContain('risk OK · P&L today USD -12.50 · drawdown 1.23 %');
    expect(text).toContain('account: equity USD 1,234,567.89 · cash USD 1,000.00 · gross exposure USD 5,000.00 · P&L since start USD +234,567.89');
    // Without the Ledger's figures, the account as the risk check found it.
    expect(renderDashboard(cycle({ trading: undefined }), run())).toContain(
      'account (at the risk check): equity USD 1,234,000.00 · cash USD 2,000.00 · gross exposure USD 4,000.00',
    );
    expect(text).toContain('orders: 3 placed, 3 rejected (minCash 2, priceCollar 1); 2 working (USD 1,500.00 reserved)');
    expect(text).toContain('positions (1): MSFT 10 @ 61.25 · cash USD 1,000.00');
  });

  it('one row per agent in config order, this cycle next to its health; short durations are not 0.0 s; long reasons end in an ellipsis', () => {
    const rows = lines.filter((l) => /^ {2}(strategy|trading) /.test(l));
    expect(rows.map((r) => r.trim().split(/\s+/)[0])).toEqual(['strategy', 'trading']);
    expect(rows[0]).toMatch(/strategy\s+FAILED\s+730 ms\s+3\s+OPEN \(CLOSED->OPEN\)\s+UNHEALTHY\s+50 %\s+400 ms\s+InjectedFault: x+…$/);
    expect(rows[0].length).toBeLessThan(160);
    expect(rows[1]).toMatch(/trading\s+SUCCEEDED\s+<50 ms\s+1\s+CLOSED\s+HEALTHY\s+100 %\s+<50 ms\s+placed 1 order$/);
    expect(text).not.toContain('0.0 s');
  });

  it('lists only the alerts since the previous cycle, and the halt', () => {
    expect(text).toContain('alarm A: OK -> ALARM');
    expect(text).not.toContain('alarm Old');
    const halted = renderDashboard(cycle(), run({ system: { halted: true, mode: 'normal', actor: 'cycle', reason: 'Daily loss 3.1 % beyond 3 %' } }));
    expect(halted).toContain('SYSTEM HALTED by cycle: Daily loss 3.1 % beyond 3 %');
  });

  it('a risk result with no verdict reads "no verdict", never "undefined"; a per-agent P&L column appears when reported', () => {
    const t = renderDashboard(
      cycle({
        risk: { verdict: null, reasons: ['the risk gate returned no valid verdict'] },
        trading: {
          ordersPlaced: 0,
          ordersRejected: {},
          cashUsd: 0,
          equityUsd: 0,
          grossExposureUsd: 0,
          pnlUsd: 12.5,
          workingOrders: 0,
          reservedCashUsd: 0,
          byAgent: { trading: { ordersPlaced: 0, ordersRejected: 0, pnlUsd: 12.5, grossExposureUsd: 0, workingOrders: 0 } },
        },
      }),
      run(),
    );
    expect(t).toContain('risk no verdict (the risk gate returned no valid verdict)');
    expect(t).not.toContain('undefined');
    expect(t).toMatch(/agent\s+outcome\s+time\s+tries\s+breaker\s+health\s+success\s+avg\s+P&L\s+exposure\s+note/);
    expect(t).toMatch(/trading\s+SUCCEEDED.*USD \+12\.50/);
  });

  it('per agent: exposure, working orders and budget used when reported, and REDUCE while its daily-loss protection holds', () => {
    const t = renderDashboard(
      cycle({
        trading: {
          ordersPlaced: 0,
          ordersRejected: {},
          cashUsd: 0,
          equityUsd: 0,
          grossExposureUsd: 0,
          pnlUsd: -40,
          workingOrders: 2,
          reservedCashUsd: 0,
          byAgent: {
            trading: { ordersPlaced: 0, ordersRejected: 0, pnlUsd: -40, grossExposureUsd: 5_000, workingOrders: 2, budgetUsedFraction: 0.25, reduceOnly: true },
          },
        },
      }),
      run(),
    );
    expect(t).toMatch(/agent\s+outcome\s+time\s+tries\s+breaker\s+health\s+success\s+avg\s+P&L\s+exposure\s+working\s+budget\s+note/);
    expect(t).toMatch(/trading\s+SUCCEEDED.*USD -40\.00 REDUCE\s+USD 5,000\.00\s+2\s+25\.00 %/);
  });

  it('plain unless colour is asked for', () => {
    expect(text).not.toContain('\x1b[');
    const coloured = renderDashboard(cycle(), run(), { color: true });
    expect(coloured).toContain('\x1b[');
    expect(stripAnsi(coloured)).toBe(renderDashboard(cycle(), run()));
  });
});

describe('formatting helpers', () => {
  it.each([
    [0, '<50 ms'],
    [49, '<50 ms'],
    [50, '50 ms'],
    [999, '999 ms'],
    [1000, '1.0 s'],
    [99_949, '99.9 s'],
    [300_000, '300 s'],
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('truncate ends a cut text with an ellipsis and keeps a short one', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(usd(-1234.5)).toBe('USD -1,234.50');
    expect(usd(undefined)).toBe('n/a');
  });
});

describe('handler logs under the cycle', () => {
  it('show the simulated time, level, function and message, and the extra keys but the cycle id', () => {
    const line = JSON.stringify({
      level: 'WARN',
      message: 'Order rejected',
      timestamp: '2026-12-01T10:00:00.000Z',
      service: 'agent-fleet',
      sampling_rate: 0,
      function_name: 'AgentFleet-trading',
      cycleId: 'c1',
      check: 'minCash',
      simTime: '2026-01-05T14:30:01.200Z',
    });
    expect(formatHandlerLog(line)).toBe('log 2026-01-05T14:30:01.200Z WARN AgentFleet-trading: Order rejected {"check":"minCash"}');
    expect(formatHandlerLog(JSON.stringify({ level: 'INFO', message: 'x'.repeat(300), service: 's' }), 50)).toHaveLength(50);
  });
});

describe('progress filter', () => {
  it('drops fault-domain states that ran no agent and keeps the rest in order', () => {
    const kept: string[] = [];
    const f = createProgressFilter((l) => kept.push(l.trim()));
    for (const l of [
      '#1 +0.2s Run phases',
      '#1 +0.2s Run agents',
      '#1 +0.2s Run data agents',
      '#1 +0.2s Run strategy agents',
      '#1 +0.2s Run critical agents',
      '#1 +0.2s Run strategy agent (strategy)',
      '#1 +0.2s Run strategy agent (copybot)',
      '#1 +0.5s Run agents',
      '#1 +0.5s Run data agents',
      '#1 +0.5s Run data agent (sentiment)',
      '#1 +0.9s Record outcomes',
    ])
      f(`  ${l}`);
    expect(kept).toEqual([
      '#1 +0.2s Run phases',
      '#1 +0.2s Run agents',
      '#1 +0.2s Run strategy agents',
      '#1 +0.2s Run strategy agent (strategy)',
      '#1 +0.2s Run strategy agent (copybot)',
      '#1 +0.5s Run agents',
      '#1 +0.5s Run data agents',
      '#1 +0.5s Run data agent (sentiment)',
      '#1 +0.9s Record outcomes',
    ]);
  });
});

describe('symbols the config names against the market data', () => {
  const agent = (name: string, params: Record<string, unknown>) => ({ name, enabled: true, params }) as never;

  it('finds ticker lists and SYMBOL:weight pairs in params, not other strings', () => {
    expect(symbolsInParams({ targetWeights: ['MSFT:0.04', 'BRK.B:0.01'], watch: ['IBM'], symbol: 'KO', mode: 'fast', notes: ['hello world'] })).toEqual([
      'MSFT',
      'BRK.B',
      'IBM',
      'KO',
    ]);
  });

  it('warns about a missing symbol, and is an error when an agent or the universe is left with none', () => {
    const r = checkSymbols(
      { agents: [agent('copybot', { targetWeights: ['MSFT:0.04', 'IBM:0.03'] }), agent('solo', { watch: ['XOM'] })], portfolio: { universe: [] } },
      ['MSFT'],
      'msft.csv',
    );
    expect(r.warnings).toEqual(['agent copybot: params name IBM, not in msft.csv (it has MSFT)']);
    expect(r.errors).toEqual(['agent solo: params name XOM, not in msft.csv (it has MSFT): the agent is left with no symbol']);
    const u = checkSymbols({ agents: [], portfolio: { universe: ['Close'] } }, ['MSFT'], 'msft.csv');
    expect(u.errors).toEqual(['portfolio.universe names Close, not in msft.csv (it has MSFT): no symbol of the universe is left to trade']);
    expect(checkSymbols({ agents: [agent('a', { watch: ['MSFT'] })] }, ['MSFT'], 'f').warnings).toEqual([]);
  });
});

describe('CLI helpers', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of ['NO_COLOR', 'FORCE_COLOR', 'TERM', 'INIT_CWD']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('colour only on a TTY, never with NO_COLOR, always with FORCE_COLOR', () => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    process.env.TERM = 'xterm';
    expect(colorEnabled({ isTTY: true })).toBe(true);
    expect(colorEnabled({ isTTY: false })).toBe(false);
    process.env.NO_COLOR = '1';
    expect(colorEnabled({ isTTY: true })).toBe(false);
    delete process.env.NO_COLOR;
    process.env.FORCE_COLOR = '1';
    expect(colorEnabled({ isTTY: false })).toBe(true);
  });

  it("the runtime keeps only Powertools log lines out of the terminal, never a CLI's JSON output", () => {
    expect(isHandlerLogLine('{"level":"WARN","message":"x","timestamp":"2026-01-05T14:30:00.000Z","service":"agent-fleet"}')).toBe(true);
    expect(isHandlerLogLine('{')).toBe(false);
    expect(isHandlerLogLine(JSON.stringify({ halted: false, mode: 'normal', agents: [] }))).toBe(false);
    expect(isHandlerLogLine('{"level":"WARN","message":')).toBe(false);
    expect(isHandlerLogLine('plain text')).toBe(false);
  });

  it('the live dashboard only on a colour terminal, never piped, with --quiet, --no-live, NO_COLOR or under CI', () => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    process.env.TERM = 'xterm';
    const tty = { isTTY: true };
    expect(liveDashboardWanted({ stdout: tty, env: {} })).toBe(true);
    expect(liveDashboardWanted({ stdout: { isTTY: false }, env: {} })).toBe(false);
    expect(liveDashboardWanted({ stdout: tty, env: {}, quiet: true })).toBe(false);
    expect(liveDashboardWanted({ stdout: tty, env: {}, noLive: true })).toBe(false);
    expect(liveDashboardWanted({ stdout: tty, env: { CI: 'true' } })).toBe(false);
    process.env.NO_COLOR = '1';
    expect(liveDashboardWanted({ stdout: tty, env: {} })).toBe(false);
    expect(liveFrame(2, 5, '  #2 +0.1s Assess risk', 'Cycle 1 ...')).toBe('slot 2 of 5 · #2 +0.1s Assess risk\n\nCycle 1 ...');
    expect(liveFrame(0, 5, '', '')).toBe('slot 0 of 5');
  });

  it('paths resolve from the directory the user typed the command in (INIT_CWD under npm)', () => {
    process.env.INIT_CWD = '/home/u/work';
    expect(resolveFromUserCwd('out/r.json')).toBe('/home/u/work/out/r.json');
    expect(resolveFromUserCwd('/abs/r.json')).toBe('/abs/r.json');
    const root = join(__dirname, '..', '..');
    // An input missing from the user's directory falls back to the repo's (README paths work anywhere in the checkout).
    expect(resolveInputPath('data/market/msft-daily.csv', root)).toBe(join(root, 'data/market/msft-daily.csv'));
    expect(resolveInputPath('nope.csv', root)).toBe('/home/u/work/nope.csv');
  });
});
