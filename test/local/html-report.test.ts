/**
 * The `--html` page: built from a run report made here (a fleet with a failing agent, a breaker
 * that opens, a risk HALT, an alarm and the Master's halt), checked as data, then rendered in the
 * system's headless Chromium: the charts are drawn, nothing is loaded, no console errors.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildProgram, UsageError } from '../../local/cli';
import { join } from 'node:path';
import { agentPhases, chartData, escapeHtml, idealCycleMs, renderHtmlReport, scriptJson } from '../../local/html-report';
import type { CycleReport, RunReport } from '../../local/report';
import { hasChromium, renderInChromium, TEST_OUTPUT } from './chromium';

jest.setTimeout(60_000);

const agents = [
  { name: 'sentiment', faultDomain: 'data', enabled: true, dependsOn: [], timeoutSeconds: 300 },
  { name: 'strategy', faultDomain: 'strategy', enabled: true, dependsOn: [], timeoutSeconds: 300 },
  { name: 'trading', faultDomain: 'strategy', enabled: true, dependsOn: ['strategy', 'sentiment'], timeoutSeconds: 300 },
];

function cycle(n: number, over: Partial<CycleReport> = {}): CycleReport {
  const failing = n >= 3;
  return {
    cycle: n,
    cycleId: `c${n}`,
    slot: new Date(Date.parse('2026-01-05T14:30:00.000Z') + 15 * 60_000 * (n - 1)).toISOString(),
    status: 'SUCCEEDED',
    durationMs: 1500 + 100 * n,
    wallMs: 900,
    risk: { verdict: 'OK', reasons: [], figures: { equityUsd: 1_000_000 - 2000 * n + 500, drawdownFraction: 0.002 * n, dailyPnlUsd: -2000 } },
    transitions: 20,
    agents: [
      { name: 'sentiment', outcome: 'SUCCEEDED', durationMs: 200, attempts: 1, breaker: 'CLOSED' },
      {
        name: 'strategy',
        outcome: failing ? 'FAILED' : 'SUCCEEDED',
        durationMs: 400,
        attempts: failing ? 3 : 1,
        breaker: n === 4 ? 'OPEN' : 'CLOSED',
        ...(n === 4 ? { breakerTransition: 'CLOSED->OPEN' } : {}),
        ...(failing ? { reason: 'InjectedFault: <script>alert(1)</script>' } : {}),
      },
      n === 4
        ? { name: 'trading', outcome: 'SKIPPED', durationMs: 0, attempts: 0, breaker: 'CLOSED', reason: 'dependency strategy failed' }
        : { name: 'trading', outcome: 'SUCCEEDED', durationMs: 700, attempts: 1, breaker: 'CLOSED' },
    ],
    trading: {
      ordersPlaced: 3,
      ordersRejected: { minCash: 1 },
      equityUsd: 1_000_000 - 2000 * n,
      cashUsd: 800_000,
      grossExposureUsd: 200_000,
      pnlUsd: -2000 * n,
      workingOrders: 0,
      reservedCashUsd: 0,
      byAgent: {
        trading: { ordersPlaced: 3, ordersRejected: 1, pnlUsd: -1500 * n, grossExposureUsd: 150_000, workingOrders: 0 },
        strategy: { ordersPlaced: 0, ordersRejected: 0, pnlUsd: 300, grossExposureUsd: 50_000, workingOrders: 0 },
      },
    },
    ...over,
  };
}

const report: RunReport = {
  config: { cadenceMinutes: 15, maxWorkers: 4, agents },
  cycles: [
    cycle(1),
    cycle(2),
    cycle(3),
    cycle(4),
    cycle(5, {
      status: 'HALTED',
      trading: undefined,
      reason: 'risk: Daily loss 3.1 % is beyond the limit 3 % (HALT)',
      risk: { verdict: 'HALT', reasons: ['Daily loss 3.1 % is beyond the limit 3 % (HALT)'] },
    }),
    {
      cycle: 6,
      cycleId: '',
      slot: '2026-01-05T15:45:00.000Z',
      status: 'NOT_STARTED',
      reason: 'skipped: schedule disabled',
      durationMs: 0,
      wallMs: 0,
      risk: { verdict: null, reasons: [] },
      agents: [],
      transitions: 0,
    },
  ],
  agents: {},
  system: { halted: true, mode: 'normal', reason: 'Risk verdict HALT', actor: 'cycle', at: '2026-01-05T15:30:02.000Z' },
  alarms: [{ name: 'AgentFleet-RiskHalt', state: 'ALARM', changedAt: '2026-01-05T15:31:00.000Z' }],
  alarmTransitions: [
    { alarm: 'AgentFleet-CycleFailed', from: 'INSUFFICIENT_DATA', to: 'OK', at: '2026-01-05T14:31:00.000Z', reason: 'noise' },
    { alarm: 'AgentFleet-RiskHalt', from: 'OK', to: 'ALARM', at: '2026-01-05T15:31:00.000Z', reason: 'Threshold Crossed: 1 of the last 1 datapoints [1]' },
  ],
  notifications: [{ channel: 'sns', at: '2026-01-05T15:31:00.000Z', subject: 'ALARM: "AgentFleet-RiskHalt"', message: '{"AlarmName":"AgentFleet-RiskHalt"}' }],
  portfolio: { cashUsd: 800_000, positions: [{ symbol: 'MSFT', qty: 100, avgPrice: 61.25 }] },
  simulatedMs: 5_400_000,
  wallMs: 6000,
};

describe('HTML report: data', () => {
  it('phases follow dependsOn, and the ideal is the slowest agent per phase', () => {
    expect(agentPhases(agents)).toEqual({ sentiment: 0, strategy: 0, trading: 1 });
    expect(idealCycleMs(report.cycles[0], agentPhases(agents))).toBe(400 + 700);
  });

  it('charts equity (the Ledger, else the risk check), drawdown in percent, per-agent P&L at the last cycle and durations in seconds', () => {
    const d = chartData(report);
    expect(d.labels).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(d.equity.slice(0, 2)).toEqual([998_000, 996_000]);
    expect(d.equity[5]).toBeNull();
    expect(d.drawdownPct[0]).toBeCloseTo(0.2, 10);
    expect(d.anyPnl).toBe(true);
    expect(d.agentNames).toEqual(['sentiment', 'strategy', 'trading']);
    // pnlUsd is each book since the start: the run's is the last cycle's.
    expect(d.pnlByAgent).toEqual([0, 300, -1500 * 4]); // cycle 5 halted before trading
    expect(d.placedByAgent).toEqual([0, 0, 12]);
    expect(d.rejectedByAgent).toEqual([0, 0, 4]);
    expect(d.durationS[0]).toBe(1.6);
    expect(d.idealS[0]).toBe(1.1);
    expect(d.idealS[5]).toBeNull(); // a slot that started no cycle has no duration
    expect(d.durationS[5]).toBeNull();
  });

  it('escapes what the report says and keeps the embedded JSON out of the HTML parser', () => {
    const html = renderHtmlReport(report);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain(escapeHtml('InjectedFault: <script>alert(1)</script>'));
    expect(scriptJson({ a: '</script><!--' })).toBe('{"a":"\\u003c/script\\u003e\\u003c!--"}');
    expect(JSON.parse(scriptJson({ a: '</script>' }))).toEqual({ a: '</script>' });
  });

  it('is one self-contained page: Chart.js inlined, no external script, stylesheet or image', () => {
    const html = renderHtmlReport(report);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<(script|img|link|iframe)[^>]+(src|href)=/i);
    expect(html).toContain('Chart.js v4.'); // the inlined library's banner
    expect(html).toContain('AgentFleet-RiskHalt: OK → ALARM');
    expect(html).not.toContain('AgentFleet-CycleFailed'); // INSUFFICIENT_DATA -> OK is left out
    expect(html).toContain('HALTED by cycle');
    expect(html).toMatch(/<td class="bad breaker"[^>]*>F<small>OPEN \(CLOSED-&gt;OPEN\)<\/small>/);
    expect(html).toMatch(/<td class="skip"[^>]*dependency strategy failed">–<small>CLOSED<\/small>/);
  });
});

describe('the page of a saved run: npx tsx local/cli.ts html REPORT PAGE', () => {
  it('writes the same page from the --report JSON, and refuses what is not a report with a one-line usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'html-cli-'));
    const input = join(dir, 'run.json');
    writeFileSync(input, JSON.stringify(report));
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await buildProgram().parseAsync(['html', input, join(dir, 'deep', 'run.html')], { from: 'user' });
      expect(readFileSync(join(dir, 'deep', 'run.html'), 'utf8')).toBe(renderHtmlReport(report));
      writeFileSync(join(dir, 'other.json'), '{"hello":1}');
      await expect(buildProgram().parseAsync(['html', join(dir, 'other.json'), join(dir, 'x.html')], { from: 'user' })).rejects.toThrow(UsageError);
      await expect(buildProgram().parseAsync(['html', join(dir, 'missing.json'), join(dir, 'x.html')], { from: 'user' })).rejects.toThrow(
        /not a readable JSON report/,
      );
    } finally {
      out.mockRestore();
      process.exitCode = undefined;
    }
  });
});

(hasChromium ? describe : describe.skip)('HTML report in headless Chromium (/usr/bin/chromium)', () => {
  it('draws the three charts, shows the timeline and the halt, loads nothing and logs no error', async () => {
    const dir = join(TEST_OUTPUT, 'html-report');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'synthetic-run.html');
    writeFileSync(file, renderHtmlReport(report));
    const page = await renderInChromium(file, join(dir, 'synthetic-run.png'));
    expect(page.pageErrors).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    expect(page.canvases.map((c) => c.id)).toEqual(['equity', 'agents', 'durations']);
    for (const c of page.canvases) {
      expect(c.chart).toBe(true);
      expect(c.width).toBeGreaterThan(100);
      expect(c.inkedPixels).toBeGreaterThan(1000);
    }
    expect(page.headings).toEqual(
      expect.arrayContaining(['P&L per agent since the start (USD)', 'Timeline: outcomes, circuit breakers, risk verdicts', 'Alarms, notifications and halts']),
    );
    expect(page.text).toContain('System HALTED by cycle');
    expect(page.text).toContain('NOT_STARTED');
  });
});

if (!hasChromium) {
  console.warn('HTML report browser test skipped: /usr/bin/chromium is missing (apt-get install -y chromium; .ci/run installs it)');
}
