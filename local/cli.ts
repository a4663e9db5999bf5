/**
 * `npm start` (= `tsx local/cli.ts run`): runs real cycles locally, no cloud, no Docker.
 * Options are documented in `--help` and docs/local.md.
 *
 * Exit codes: 0 when the run completed as configured (a halt is a valid result); 2 for bad
 * arguments, an invalid config, unreadable market data or a definition the runtime refuses
 * (one-line message on stderr); 1 for an unexpected error.
 */
import './polyfills';
import './cli-env';
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadOrchestratorConfig } from '../lib/app-factory';
import { validateConfig } from '../lib/config/schema';
import defaultConfig from '../config/orchestrator.config';
import { renderDashboard } from './dashboard';
import { parseFault, type Fault } from './faults';
import { DEFAULT_EPOCH, DEFAULT_STATE_DIR, resolveUserPath, startLocalRuntime } from './runtime';

class UsageError extends Error {}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

const program = new Command();
// Before .command(): subcommands inherit these only when created after the call (commander), so a bad
// option value of `run` exits 2 like every other usage error instead of commander's own exit 1.
program.exitOverride();
program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
program.name('npm start --').description('Agent fleet orchestrator: local runtime (the deployed state machine, real handlers, dynalite, simulated clock)');
program
  .command('run')
  .description('Simulate schedule slots and run a cycle in each (fresh state unless --resume-state)')
  .option('--cycles <n>', 'schedule slots to simulate', positiveInt('--cycles'), 5)
  .option('--fail <spec>', 'inject a fault: TARGET=MODE[@FIRST-LAST]: an agent or risk with throw|timeout|garbage, plan or record with throw (fails once after running) or down (every attempt), schedule with duplicate|late|overlap; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--market-data <file>', 'wide CSV market data (default: config marketData.file)')
  .option('--config <file>', 'config file (.ts module or .json; default config/orchestrator.config.ts)')
  .option('--event <file>', 'after the slots, put this EventBridge event (JSON) on the local bus: matching cycle.triggers start cycles; repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--report <file>', 'write the run report as JSON')
  .option('--time-scale <n>', 'simulated ms per wall ms while waiting (timeouts, backoffs)', positiveInt('--time-scale'), 1000)
  .option('--resume-state', 'continue from the saved state in --state-dir instead of starting fresh')
  .option('--state-dir <dir>', 'where state is saved at the end', DEFAULT_STATE_DIR)
  .option('--epoch <iso>', 'simulated start time', DEFAULT_EPOCH)
  .option('--deploy-lead <seconds>', 'a fresh run deploys this long before --epoch: alarms are evaluated from the deploy, the first slot is the next after it (default half a cadence)', (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('--deploy-lead must be a number of seconds >= 0');
    return n;
  })
  .option('--quiet', 'no progress lines and no dashboards (summary line only)')
  .action(async (o: { cycles: number; fail: string[]; event: string[]; marketData?: string; config?: string; report?: string; timeScale: number; resumeState?: boolean; stateDir: string; epoch: string; quiet?: boolean; deployLead?: number }) => {
    let config;
    try {
      config = o.config ? loadOrchestratorConfig(resolveUserPath(o.config)) : validateConfig(defaultConfig);
    } catch (err) {
      throw new UsageError((err as Error).message.replace(/\n\s*/g, ' '));
    }
    if (Number.isNaN(Date.parse(o.epoch))) throw new UsageError(`--epoch "${o.epoch}" is not an ISO time`);
    const known = [...config.agents.map((a) => a.name), 'risk'];
    let faults: Fault[];
    try {
      faults = o.fail.map((f) => parseFault(f, known));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    // Read the events before anything runs: a bad file is a usage error, not a half-done run.
    const events = o.event.map((file) => {
      try {
        const e = JSON.parse(readFileSync(resolveUserPath(file), 'utf8')) as unknown;
        if (!e || typeof e !== 'object' || Array.isArray(e)) throw new Error('not a JSON object');
        return e as Record<string, unknown>;
      } catch (err) {
        throw new UsageError(`--event ${file}: ${(err as Error).message}`);
      }
    });
    let rt;
    try {
      rt = await startLocalRuntime({ config, faults, marketDataFile: o.marketData, timeScale: o.timeScale, stateDir: o.stateDir, fresh: !o.resumeState, quiet: o.quiet, epoch: o.epoch, deployLeadMs: o.deployLead === undefined ? undefined : o.deployLead * 1000 });
    } catch (err) {
      const e = err as Error;
      if (/unreadable|cannot run|differs from|metric math|need different values|Invalid orchestrator config/.test(e.message)) throw new UsageError(e.message.replace(/\n\s*/g, ' '));
      throw err;
    }
    try {
      let since: string | undefined;
      for (let i = 0; i < o.cycles; i++) {
        // One slot may report several executions (a duplicate delivery, an overlapping one).
        for (const rep of await rt.runSlots(1)) {
          if (o.quiet) continue;
          const run = await rt.report();
          process.stdout.write(renderDashboard(rep, run, since) + '\n\n');
          since = rep.slot;
        }
      }
      for (const event of events) {
        for (const rep of await rt.putEvent(event)) if (!o.quiet) process.stdout.write(renderDashboard(rep, await rt.report(), since) + '\n\n');
      }
      const run = await rt.report();
      if (o.report) writeFileSync(resolveUserPath(o.report), JSON.stringify(run, null, 2));
      const counts: Record<string, number> = {};
      for (const c of run.cycles) counts[c.status] = (counts[c.status] ?? 0) + 1;
      process.stdout.write(
        `${new Set(run.cycles.map((c) => c.cycle)).size} slots${new Set(run.cycles.map((c) => c.cycle)).size !== run.cycles.length ? ` (${run.cycles.length} deliveries)` : ''}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; system ${run.system.halted ? `HALTED (${run.system.actor}: ${run.system.reason})` : 'running'}; simulated ${(run.simulatedMs / 1000).toFixed(0)} s in ${run.wallMs} ms wall${o.report ? `; report ${o.report}` : ''}\n`,
      );
    } finally {
      await rt.close();
    }
  });

program.parseAsync(process.argv).then(
  () => process.exit(0),
  (err: Error & { code?: string; exitCode?: number }) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    if (err.code?.startsWith('commander.')) process.exit(2);
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`error: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
