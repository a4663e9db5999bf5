/**
 * `npm run bench`: measures what the design costs and how it grows, and prints a table plus a
 * JSON file (`bench-results.json`, or `--json FILE`).
 *
 * Figures: machine; synth time; bundle size and cold init of every function; cycle overhead of
 * the specification's example against its ideal (sequential and parallel); state transitions, estimated
 * history events, largest payload and monthly cost for K = 5, 48, 200, 1,000 agents; cycle wall
 * time and runtime memory against K. Every figure is the median of several runs with its spread.
 *
 * All cycle figures come from the embedded local runtime (aws-local-stepfunctions + in-process
 * handlers + dynalite), so they measure the orchestrator's own overhead on this machine, not AWS
 * latencies (Lambda invoke, DynamoDB round trips and state transitions are slower in AWS).
 */
import '../local/polyfills';
import { Command } from 'commander';
import Table from 'cli-table3';
import { colorEnabled } from '../local/cli-env';

import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { OrchestratorConfig } from '../lib/config/schema';
import { ConfigFileError, resolveConfig } from '../lib/config/resolve';
import { startLocalRuntime } from '../local/runtime';
import { terminateParkedWorkers } from '../local/worker-parking';
import { bundleAll, measureColdStarts, removeAssembly } from './cold-start';
import { measureGateway } from './gateway';
import { executionFigures, HISTORY_EVENT_LIMIT, monthlyTransitionCostUsd, PAYLOAD_LIMIT_BYTES } from './history';
import { specExampleConfig, SPEC_EXAMPLE, syntheticFleetConfig } from './scenarios';
import { fmt, lptMakespan, summarize, type Summary } from './stats';
import { REPO_ROOT } from '../lib/repo-paths';

/** Table colours only on a terminal, never with NO_COLOR or into a file. */
const tableStyle = colorEnabled(process.stdout) ? { head: ['red'], border: ['grey'] } : { head: [], border: [] };

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The order gateway's benchmark runs the handler in this process: its INFO lines would bury the tables.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const program = new Command()
  .name('bench')
  .description('Benchmark of the orchestrator on the local runtime')
  .option('--runs <n>', 'repetitions of each measurement (median and spread are reported)', (v) => Number(v), 5)
  .option('--sizes <list>', 'fleet sizes K', (v) => v.split(',').map(Number), [5, 48, 200, 1000])
  .option('--json <file>', 'where to write the results', 'bench-results.json')
  .option('--skip-bundles', 'skip bundling, bundle sizes and cold init')
  .option('--config <file>', 'the config measured and the base of the synthetic fleets (default $ORCHESTRATOR_CONFIG, else config/orchestrator.config.ts)')
  .parse();
const opts = program.opts<{ runs: number; sizes: number[]; json: string; skipBundles?: boolean; config?: string }>();

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Runs `cycles` slots of a config on a fresh local runtime at real speed; returns each cycle's report and event figures.
 * The worker threads it parks at close are terminated, so every measurement (the RSS column) starts without threads
 * of earlier runtimes (`local/worker-parking.ts`).
 */
async function runCycles(config: OrchestratorConfig, cycles: number) {
  const runtime = await startLocalRuntime({ config, timeScale: 1, quiet: true, fresh: true, save: false });
  try {
    const reports = await runtime.runSlots(cycles);
    const figures = reports.map((r) => ({
      report: r,
      ...executionFigures(runtime.executionEvents(r.cycleId)),
      invocations: runtime.invocations().filter((i) => i.execution === r.cycleId).length,
      gatewayInvocations: runtime.invocations().filter((i) => i.execution === r.cycleId && i.target === 'gateway').length,
      events: runtime.executionEvents(r.cycleId),
    }));
    return { figures, rssMb: process.memoryUsage().rss / 2 ** 20 };
  } finally {
    await runtime.close();
    await terminateParkedWorkers();
  }
}

async function main(): Promise<void> {
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  log(`Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, Node ${machine.node}, ${machine.platform}; ${opts.runs} runs per figure`);
  const results: Record<string, unknown> = { machine, runs: opts.runs, at: new Date().toISOString() };

  // --- synth time + bundles + cold init -------------------------------------------------------
  const { config: defaultConfig, raw: baseConfig } = resolveConfig({ file: opts.config });
  // The first synth in a process also loads aws-cdk-lib (what `cdk synth` pays every time); later ones are warm.
  const { createOrchestratorApp } = await import('../lib/app-factory');
  const first = performance.now();
  createOrchestratorApp({ config: defaultConfig, bundling: false }).app.synth();
  const firstSynthMs = performance.now() - first;
  const synthNoBundle: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const t = performance.now();
    createOrchestratorApp({ config: defaultConfig, bundling: false }).app.synth();
    synthNoBundle.push(performance.now() - t);
  }
  results.synth = { firstInProcessMs: firstSynthMs, withoutBundlingMs: summarize(synthNoBundle) };
  if (!opts.skipBundles) {
    log('Bundling every function (esbuild, as cdk deploy does)...');
    const synthWithBundling: number[] = [];
    let last: ReturnType<typeof bundleAll> | undefined;
    for (let i = 0; i < Math.min(3, opts.runs); i++) {
      if (last) removeAssembly(last.outdir);
      last = bundleAll(defaultConfig);
      synthWithBundling.push(last.synthMs);
    }
    (results.synth as Record<string, Summary>).withBundlingMs = summarize(synthWithBundling);
    log('Cold init: fresh node processes loading each bundle and invoking it once...');
    const cold = await measureColdStarts(defaultConfig, last!.bundles, opts.runs, join(REPO_ROOT, 'node_modules'));
    results.bundles = last!.bundles.map((b) => ({ name: b.name, codeBytes: b.codeBytes, assetBytes: b.assetBytes, cold: cold.find((c) => c.name === b.name) }));
    removeAssembly(last!.outdir);
  }

  // --- cycle overhead: the specification's example -----------------------------------------
  log("Cycle overhead: the specification's example in ms (risk 62, trading 45, strategy 120, copybot 300, sentiment 38)...");
  const durations = Object.values(SPEC_EXAMPLE.agents);
  const overhead: Record<string, unknown> = {};
  process.env.BENCH_RISK_DURATION_MS = String(SPEC_EXAMPLE.risk);
  for (const maxWorkers of [1, 4]) {
    const ideal = SPEC_EXAMPLE.risk + lptMakespan(durations, maxWorkers);
    const { figures } = await runCycles(specExampleConfig(baseConfig, maxWorkers), opts.runs);
    const wall = summarize(figures.map((f) => f.report.wallMs));
    overhead[maxWorkers === 1 ? 'sequential' : 'parallel'] = {
      maxWorkers,
      idealMs: ideal,
      wallMs: wall,
      ratio: summarize(figures.map((f) => f.report.wallMs / ideal)),
      transitions: figures[0].transitions,
    };
  }
  results.overhead = overhead;
  process.env.BENCH_RISK_DURATION_MS = '0';

  // --- the order gateway: fills per second through the real path ----------------------------
  log('Order gateway: fills per second on DynamoDB Local (one result with many orders; 50 gateway calls at once)...');
  results.gateway = await measureGateway(defaultConfig, REPO_ROOT);

  // --- how many reference-sized agents one execution holds -----------------------------------
  log('Reference agents: bytes per agent result in the state, and the agents one execution holds (256 KiB quota)...');
  {
    const { figures } = await runCycles(defaultConfig, 1);
    const ev = figures[0].events as { type: string; state?: { name?: string; input?: unknown; output?: unknown } }[];
    const bytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x ?? null), 'utf8');
    const phasesOut = ev.find((e) => e.type === 'StateExited' && e.state?.name === 'Run phases')?.state?.output;
    const recordIn = ev.find((e) => e.type === 'StateEntered' && e.state?.name === 'Record outcomes')?.state?.input;
    const k = defaultConfig.agents.filter((a) => a.enabled).length;
    const perAgent = bytes((phasesOut as { plan?: { phases?: unknown } } | undefined)?.plan?.phases) / k;
    const fixed = bytes(recordIn) - perAgent * k;
    results.referenceScale = {
      agents: k,
      bytesPerAgent: Math.round(perAgent),
      fixedBytes: Math.round(fixed),
      maxAgentsPerExecution: Math.floor((PAYLOAD_LIMIT_BYTES - fixed) / perAgent),
      transitions: figures[0].transitions,
      invocations: figures[0].invocations,
    };
  }

  // --- transitions, cost and scale against K -------------------------------------------------
  const scale: Record<string, unknown>[] = [];
  for (const k of opts.sizes) {
    log(`Fleet of K = ${k} synthetic agents (10 ms each, maxWorkers 4, risk 0 ms)...`);
    const cycles = k >= 1000 ? Math.min(2, opts.runs) : Math.min(3, opts.runs);
    const { figures, rssMb } = await runCycles(syntheticFleetConfig(baseConfig, k, 10, 4), cycles);
    const failed = figures.filter((f) => f.report.status !== 'SUCCEEDED');
    if (failed.length) throw new Error(`K=${k}: cycle ${failed[0].report.cycleId} ended ${failed[0].report.status}: ${failed[0].report.reason ?? ''}`);
    const transitions = figures[0].transitions;
    const cost = monthlyTransitionCostUsd(transitions, 15);
    scale.push({
      k,
      transitions,
      targetMax: 8 + 2 * k,
      aim: 16 + k,
      invocations: figures[0].invocations,
      gatewayInvocations: figures[0].gatewayInvocations,
      historyEvents: figures[0].historyEvents,
      historyLimit: HISTORY_EVENT_LIMIT,
      maxPayloadBytes: Math.max(...figures.map((f) => f.maxPayloadBytes)),
      payloadLimitBytes: PAYLOAD_LIMIT_BYTES,
      monthlyUsdAt15Min: +cost.usd.toFixed(2),
      cyclesPerMonth: cost.cyclesPerMonth,
      wallMs: summarize(figures.map((f) => f.report.wallMs)),
      idealMs: lptMakespan(new Array(k).fill(10), 4),
      rssMb: +rssMb.toFixed(0),
      payloadWarnings: [...new Set(figures.flatMap((f) => f.report.warnings ?? []).map((w) => w.replace(/ is \d+ KiB, over the/, ' exceeds the')))],
    });
  }
  results.scale = scale;

  writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
  print(results);
  log(`\nWrote ${opts.json}`);
}

function print(r: Record<string, any>): void {
  const out: string[] = [];
  const m = r.machine;
  out.push(`Machine: ${m.cpus} CPUs, ${m.cpuModel}, Node ${m.node}. Medians of ${r.runs} runs (± half-range).`);
  const synth = new Table({ style: tableStyle, head: ['Synth', 'ms'] });
  synth.push(['first synth in a process (loads aws-cdk-lib)', r.synth.firstInProcessMs.toFixed(0)]);
  synth.push(['warm synth without bundling (in-process)', fmt(r.synth.withoutBundlingMs, 0)]);
  if (r.synth.withBundlingMs) synth.push(['warm synth with esbuild bundling of every function', fmt(r.synth.withBundlingMs, 0)]);
  out.push(synth.toString());
  if (r.bundles) {
    const t = new Table({ style: tableStyle, head: ['Function', 'index.js (KB, minified)', 'asset (KB)', 'require (ms)', 'require + 1st call (ms)', 'note'] });
    for (const b of r.bundles)
      t.push([b.name, (b.codeBytes / 1024).toFixed(1), (b.assetBytes / 1024).toFixed(1), fmt(b.cold.load), fmt(b.cold.total), b.cold.error ?? '']);
    out.push(t.toString());
  }
  const o = new Table({ style: tableStyle, head: ['Example of the specification (ms)', 'maxWorkers', 'ideal', 'cycle wall', 'wall / ideal', 'transitions'] });
  for (const [name, v] of Object.entries<any>(r.overhead)) o.push([name, v.maxWorkers, v.idealMs, fmt(v.wallMs, 0), fmt(v.ratio, 2), v.transitions]);
  out.push(o.toString());
  if (r.gateway) {
    const g = new Table({ style: tableStyle, head: ['Order gateway (DynamoDB Local)', 'orders', 'filled', 'wall ms', 'fills / s'] });
    for (const v of r.gateway)
      g.push([
        v.mode === 'sequential' ? 'one result, orders in sequence' : `${v.orders} gateway calls at once (one account)`,
        v.orders,
        v.filled,
        v.wallMs.toFixed(0),
        v.fillsPerSecond.toFixed(0),
      ]);
    out.push(g.toString());
  }
  if (r.referenceScale) {
    const x = r.referenceScale;
    out.push(
      `Reference agents: ${x.bytesPerAgent} bytes per agent result in the state (+ ${x.fixedBytes} fixed): one execution holds about ${x.maxAgentsPerExecution} such agents within the 256 KiB quota; ${x.transitions} transitions and ${x.invocations} Lambda invocations for the default fleet of ${x.agents}.`,
    );
  }
  const s = new Table({
    style: tableStyle,
    head: [
      'K',
      'transitions',
      'before the gateway (-K)',
      '8+2K',
      '16+K',
      'Lambda invocations (gateway)',
      'history events (of 25,000)',
      'largest payload KB (of 256)',
      'USD/month @15 min',
      'cycle wall ms',
      'ideal ms',
      'RSS MB',
    ],
  });
  for (const v of r.scale)
    s.push([
      v.k,
      v.transitions,
      v.transitions - v.gatewayInvocations,
      v.targetMax,
      v.aim,
      `${v.invocations} (${v.gatewayInvocations})`,
      v.historyEvents,
      (v.maxPayloadBytes / 1024).toFixed(1),
      v.monthlyUsdAt15Min.toFixed(2),
      fmt(v.wallMs, 0),
      v.idealMs,
      v.rssMb,
    ]);
  out.push(s.toString());
  for (const v of r.scale) for (const w of v.payloadWarnings ?? []) out.push(`K = ${v.k}: ${w}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err) => {
  if (err instanceof ConfigFileError) {
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
