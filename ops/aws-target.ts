/**
 * {@link OpsTarget} for a deployed stack. Finds the stack's outputs with CloudFormation
 * DescribeStacks; credentials come from the usual AWS chain (`--profile` sets AWS_PROFILE for
 * it, `--region` the region). Halt, resume and safe mode call the operator function's URL
 * (`OperatorFunctionUrl`, `AWS_IAM` auth) with a SigV4-signed POST: Lambda verifies the signature
 * and hands the function the caller's IAM identity, which is what the audit trail records (the
 * `--actor` string is not sent; IAM decides who may resume: `lambda:InvokeFunctionUrl` on the
 * operator function). Status reads
 * the Control and AgentState tables, the schedules and the running executions; run-now starts
 * an execution named `manual-<timestamp>`.
 */
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SignatureV4 } from '@smithy/signature-v4';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AgentStateStore } from '../lambdas/shared/supervision/agent-state-store';
import { listPausedGroups, setAgentDisabled, setGroupPaused } from '../lambdas/supervisor/pauses';
import { createAwsPorts, parseScheduleNames } from '../lambdas/master/aws-ports';
import { readControlItem } from '../lambdas/shared/control-read';
import { OUTPUT_KEYS, type OutputKey } from '../lib/stack-outputs';
import { waitForExecution } from './execution-wait';
import { listWorkingOrders } from '../lambdas/shared/trading/ledger';
import { stageFields, type OpsAgentStatus, type OpsStatus, type OpsTarget, type RunNowResult } from './target';

/** The stack outputs the operator command needs (all but the dashboard's name; keys in `lib/stack-outputs.ts`). */
export const REQUIRED_OUTPUTS = OUTPUT_KEYS.filter((k): k is Exclude<OutputKey, 'DashboardName'> => k !== 'DashboardName');
export type StackOutputs = Record<Exclude<OutputKey, 'DashboardName'>, string>;

/** Where to find the stack. */
export interface AwsTargetOptions {
  /** CloudFormation stack name (default: `stackName` of config/orchestrator.config.ts, chosen by the CLI). */
  stackName: string;
  /** AWS region; default from the usual chain (AWS_REGION, profile). */
  region?: string;
  /** Named profile; sets AWS_PROFILE for the default credential chain. */
  profile?: string;
  /** `run-now`: ms between `DescribeExecution` polls. @default 5000 */
  runNowPollMs?: number;
  /** `run-now`: give up waiting after this many ms (the cycle goes on). @default 3,600,000 (1 h, the default execution timeout) */
  runNowTimeoutMs?: number;
}

/**
 * Picks the required outputs.
 * @throws {Error} `Stack <name> lacks outputs: A, B` naming every missing key (a stack deployed from an older version).
 */
export function pickStackOutputs(stackName: string, outputs: Output[]): StackOutputs {
  const byKey = new Map(outputs.map((o) => [o.OutputKey, o.OutputValue]));
  const missing = REQUIRED_OUTPUTS.filter((k) => byKey.get(k) === undefined);
  if (missing.length) throw new Error(`Stack ${stackName} lacks outputs: ${missing.join(', ')} (deployed from an older version?)`);
  return Object.fromEntries(REQUIRED_OUTPUTS.map((k) => [k, byKey.get(k) as string])) as StackOutputs;
}

/** One agent's status row from a raw AgentState item (tolerant of missing counters). */
/** `<actor> at <time>: <reason>` of a pause note. */
export function pausedNote(n: Record<string, unknown>): string {
  return `${String(n.actor)} at ${String(n.at)}: ${String(n.reason)}`;
}

export function agentRow(item: Record<string, unknown>): OpsAgentStatus {
  const num = (k: string): number => (typeof item[k] === 'number' ? (item[k] as number) : 0);
  const executions = num('executions');
  return {
    name: String(item.agent),
    health: (item.health as OpsAgentStatus['health']) ?? 'HEALTHY',
    breaker: (item.breaker as OpsAgentStatus['breaker']) ?? 'CLOSED',
    successRate: executions > 0 ? num('successes') / executions : 1,
    consecutiveFailures: num('consecutiveFailures'),
    ...(typeof item.openUntil === 'string' ? { openUntil: item.openUntil } : {}),
    ...(item.disabled && typeof item.disabled === 'object' ? { paused: pausedNote(item.disabled as Record<string, unknown>) } : {}),
  };
}

/** Execution name for `run-now`: `manual-<ISO time with - for : and .>` (Step Functions names allow [A-Za-z0-9-_], up to 80 chars). */
export function manualExecutionName(nowMs: number): string {
  return `manual-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`;
}

/** The bodies sent to the operator function URL (`operatorRequestSchema` of `lambdas/master/triggers.ts`). The actor is the caller's IAM identity, not part of the body. */
export const operatorRequests = {
  halt: (reason: string) => ({ action: 'halt', reason }),
  resume: (reason: string, to?: 'reduce' | 'normal') => ({ action: 'resume', reason, ...(to ? { to } : {}) }),
  safeMode: (on: boolean, reason: string) => ({ action: 'safe-mode', on, reason }),
  cancelAll: (reason: string) => ({ action: 'cancel-all', reason }),
  flatten: (reason: string) => ({ action: 'flatten', reason }),
} as const;

/**
 * The operator payloads a direct Master invoke would carry (shape (d) of `lambdas/master/triggers.ts`).
 * The Master accepts the halt and safe mode on; it refuses resume and safe mode off.
 */
export const operatorPayloads = {
  halt: (reason: string, actor: string) => ({ action: 'halt', source: 'operator', reason, actor }),
  resume: (reason: string, actor: string, to?: 'reduce' | 'normal') => ({ action: 'resume', source: 'operator', reason, actor, ...(to ? { to } : {}) }),
  safeMode: (on: boolean, reason: string, actor: string) => ({ action: 'safe-mode', on, source: 'operator', reason, actor }),
} as const;

/** What SigV4 signing needs: the region, a credential provider and the SDK's SHA-256 constructor (from any SDK client's config). */
export interface SigningConfig {
  region: string;
  credentials: ConstructorParameters<typeof SignatureV4>[0]['credentials'];
  sha256: ConstructorParameters<typeof SignatureV4>[0]['sha256'];
}

/**
 * POSTs `body` (JSON) to an operator function URL, signed with SigV4 for service `lambda` with the
 * caller's credentials (Lambda developer guide, "Invoking Lambda function URLs": `AWS_IAM` auth).
 * @returns the parsed JSON result.
 * @throws {Error} named after the function's `error` (`ResumeRefused`, `KillSwitchIncomplete`, ...)
 *   for a status >= 400, `Forbidden` when IAM denies the call without a JSON body.
 */
export async function callOperatorUrl(functionUrl: string, body: Record<string, unknown>, signing: SigningConfig): Promise<unknown> {
  const url = new URL(functionUrl);
  const text = JSON.stringify(body);
  const signer = new SignatureV4({ service: 'lambda', region: signing.region, credentials: signing.credentials, sha256: signing.sha256 });
  const host = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: {},
    headers: { host, 'content-type': 'application/json' },
    body: text,
  });
  const res = await fetch(url, { method: 'POST', headers: signed.headers as Record<string, string>, body: text });
  const raw = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    parsed = { message: raw };
  }
  if (!res.ok) {
    const err = new Error(
      `Operator function refused or failed (HTTP ${res.status}): ${String(parsed.error ?? '')} ${String(parsed.message ?? parsed.Message ?? raw)}`
        .replace(/\s+/g, ' ')
        .trim(),
    );
    err.name = String(parsed.error ?? (res.status === 403 ? 'Forbidden' : 'OperatorError'));
    throw err;
  }
  return parsed;
}

/**
 * Opens the target: one DescribeStacks call, then clients for the stack's region.
 * @throws {Error} when the stack does not exist or lacks outputs, or credentials are missing (SDK error).
 */
export async function openAwsOpsTarget(opts: AwsTargetOptions): Promise<OpsTarget> {
  if (opts.profile) process.env.AWS_PROFILE = opts.profile;
  const cfg = opts.region ? { region: opts.region } : {};
  const cfn = new CloudFormationClient(cfg);
  const described = await cfn.send(new DescribeStacksCommand({ StackName: opts.stackName }));
  const stack = described.Stacks?.[0];
  if (!stack) throw new Error(`Stack ${opts.stackName} not found`);
  const out = pickStackOutputs(opts.stackName, stack.Outputs ?? []);

  const lambda = new LambdaClient(cfg);
  const sfn = new SFNClient(cfg);
  const dynamo = new DynamoDBClient(cfg);
  const doc = DynamoDBDocumentClient.from(dynamo);
  const scheduler = new SchedulerClient(cfg);
  const sns = new SNSClient(cfg);
  const eventBridge = new EventBridgeClient(cfg);
  const ports = createAwsPorts(
    { stateMachineArn: out.StateMachineArn, schedules: parseScheduleNames(out.ScheduleNames), alertTopicArn: out.AlertTopicArn, eventBusName: 'default' },
    { sfn, scheduler, sns, eventBridge },
  );

  async function invokeMaster(payload: Record<string, unknown>): Promise<unknown> {
    const res = await lambda.send(
      new InvokeCommand({ FunctionName: out.MasterFunctionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    const text = res.Payload ? Buffer.from(res.Payload).toString('utf8') : 'null';
    const body = JSON.parse(text) as unknown;
    if (res.FunctionError) {
      const e = body as { errorType?: string; errorMessage?: string };
      const err = new Error(`Master refused or failed: ${e.errorType ?? res.FunctionError}: ${e.errorMessage ?? text}`);
      err.name = e.errorType ?? 'MasterError';
      throw err;
    }
    return body;
  }

  const callOperator = async (body: Record<string, unknown>): Promise<unknown> =>
    callOperatorUrl(out.OperatorFunctionUrl, body, {
      region: await lambda.config.region(),
      credentials: lambda.config.credentials,
      sha256: lambda.config.sha256,
    });

  async function scanAgents(): Promise<OpsAgentStatus[]> {
    const rows: OpsAgentStatus[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: out.AgentStateTableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) rows.push(agentRow(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }

  return {
    describe: () => `AWS stack ${opts.stackName}${opts.region ? ` (${opts.region})` : ''}`,
    async status(): Promise<OpsStatus> {
      const [control, agents, schedules, running, pausedGroups, working] = await Promise.all([
        readControlItem(doc, out.ControlTableName, true),
        scanAgents(),
        ports.listSchedules(),
        ports.listRunningExecutions(),
        listPausedGroups(doc, out.ControlTableName),
        listWorkingOrders(doc, out.LedgerTableName),
      ]);
      return {
        halted: control.halted,
        mode: control.mode,
        ...stageFields(control, working),
        reason: control.reason,
        actor: control.actor,
        at: control.at,
        agents,
        schedules,
        runningExecutions: running.map(({ name, startDate }) => ({ name, ...(startDate ? { startDate } : {}) })),
        audit: control.audit,
        pausedGroups,
      };
    },
    // A halt is never refused: when the operator URL cannot be reached (IAM, network), fall back to invoking the Master.
    halt: async (reason, actor) => callOperator(operatorRequests.halt(reason)).catch(() => invokeMaster(operatorPayloads.halt(reason, actor))),
    resume: (reason, _actor, to) => callOperator(operatorRequests.resume(reason, to)),
    safeMode: (on, reason) => callOperator(operatorRequests.safeMode(on, reason)),
    // Order-book actions exist only on the operator function (never the alarm-invoked Master): no fallback.
    cancelAll: (reason) => callOperator(operatorRequests.cancelAll(reason)),
    flatten: (reason) => callOperator(operatorRequests.flatten(reason)),
    pauseGroup: (group, paused, reason, actor) => setGroupPaused(doc, out.ControlTableName, { group, paused, reason, actor, nowIso: new Date().toISOString() }),
    disableAgent: (agent, disabled, reason, actor) =>
      setAgentDisabled(new AgentStateStore(doc, { agentState: out.AgentStateTableName, control: out.ControlTableName }), {
        agent,
        disabled,
        reason,
        actor,
        nowIso: new Date().toISOString(),
      }),
    async runNow(actor: string, group?: string): Promise<RunNowResult> {
      const name = manualExecutionName(Date.now());
      const started = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: out.StateMachineArn,
          name,
          input: JSON.stringify({ source: 'operator', requestedBy: actor, ...(group ? { group } : {}) }),
        }),
      );
      // Wait for the cycle, as the local target does, and say how it ended.
      const ended = await waitForExecution({
        describe: () => sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn })),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        pollMs: opts.runNowPollMs,
        timeoutMs: opts.runNowTimeoutMs,
      });
      const lines = [
        `execution ${started.executionArn}`,
        ...(ended.durationMs !== undefined ? [`duration ${(ended.durationMs / 1000).toFixed(1)} s`] : []),
        ...(ended.output !== undefined ? [`output ${JSON.stringify(ended.output).slice(0, 2_000)}`] : []),
      ];
      return { executionName: name, status: ended.status, ...(ended.reason ? { reason: ended.reason } : {}), summary: lines.join('\n'), cycle: ended };
    },
    async close(): Promise<void> {
      for (const c of [cfn, lambda, sfn, dynamo, scheduler, sns, eventBridge]) c.destroy();
    },
  };
}
