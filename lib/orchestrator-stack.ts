/**
 * The orchestrator stack: tables, functions, the cycle state machine, its schedules, the kill
 * switch, alarms, dashboard and alert topic, composed from `lib/constructs/*`.
 *
 * Environment-agnostic (no account/region, no lookups), so `cdk synth` needs no credentials.
 * Physical names that would otherwise create dependency cycles are explicit and derived from the
 * stack name: the state machine (`${stackName}-cycle`), the schedule group (`${stackName}`) and
 * schedules (`${stackName}-<group>`), and alarms (`${stackName}-<Kind>`).
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { AgentConfig, OrchestratorConfig } from './config/schema';
import { supervisorSettingsFromConfig, tradingSettingsFromConfig } from './config/lambda-settings';
import { ENV } from '../lambdas/shared/env';
import { FleetFunction } from './constructs/agent-function';
import { alarmPolicy } from './constructs/alarm-catalog';
import { AlertTopic } from './constructs/alert-topic';
import { CycleTriggers } from './constructs/cycle-triggers';
import { CycleSchedules, scheduleNamesEnv } from './constructs/cycle-schedules';
import { CycleStateMachine, cycleExecutionArnPattern, cycleStateMachineArn, cycleStateMachineName } from './constructs/cycle-state-machine';
import { KillSwitch } from './constructs/kill-switch';
import { assertResourceQuota, Monitoring } from './constructs/monitoring';
import { StateTables } from './constructs/state-tables';
import { applyNagSuppressions } from './nag-suppressions';
import { OUTPUT_KEYS } from './stack-outputs';

/** Props of {@link OrchestratorStack}. */
export interface OrchestratorStackProps extends StackProps {
  /** Validated config (`validateConfig`). */
  readonly config: OrchestratorConfig;
  /** E-mail subscribed to the alert topic; overrides `config.alerts.email`. Default: context `alertEmail`, then the config. */
  readonly alertEmail?: string;
}

/** Role of a deployed function, for the local runtime's template -> handler mapping. */
export type FunctionRole = 'supervisor' | 'risk' | 'master' | 'operator' | 'gateway' | 'agent';

/** One function of the stack: who it is, its source, and its logical id in the template. */
export interface StackFunctionInfo {
  /** What the function does in the cycle. */
  readonly role: FunctionRole;
  /** Agent name, for `role: 'agent'` when the function serves one agent. */
  readonly agent?: string;
  /** Every agent the function serves (agents with the same code entry share one function), for `role: 'agent'`. */
  readonly agents?: readonly string[];
  /** Files bundled next to the code: name in the asset (`/var/task/<name>`) -> staged copy on this machine. */
  readonly assetFiles?: Readonly<Record<string, string>>;
  /** Handler module relative to the repo root (`lambdas/.../handler.ts`). */
  readonly entry: string;
  /** Logical id of its `AWS::Lambda::Function` in the synthesized template. */
  readonly logicalId: string;
}

/** Name of the supervisor's settings file in its asset (`SUPERVISOR_SETTINGS_FILE=/var/task/<this>`). */
export const SUPERVISOR_SETTINGS_FILE_NAME = 'supervisor-settings.json';

/** A short, name-safe key for a shared code entry: `bench/fixtures/synthetic-agent.ts` -> `synthetic-agent`. */
export function entryKey(entry: string): string {
  const base =
    entry
      .replace(/\/handler\.[cm]?[jt]s$/, '')
      .replace(/\.[cm]?[jt]s$/, '')
      .split('/')
      .pop() ?? 'agent';
  return base.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40) || 'agent';
}

/** Keys of the stack outputs (the ops CLI reads them). */
export { OUTPUT_KEYS } from './stack-outputs';

/** The whole orchestrator in one stack. */
export class OrchestratorStack extends Stack {
  /** Every Lambda function: supervisor, risk, Master, order gateway and one per enabled agent code entry. */
  public readonly lambdaFunctions: ReadonlyArray<StackFunctionInfo>;
  /** The tables. */
  public readonly tables: StateTables;
  /** The cycle state machine. */
  public readonly cycle: CycleStateMachine;
  /** The schedules. */
  public readonly schedules: CycleSchedules;
  /** The Master (kill switch). */
  public readonly killSwitch: KillSwitch;
  /** Alarms and dashboard. */
  public readonly monitoring: Monitoring;
  /** The alert topic. */
  public readonly alerts: AlertTopic;

  constructor(scope: Construct, id: string, props: OrchestratorStackProps) {
    super(scope, id, { description: 'Agent fleet orchestrator: supervised, risk-first trading agent cycle with circuit breakers and a kill switch', ...props });
    const { config } = props;
    const stackName = this.stackName;
    const logRemovalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    // X-Ray active tracing and Powertools' Tracer on every function and the state machine, or none (config monitoring.tracing).
    const tracing = config.monitoring.tracing;

    this.tables = new StateTables(this, 'Tables', { retainData: config.retainData });
    const t = this.tables.tables;
    const email = props.alertEmail ?? (this.node.tryGetContext('alertEmail') as string | undefined) ?? config.alerts.email;
    this.alerts = new AlertTopic(this, 'Alerts', { email });

    const stateMachineName = cycleStateMachineName(stackName);
    const stateMachineArn = cycleStateMachineArn(this, stateMachineName);
    this.schedules = new CycleSchedules(this, 'Schedules', { config, stackName, stateMachineArn });

    const trading = this.toJsonString(tradingSettingsFromConfig(config));
    const functions: StackFunctionInfo[] = [];
    const info = (role: FunctionRole, f: FleetFunction, agents?: readonly string[]): void => {
      functions.push({
        role,
        agent: agents?.length === 1 ? agents[0] : undefined,
        agents,
        entry: f.entry,
        logicalId: this.getLogicalId(f.fn.node.defaultChild as lambda.CfnFunction),
        assetFiles: f.assetFiles,
      });
    };

    // Agents with the same code entry share one function (a fleet of one strategy with different
    // params is one function, not hundreds): the payload names the agent. Functions get explicit
    // names so the supervisor's registry (a file in its asset) holds no deploy-time token.
    const byEntry = new Map<string, AgentConfig[]>();
    for (const agent of config.agents.filter((a) => a.enabled)) {
      const entry = agent.entry ?? `lambdas/agents/${agent.name}/handler.ts`;
      byEntry.set(entry, [...(byEntry.get(entry) ?? []), agent]);
    }
    const agentFns = new Map<string, { f: FleetFunction; agents: string[] }>();
    const agentFunctionNames: Record<string, string> = {};
    for (const [entry, agents] of byEntry) {
      let key = agents.length === 1 ? agents[0].name : entryKey(entry);
      for (let n = 2; agentFns.has(key); n++) key = `${agents.length === 1 ? agents[0].name : entryKey(entry)}-${n}`;
      const functionName = `${stackName}-${key}`;
      // One construct id per function name, whether it serves one agent or several, so adding a second
      // agent to an entry does not replace the function (CloudFormation would create the new one first
      // and fail on the name).
      const f = new FleetFunction(this, `Agent-${key}`, {
        entry,
        functionName,
        description: `Agent${agents.length > 1 ? 's' : ''} ${agents.map((a) => a.name).join(', ')}`.slice(0, 256),
        taskTimeoutSeconds: Math.max(...agents.map((a) => a.timeoutSeconds)),
        memoryMb: Math.max(...agents.map((a) => a.memoryMb)),
        marketDataFile: config.marketData.file,
        logRemovalPolicy,
        tracing,
        environment: { ...this.tables.env(), [ENV.tradingSettings]: trading },
      });
      // Agents read and never write: the halt flag (Control), their dependencies' outputs (Cycles), the
      // account and their own book (Ledger). Orders and outputs leave in the result, to the order gateway.
      t.Control.grantReadData(f.fn);
      t.Cycles.grantReadData(f.fn);
      t.Ledger.grantReadData(f.fn);
      agentFns.set(key, { f, agents: agents.map((a) => a.name) });
      for (const a of agents) agentFunctionNames[a.name] = functionName;
    }

    const supervisor = new FleetFunction(this, 'Supervisor', {
      entry: 'lambdas/supervisor/handler.ts',
      description: 'Supervisor: plans the cycle (halt flag, circuit breakers, phases) and records outcomes',
      timeoutSeconds: 60,
      memoryMb: 512,
      logRemovalPolicy,
      tracing,
      // The agent registry grows with the fleet: a file in the asset, not the 4 KB environment.
      assetFiles: { [SUPERVISOR_SETTINGS_FILE_NAME]: JSON.stringify(supervisorSettingsFromConfig(config, agentFunctionNames)) },
      environment: {
        ...this.tables.env(),
        [`${ENV.supervisorSettings}_FILE`]: `/var/task/${SUPERVISOR_SETTINGS_FILE_NAME}`,
        [ENV.reportRetentionDays]: String(config.cycle.reportRetentionDays),
      },
    });
    t.AgentState.grantReadWriteData(supervisor.fn);
    // Control: read the halt flag, and one UpdateItem (ADD cycleSeq) per plan; no PutItem, DeleteItem or
    // BatchWriteItem, so it can never replace or delete the control item.
    t.Control.grantReadData(supervisor.fn);
    t.Control.grant(supervisor.fn, 'dynamodb:UpdateItem');
    t.Cycles.grantReadWriteData(supervisor.fn);

    const risk = new FleetFunction(this, 'Risk', {
      entry: config.risk.entry,
      description: 'Pre-trade risk check: OK, REDUCE or HALT (the cycle fails closed)',
      taskTimeoutSeconds: config.risk.timeoutSeconds,
      memoryMb: 512,
      marketDataFile: config.marketData.file,
      logRemovalPolicy,
      tracing,
      environment: { ...this.tables.env(), [ENV.tradingSettings]: trading },
    });
    // Risk reads the account (created on first use, UpdateItem with if_not_exists) and writes one equity
    // snapshot per bar (conditional PutItem); no DeleteItem or BatchWriteItem.
    t.Ledger.grantReadData(risk.fn);
    t.Ledger.grant(risk.fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem');

    const gateway = new FleetFunction(this, 'Gateway', {
      entry: 'lambdas/gateway/handler.ts',
      description: 'Order gateway: decides every proposed order (one transaction per fill) and stores agent outputs',
      timeoutSeconds: 60,
      memoryMb: 512,
      marketDataFile: config.marketData.file,
      logRemovalPolicy,
      tracing,
      environment: { ...this.tables.env(), [ENV.tradingSettings]: trading },
    });
    // The one writer of money: account, books, orders, fills and rate counters (Ledger, in transactions);
    // the halt flag is a condition of every fill (Control: ConditionCheckItem), read with the ledger items in one
    // BatchGetItem (a batch across tables needs the action on each); agents' outputs (Cycles: PutItem).
    t.Ledger.grant(
      gateway.fn,
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
    );
    t.Control.grant(gateway.fn, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem');
    t.Cycles.grant(gateway.fn, 'dynamodb:PutItem');

    this.killSwitch = new KillSwitch(this, 'KillSwitch', {
      stackName,
      controlTable: t.Control,
      agentStateTable: t.AgentState,
      ledgerTable: t.Ledger,
      tradingSettings: trading,
      resumePolicy: { coolDownSeconds: config.resume.coolDownSeconds, allowDirectToNormal: config.resume.allowDirectToNormal },
      marketDataFile: config.marketData.file,
      stateMachineArn,
      executionArnPattern: cycleExecutionArnPattern(this, stateMachineName),
      scheduleNames: scheduleNamesEnv(this.schedules.refs),
      scheduleArns: this.schedules.scheduleArns(),
      schedulerRole: this.schedules.role,
      alertTopic: this.alerts.topic,
      alarmPolicy: alarmPolicy(config, stackName),
      logRemovalPolicy,
      tracing,
      reservedConcurrency: config.killSwitch.masterReservedConcurrency,
    });

    this.cycle = new CycleStateMachine(this, 'Cycle', {
      config,
      stateMachineName,
      supervisor: supervisor.fn,
      risk: risk.fn,
      master: this.killSwitch.fn,
      gateway: gateway.fn,
      agents: [...agentFns.values()].map(({ f }) => f.fn),
      logRemovalPolicy,
    });
    // Event-driven cycles (cycle.triggers): the same slot claim and overlap policy as a schedule slot.
    new CycleTriggers(this, 'Triggers', { config, stackName, stateMachine: this.cycle.stateMachine, deadLetterQueue: this.schedules.deadLetterQueue });
    // Schedules start executions of this state machine: create them after it.
    for (const s of this.schedules.schedules) s.node.addDependency(this.cycle.stateMachine);
    // A redeploy while halted keeps the halt: the Master re-applies it after the schedules change.
    this.killSwitch.reapplyHaltOnDeploy(this.schedules.schedules);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      config,
      stackName,
      stateMachineArn,
      master: this.killSwitch.fn,
      alertTopic: this.alerts.topic,
      scheduleDeadLetterQueue: this.schedules.deadLetterQueue,
      extraAlarms: [this.killSwitch.errorsAlarm, this.killSwitch.failureQueueAlarm],
    });

    info('supervisor', supervisor);
    info('risk', risk);
    info('master', this.killSwitch.function);
    info('operator', this.killSwitch.operator);
    info('gateway', gateway);
    for (const { f, agents } of agentFns.values()) info('agent', f, agents);
    this.lambdaFunctions = functions;

    const outputs: Record<(typeof OUTPUT_KEYS)[number], { value: string; description: string }> = {
      StateMachineArn: { value: this.cycle.stateMachine.stateMachineArn, description: 'Cycle state machine ARN' },
      MasterFunctionName: { value: this.killSwitch.fn.functionName, description: 'Master (kill switch) function name' },
      AgentStateTableName: { value: t.AgentState.tableName, description: 'AgentState table (health, circuit breakers)' },
      ControlTableName: { value: t.Control.tableName, description: 'Control table (halt flag, mode, audit)' },
      CyclesTableName: { value: t.Cycles.tableName, description: 'Cycles table (reports, agent outputs; TTL)' },
      LedgerTableName: { value: t.Ledger.tableName, description: 'Ledger table (paper broker)' },
      ScheduleNames: { value: scheduleNamesEnv(this.schedules.refs), description: 'Comma-separated groupName/scheduleName' },
      AlertTopicArn: { value: this.alerts.topic.topicArn, description: 'SNS topic for people' },
      DashboardName: { value: this.monitoring.dashboard.dashboardName, description: 'CloudWatch dashboard' },
      OperatorFunctionUrl: { value: this.killSwitch.operatorUrl.url, description: 'Operator function URL (AWS_IAM auth): resume, safe mode, halt, status' },
    };
    for (const key of OUTPUT_KEYS) new CfnOutput(this, key, outputs[key]);

    applyNagSuppressions(this);
    assertResourceQuota(this, config);
  }
}
