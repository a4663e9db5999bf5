/**
 * The terminal dashboard printed after each cycle by `npm start`, and the filter of its progress
 * lines. Compact: one status line, one risk-and-portfolio line, one row per agent (this cycle's
 * outcome, time and attempts next to its health, success rate and average time, in config
 * order), the open positions, the alerts since the previous cycle, the halt.
 *
 * Colour only when asked (`color: true`, which the CLI sets from {@link colorEnabled}: never when
 * piped or with `NO_COLOR`).
 */
import type { AgentCycleEntry, CycleReport, RunReport } from './report';

/** Options of {@link renderDashboard}. */
export interface DashboardOptions {
  /** ISO time of the previous cycle's slot: alerts at or after it are "recent". Default: all alerts. */
  alertsSince?: string;
  /** Emit ANSI colours. Default false. */
  color?: boolean;
  /** Files the run wrote, listed at the end ("report written to ..."). Default none. */
  reportFiles?: string[];
  /** Width of the note column, characters (longer notes end in an ellipsis). Default 60. */
  noteWidth?: number;
}

const ANSI = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/**
 * A duration for people: `<50 ms` under 50 ms (the simulated clock's resolution while handlers
 * compute is not finer), `NNN ms` under 1 s, `N.N s` under 100 s, else `N s`. Pure.
 * @param ms - milliseconds.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 50) return '<50 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 100_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** `text` cut to `width` characters, ending in `…` when cut. Pure. */
export function truncate(text: string, width: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= width ? t : `${t.slice(0, Math.max(0, width - 1))}…`;
}

/** USD with thousands separators and cents (`USD 1,234.50`, `USD -12.00`). Pure. */
export function usd(n: number | undefined, signed = false): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  const s = Math.abs(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `USD ${n < 0 ? '-' : signed ? '+' : ''}${s}`;
}

/** A fraction as a percentage with 2 decimals (`0.0123` -> `1.23 %`). Pure. */
export function pct(fraction: number | undefined): string {
  return fraction === undefined || !Number.isFinite(fraction) ? 'n/a' : `${(fraction * 100).toFixed(2)} %`;
}

/** Left-aligned columns separated by two spaces (no borders). Pure. */
function columns(rows: string[][], visibleLength: (s: string) => number): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visibleLength(c))))
      .join('  ')
      .trimEnd(),
  );
}

/** The status line's words for a cycle, e.g. `SUCCEEDED, 2 of 4 agents FAILED`. Pure. */
export function cycleStatusText(cycle: Pick<CycleReport, 'status' | 'agents'>): string {
  const failed = cycle.agents.filter((a) => a.outcome === 'FAILED').length;
  return failed ? `${cycle.status}, ${failed} of ${cycle.agents.length} agent${cycle.agents.length === 1 ? '' : 's'} FAILED` : cycle.status;
}

/**
 * Renders one cycle and the fleet state after it, as text (plain unless `opts.color`). Pure.
 * @param cycle - the cycle's report entry.
 * @param run - the run report after the cycle (health, alarms, notifications, system, portfolio).
 */
export function renderDashboard(cycle: CycleReport, run: RunReport, opts: DashboardOptions = {}): string {
  const color = opts.color ?? false;
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const statusColor = (s: string) =>
    /SUCCEEDED|OK|CLOSED|HEALTHY/.test(s) ? ANSI.green : /FAILED|HALT|OPEN|UNHEALTHY|NOT_STARTED/.test(s) ? ANSI.red : ANSI.yellow;
  const noteWidth = opts.noteWidth ?? 60;
  const out: string[] = [];

  const statusText = cycleStatusText(cycle);
  const failed = cycle.agents.some((a) => a.outcome === 'FAILED');
  const head = [
    paint(ANSI.bold, `Cycle ${cycle.cycle || '(manual)'}`),
    cycle.slot,
    paint(failed && cycle.status === 'SUCCEEDED' ? ANSI.yellow : statusColor(cycle.status), statusText),
  ];
  if (cycle.status !== 'NOT_STARTED')
    head.push(paint(ANSI.dim, `simulated ${formatDuration(cycle.durationMs)}, wall ${cycle.wallMs} ms, ${cycle.transitions} transitions`));
  out.push(head.join('  '));
  if (cycle.reason) out.push(`  ${truncate(cycle.reason, 200)}`);
  if (cycle.cycleId) out.push(paint(ANSI.dim, `  execution ${cycle.cycleId}`));
  for (const w of cycle.warnings ?? []) out.push(paint(ANSI.yellow, `  WARNING: ${w}`));

  if (cycle.status !== 'NOT_STARTED') {
    const verdict = cycle.risk.verdict ?? 'no verdict';
    const reasons = cycle.risk.reasons.length ? ` (${truncate(cycle.risk.reasons.join('; '), 160)})` : '';
    const t = cycle.trading;
    const f = cycle.risk.figures;
    // The risk check's figures are the account at the start of the cycle (P&L since the previous bar, drawdown from the peak).
    const atCheck = f ? [`P&L today ${usd(f.dailyPnlUsd, true)}`, `drawdown ${pct(f.drawdownFraction)}`].join(' · ') : '';
    out.push(`  risk ${paint(statusColor(verdict), verdict)}${reasons}${atCheck ? ` · ${atCheck}` : ''}`);
    // The Ledger's figures after the cycle (the gateway's fills), else the risk check's.
    const acct = t ?? f;
    if (acct) {
      out.push(
        `  account${t ? '' : ' (at the risk check)'}: ${[
          `equity ${usd(acct.equityUsd)}`,
          `cash ${usd(acct.cashUsd)}`,
          `gross exposure ${usd(acct.grossExposureUsd)}`,
          ...(t && typeof t.pnlUsd === 'number' ? [`P&L since start ${usd(t.pnlUsd, true)}`] : []),
        ].join(' · ')}`,
      );
    }
    if (t) {
      const rej = Object.entries(t.ordersRejected).sort((a, b) => b[1] - a[1]);
      const rejTotal = rej.reduce((n, [, v]) => n + v, 0);
      const working =
        typeof t.workingOrders === 'number' && t.workingOrders > 0
          ? `; ${t.workingOrders} working${typeof t.reservedCashUsd === 'number' ? ` (${usd(t.reservedCashUsd)} reserved)` : ''}`
          : '';
      out.push(`  orders: ${t.ordersPlaced} placed, ${rejTotal} rejected${rej.length ? ` (${rej.map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}${working}`);
    }
  }

  const order = run.config.agents.map((a) => a.name);
  const names = [
    ...new Set([
      ...order.filter((n) => cycle.agents.some((a) => a.name === n) || run.agents[n]),
      ...cycle.agents.map((a) => a.name),
      ...Object.keys(run.agents),
    ]),
  ];
  if (names.length) {
    const byName = new Map<string, AgentCycleEntry>(cycle.agents.map((a) => [a.name, a]));
    const pnl = cycle.trading?.byAgent;
    const showPnl = pnl && Object.values(pnl).some((a) => typeof a.pnlUsd === 'number');
    const showBudget = pnl && Object.values(pnl).some((a) => typeof a.budgetUsedFraction === 'number');
    const showWorking = pnl && Object.values(pnl).some((a) => a.workingOrders > 0);
    const rows: string[][] = [
      [
        '  agent',
        'outcome',
        'time',
        'tries',
        'breaker',
        'health',
        'success',
        'avg',
        ...(showPnl ? ['P&L', 'exposure'] : []),
        ...(showWorking ? ['working'] : []),
        ...(showBudget ? ['budget'] : []),
        'note',
      ],
    ];
    for (const n of names) {
      const a = byName.get(n);
      const h = run.agents[n];
      const breaker = a ? (a.breakerTransition ? `${a.breaker} (${a.breakerTransition})` : a.breaker) : (h?.breaker ?? '');
      rows.push([
        `  ${n}`,
        a ? paint(statusColor(a.outcome), a.outcome) : paint(ANSI.dim, 'not run'),
        a ? formatDuration(a.durationMs) : '',
        a ? String(a.attempts) : '',
        breaker ? paint(statusColor(breaker), breaker) : '',
        h ? paint(statusColor(h.health), h.health) : '',
        h ? (h.successRate === null ? '-' : `${(h.successRate * 100).toFixed(0)} %`) : '',
        h ? formatDuration(h.avgDurationMs) : '',
        ...(showPnl
          ? [
              typeof pnl?.[n]?.pnlUsd === 'number' ? usd(pnl[n].pnlUsd, true) + (pnl[n].reduceOnly ? ' REDUCE' : '') : '',
              pnl?.[n]?.grossExposureUsd ? usd(pnl[n].grossExposureUsd) : '',
            ]
          : []),
        ...(showWorking ? [pnl?.[n]?.workingOrders ? String(pnl[n].workingOrders) : ''] : []),
        ...(showBudget ? [typeof pnl?.[n]?.budgetUsedFraction === 'number' ? pct(pnl[n].budgetUsedFraction!) : ''] : []),
        a ? truncate(a.reason ?? a.summary ?? '', noteWidth) : '',
      ]);
    }
    out.push(...columns(rows, visible));
  }

  if (run.portfolio) {
    const ps = run.portfolio.positions;
    const list = ps.slice(0, 8).map((p) => `${p.symbol} ${p.qty}${p.avgPrice !== undefined ? ` @ ${p.avgPrice.toFixed(2)}` : ''}`);
    out.push(
      `  positions (${ps.length}): ${ps.length ? list.join(', ') + (ps.length > 8 ? `, … ${ps.length - 8} more` : '') : 'none'} · cash ${usd(run.portfolio.cashUsd)}`,
    );
  }

  const recent = [
    ...run.alarmTransitions.filter((t) => t.to === 'ALARM' || t.from === 'ALARM').map((t) => ({ at: t.at, text: `alarm ${t.alarm}: ${t.from} -> ${t.to}` })),
    ...run.notifications.map((n) => ({ at: n.at, text: `${n.channel}: ${n.subject}` })),
  ]
    .filter((a) => !opts.alertsSince || a.at >= opts.alertsSince)
    .sort((a, b) => a.at.localeCompare(b.at));
  if (recent.length) {
    out.push(`  recent alerts${recent.length > 6 ? ` (last 6 of ${recent.length})` : ''}:`);
    for (const a of recent.slice(-6)) out.push(`    ${a.at} ${truncate(a.text, 120)}`);
  }
  if (run.system.halted) out.push(paint(ANSI.red, `  SYSTEM HALTED by ${run.system.actor ?? '?'}: ${truncate(run.system.reason ?? '', 200)}`));
  for (const f of opts.reportFiles ?? []) out.push(`  written: ${f}`);
  return out.join('\n');
}

/**
 * Filters the runtime's progress lines (one per state entered) so states that ran nothing are
 * not printed: a fault domain's "Run <domain> agents" line is held back and printed only when
 * one of its agents starts ("Run <domain> agent (<name>)"); other lines pass through.
 * @param sink - where kept lines go.
 * @returns the `onProgress` callback for `startLocalRuntime`.
 */
export function createProgressFilter(sink: (line: string) => void): (line: string) => void {
  const held = new Map<string, string>();
  return (line) => {
    const group = /^(.*\bRun (\S+) agents)$/.exec(line);
    if (group && !/ Run agents$/.test(line)) {
      held.set(group[2], line);
      return;
    }
    const one = /\bRun (\S+) agent \(([^)]+)\)$/.exec(line);
    if (one) {
      const h = held.get(one[1]);
      if (h !== undefined) {
        sink(h);
        held.delete(one[1]);
      }
      sink(line);
      return;
    }
    held.clear();
    sink(line);
  };
}

/**
 * One handler log line (Powertools JSON with `simTime` from the local runtime) for people:
 * `log 2026-01-05T14:30:01.200Z WARN AgentFleet-trading: message {extra keys}` (Powertools' own
 * keys and the cycle id left out), at most `width` characters. Pure.
 */
export function formatHandlerLog(line: string, width = 200): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return truncate(line, width);
  }
  const {
    level,
    message,
    simTime,
    timestamp,
    service,
    function_name: fn,
    sampling_rate: _s,
    xray_trace_id: _x,
    function_arn: _a,
    function_memory_size: _m,
    function_request_id: _r,
    cold_start: _c,
    cycleId: _cycle,
    ...extra
  } = o;
  const rest = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : '';
  return truncate(`log ${String(simTime ?? timestamp ?? '')} ${String(level ?? '')} ${String(fn ?? service ?? '')}: ${String(message ?? '')}${rest}`, width);
}
