/**
 * Lambda packages: bundles every function exactly as `cdk deploy` would (esbuild, minified, the
 * market CSV and the supervisor's registry copied into the asset, read from there), reports each bundle's size, and measures cold
 * initialisation: a fresh `node` process loads the bundle and runs one invocation against a
 * local DynamoDB (dynalite on loopback); the figure is the time from the start of `require` to
 * the end of the first invocation, median of several fresh processes.
 *
 * This measures module load + first-call work on this machine's CPU, not Lambda's own cold start
 * (sandbox creation and code download are not included).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrchestratorApp } from '../lib/app-factory';
import { tradingSettingsFromConfig } from '../lib/config/lambda-settings';
import type { OrchestratorConfig } from '../lib/config/schema';
import { ENV } from '../lambdas/shared/env';
import { TABLE_SPECS } from '../lambdas/shared/table-specs';
import { startLocalDynamo, tableDefFromSpec } from '../local/dynamo';
import { summarize, type Summary } from './stats';

/** One bundled function. */
export interface BundleInfo {
  /** Function role and agent (e.g. `agent:trading`). */
  name: string;
  /** Directory of the bundled asset. */
  dir: string;
  /** Size of the bundled `index.js`, bytes (minified). */
  codeBytes: number;
  /** Size of the whole asset (code plus data files), bytes. */
  assetBytes: number;
}

/** Bundles the app into a temporary cloud assembly and returns every function's bundle, plus the synth wall time in ms. */
export function bundleAll(config: OrchestratorConfig): { bundles: BundleInfo[]; synthMs: number; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'fleet-bench-'));
  const started = performance.now();
  // Asset metadata (the bundle's folder per function) is on by default only under the CDK CLI.
  const { app, stack } = createOrchestratorApp({ config, bundling: true, outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Metadata?: Record<string, string> }> };
  const synthMs = performance.now() - started;
  const bundles = stack.lambdaFunctions.map((f) => {
    const assetPath = template.Resources[f.logicalId]?.Metadata?.['aws:asset:path'];
    if (!assetPath) throw new Error(`No asset path for ${f.logicalId}`);
    const dir = join(outdir, assetPath);
    const files = readdirSync(dir);
    return {
      name: f.role === 'agent' ? `agent:${f.agent}` : f.role,
      dir,
      codeBytes: statSync(join(dir, 'index.js')).size,
      assetBytes: files.reduce((n, file) => n + statSync(join(dir, file)).size, 0),
    };
  });
  return { bundles, synthMs, outdir };
}

/** Removes a temporary assembly made by {@link bundleAll}. */
export function removeAssembly(outdir: string): void {
  rmSync(outdir, { recursive: true, force: true });
}

const CHILD = `
const started = performance.now();
const mod = require(process.env.BENCH_BUNDLE);
const loaded = performance.now();
Promise.resolve(mod.handler(JSON.parse(process.env.BENCH_PAYLOAD), { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 60000 }))
  .then(() => ({ ok: true }), (err) => ({ ok: false, error: err.name + ': ' + err.message }))
  .then((r) => { process.stdout.write('\\n' + JSON.stringify({ ...r, loadMs: loaded - started, totalMs: performance.now() - started }) + '\\n'); });
`;

/** Cold-init figures of one function. */
export interface ColdStart {
  name: string;
  /** require() of the bundle, ms. */
  load: Summary;
  /** require() plus the first invocation, ms. */
  total: Summary;
  /** Error of the first invocation, if it threw (the figure still counts init). */
  error?: string;
}

/**
 * Measures cold init of each bundle in `runs` fresh node processes.
 * @param repoNodeModules - where the runtime-provided `@aws-sdk/*` modules resolve from (Lambda's Node.js 22 runtime ships them; the bundles leave them out).
 */
export async function measureColdStarts(config: OrchestratorConfig, bundles: BundleInfo[], runs: number, repoNodeModules: string): Promise<ColdStart[]> {
  const dynamo = await startLocalDynamo(TABLE_SPECS.map((t) => tableDefFromSpec(t, `bench-${t.id}`)));
  try {
    const baseEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: repoNodeModules,
      ...dynamo.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      [ENV.agentStateTable]: 'bench-AgentState',
      [ENV.controlTable]: 'bench-Control',
      [ENV.cyclesTable]: 'bench-Cycles',
      [ENV.ledgerTable]: 'bench-Ledger',
      [ENV.tradingSettings]: JSON.stringify(tradingSettingsFromConfig(config)),
      [ENV.alarmPolicy]: '{}',
      // The Master reads its AWS targets at its first invocation; the payload is ignored, so nothing is called.
      [ENV.stateMachineArn]: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench-cycle',
      [ENV.scheduleNames]: 'bench/bench-default',
      [ENV.alertTopicArn]: 'arn:aws:sns:us-east-1:000000000000:bench-alerts',
      [ENV.eventBusName]: 'default',
    };
    const out: ColdStart[] = [];
    for (const b of bundles) {
      const payload = payloadFor(b.name, config);
      const loads: number[] = [];
      const totals: number[] = [];
      let error: string | undefined;
      for (let i = 0; i < runs; i++) {
        // Asynchronous: dynalite answers from this process's event loop while the child runs.
        const { stdout } = await promisify(execFile)(process.execPath, ['-e', CHILD], {
          env: {
            ...baseEnv,
            BENCH_BUNDLE: join(b.dir, 'index.js'),
            BENCH_PAYLOAD: JSON.stringify(payload),
            [ENV.marketDataFile]: join(b.dir, 'market-data.csv'),
            [`${ENV.supervisorSettings}_FILE`]: join(b.dir, 'supervisor-settings.json'),
          },
          encoding: 'utf8',
        });
        const line = stdout.trim().split('\n').pop()!;
        const r = JSON.parse(line) as { ok: boolean; error?: string; loadMs: number; totalMs: number };
        loads.push(r.loadMs);
        totals.push(r.totalMs);
        if (!r.ok) error = r.error;
      }
      out.push({ name: b.name, load: summarize(loads), total: summarize(totals), error });
    }
    return out;
  } finally {
    await dynamo.stop();
  }
}

/** A representative first invocation per function (the cycle's own payload shapes). */
function payloadFor(name: string, config: OrchestratorConfig): unknown {
  const now = new Date('2026-01-05T14:30:00Z').toISOString();
  if (name === 'supervisor') return { action: 'plan', executionName: 'bench-cold', executionStartTime: now, trigger: { source: 'local' } };
  if (name === 'risk') return { cycleId: 'bench-cold', cycleSeq: 1, mode: 'normal' };
  // The order gateway's once-per-cycle action: reads the working orders (none) against this cycle's bar.
  if (name === 'gateway') return { action: 'match', cycleId: 'bench-cold', cycleSeq: 1, mode: 'normal' };
  if (name === 'master') {
    // An OK transition: parsed and ignored, so the measurement needs no AWS endpoint.
    return {
      source: 'aws.cloudwatch',
      alarmArn: 'arn:aws:cloudwatch:local:000000000000:alarm:bench',
      accountId: '000000000000',
      time: now,
      region: 'local',
      alarmData: {
        alarmName: 'bench',
        state: { value: 'OK', reason: 'bench', timestamp: now },
        previousState: { value: 'ALARM', reason: 'bench', timestamp: now },
        configuration: {},
      },
    };
  }
  const agentName = name.replace(/^agent:/, '');
  const agent = config.agents.find((a) => a.name === agentName);
  return {
    cycleId: 'bench-cold',
    cycleSeq: 1,
    agent: agentName,
    mode: 'normal',
    riskVerdict: 'OK',
    params: agent?.params ?? {},
    dependsOn: agent?.dependsOn ?? [],
    timeoutSeconds: agent?.timeoutSeconds ?? 300,
    attempt: 0,
    probe: false,
  };
}
