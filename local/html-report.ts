/**
 * `npm start -- --html FILE`: the run report as one self-contained HTML page people can look
 * at. Chart.js (pinned devDependency, its minified UMD build inlined into the page) draws the
 * charts; the report's JSON is embedded; the page loads nothing from the network.
 *
 * Sections: summary (cycles by status, halt), equity and drawdown over the run, P&L per agent
 * (or orders per agent while the order path reports no P&L), cycle duration against the ideal
 * (the critical path: per dependency phase, the slowest agent of that cycle), a timeline of
 * agent outcomes and circuit breaker states with the risk verdict per cycle, and the alarms,
 * notifications and halts with their simulated times.
 *
 * Requirement: issue 14 "A report people look at".
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunReport } from './report';

let chartJs: string | undefined;

/**
 * Chart.js's minified UMD build (read once from `node_modules/chart.js/dist/chart.umd.min.js`).
 * @throws {Error} when chart.js is not installed (`npm ci` installs it).
 */
export function chartJsSource(): string {
  if (chartJs === undefined) {
    const dist = dirname(require.resolve('chart.js'));
    chartJs = readFileSync(join(dist, 'chart.umd.min.js'), 'utf8');
  }
  return chartJs;
}

/** Text safe inside HTML element content and attribute values. Pure. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a `<script>` element (no `</script>`, no HTML comment openers, no U+2028/9). Pure. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Dependency phases of the configured agents: phase 0 has no dependency, phase n depends on
 * phase n-1 at most. Pure.
 * @returns agent name -> 0-based phase.
 */
export function agentPhases(agents: ReadonlyArray<{ name: string; dependsOn: readonly string[] }>): Record<string, number> {
  const byName = new Map(agents.map((a) => [a.name, a]));
  const phase: Record<string, number> = {};
  const visit = (name: string, seen: Set<string>): number => {
    if (phase[name] !== undefined) return phase[name];
    if (seen.has(name)) return 0; // a cycle is refused by the config schema; do not loop here
    seen.add(name);
    const deps = byName.get(name)?.dependsOn ?? [];
    const p = deps.length ? 1 + Math.max(...deps.map((d) => (byName.has(d) ? visit(d, seen) : -1))) : 0;
    phase[name] = Math.max(0, p);
    return phase[name];
  };
  for (const a of agents) visit(a.name, new Set());
  return phase;
}

/**
 * A cycle's ideal duration, ms: the sum over dependency phases of the slowest agent's duration in
 * that phase (what the cycle would take with unlimited workers and no orchestration cost). Pure.
 */
export function idealCycleMs(cycle: RunReport['cycles'][number], phases: Record<string, number>): number {
  const slowest = new Map<number, number>();
  for (const a of cycle.agents) {
    const p = phases[a.name] ?? 0;
    slowest.set(p, Math.max(slowest.get(p) ?? 0, a.durationMs));
  }
  return [...slowest.values()].reduce((s, v) => s + v, 0);
}

/** The figures the page's script charts, derived from the report. Pure (exported for tests). */
export function chartData(report: RunReport) {
  const phases = agentPhases(report.config.agents);
  const cycles = report.cycles;
  const labels = cycles.map((c) => `${c.cycle || 'manual'}`);
  const agentNames = [...new Set([...report.config.agents.map((a) => a.name), ...cycles.flatMap((c) => c.agents.map((a) => a.name))])];
  const pnlByAgent: Record<string, number> = {};
  const placedByAgent: Record<string, number> = {};
  const rejectedByAgent: Record<string, number> = {};
  let anyPnl = false;
  for (const c of cycles) {
    for (const [name, a] of Object.entries(c.trading?.byAgent ?? {})) {
      // pnlUsd is the agent's book since the start, marked at the cycle's bar: the run's is the last one.
      if (typeof a.pnlUsd === 'number') {
        pnlByAgent[name] = a.pnlUsd;
        anyPnl = true;
      }
      if (typeof a.ordersPlaced === 'number') placedByAgent[name] = (placedByAgent[name] ?? 0) + a.ordersPlaced;
      if (typeof a.ordersRejected === 'number') rejectedByAgent[name] = (rejectedByAgent[name] ?? 0) + a.ordersRejected;
    }
  }
  return {
    labels,
    // Equity after each cycle (the Ledger), else as the risk check found it; drawdown as the risk check measured it.
    equity: cycles.map((c) => c.trading?.equityUsd ?? c.risk.figures?.equityUsd ?? null),
    drawdownPct: cycles.map((c) => (typeof c.risk.figures?.drawdownFraction === 'number' ? c.risk.figures.drawdownFraction * 100 : null)),
    durationS: cycles.map((c) => (c.status === 'NOT_STARTED' ? null : c.durationMs / 1000)),
    idealS: cycles.map((c) => (c.agents.length ? idealCycleMs(c, phases) / 1000 : null)),
    agentNames,
    anyPnl,
    pnlByAgent: agentNames.map((n) => pnlByAgent[n] ?? 0),
    placedByAgent: agentNames.map((n) => placedByAgent[n] ?? 0),
    rejectedByAgent: agentNames.map((n) => rejectedByAgent[n] ?? 0),
  };
}

/** The timeline's letter per outcome. */
const OUTCOME_LETTER: Record<string, string> = { SUCCEEDED: 'S', FAILED: 'F', SKIPPED: '–' };

const CELL_CLASS: Record<string, string> = { SUCCEEDED: 'ok', FAILED: 'bad', SKIPPED: 'skip', OK: 'ok', REDUCE: 'warn', HALT: 'bad' };

/**
 * Renders the whole page. Pure apart from reading Chart.js once ({@link chartJsSource}).
 * @param report - a run report (`--report` JSON or `LocalRuntime.report()`).
 * @param title - page title. Default `Agent fleet run report`.
 */
export function renderHtmlReport(report: RunReport, title = 'Agent fleet run report'): string {
  const data = chartData(report);
  const counts: Record<string, number> = {};
  for (const c of report.cycles) counts[c.status] = (counts[c.status] ?? 0) + 1;
  const byName = (c: RunReport['cycles'][number], n: string) => c.agents.find((a) => a.name === n);

  const timelineHead = `<tr><th>agent</th>${report.cycles.map((c) => `<th title="${escapeHtml(c.slot)}">${escapeHtml(String(c.cycle || 'manual'))}</th>`).join('')}</tr>`;
  const riskRow = `<tr><th>risk verdict</th>${report.cycles
    .map((c) => {
      const v = c.risk.verdict ?? (c.status === 'NOT_STARTED' ? '' : 'none');
      return `<td class="${CELL_CLASS[v] ?? (v ? 'bad' : 'skip')}" title="${escapeHtml(c.risk.reasons.join('; '))}">${escapeHtml(v)}</td>`;
    })
    .join('')}</tr>`;
  const statusRow = `<tr><th>cycle</th>${report.cycles.map((c) => `<td class="${c.status === 'SUCCEEDED' ? (c.agents.some((a) => a.outcome === 'FAILED') ? 'warn' : 'ok') : c.status === 'NOT_STARTED' || c.status === 'SKIPPED' ? 'skip' : 'bad'}" title="${escapeHtml(c.reason ?? '')}">${escapeHtml(c.status)}</td>`).join('')}</tr>`;
  const agentRows = data.agentNames
    .map(
      (n) =>
        `<tr><th>${escapeHtml(n)}</th>${report.cycles
          .map((c) => {
            const a = byName(c, n);
            if (!a) return '<td class="skip">-</td>';
            const breaker = a.breakerTransition ? `${a.breaker} (${a.breakerTransition})` : a.breaker;
            return `<td class="${CELL_CLASS[a.outcome] ?? 'skip'}${a.breaker && a.breaker !== 'CLOSED' ? ' breaker' : ''}" title="${escapeHtml(`${a.outcome}, ${a.attempts} attempt(s), ${a.durationMs} ms; ${a.reason ?? a.summary ?? ''}`)}">${escapeHtml(OUTCOME_LETTER[a.outcome] ?? a.outcome.slice(0, 1))}<small>${escapeHtml(breaker)}</small></td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');

  const events = [
    // Alarms entering or leaving ALARM (the first evaluations, INSUFFICIENT_DATA -> OK, are noise).
    ...report.alarmTransitions
      .filter((t) => t.to === 'ALARM' || t.from === 'ALARM')
      .map((t) => ({ at: t.at, kind: 'alarm', text: `${t.alarm}: ${t.from} → ${t.to}`, detail: t.reason })),
    ...report.notifications.map((n) => ({
      at: n.at,
      kind: n.channel,
      text: n.subject,
      detail: n.message.length > 300 ? `${n.message.slice(0, 299)}…` : n.message,
    })),
    ...report.cycles
      .filter((c) => c.status === 'HALTED')
      .map((c) => ({ at: c.slot, kind: 'halt', text: `cycle ${c.cycle || c.cycleId} ${c.status}`, detail: c.reason ?? '' })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const eventRows = events.length
    ? events
        .map(
          (e) =>
            `<tr class="${e.kind === 'halt' || /ALARM|HALT/.test(e.text) ? 'hl' : ''}"><td>${escapeHtml(e.at)}</td><td>${escapeHtml(e.kind)}</td><td>${escapeHtml(e.text)}</td><td class="detail">${escapeHtml(e.detail)}</td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="4">none</td></tr>';
  const reasons = report.cycles
    .filter((c) => c.risk.reasons.length)
    .map(
      (c) =>
        `<li><b>cycle ${escapeHtml(String(c.cycle || c.cycleId))}</b> ${escapeHtml(c.risk.verdict ?? 'no verdict')}: ${escapeHtml(c.risk.reasons.join('; '))}</li>`,
    );
  const positions = report.portfolio?.positions ?? [];

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2433; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
.summary { color: #444; } .halted { color: #b00020; font-weight: 600; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1.2rem; }
.chart { position: relative; height: 280px; border: 1px solid #e3e6ec; border-radius: 6px; padding: .5rem; }
table { border-collapse: collapse; font-size: 12px; } th, td { border: 1px solid #e3e6ec; padding: 2px 6px; text-align: left; vertical-align: top; }
.timeline td { text-align: center; min-width: 2.2rem; } .timeline small { display: block; font-size: 9px; color: #333; }
td.ok { background: #d7f2dd; } td.bad { background: #f8d0d4; } td.warn { background: #fbeec2; } td.skip { background: #eef0f3; color: #777; }
td.breaker { outline: 2px solid #b00020; outline-offset: -2px; }
tr.hl td { background: #fdeced; } td.detail { max-width: 60rem; word-break: break-word; color: #555; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="summary">${report.cycles.length} slots: ${escapeHtml(
    Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 'none',
  )} · cadence ${report.config.cadenceMinutes} min · simulated ${(report.simulatedMs / 1000).toFixed(0)} s in ${report.wallMs} ms wall${report.interrupted ? ' · <b>interrupted</b>' : ''}</p>
<p class="${report.system.halted ? 'halted' : 'summary'}">System ${report.system.halted ? `HALTED by ${escapeHtml(report.system.actor ?? '?')}: ${escapeHtml(report.system.reason ?? '')}` : `running (mode ${escapeHtml(report.system.mode)})`}</p>
<div class="grid">
  <div><h2>Equity and drawdown</h2><div class="chart"><canvas id="equity" aria-label="equity and drawdown per cycle"></canvas></div></div>
  <div><h2>${data.anyPnl ? 'P&amp;L per agent since the start (USD)' : 'Orders per agent'}</h2><div class="chart"><canvas id="agents" aria-label="per agent figures"></canvas></div></div>
  <div><h2>Cycle duration against the ideal</h2><div class="chart"><canvas id="durations" aria-label="cycle duration and ideal"></canvas></div></div>
</div>
<h2>Timeline: outcomes, circuit breakers, risk verdicts</h2>
<table class="timeline">
${timelineHead}
${statusRow}
${riskRow}
${agentRows}
</table>
<p class="summary">S succeeded, F failed, – skipped (a dependency failed or the breaker was OPEN); the breaker state is under the letter (outlined when not CLOSED). Hover a cell for details.</p>
${reasons.length ? `<h2>Risk reasons</h2><ul>${reasons.join('\n')}</ul>` : ''}
<h2>Alarms, notifications and halts</h2>
<table class="events"><tr><th>simulated time</th><th>kind</th><th>what</th><th>detail</th></tr>
${eventRows}
</table>
${report.portfolio ? `<h2>Portfolio after the run</h2><p>cash USD ${report.portfolio.cashUsd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} · ${positions.length} position(s)</p>${positions.length ? `<table><tr><th>symbol</th><th>qty</th><th>avg price</th></tr>${positions.map((p) => `<tr><td>${escapeHtml(p.symbol)}</td><td>${p.qty}</td><td>${p.avgPrice ?? ''}</td></tr>`).join('')}</table>` : ''}` : ''}
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  new Chart(document.getElementById('equity'), {
    type: 'line',
    data: { labels: d.labels, datasets: [
      { label: 'equity (USD)', data: d.equity, yAxisID: 'y', borderColor: '#1f6feb', backgroundColor: '#1f6feb', spanGaps: true },
      { label: 'drawdown (%)', data: d.drawdownPct, yAxisID: 'dd', borderColor: '#d1242f', backgroundColor: 'rgba(209,36,47,.15)', fill: true, spanGaps: true }
    ] },
    options: { scales: { x: { title: { display: true, text: 'cycle' } }, y: { position: 'left', title: { display: true, text: 'USD' } }, dd: { position: 'right', min: 0, grid: { drawOnChartArea: false }, title: { display: true, text: '% from peak' } } } }
  });
  new Chart(document.getElementById('agents'), {
    type: 'bar',
    data: { labels: d.agentNames, datasets: d.anyPnl
      ? [{ label: 'P&L (USD)', data: d.pnlByAgent, backgroundColor: d.pnlByAgent.map(function (v) { return v < 0 ? '#d1242f' : '#2da44e'; }) }]
      : [{ label: 'orders placed', data: d.placedByAgent, backgroundColor: '#2da44e' }, { label: 'orders rejected', data: d.rejectedByAgent, backgroundColor: '#d1242f' }] },
    options: { plugins: { subtitle: { display: !d.anyPnl, text: 'this run reports no per-agent P&L' } } }
  });
  new Chart(document.getElementById('durations'), {
    type: 'bar',
    data: { labels: d.labels, datasets: [
      { type: 'bar', label: 'cycle duration (s, simulated)', data: d.durationS, backgroundColor: '#8250df' },
      { type: 'line', label: 'ideal: slowest agent per phase (s)', data: d.idealS, borderColor: '#bf8700', backgroundColor: '#bf8700' }
    ] },
    options: { scales: { x: { title: { display: true, text: 'cycle' } }, y: { beginAtZero: true, title: { display: true, text: 's' } } } }
  });
  document.body.setAttribute('data-charts', String(Chart.instances ? Object.keys(Chart.instances).length : 3));
})();
</script>
</body>
</html>
`;
}
