/**
 * The embedded local runtime: real cycles with no cloud and no Docker.
 *
 * It synthesizes the CDK app in-process, takes the state machine definition from the template
 * (checked equal to `renderCycleDefinition(config)`, so the deployed file is what runs), runs it
 * on `aws-local-stepfunctions` with the bridges of `bridges.ts`, invokes the real handler
 * modules in-process (`lambda-adapter.ts`), serves DynamoDB from dynalite with the template's
 * tables, fires the template's schedules on a simulated clock (`sim-clock.ts`), captures the
 * handlers' EMF metrics and evaluates the template's alarms (`alarms.ts`), whose actions
 * invoke the Master (with local ports) or capture SNS messages.
 *
 * Entry point: {@link startLocalRuntime}. Used by `local/cli.ts`, `local/ops-target.ts`, the
 * e2e tests and the benchmark. It composes named parts, each in its own file:
 * - `definition.ts`: what the runtime refuses, and the state machine from the template;
 * - `functions.ts`: each function's environment and handler (factories on local ports; agents in
 *   worker threads, `agent-workers.ts`);
 * - `local-ports.ts`: the Master's ports (`lambdas/master/ports.ts`) on the local executions and schedules;
 * - `stdio-capture.ts`: EMF metrics and handler logs out of stdout/stderr;
 * - `alarm-actions.ts`: what an alarm's state change invokes or publishes;
 * - `state-file.ts`: the state directory (save on close, `--resume-state`);
 * - `deploy-update.ts`: schedules from the template, what a delivery starts, a resume as a CloudFormation update;
 * - `slot-runner.ts`: schedule slots and the schedule faults;
 * - `lambda-adapter.ts`: the `lambda:invoke` integration and the Lambda context.
 */
import './polyfills';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { runConfigChecks } from '../lib/config/checks';
import { DEFAULT_STATE_DIR, REPO_ROOT } from '../lib/repo-paths';
import { validateConfig, type OrchestratorConfig } from '../lib/config/schema';
import defaultConfigInput from '../config/orchestrator.config';
import type { CustomResourceResponse } from '../lambdas/master/handler';
import { tradingPortsFromEnv } from '../lambdas/shared/trading/runtime';
import { createAlarmActions } from './alarm-actions';
import { APP_MODEL_CACHE_DIR, appModelKey, readCachedAppModel, writeCachedAppModel } from './app-model-cache';
import { alarmSpecFromProps, LocalCloudWatch, parseEmf, type AlarmTransition } from './alarms';
import { assertMarketDataReadable, assertRunnableLocally, loadCycleDefinition } from './definition';
import { startLocalDynamo, type LocalDynamo, type TableDef } from './dynamo';
import { LocalExecutions, type ExecutionEvent, type LocalExecution } from './executions';
import { matchesEventPattern, renderTargetInput } from './events';
import type { Fault } from './faults';
import { buildLocalFunctions, functionEnvironment, type LocalFunctions, type ModelFunction } from './functions';
import { functionPolicies, runAsPrincipal, startDynamoIamProxy } from './iam';
import { createLambdaAdapter, lambdaContext, type InvocationRecord, type LambdaHandler } from './lambda-adapter';
import { localMasterDeps } from './local-ports';
import { buildCycleReport, buildRunReport, type CycleReport, type Notification, type RunReport } from './report';
import { scheduleId, type LocalSchedule } from './schedules';
import { SlotRunner } from './slot-runner';
import { applySavedScheduleStates, customResourceRequest, masterCustomResources, schedulesFromTemplate } from './deploy-update';
import { SimClock } from './sim-clock';
import { propertiesFingerprint, readSavedState, writeSavedState } from './state-file';
import { createStdioCapture, type StdioCapture } from './stdio-capture';
import { LocalTemplate, type CfnTemplate } from './template';

export { isHandlerLogLine } from './stdio-capture';
export type { SavedState } from './state-file';

/** Default simulated epoch of slot 1's search: Monday 2026-01-05 14:30 UTC (US market hours). */
export const DEFAULT_EPOCH = '2026-01-05T14:30:00.000Z';

/** The synthesized app as the runtime needs it. */
export interface AppModel {
  template: CfnTemplate;
  stackName: string;
  functions: ModelFunction[];
}

/** Options of {@link startLocalRuntime}. */
export interface LocalRuntimeOptions {
  /** Validated config. Default: `config/orchestrator.config.ts`, validated. */
  config?: OrchestratorConfig;
  /** Market data CSV (absolute or relative to the cwd / repo root). Default: `config.marketData.file`. */
  marketDataFile?: string;
  /** Symbol of a one-symbol OHLCV market data file (`MARKET_DATA_SYMBOL` of every function). Default: the template's, else the file name's. */
  marketDataSymbol?: string;
  /** Simulated ms per wall ms while nothing computes. Default 1000. */
  timeScale?: number;
  /** Injected faults (see `faults.ts`). */
  faults?: Fault[];
  /** State directory. Default `.local/state` under the repo root. */
  stateDir?: string;
  /** Start fresh (default true); false restores the state directory when it has a saved state. */
  fresh?: boolean;
  /** Persist state on close (default true). */
  save?: boolean;
  /** No progress output (default false). */
  quiet?: boolean;
  /** Simulated time of the first schedule slot's search (ISO). Default {@link DEFAULT_EPOCH}. */
  epoch?: string;
  /**
   * How long before `epoch` the stack is deployed, simulated ms: a fresh run's clock starts at the
   * deploy (`epoch - deployLeadMs`), the alarms exist and are evaluated every minute from then on,
   * and the first slot is the schedules' next fire time after the deploy. Default half a cadence.
   */
  deployLeadMs?: number;
  /** How long the local ListExecutions keeps listing an ended or stopped execution as RUNNING, simulated ms. Default `DEFAULT_LIST_LAG_MS` (executions.ts). */
  listLagMs?: number;
  /** Progress sink; default `process.stderr` lines (unless quiet). */
  onProgress?: (line: string) => void;
  /** Override the synthesized app (tests). */
  model?: AppModel;
  /**
   * Wall ms after which a handler that is still running (an in-process one) or still waiting (an
   * agent in its worker, whose computing never counts) stops holding the simulated clock at real
   * speed (`sim-clock.ts`). @default 10,000
   */
  activeCapMs?: number;
  /**
   * Start one worker per agent function while the runtime starts (like provisioned concurrency of
   * 1), so the first cycle's agents start warm. `npm run ops -- --local` passes false: an operator
   * command usually invokes no agent. @default true
   */
  prewarmAgents?: boolean;
}

/** A running local runtime. */
export interface LocalRuntime {
  readonly config: OrchestratorConfig;
  readonly clock: SimClock;
  /** Simulates the next `n` schedule slots; returns the cycle reports of those slots. */
  runSlots(n: number): Promise<CycleReport[]>;
  /**
   * Starts an execution by hand (operator run or a double trigger); resolves when it ends.
   * @throws {ExecutionAlreadyExists} for a used name.
   */
  startExecution(name: string, input?: unknown): Promise<CycleReport>;
  /**
   * Puts an event on the local default bus: every enabled rule of the template (`cycle.triggers`)
   * whose pattern matches starts an execution with its target's input; resolves with their reports.
   * @throws {UnsupportedEventPattern} for a pattern the local matcher cannot evaluate.
   */
  putEvent(event: Record<string, unknown>): Promise<CycleReport[]>;
  /** The run report so far. */
  report(): Promise<RunReport>;
  /** The interpreter's event log of an execution (StateEntered events count transitions). */
  executionEvents(name: string): ExecutionEvent[];
  /** Every Lambda attempt so far. */
  invocations(): InvocationRecord[];
  /** The handlers' Powertools log lines so far (JSON, each with `simTime`: the simulated ISO time it was written). */
  handlerLogs(): readonly string[];
  /** Every execution so far. */
  executions(): LocalExecution[];
  /** Schedules with their current state. */
  schedules(): LocalSchedule[];
  /** Notifications (SNS / EventBridge / Master actions) so far. */
  notifications(): Notification[];
  /** Alarm transitions so far. */
  alarmTransitions(): AlarmTransition[];
  /** Invokes the Master handler directly (alarms, the cycle, CloudFormation, operators halting); returns its response. */
  invokeMaster(event: unknown): Promise<unknown>;
  /** DynamoDB calls refused by the functions' synthesized IAM policies so far (`AccessDeniedException`). */
  accessDenied(): ReadonlyArray<{ principal: string; action: string; table: string }>;
  /**
   * Calls the operator function as its function URL would: `request` is the body
   * (`{ action, reason?, on? }`), `callerArn` stands in for the IAM identity Lambda would verify
   * (locally there is no IAM; the ops CLI passes its actor). Resolves with the result.
   * @throws {Error} named after the response's `error` (`ResumeRefused`, `KillSwitchIncomplete`, ...) for a status >= 400.
   */
  invokeOperator(request: Record<string, unknown>, callerArn: string): Promise<unknown>;
  /** DynamoDB document client on the local tables. */
  readonly doc: DynamoDBDocumentClient;
  /** Physical table names by env var name (AGENT_STATE_TABLE, ...). */
  readonly tableEnv: Record<string, string>;
  /** Saves the state (unless save is false), terminates the agents' workers, stops the local DynamoDB, restores stdout and stderr. */
  close(): Promise<void>;
}

const modelCache = new Map<string, AppModel>();

/** Options of {@link synthAppModel}. */
export interface SynthAppModelOptions {
  /** The disk cache (`app-model-cache.ts`), or `false` to always synthesize. @default {@link APP_MODEL_CACHE_DIR} */
  readonly cacheDir?: string | false;
}

/**
 * The synthesized app as the runtime needs it (bundling off), from this process's memo, else from the
 * disk cache (`app-model-cache.ts`: keyed by the config and every source synthesis reads), else
 * synthesized and stored. The config checks run either way, so their warnings print at every start.
 * @returns a fresh copy (callers may mutate it).
 * @throws {ConfigError} when a config check fails; whatever synthesis throws (CloudFormation
 *   validation errors included) for this config (nothing is cached then).
 */
export function synthAppModel(config: OrchestratorConfig, opts: SynthAppModelOptions = {}): AppModel {
  const copy = (m: AppModel) => JSON.parse(JSON.stringify(m)) as AppModel;
  const dir = opts.cacheDir ?? APP_MODEL_CACHE_DIR;
  // The memo has the disk cache's key: the same config under another environment (CDK_VALIDATION, ...) is another template.
  const key = appModelKey(config);
  const memoKey = key;
  const hit = modelCache.get(memoKey);
  if (hit) return copy(hit);
  const cached = key && dir !== false ? readCachedAppModel<AppModel>(key, dir) : undefined;
  let model: AppModel;
  if (cached) {
    runConfigChecks(config);
    model = cached;
  } else {
    // Loaded here, not at the top: aws-cdk-lib takes about a second to load, and a cached model needs none of it
    // (`npm run ops -- --local` and a repeated `npm start` start without it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createOrchestratorApp } = require('../lib/app-factory') as typeof import('../lib/app-factory');
    const { app, stack } = createOrchestratorApp({ config, bundling: false });
    const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
    model = {
      template,
      stackName: stack.stackName,
      functions: stack.lambdaFunctions.map((f) => ({
        role: f.role,
        agent: f.agent,
        agents: f.agents,
        entry: f.entry,
        logicalId: f.logicalId,
        // The contents, not synth's staged copies: those live in the cloud assembly's temporary directory.
        assetFiles: f.assetFiles && Object.fromEntries(Object.entries(f.assetFiles).map(([name, path]) => [name, readFileSync(path, 'utf8')])),
      })),
    };
    if (key && dir !== false) writeCachedAppModel(key, model, dir);
  }
  modelCache.set(memoKey, copy(model));
  return model;
}

/** Resolves a path given by a user: absolute, relative to the cwd, or relative to the repo root. */
export function resolveUserPath(p: string): string {
  if (isAbsolute(p)) return p;
  const cwd = resolve(p);
  return existsSync(cwd) ? cwd : join(REPO_ROOT, p);
}

let active = false;

/**
 * Starts the local runtime (one at a time per process: it sets process.env and patches stdout).
 * @throws {Error} when the definition in the template differs from the rendered file, when it uses
 *   something the interpreter cannot run (`UnsupportedDefinitionError`), when two functions need
 *   different values for one environment variable, when an alarm uses metric math, when the
 *   market data file is unreadable, or when an agent's entry cannot be bundled for its worker.
 */
export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  if (active) throw new Error('A local runtime is already running in this process; close it first');
  const config = opts.config ?? validateConfig(defaultConfigInput);
  const stateDir = resolveUserPath(opts.stateDir ?? DEFAULT_STATE_DIR);
  const marketData = resolveUserPath(opts.marketDataFile ?? config.marketData.file);
  assertMarketDataReadable(marketData);
  assertRunnableLocally(config);
  const model = opts.model ?? synthAppModel(config);
  const tpl = new LocalTemplate(model.template, model.stackName);
  const quiet = opts.quiet ?? false;
  const rawStderr = process.stderr.write.bind(process.stderr);
  const progress = opts.onProgress ?? ((line: string) => (quiet ? undefined : rawStderr(line + '\n')));
  // --- state machine definition: the file that is deployed is what runs -------------------------
  const { definition, notes, stateMachineArn } = loadCycleDefinition(model.template, tpl, config);

  // --- tables -------------------------------------------------------------------------------------
  const tableDefs: TableDef[] = tpl.ofType('AWS::DynamoDB::Table').map((id) => {
    const p = tpl.props(id);
    return {
      name: tpl.ref(id),
      KeySchema: p.KeySchema as TableDef['KeySchema'],
      AttributeDefinitions: p.AttributeDefinitions as TableDef['AttributeDefinitions'],
    };
  });
  const dynamo: LocalDynamo = await startLocalDynamo(tableDefs);
  // Every handler's DynamoDB call goes through the IAM proxy: the function's synthesized policy decides (local/iam.ts).
  const tableArns = new Map(tpl.ofType('AWS::DynamoDB::Table').map((id) => [tpl.ref(id), tpl.arn(id)]));
  const iam = await startDynamoIamProxy(
    dynamo.endpoint,
    functionPolicies(tpl),
    (table) => tableArns.get(table) ?? `arn:aws:dynamodb:local:000000000000:table/${table}`,
  );
  active = true;
  const savedEnv = { ...process.env };
  let closed = false;
  let capture: StdioCapture | undefined;
  let built: LocalFunctions | undefined;
  const clock = new SimClock({
    startMs: Date.parse(opts.epoch ?? DEFAULT_EPOCH),
    timeScale: opts.timeScale ?? 1000,
    activeCapMs: opts.activeCapMs ?? 10_000,
  });
  let closeAdapter: () => void = () => undefined;
  const teardown = async () => {
    closeAdapter();
    await built?.close();
    clock.dispose();
    capture?.restore();
    restoreEnv(savedEnv);
    await iam.stop();
    await dynamo.stop();
    active = false;
  };
  try {
    // --- environment ------------------------------------------------------------------------------
    const env = functionEnvironment(model.functions, tpl, marketData);
    Object.assign(process.env, env, {
      ...dynamo.env,
      AWS_ENDPOINT_URL_DYNAMODB: iam.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_METRICS_DISABLED: 'false',
      // With monitoring.tracing on, the handlers load Powertools' Tracer: disabled here, so no X-Ray daemon is contacted.
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_DEV: '',
      POWERTOOLS_LOG_LEVEL: process.env.LOCAL_LOG_LEVEL ?? 'WARN',
      ...(opts.marketDataSymbol ? { MARKET_DATA_SYMBOL: opts.marketDataSymbol } : {}),
    });
    const tableEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k.endsWith('_TABLE')));
    const doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
    // Calls on this client go through the IAM proxy: inside an invocation (runAsPrincipal) they are checked against the function's role.
    const proxiedDoc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: iam.endpoint, region: dynamo.env.AWS_REGION, credentials: dynamo.credentials }),
      { marshallOptions: { removeUndefinedValues: true } },
    );

    // --- CloudWatch: EMF capture, AWS/* metrics, alarms ---------------------------------------------
    const alarms = tpl.ofType('AWS::CloudWatch::Alarm').map((id) => alarmSpecFromProps(id, tpl.props(id)));
    const cw = new LocalCloudWatch(alarms);
    const logs: string[] = [];
    const stdio = createStdioCapture({
      simIso: () => clock.iso(),
      onEmf: (line) => {
        for (const dp of parseEmf(line, clock.now())) cw.put(dp);
      },
      onLog: (line) => logs.push(line),
    });
    capture = stdio;

    const notifications: Notification[] = [];
    const transitions: AlarmTransition[] = [];
    const invocations: InvocationRecord[] = [];
    /** Answers the Master sent to CloudFormation custom resource requests (`respond` port). */
    const cfnResponses: { url: string; body: CustomResourceResponse }[] = [];
    const schedules: LocalSchedule[] = schedulesFromTemplate(tpl);

    // --- handlers -----------------------------------------------------------------------------------
    let executions!: LocalExecutions;
    const masterDeps = () =>
      localMasterDeps({
        executions: () => executions,
        schedules,
        notifications,
        simIso: () => clock.iso(),
        doc,
        // The Master's order ports go through the IAM proxy like a handler's own calls: its grants on the Ledger are checked.
        masterDoc: proxiedDoc,
        env: process.env,
        clock,
        cfnResponses,
      });
    const wrapMaster =
      (inner: LambdaHandler): LambdaHandler =>
      async (event, ctx) => {
        const result = await inner(event, ctx);
        const ev = event as Record<string, unknown>;
        const by =
          ev.source === 'aws.cloudwatch'
            ? `alarm ${(ev.alarmData as { alarmName?: string })?.alarmName}`
            : `${String(ev.source ?? 'operator')} ${String(ev.action ?? '')}`;
        notifications.push({
          channel: 'master',
          at: clock.iso(),
          subject: `Master (${by}): ${String((result as { action?: string })?.action ?? '')}`,
          message: JSON.stringify(result),
        });
        return result;
      };
    built = await buildLocalFunctions(model.functions, tpl, {
      env: process.env,
      doc,
      proxiedDoc,
      clock,
      masterDeps,
      wrapMaster,
      onWorkerOutput: (text, stream) => stdio.ingest(text, stream),
      resolveEntry: resolveUserPath,
      prewarm: opts.prewarmAgents ?? true,
    });
    const functions = built.functions;
    const roleFn = (role: string) => {
      const i = model.functions.findIndex((f) => f.role === role);
      return i >= 0 ? functions[i] : undefined;
    };
    const masterFn = roleFn('master');
    const operatorFn = roleFn('operator');
    const invokeDirect = (fn: NonNullable<typeof masterFn>, event: unknown) =>
      runAsPrincipal(fn.name, () => fn.handler(JSON.parse(JSON.stringify(event)), lambdaContext(fn, clock)));

    const adapter = createLambdaAdapter({
      clock,
      functions,
      notes,
      faults: opts.faults,
      cycleOf: (name) => executions.all.get(name)?.cycle,
      onInvocation: (r) => invocations.push(r),
      onLambdaMetric: (name, fn, value, at) => cw.put({ namespace: 'AWS/Lambda', name, dims: { FunctionName: fn }, value, at }),
    });
    closeAdapter = adapter.close;
    executions = new LocalExecutions({
      definition,
      stateMachineArn,
      clock,
      taskStates: Object.keys(notes.tasks),
      taskHandler: adapter.taskHandler,
      listLagMs: opts.listLagMs,
      onStatesMetric: (name, value, at) => cw.put({ namespace: 'AWS/States', name, dims: { StateMachineArn: stateMachineArn }, value, at }),
      onEvent: (exec, ev) => {
        if (ev.type !== 'StateEntered') return;
        const st = (ev as { state?: { name?: string; input?: { item?: { agent?: string } } } }).state;
        const agent = st?.input?.item?.agent;
        progress(`  ${exec.cycle ? `#${exec.cycle}` : exec.name} +${((ev.simAt - exec.startMs) / 1000).toFixed(1)}s ${st?.name}${agent ? ` (${agent})` : ''}`);
      },
    });

    // --- alarm actions ------------------------------------------------------------------------------
    const runAlarmActions = createAlarmActions({
      alarms,
      master: masterFn && { arn: masterFn.arn, name: masterFn.name, invoke: (event) => invokeDirect(masterFn, event) },
      putLambdaMetric: (name, fn, value) => cw.put({ namespace: 'AWS/Lambda', name, dims: { FunctionName: fn }, value, at: clock.now() }),
      simIso: () => clock.iso(),
      notifications,
      transitions,
    });
    const evaluateAlarms = async () => {
      for (const t of cw.evaluateUntil(clock.now())) await runAlarmActions(t);
    };

    // --- state restore ------------------------------------------------------------------------------
    const epochMs = Date.parse(opts.epoch ?? DEFAULT_EPOCH);
    const deployLeadMs = opts.deployLeadMs ?? (config.cycle.cadenceMinutes * 60_000) / 2;
    if (!(deployLeadMs >= 0)) throw new Error(`deployLeadMs must be >= 0, got ${opts.deployLeadMs}`);
    // Time starts at the deploy: alarms exist from here, the first slot is the next one after it.
    clock.reset(epochMs - deployLeadMs);
    const position = { cursor: clock.now(), number: 0 }; // the next slot is strictly after the cursor
    const cycleReports: CycleReport[] = [];
    const fingerprint = (id: string): string => propertiesFingerprint(model.template.Resources[id].Properties);
    const scheduleFingerprints = new Map(
      tpl
        .ofType('AWS::Scheduler::Schedule')
        .map((id) => [`${String(tpl.props(id).GroupName ?? 'default')}/${String(tpl.props(id).Name ?? id)}`, fingerprint(id)]),
    );
    // Custom resources served by the Master (Custom::ReapplyHalt): what a CloudFormation update would send it.
    const masterResources = masterFn ? masterCustomResources(model.template, tpl, masterFn.arn, fingerprint) : [];
    let customResourceState: Record<string, string> = Object.fromEntries(masterResources.map((c) => [c.id, c.fingerprint]));
    const saved = opts.fresh === false ? readSavedState(stateDir) : undefined;
    if (saved) {
      await dynamo.restore(saved.tables);
      // Re-apply the freshly synthesized template as a CloudFormation update would (deploy-update.ts).
      applySavedScheduleStates(schedules, saved.schedules, scheduleFingerprints);
      customResourceState = saved.customResources ?? {};
      for (const n of saved.executionNames) executions.usedNames.add(n);
      for (const [name, st] of Object.entries(saved.alarms)) if (cw.states.has(name)) cw.states.set(name, st);
      clock.reset(saved.clockMs);
      position.cursor = saved.slotCursor;
      position.number = saved.slotNumber;
    }
    cw.startEvaluatingAt(clock.now());
    if (saved) {
      // Then the update reaches the custom resources whose properties changed (or are new), after the
      // schedules: the Master re-applies a halt, as in AWS (docs/deploy.md, "Redeploying while halted").
      for (const c of masterResources) {
        if (customResourceState[c.id] === c.fingerprint || !masterFn) continue;
        const event = customResourceRequest(c, customResourceState[c.id], model.stackName, clock.now());
        await invokeDirect(masterFn, event);
        progress(`deploy: ${String(event.RequestType)} ${c.id} -> Master (${JSON.stringify(cfnResponses[cfnResponses.length - 1]?.body?.Reason ?? '')})`);
      }
      customResourceState = Object.fromEntries(masterResources.map((c) => [c.id, c.fingerprint]));
    }
    const runStartWall = performance.now();
    const simStart = clock.now();
    const reportTrading = () => {
      const t = tradingPortsFromEnv(process.env, doc);
      return { ledgerTable: t.tables.ledger, settings: t.settings, marketDataFile: marketData };
    };

    const finishCycle = async (exec: LocalExecution, slot?: string, scheduleName?: string): Promise<CycleReport> => {
      await exec.done;
      const rep = await buildCycleReport(exec, {
        doc,
        cyclesTable: process.env.CYCLES_TABLE ?? '',
        invocations,
        slot,
        scheduleName,
        trading: reportTrading(),
      });
      cycleReports.push(rep);
      return rep;
    };

    let eventSeq = 0;
    const slots = new SlotRunner(
      {
        schedules,
        clock,
        epochMs,
        maxLatenessSeconds: config.cycle.maxLatenessSeconds,
        faults: opts.faults ?? [],
        start: (name, input, cycle) => executions.start(name, input, cycle),
        finish: (exec, slot, schedule) => finishCycle(exec, slot, schedule),
        skipped: (rep) => void cycleReports.push(rep),
        evaluateAlarms,
        progress,
      },
      position,
    );

    const runtime: LocalRuntime = {
      config,
      clock,
      doc,
      tableEnv,
      runSlots: (n) => slots.run(n),
      async startExecution(name, input = { source: 'operator', requestedBy: 'local' }) {
        const exec = executions.start(name, input);
        return finishCycle(exec);
      },
      async putEvent(event) {
        const full = {
          version: '0',
          id: `local-${(eventSeq += 1)}`,
          account: '000000000000',
          region: 'local',
          time: clock.iso(),
          resources: [],
          detail: {},
          ...event,
        };
        const out: CycleReport[] = [];
        for (const id of tpl.ofType('AWS::Events::Rule')) {
          const p = tpl.props(id);
          if (p.State === 'DISABLED' || !p.EventPattern || !matchesEventPattern(p.EventPattern as Record<string, unknown>, full)) continue;
          // Properties come resolved: a target's Arn is the state machine's local ARN.
          for (const target of (p.Targets ?? []) as Array<{ Arn?: unknown } & Parameters<typeof renderTargetInput>[0]>) {
            if (target.Arn !== stateMachineArn) continue;
            // EventBridge's Step Functions target names executions itself (a fresh id per delivery).
            const exec = executions.start(`event-${String(p.Name ?? id)}-${(eventSeq += 1)}`.slice(0, 80), renderTargetInput(target, full));
            progress(`event ${full.id} -> ${String(p.Name ?? id)}: ${exec.name}`);
            out.push(await finishCycle(exec));
          }
        }
        return out;
      },
      async report() {
        const run = await buildRunReport({
          config,
          doc,
          tables: { agentState: process.env.AGENT_STATE_TABLE ?? '', control: process.env.CONTROL_TABLE ?? '', ledger: process.env.LEDGER_TABLE },
          cycles: cycleReports,
          alarms: [...cw.states.entries()].map(([name, s]) => ({ name, state: s.value, changedAt: s.changedAt ? new Date(s.changedAt).toISOString() : null })),
          transitions,
          notifications,
          simulatedMs: clock.now() - simStart,
          wallMs: performance.now() - runStartWall,
        });
        return { ...run, schedules: schedules.map((s) => ({ name: s.name, state: s.state })) };
      },
      executionEvents: (name) => executions.all.get(name)?.events ?? [],
      invocations: () => invocations,
      handlerLogs: () => logs,
      executions: () => [...executions.all.values()],
      schedules: () => schedules,
      notifications: () => notifications,
      alarmTransitions: () => transitions,
      async invokeMaster(event) {
        if (!masterFn) throw new Error('The template has no Master function');
        return invokeDirect(masterFn, event);
      },
      accessDenied: () => iam.denied,
      async invokeOperator(request, callerArn) {
        if (!operatorFn) throw new Error('The template has no operator function');
        const event = {
          version: '2.0',
          requestContext: { authorizer: { iam: { userArn: callerArn, accountId: '000000000000' } }, http: { method: 'POST' } },
          body: JSON.stringify(request),
          isBase64Encoded: false,
        };
        const res = (await runAsPrincipal(operatorFn.name, () => operatorFn.handler(event, lambdaContext(operatorFn, clock)))) as {
          statusCode: number;
          body: string;
        };
        const body = JSON.parse(res.body) as Record<string, unknown>;
        notifications.push({
          channel: 'master',
          at: clock.iso(),
          subject: `Operator (${callerArn}): ${String(request.action)} -> ${res.statusCode}`,
          message: res.body,
        });
        if (res.statusCode >= 400) {
          const err = new Error(String(body.message ?? body.error));
          err.name = String(body.error ?? 'Error');
          throw err;
        }
        return body;
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await Promise.all(executions.running().map((e) => (executions.stop(e.arn, 'local runtime closed'), e.done)));
          if (opts.save !== false) {
            writeSavedState(
              stateDir,
              {
                version: 1,
                savedAt: new Date().toISOString(),
                clockMs: clock.now(),
                slotCursor: slots.cursor,
                slotNumber: slots.number,
                tables: await dynamo.dump(),
                schedules: schedules.map((s) => ({ group: s.group, name: s.name, state: s.state, fingerprint: scheduleFingerprints.get(scheduleId(s)) })),
                customResources: customResourceState,
                executionNames: [...executions.usedNames],
                executions: [...executions.all.values()].map((e) => ({
                  name: e.name,
                  status: e.status,
                  cycle: e.cycle,
                  start: new Date(e.startMs).toISOString(),
                  error: e.error,
                })),
                alarms: Object.fromEntries(cw.states),
                config,
              },
              logs,
            );
          }
        } finally {
          await teardown();
        }
      },
    };
    return runtime;
  } catch (err) {
    await teardown();
    throw err;
  }
}

function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
}
