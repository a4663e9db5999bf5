/**
 * The local runtime's report: one entry per cycle (built from the execution's event log, the
 * supervisor's RecordResult and the Cycles table), and the run summary (agent state items, the
 * control item, alarms, notifications). `--report FILE` writes {@link RunReport} as JSON.
 */
import type { TradingSettings } from '../lambdas/shared/settings';
import { cycleTrading, type CycleTrading } from './trading-report';
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OrchestratorConfig } from '../lib/config/schema';
import type { AlarmTransition } from './alarms';
import type { LocalExecution } from './executions';
import type { InvocationRecord } from './lambda-adapter';

/** Cycle status in the report. */
/**
 * Cycle status in the report. `SKIPPED`: the slot was delivered but ran no cycle (`skip` says why:
 * duplicate, overlap, late, halted); `NOT_STARTED`: no execution started (schedule disabled).
 */
export type CycleStatus = 'SUCCEEDED' | 'FAILED' | 'HALTED' | 'SKIPPED' | 'NOT_STARTED';

/** One agent in one cycle. */
export interface AgentCycleEntry {
  name: string;
  outcome: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  /** Simulated ms. */
  durationMs: number;
  attempts: number;
  breaker: string;
  breakerTransition?: string;
  reason?: string;
  summary?: string;
  /** The agent's metrics, with the gateway's order counts (`ordersProposed`, `ordersPlaced`, `ordersRejected`). */
  metrics?: Record<string, number>;
}

/** One cycle (or a slot that started none). */
export interface CycleReport {
  /** Slot number of this run (1-based); 0 for a manual execution. */
  cycle: number;
  /** Execution name ('' when no execution started). */
  cycleId: string;
  /** Simulated ISO time of the slot (manual: the start). */
  slot: string;
  schedule?: string;
  status: CycleStatus;
  /** Why; for a SKIPPED slot it starts with the `skip` keyword (`duplicate: slot ... already claimed by ...`). */
  reason?: string;
  /** The cycle number the plan gave (per group; the bar is startBar + cycleSeq - 1); absent when the slot ran no cycle. */
  cycleSeq?: number;
  /** SKIPPED slots: duplicate, overlap, late or halted. */
  skip?: string;
  /** Simulated ms from start to end of the execution. */
  durationMs: number;
  wallMs: number;
  /**
   * The pre-trade risk check: its verdict (null when it returned none), reasons, and the figures it
   * assessed the account at, at the start of the cycle (the risk gate's `assessment.metrics`):
   * equity, cash, gross exposure and P&L since the previous bar in USD, drawdown from the peak as a
   * fraction 0-1, open positions as a count.
   */
  risk: { verdict: string | null; reasons: string[]; figures?: RiskFigures };
  agents: AgentCycleEntry[];
  /** StateEntered events: billed state transitions. */
  transitions: number;
  /** Payloads over the 256 KiB quota (AWS would fail the execution; the interpreter does not). */
  warnings?: string[];
  /** What the order gateway did this cycle and the account after it, from the Ledger (`local/trading-report.ts`). */
  trading?: CycleTrading;
  /** Execution status and error as Step Functions reports them. */
  execution?: { status: string; error?: string; cause?: string };
}

/** The risk gate's figures of a cycle (see `CycleReport.risk`). USD unless named otherwise. */
export interface RiskFigures {
  equityUsd?: number;
  cashUsd?: number;
  grossExposureUsd?: number;
  /** P&L since the previous bar ("today"), USD. */
  dailyPnlUsd?: number;
  /** Drawdown from the equity peak, a fraction 0-1 (0.05 = 5 %). */
  drawdownFraction?: number;
  /** Open positions, a count. */
  positions?: number;
}

/** A captured message: SNS, EventBridge or a Master action. */
export interface Notification {
  channel: 'sns' | 'eventbridge' | 'master';
  /** Simulated ISO time. */
  at: string;
  subject: string;
  message: string;
}

/** The `--report` JSON. */
export interface RunReport {
  config: {
    cadenceMinutes: number;
    maxWorkers: number;
    agents: { name: string; faultDomain: string; enabled: boolean; dependsOn: string[]; timeoutSeconds: number }[];
  };
  cycles: CycleReport[];
  agents: Record<
    string,
    {
      health: string;
      breaker: string;
      successRate: number | null;
      executions: number;
      successes: number;
      failures: number;
      consecutiveFailures: number;
      avgDurationMs: number;
      tripCount: number;
    }
  >;
  system: { halted: boolean; mode: string; reason?: string; actor?: string; at?: string; timeToHaltMs?: number };
  alarms: { name: string; state: string; changedAt: string | null }[];
  alarmTransitions: { alarm: string; from: string; to: string; at: string; reason: string }[];
  notifications: Notification[];
  /** Every schedule with its state at the end of the run (added by the runtime). */
  schedules?: { name: string; state: 'ENABLED' | 'DISABLED' }[];
  /** The paper account after the last cycle (Ledger `ACCOUNT`): cash in USD and the open positions (quantity in shares, average price in USD). */
  portfolio?: { cashUsd: number; positions: { symbol: string; qty: number; avgPrice?: number }[] };
  /** Simulated ms covered by the run. */
  simulatedMs: number;
  wallMs: number;
  /** Set when the run was interrupted (Ctrl-C): the report holds the cycles finished before it. */
  interrupted?: boolean;
}

type Obj = Record<string, unknown>;

function lastOutput(exec: LocalExecution, states: string[]): Obj | undefined {
  for (let i = exec.events.length - 1; i >= 0; i--) {
    const ev = exec.events[i] as { type: string; state?: { name: string; output?: unknown } };
    if (ev.type === 'StateExited' && ev.state && states.includes(ev.state.name)) return ev.state.output as Obj;
  }
  return undefined;
}

/**
 * Builds the report entry of a finished execution.
 * Status: SUCCEEDED; SKIPPED (the plan ran no cycle: duplicate, overlap, late or halted); HALTED (ended at
 * "Cycle stopped (halted by ...)" after the in-band halt, failed in
 * "Cycle halted by ..." or stopped by the Master); FAILED otherwise.
 */
export async function buildCycleReport(
  exec: LocalExecution,
  ctx: {
    doc: DynamoDBDocumentClient;
    cyclesTable: string;
    invocations: InvocationRecord[];
    slot?: string;
    scheduleName?: string;
    /** Where the trading figures come from; absent = none in the report. */
    trading?: { ledgerTable: string; settings: TradingSettings; marketDataFile: string };
  },
): Promise<CycleReport> {
  const planOut = lastOutput(exec, ['Plan cycle']);
  const plan = planOut?.plan as Obj | undefined;
  const riskOut = lastOutput(exec, ['Assess risk', 'Verify risk verdict', 'Fail closed', 'Enter safe mode']);
  const assessment = (riskOut?.risk as Obj | undefined)?.assessment as Obj | undefined;
  const recordOut = lastOutput(exec, ['Record outcomes', 'Record failed: escalate']);
  // "Record outcomes" outputs only its decision ({ cycleId, escalate, escalationReason }).
  let record = recordOut as Obj | undefined;
  // The state keeps only the escalation decision; the outcomes are in the cycle report item.
  if (!record?.outcomes && ctx.cyclesTable) {
    try {
      const item = await ctx.doc.send(new GetCommand({ TableName: ctx.cyclesTable, Key: { cycleId: exec.name, sk: 'REPORT' }, ConsistentRead: true }));
      if (item.Item) record = item.Item as Obj;
    } catch {
      /* no report item */
    }
  }
  let status: CycleStatus;
  let reason: string | undefined;
  const stoppedState = exec.events.find(
    (e) => e.type === 'StateEntered' && /^Cycle stopped \(halted by (risk|supervisor)\)$/.test(String((e.state as { name?: string } | undefined)?.name)),
  );
  const stoppedBy = stoppedState ? (/risk/.test(String((stoppedState.state as { name: string }).name)) ? 'risk' : 'supervisor') : undefined;
  const planSkip = plan?.skip as { reason: string; detail: string } | undefined;
  let skip: string | undefined;
  if (exec.status === 'SUCCEEDED' && (planSkip || plan?.halted)) {
    status = 'SKIPPED';
    skip = planSkip ? planSkip.reason : 'halted';
    reason = planSkip ? `${planSkip.reason}: ${planSkip.detail}` : `halted: system halted: ${String(plan?.haltReason ?? '')}`;
  } else if (exec.status === 'SUCCEEDED' && stoppedBy) {
    // In-band halt confirmed by the Master: the execution ends without failing (see the state's comment).
    status = 'HALTED';
    reason =
      stoppedBy === 'risk'
        ? `risk: ${((assessment?.reasons as string[]) ?? []).join('; ') || 'HALT'}`
        : `supervisor escalation: ${String(recordOut?.escalationReason ?? record?.escalationReason ?? '')}`;
  } else if (exec.status === 'SUCCEEDED') {
    status = 'SUCCEEDED';
  } else if (exec.status === 'ABORTED') {
    status = 'HALTED';
    reason = `stopped: ${exec.cause ?? 'execution aborted'}`;
  } else if (exec.error === 'RiskHalt' || exec.error === 'SupervisorEscalation') {
    status = 'HALTED';
    reason =
      exec.error === 'RiskHalt'
        ? `risk: ${((assessment?.reasons as string[]) ?? []).join('; ') || 'HALT'}`
        : `supervisor escalation: ${String(recordOut?.escalationReason ?? record?.escalationReason ?? '')}`;
  } else {
    status = 'FAILED';
    reason = `${exec.error ?? 'error'}: ${exec.cause ?? ''}`.slice(0, 500);
  }
  const mine = ctx.invocations.filter((r) => r.execution === exec.name);
  const outcomes = ((record?.outcomes as Obj[]) ?? []).map((o): AgentCycleEntry => {
    const name = String(o.name);
    const attempts = mine.filter((r) => r.target === name && /agent/.test(r.state)).length;
    return {
      name,
      outcome: o.outcome as AgentCycleEntry['outcome'],
      durationMs: Number(o.durationMs ?? 0),
      attempts: Number(o.attempts ?? attempts),
      breaker: String(o.breaker ?? ''),
      ...(o.breakerTransition ? { breakerTransition: String(o.breakerTransition) } : {}),
      ...(o.reason ? { reason: String(o.reason) } : {}),
      ...(o.summary ? { summary: String(o.summary) } : {}),
      ...(o.metrics ? { metrics: o.metrics as Record<string, number> } : {}),
    };
  });
  let trading: CycleReport['trading'];
  const cycleSeq = Number(plan?.cycleSeq ?? 0);
  if (ctx.trading && cycleSeq > 0 && !plan?.halted) {
    try {
      trading = await cycleTrading({ doc: ctx.doc, ...ctx.trading, cycleId: exec.name, cycleSeq });
    } catch {
      /* a cycle past the end of the data, or no ledger yet: no trading figures */
    }
  }
  const verdict = typeof assessment?.verdict === 'string' ? assessment.verdict : null;
  const figures = riskFigures(assessment?.metrics as Record<string, unknown> | undefined);
  return {
    cycle: exec.cycle ?? 0,
    cycleId: exec.name,
    slot: ctx.slot ?? new Date(exec.startMs).toISOString(),
    ...(ctx.scheduleName ? { schedule: ctx.scheduleName } : {}),
    status,
    ...(reason ? { reason } : {}),
    ...(skip ? { skip } : plan && typeof plan.cycleSeq === 'number' ? { cycleSeq: plan.cycleSeq } : {}),
    durationMs: (exec.endMs ?? exec.startMs) - exec.startMs,
    wallMs: Math.round(exec.wallMs ?? 0),
    risk: {
      verdict,
      reasons: Array.isArray(assessment?.reasons)
        ? (assessment.reasons as unknown[]).map(String)
        : assessment && !verdict
          ? ['the risk gate returned no valid verdict']
          : [],
      ...(figures ? { figures } : {}),
    },
    agents: outcomes,
    transitions: exec.events.filter((e) => e.type === 'StateEntered').length,
    ...(exec.payloadWarnings.length ? { warnings: [...exec.payloadWarnings] } : {}),
    ...(trading ? { trading } : {}),
    execution: { status: exec.status, ...(exec.error ? { error: exec.error } : {}), ...(exec.cause ? { cause: exec.cause.slice(0, 500) } : {}) },
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The risk gate's figures from its `assessment.metrics` (rounded: USD to cents, fractions to 6
 * digits). Pure.
 * @returns undefined when the metrics hold none of them.
 */
export function riskFigures(metrics: Record<string, unknown> | undefined): RiskFigures | undefined {
  const m = metrics ?? {};
  const out: Record<string, number> = {};
  for (const [key, digits] of [
    ['equityUsd', 2],
    ['cashUsd', 2],
    ['grossExposureUsd', 2],
    ['dailyPnlUsd', 2],
    ['drawdownFraction', 6],
    ['positions', 0],
  ] as const) {
    const v = num(m[key]);
    if (v !== undefined) out[key] = Math.round(v * 10 ** digits) / 10 ** digits;
  }
  return Object.keys(out).length ? (out as RiskFigures) : undefined;
}

/** Builds the run summary from the tables and what the runtime captured. */
export async function buildRunReport(ctx: {
  config: OrchestratorConfig;
  doc: DynamoDBDocumentClient;
  tables: { agentState: string; control: string; ledger?: string };
  cycles: CycleReport[];
  alarms: RunReport['alarms'];
  transitions: AlarmTransition[];
  notifications: Notification[];
  simulatedMs: number;
  wallMs: number;
}): Promise<RunReport> {
  const agents: RunReport['agents'] = {};
  const scan = await ctx.doc.send(new ScanCommand({ TableName: ctx.tables.agentState, ConsistentRead: true }));
  for (const it of (scan.Items ?? []) as Obj[]) {
    const executions = Number(it.executions ?? 0);
    agents[String(it.agent)] = {
      health: String(it.health ?? ''),
      breaker: String(it.breaker ?? ''),
      successRate: executions ? Number(it.successes ?? 0) / executions : null,
      executions,
      successes: Number(it.successes ?? 0),
      failures: Number(it.failures ?? 0),
      consecutiveFailures: Number(it.consecutiveFailures ?? 0),
      avgDurationMs: Number(it.avgDurationMs ?? 0),
      tripCount: Number(it.tripCount ?? 0),
    };
  }
  const ctl = ((await ctx.doc.send(new GetCommand({ TableName: ctx.tables.control, Key: { pk: 'control' }, ConsistentRead: true }))).Item ?? {}) as Obj;
  const system: RunReport['system'] = { halted: Boolean(ctl.halted), mode: String(ctl.mode ?? 'normal') };
  if (ctl.reason) system.reason = String(ctl.reason);
  if (ctl.actor) system.actor = String(ctl.actor);
  if (ctl.at) system.at = String(ctl.at);
  if (system.halted) {
    for (const n of [...ctx.notifications].reverse()) {
      if (n.channel !== 'master') continue;
      try {
        const r = JSON.parse(n.message) as { action?: string; changed?: boolean; timeToHaltMs?: number | null };
        if (r.action === 'HALT' && r.changed && typeof r.timeToHaltMs === 'number') {
          system.timeToHaltMs = r.timeToHaltMs;
          break;
        }
      } catch {
        /* not JSON */
      }
    }
  }
  let portfolio: RunReport['portfolio'];
  if (ctx.tables.ledger) {
    try {
      const acct = (await ctx.doc.send(new GetCommand({ TableName: ctx.tables.ledger, Key: { pk: 'ACCOUNT', sk: 'STATE' }, ConsistentRead: true }))).Item as
        Obj | undefined;
      if (acct && typeof acct.cash === 'number') {
        const positions = Object.entries((acct.positions as Record<string, { qty?: number; avgPrice?: number }>) ?? {})
          .filter(([, p]) => typeof p?.qty === 'number' && p.qty !== 0)
          .map(([symbol, p]) => ({ symbol, qty: Number(p.qty), ...(typeof p.avgPrice === 'number' ? { avgPrice: round2(p.avgPrice) } : {}) }))
          .sort((a, b) => a.symbol.localeCompare(b.symbol));
        portfolio = { cashUsd: round2(acct.cash), positions };
      }
    } catch {
      /* no ledger table or item yet */
    }
  }
  return {
    config: {
      cadenceMinutes: ctx.config.cycle.cadenceMinutes,
      maxWorkers: ctx.config.cycle.maxWorkers,
      agents: ctx.config.agents.map((a) => ({
        name: a.name,
        faultDomain: a.faultDomain,
        enabled: a.enabled,
        dependsOn: a.dependsOn,
        timeoutSeconds: a.timeoutSeconds,
      })),
    },
    cycles: ctx.cycles,
    agents,
    system,
    alarms: ctx.alarms,
    alarmTransitions: ctx.transitions.map((t) => ({ alarm: t.alarm, from: t.from, to: t.to, at: new Date(t.at).toISOString(), reason: t.reason })),
    notifications: ctx.notifications,
    ...(portfolio ? { portfolio } : {}),
    simulatedMs: Math.round(ctx.simulatedMs),
    wallMs: Math.round(ctx.wallMs),
  };
}
