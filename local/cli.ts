/**
 * `npm start` (= `tsx local/cli.ts run`): runs real cycles locally, no cloud, no Docker.
 * Options are documented in `--help` and docs/local.md.
 *
 * Exit codes (docs/local.md "Exit codes"):
 * - 0: the run completed as configured (a halt is a valid result);
 * - 2: bad arguments (unknown option, `--cycles 0`, a `--fail` spec naming no agent, ...), an
 *   invalid config, invalid or unreadable market data, a config symbol that leaves an agent with
 *   none, `--resume-state` without a saved state, or anything else that stops the run before its
 *   first cycle (a missing handler file, a definition the runtime refuses): one line on stderr,
 *   no stack trace (`LOCAL_DEBUG=1` adds it);
 * - 130: interrupted (Ctrl-C / SIGINT): the cycles finished so far are in the report, the state
 *   is saved; a second Ctrl-C quits at once;
 * - 1: an unexpected error during the run (with its stack).
 *
 * Relative paths are resolved from the directory the command was typed in (`INIT_CWD` under npm).
 */
import './polyfills';
import { colorEnabled, resolveFromUserCwd, resolveInputPath, userCwd } from './cli-env';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ConfigFileError, resolveConfig } from '../lib/config/resolve';
import type { OrchestratorConfig } from '../lib/config/schema';
import { loadMarketData, type MarketTable } from '../lambdas/shared/trading/market-data';
import { createProgressFilter, formatHandlerLog, renderDashboard } from './dashboard';
import { parseFault, type Fault } from './faults';
import { renderHtmlReport } from './html-report';
import { createLiveDashboard, liveDashboardWanted } from './live-dashboard';
import { checkSymbols } from './market-check';
import type { CycleReport, RunReport } from './report';
import { DEFAULT_STATE_DIR, REPO_ROOT } from '../lib/repo-paths';
import { DEFAULT_EPOCH, startLocalRuntime, type LocalRuntime } from './runtime';

// The terminal's own stdout, before the local runtime patches process.stdout (the live dashboard draws on it).
const rawStdoutWrite = process.stdout.write.bind(process.stdout);

/** A user mistake: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError' as const;
}

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'] as const;

/** Wall ms a Ctrl-C waits for the running cycle to end before the state is saved. */
const INTERRUPT_GRACE_MS = 15_000;

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

/** Options of `npm start` as commander parses them (see `--help` and docs/local.md for each). */
export interface RunOptions {
  /** Schedule slots to simulate, >= 1. @default 5 */
  cycles: number;
  /** `--fail AGENT=MODE[@FIRST-LAST]` specs (local/faults.ts). @default [] */
  fail: string[];
  /** Market data CSV (wide or one-symbol OHLCV). @default config `marketData.file` */
  marketData?: string;
  /** Symbol of an OHLCV file. @default its file name up to the first "-" or ".", upper-cased */
  symbol?: string;
  /** Config file (.ts module or .json). @default ORCHESTRATOR_CONFIG, else config/orchestrator.config.ts */
  config?: string;
  /** JSON report path (directories created). @default none */
  report?: string;
  /** HTML report path (directories created). @default none */
  html?: string;
  /** Simulated ms per wall ms while waiting. @default 1000 */
  timeScale: number;
  /** Continue from the saved state (refused when there is none). @default false */
  resumeState?: boolean;
  /** State directory. @default `.local/state` of the repo */
  stateDir: string;
  /** Simulated start, ISO 8601. @default 2026-01-05T14:30:00.000Z */
  epoch: string;
  /** No progress, no dashboards. @default false */
  quiet?: boolean;
  /** EventBridge event files (JSON) put on the local bus after the slots. @default [] */
  event: string[];
  /** A fresh run deploys this many seconds before `epoch`. @default half a cadence */
  deployLead?: number;
  /** Handlers' Powertools log level (DEBUG, INFO, WARN, ERROR, SILENT). @default LOCAL_LOG_LEVEL, else WARN */
  logLevel?: string;
  /** false with `--no-live` (plain log on a terminal). @default true */
  live: boolean;
  /** Print each cycle's handler logs under its dashboard. @default false */
  showLogs?: boolean;
}

/** The path as the user would type it from where they are (relative when inside their directory). */
function shown(p: string): string {
  const rel = relative(userCwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

function firstLine(msg: string): string {
  return msg.replace(/\n\s*/g, ' ').trim();
}

/** Makes the parent directory of an output file; a failure is a usage error naming the option. */
function prepareOutput(option: string, file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw new UsageError(`${option} ${shown(file)}: cannot create its directory (${(err as Error).message})`);
  }
}

/** The config by `resolveConfig` (`--config`, else ORCHESTRATOR_CONFIG, else the default); an unusable one is a usage error (exit 2). */
function loadConfig(o: RunOptions): OrchestratorConfig {
  try {
    return resolveConfig({ file: o.config, cwd: userCwd() }).config;
  } catch (err) {
    if (err instanceof ConfigFileError) throw new UsageError(err.message);
    throw err;
  }
}

async function run(o: RunOptions): Promise<number> {
  const config = loadConfig(o);
  if (Number.isNaN(Date.parse(o.epoch))) throw new UsageError(`--epoch "${o.epoch}" is not an ISO time`);
  if (o.logLevel !== undefined) {
    const level = o.logLevel.toUpperCase();
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level "${o.logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
    process.env.LOCAL_LOG_LEVEL = level;
  }
  const known = [...config.agents.map((a) => a.name), 'risk'];
  let faults: Fault[];
  try {
    faults = o.fail.map((f) => parseFault(f, known));
  } catch (err) {
    throw new UsageError(`--fail: ${(err as Error).message}`);
  }

  // Market data: validated as a whole before anything starts (file, line and column on error).
  const dataFile = resolveInputPath(o.marketData ?? config.marketData.file, REPO_ROOT);
  const dataLabel = o.marketData ? `--market-data ${shown(dataFile)}` : `marketData.file ${config.marketData.file}`;
  if (!existsSync(dataFile)) throw new UsageError(`${dataLabel}: market data file is unreadable: no such file`);
  if (o.symbol && !/^[A-Z][A-Z0-9.]{0,9}$/.test(o.symbol))
    throw new UsageError(`--symbol "${o.symbol}" is not a ticker (A-Z, 0-9 and ".", up to 10 characters, starting with a letter)`);
  let table: MarketTable;
  try {
    table = loadMarketData(dataFile, o.symbol ? { symbol: o.symbol } : {});
  } catch (err) {
    throw new UsageError(`market data is unreadable: ${firstLine((err as Error).message)}`);
  }
  if (o.symbol && !table.ohlcv)
    throw new UsageError(
      `--symbol ${o.symbol}: ${shown(dataFile)} is a wide file (one column per symbol: ${table.symbols.slice(0, 5).join(', ')}...); --symbol names the one symbol of an OHLCV file`,
    );
  const symbols = checkSymbols(config, table.symbols, shown(dataFile));
  if (symbols.errors.length) throw new UsageError(symbols.errors.join('; '));
  for (const w of symbols.warnings) process.stderr.write(`warning: ${w}\n`);

  // The default is the repo's .local/state (where `npm run ops -- --local` looks); a given directory is the caller's.
  const stateDir = o.stateDir === DEFAULT_STATE_DIR ? join(REPO_ROOT, DEFAULT_STATE_DIR) : resolveFromUserCwd(o.stateDir);
  if (o.resumeState && !existsSync(join(stateDir, 'state.json'))) {
    throw new UsageError(
      `--resume-state: no saved state in ${shown(stateDir)} (no state.json); run once without --resume-state, or name the directory with --state-dir`,
    );
  }
  // Read the events before anything runs: a bad file is a usage error, not a half-done run.
  const events = o.event.map((file) => {
    try {
      const e = JSON.parse(readFileSync(resolveFromUserCwd(file), 'utf8')) as unknown;
      if (!e || typeof e !== 'object' || Array.isArray(e)) throw new Error('not a JSON object');
      return e as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`--event ${file}: ${(err as Error).message}`);
    }
  });
  const reportFile = o.report ? resolveFromUserCwd(o.report) : undefined;
  const htmlFile = o.html ? resolveFromUserCwd(o.html) : undefined;
  if (reportFile) prepareOutput('--report', reportFile);
  if (htmlFile) prepareOutput('--html', htmlFile);

  const color = colorEnabled(process.stdout);
  const live = liveDashboardWanted({ quiet: o.quiet, noLive: !o.live, stdout: process.stdout, env: process.env })
    ? await createLiveDashboard(o.cycles, rawStdoutWrite)
    : undefined;
  const progress = o.quiet ? undefined : createProgressFilter((line) => (live ? live.progress(line) : process.stderr.write(line + '\n')));
  let rt: LocalRuntime;
  try {
    rt = await startLocalRuntime({
      config,
      faults,
      marketDataFile: dataFile,
      ...(table.ohlcv ? { marketDataSymbol: table.ohlcv.symbol } : {}),
      timeScale: o.timeScale,
      stateDir,
      fresh: !o.resumeState,
      quiet: o.quiet,
      epoch: o.epoch,
      ...(o.deployLead === undefined ? {} : { deployLeadMs: o.deployLead * 1000 }),
      ...(progress ? { onProgress: progress } : {}),
    });
  } catch (err) {
    const e = err as Error;
    live?.done();
    if (process.env.LOCAL_DEBUG) process.stderr.write(`${e.stack}\n`);
    throw new UsageError(`cannot start the local runtime: ${firstLine(e.message.replace(/^Error: /, ''))}`);
  }

  const writeOutputs = (report: RunReport): string[] => {
    const written: string[] = [];
    if (reportFile) {
      writeFileSync(reportFile, JSON.stringify(report, null, 2));
      written.push(`report ${shown(reportFile)}`);
    }
    if (htmlFile) {
      writeFileSync(htmlFile, renderHtmlReport(report));
      written.push(`HTML report ${shown(htmlFile)}`);
    }
    return written;
  };

  // Ctrl-C: finish with what we have (report of the cycles done so far, state saved), exit 130.
  let interrupt!: () => void;
  const interrupted = new Promise<'interrupted'>((resolve) => (interrupt = () => resolve('interrupted')));
  let sigints = 0;
  const onSigint = () => {
    sigints++;
    if (sigints > 1) process.exit(130);
    process.stderr.write(
      `\ninterrupted: finishing the running cycle (up to ${INTERRUPT_GRACE_MS / 1000} s), then saving the state and the report (Ctrl-C again to quit at once)\n`,
    );
    interrupt();
  };
  process.on('SIGINT', onSigint);

  let since: string | undefined;
  let logsShown = 0;
  const show = async (rep: CycleReport): Promise<void> => {
    if (o.quiet) return;
    const runReport = await rt.report();
    let text = renderDashboard(rep, runReport, { alertsSince: since, color });
    if (o.showLogs) {
      const logs = rt.handlerLogs().slice(logsShown);
      logsShown += logs.length;
      if (logs.length)
        text += `\n  handler logs (${logs.length}):\n${logs
          .slice(-20)
          .map((l) => `    ${formatHandlerLog(l)}`)
          .join('\n')}`;
    }
    if (live) live.cycle(text);
    else process.stdout.write(text + '\n\n');
    since = rep.slot;
  };
  try {
    for (let i = 0; i < o.cycles; i++) {
      live?.slot(i + 1);
      const running = rt.runSlots(1);
      running.catch(() => undefined);
      const got = await Promise.race([running, interrupted]);
      if (got === 'interrupted') {
        // Let the running cycle end (bounded) so the saved state and the report are whole cycles.
        await Promise.race([running.catch(() => undefined), new Promise((r) => setTimeout(r, INTERRUPT_GRACE_MS).unref())]);
        const report: RunReport = { ...(await rt.report()), interrupted: true };
        const written = writeOutputs(report);
        await rt.close().catch(() => undefined);
        live?.done();
        process.stdout.write(
          `interrupted after ${report.cycles.length} of ${o.cycles} slots; state saved in ${shown(stateDir)}${written.length ? `; ${written.join('; ')}` : ''}\n`,
        );
        return 130;
      }
      // One slot may report several executions (a duplicate delivery, an overlapping one).
      for (const rep of got) await show(rep);
    }
    for (const event of events) for (const rep of await rt.putEvent(event)) await show(rep);
    const report = await rt.report();
    const written = writeOutputs(report);
    live?.done();
    const counts: Record<string, number> = {};
    for (const c of report.cycles) counts[c.status] = (counts[c.status] ?? 0) + 1;
    process.stdout.write(
      `${new Set(report.cycles.map((c) => c.cycle)).size} slots${new Set(report.cycles.map((c) => c.cycle)).size !== report.cycles.length ? ` (${report.cycles.length} deliveries)` : ''}: ${Object.entries(
        counts,
      )
        .map(([k, v]) => `${v} ${k}`)
        .join(
          ', ',
        )}; system ${report.system.halted ? `HALTED (${report.system.actor}: ${report.system.reason})` : 'running'}; simulated ${(report.simulatedMs / 1000).toFixed(0)} s in ${report.wallMs} ms wall${written.length ? `; ${written.join('; ')}` : ''}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    await rt.close();
  }
}

/**
 * Builds the `npm start` program: one command, `run`, whose usage line reads `npm start -- [options]`
 * (what works when copied). Commander's usage errors are thrown (`exitOverride`), never exit.
 * @param onRun - the action (default: the local run); resolves to the exit code.
 */
export function buildProgram(onRun: (o: RunOptions) => Promise<number> = run): Command {
  const program = new Command();
  // Settings before .command(): subcommands copy them when created.
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  program.configureHelp({
    commandUsage: (cmd) =>
      cmd.name() === 'run'
        ? 'npm start -- [options]'
        : cmd.name() === 'html'
          ? 'npx tsx local/cli.ts html <report.json> <page.html>'
          : 'npx tsx local/cli.ts run|html [options]',
  });
  program.name('local/cli.ts').description('Agent fleet orchestrator: local runtime (the deployed state machine, real handlers, dynalite, simulated clock)');
  program
    .command('run')
    .description(
      'Simulate schedule slots and run a cycle in each (fresh state unless --resume-state).\nExample: npm start -- --cycles 3 --market-data data/market/msft-daily.csv --html reports/run.html',
    )
    .option('--cycles <n>', 'schedule slots to simulate', positiveInt('--cycles'), 5)
    .option(
      '--fail <spec>',
      'inject a fault: TARGET=MODE[@FIRST-LAST]: an agent or risk with throw|timeout|garbage, plan or record with throw (fails once after running) or down (every attempt), schedule with duplicate|late|overlap; repeatable',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--market-data <file>', 'market data CSV: wide (timestamp + one column per symbol) or one-symbol OHLCV (default: config marketData.file)')
    .option('--symbol <ticker>', 'symbol of a one-symbol OHLCV file (default: its file name up to the first "-" or ".", upper-cased)')
    .option('--config <file>', 'config file (.ts module or .json; default $ORCHESTRATOR_CONFIG, else config/orchestrator.config.ts)')
    .option('--report <file>', 'write the run report as JSON (directories are created)')
    .option('--html <file>', 'write the run report as one self-contained HTML page with charts')
    .option('--time-scale <n>', 'simulated ms per wall ms while waiting (timeouts, backoffs)', positiveInt('--time-scale'), 1000)
    .option('--resume-state', 'continue from the saved state in --state-dir (refused when there is none)')
    .option('--state-dir <dir>', 'where state is saved at the end', DEFAULT_STATE_DIR)
    .option('--epoch <iso>', 'simulated start time', DEFAULT_EPOCH)
    .option('--log-level <level>', `handlers' log level (${LOG_LEVELS.join('|')}; default LOCAL_LOG_LEVEL or WARN); logs go to <state-dir>/handler-logs.jsonl`)
    .option('--show-logs', "print the handlers' log lines of each cycle under its dashboard (simulated time; level per --log-level)")
    .option(
      '--event <file>',
      'after the slots, put this EventBridge event (JSON) on the local bus: matching cycle.triggers start cycles; repeatable',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--deploy-lead <seconds>',
      'a fresh run deploys this long before --epoch: alarms are evaluated from the deploy, the first slot is the next after it (default half a cadence)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('--deploy-lead must be a number of seconds >= 0');
        return n;
      },
    )
    .option('--quiet', 'no progress lines and no dashboards (summary line only)')
    .option('--no-live', 'print the plain log even on a terminal (the live dashboard is used on a colour TTY only)')
    .action(async (o: RunOptions) => {
      process.exitCode = await onRun(o);
    });
  program
    .command('html')
    .description('write the HTML page of a saved run report (--report JSON)')
    .argument('<report.json>', 'a report written by npm start -- --report FILE')
    .argument('<page.html>', 'the page to write (its directory is created)')
    .action((input: string, output: string) => {
      const from = resolveFromUserCwd(input);
      let report: RunReport;
      try {
        report = JSON.parse(readFileSync(from, 'utf8')) as RunReport;
      } catch (err) {
        throw new UsageError(`${input}: not a readable JSON report (${firstLine((err as Error).message)})`);
      }
      if (!report || !Array.isArray(report.cycles) || !report.config || !Array.isArray(report.config.agents))
        throw new UsageError(`${input}: not a run report (no cycles or config; write one with npm start -- --report FILE)`);
      const to = resolveFromUserCwd(output);
      prepareOutput('html', to);
      writeFileSync(to, renderHtmlReport(report));
      process.stdout.write(`HTML report ${shown(to)} (${report.cycles.length} cycles from ${shown(from)})\n`);
      process.exitCode = 0;
    });
  return program;
}

/**
 * Runs the CLI on `argv`, the arguments after `local/cli.ts` (`['run', '--cycles', '3']`), and
 * resolves to its exit code (see the header): 0; 2 for a usage error, with one line on stderr
 * (`error: ...`; commander prints its own); 130 after Ctrl-C; 1 for an unexpected error, with its
 * stack. It never calls `process.exit` (except on a second Ctrl-C) and leaves `process.exitCode`
 * as it found it, so the tests call it in-process; the entry point below exits with its code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end as a CommanderError too (exitOverride); commander printed its one-line message otherwise.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(err as Error).stack ?? (err as Error).message}\n`);
    return 1;
  } finally {
    process.exitCode = saved;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
