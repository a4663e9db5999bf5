/**
 * The operator command's target for the local runtime (`npm run ops -- --local ...`): opens the
 * saved state directory (restores dynalite and the schedules), runs the real Master logic with
 * the local ports, and saves the state back on close.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageFields, type OpsStatus, type OpsTarget } from '../ops/target';
import { listWorkingOrders } from '../lambdas/shared/trading/ledger';
import type { AgentStateItem } from '../lambdas/shared/contracts';
import { readControlItem } from '../lambdas/shared/control-read';
import { AgentStateStore } from '../lambdas/shared/supervision/agent-state-store';
import { listPausedGroups, setAgentDisabled, setGroupPaused } from '../lambdas/supervisor/pauses';
import { validateConfig } from '../lib/config/schema';
import { cycleStatusText, renderDashboard } from './dashboard';
import { resolveFromUserCwd } from './cli-env';
import { DEFAULT_STATE_DIR, REPO_ROOT } from '../lib/repo-paths';
import { startLocalRuntime, type SavedState } from './runtime';

/**
 * Opens the local state in `dir` (written by `npm start`).
 * @param dir - the state directory: `.local/state` (the default) is the repo's, as `npm start`
 *   writes it; any other relative path is resolved from the caller's directory.
 * @throws {Error} named `UsageError` (the CLI exits 2): `No local state in <dir>` when the directory holds no `state.json`.
 */
export async function openLocalOpsTarget(dir: string): Promise<OpsTarget> {
  const stateDir = dir === DEFAULT_STATE_DIR ? join(REPO_ROOT, DEFAULT_STATE_DIR) : resolveFromUserCwd(dir);
  const file = join(stateDir, 'state.json');
  if (!existsSync(file)) {
    const e = new Error(`No local state in ${stateDir} (run \`npm start\` first, or name the directory: --local DIR)`);
    e.name = 'UsageError';
    throw e;
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedState;
  // Re-validated: the saved JSON drops undefined fields, and defaults may have grown since it was written.
  // No agent worker is started ahead: `run-now` starts them when it invokes the agents.
  const rt = await startLocalRuntime({ config: validateConfig(saved.config), stateDir, fresh: false, quiet: true, prewarmAgents: false });
  // Operators act through the operator function, as in AWS (its function URL): the local stand-in
  // for the caller's IAM identity is the actor the CLI passes.
  const operator = async (request: Record<string, unknown>, actor: string) => rt.invokeOperator(request, actor);
  return {
    describe: () => `local state ${dir}`,
    async status(): Promise<OpsStatus> {
      const ctl = await readControlItem(rt.doc, rt.tableEnv.CONTROL_TABLE);
      const items = ((await rt.doc.send(new ScanCommand({ TableName: rt.tableEnv.AGENT_STATE_TABLE, ConsistentRead: true }))).Items ?? []) as AgentStateItem[];
      return {
        halted: ctl.halted,
        mode: ctl.mode,
        ...stageFields(ctl, await listWorkingOrders(rt.doc, rt.tableEnv.LEDGER_TABLE)),
        reason: ctl.reason,
        actor: ctl.actor,
        at: ctl.at,
        agents: items
          .map((a) => ({
            name: a.agent,
            health: a.health,
            breaker: a.breaker,
            successRate: a.executions ? a.successes / a.executions : 1,
            consecutiveFailures: a.consecutiveFailures,
            ...(a.openUntil ? { openUntil: a.openUntil } : {}),
            ...(a.disabled ? { paused: `${a.disabled.actor} at ${a.disabled.at}: ${a.disabled.reason}` } : {}),
          }))
          .sort((x, y) => x.name.localeCompare(y.name)),
        schedules: rt.schedules().map((s) => ({ group: s.group, name: s.name, enabled: s.state === 'ENABLED' })),
        runningExecutions: rt
          .executions()
          .filter((e) => e.status === 'RUNNING')
          .map((e) => ({ name: e.name, startDate: new Date(e.startMs).toISOString() })),
        audit: ctl.audit,
        pausedGroups: await listPausedGroups(rt.doc, rt.tableEnv.CONTROL_TABLE),
      };
    },
    halt: (reason, actor) => operator({ action: 'halt', reason }, actor),
    resume: (reason, actor, to) => operator({ action: 'resume', reason, ...(to ? { to } : {}) }, actor),
    cancelAll: (reason, actor) => operator({ action: 'cancel-all', reason }, actor),
    flatten: (reason, actor) => operator({ action: 'flatten', reason }, actor),
    safeMode: (on, reason, actor) => operator({ action: 'safe-mode', on, reason }, actor),
    pauseGroup: (group, paused, reason, actor) =>
      setGroupPaused(rt.doc, rt.tableEnv.CONTROL_TABLE, { group, paused, reason, actor, nowIso: new Date(rt.clock.now()).toISOString() }),
    disableAgent: (agent, disabled, reason, actor) =>
      setAgentDisabled(new AgentStateStore(rt.doc, { agentState: rt.tableEnv.AGENT_STATE_TABLE, control: rt.tableEnv.CONTROL_TABLE }), {
        agent,
        disabled,
        reason,
        actor,
        nowIso: new Date(rt.clock.now()).toISOString(),
      }),
    async runNow(actor, group) {
      const executionName = `manual-${new Date(rt.clock.now()).toISOString().replace(/[-:.]/g, '')}`;
      const cycle = await rt.startExecution(executionName, { source: 'operator', requestedBy: actor, ...(group ? { group } : {}) });
      const summary = renderDashboard(cycle, await rt.report(), { alertsSince: cycle.slot });
      return { executionName, status: cycleStatusText(cycle), ...(cycle.reason ? { reason: cycle.reason } : {}), summary, cycle };
    },
    close: () => rt.close(),
  };
}
