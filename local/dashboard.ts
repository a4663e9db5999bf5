/**
 * The terminal dashboard printed after each cycle by `npm start` (cli-table3), after the seed's:
 * cycle, durations, risk verdict, per-agent outcomes with breaker transitions, health table,
 * portfolio, recent alerts.
 *
 * May be imported by: `local/`, `test/`.
 */
import Table from 'cli-table3';
import type { CycleReport, RunReport } from './report';

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Renders one cycle and the fleet state after it, as text. `alertsSince` = ISO time of the previous cycle (alerts after it are "recent"). */
export function renderDashboard(cycle: CycleReport, run: RunReport, alertsSince?: string): string {
  const out: string[] = [];
  const head = `Cycle ${cycle.cycle || '(manual)'} ${cycle.cycleId ? `[${cycle.cycleId}] ` : ''}${cycle.slot}  ${cycle.status}${cycle.reason ? ` - ${cycle.reason}` : ''}`;
  out.push(head);
  if (cycle.status !== 'NOT_STARTED') {
    out.push(`  simulated ${secs(cycle.durationMs)}, wall ${cycle.wallMs} ms, ${cycle.transitions} state transitions`);
    for (const w of cycle.warnings ?? []) out.push(`  WARNING: ${w}`);
    out.push(`  risk: ${cycle.risk.verdict ?? 'n/a'}${cycle.risk.reasons.length ? ` (${cycle.risk.reasons.join('; ')})` : ''}`);
  }
  if (cycle.agents.length) {
    const t = new Table({ head: ['agent', 'status', 'duration', 'attempts', 'breaker', 'reason'], style: { head: [], border: [] } });
    for (const a of cycle.agents) {
      t.push([a.name, a.outcome, secs(a.durationMs), String(a.attempts), a.breakerTransition ? `${a.breaker} (${a.breakerTransition})` : a.breaker, (a.reason ?? a.summary ?? '').slice(0, 60)]);
    }
    out.push(t.toString());
  }
  const agents = Object.entries(run.agents);
  if (agents.length) {
    const h = new Table({ head: ['agent', 'success rate', 'avg duration', 'runs', 'health', 'breaker'], style: { head: [], border: [] } });
    for (const [name, a] of agents) h.push([name, a.successRate === null ? '-' : `${(a.successRate * 100).toFixed(0)} %`, secs(a.avgDurationMs), String(a.executions), a.health, a.breaker]);
    out.push(h.toString());
  }
  if (cycle.trading) {
    const rej = Object.entries(cycle.trading.ordersRejected).map(([k, v]) => `${k}: ${v}`).join(', ');
    out.push(`  portfolio: equity ${cycle.trading.equityUsd !== undefined ? `USD ${cycle.trading.equityUsd.toFixed(2)}` : 'n/a'}, orders placed ${cycle.trading.ordersPlaced}, rejected ${rej || 0}`);
  }
  const recent = [
    ...run.alarmTransitions.filter((t) => t.to === 'ALARM' || t.from === 'ALARM').map((t) => ({ at: t.at, text: `alarm ${t.alarm}: ${t.from} -> ${t.to}` })),
    ...run.notifications.map((n) => ({ at: n.at, text: `${n.channel}: ${n.subject}` })),
  ]
    .filter((a) => !alertsSince || a.at >= alertsSince)
    .sort((a, b) => a.at.localeCompare(b.at));
  if (recent.length) {
    out.push('  recent alerts:');
    for (const a of recent.slice(-8)) out.push(`    ${a.at} ${a.text}`);
  }
  if (run.system.halted) out.push(`  SYSTEM HALTED by ${run.system.actor ?? '?'}: ${run.system.reason ?? ''}`);
  return out.join('\n');
}
