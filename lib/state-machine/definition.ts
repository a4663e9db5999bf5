/**
 * Renders the cycle state machine's Amazon States Language (JSONPath) definition from its typed
 * description (`description.ts`): "Plan cycle" -> "Assess risk" -> "Run phases" (a Map of phases,
 * each a Parallel of one Map per fault domain) -> "Record outcomes".
 *
 * Numbers (timeouts, retry policies) are rendered as JSON numbers. The Lambda ARNs are left as
 * `${SupervisorFunctionArn}`-style placeholders, strings that CloudFormation's
 * `DefinitionSubstitutions` fills at deploy time and the local runtime fills with local ARNs through
 * {@link substituteArns}. Both the CDK construct and the local runtime render through this module,
 * so AWS and the local runtime run the same definition.
 *
 * `statemachines/cycle.asl.json` is this rendering for the schema's defaults, written by
 * `npm run render:asl` (`bin/render-asl.ts`) and checked equal by `test/state-machine/definition.test.ts`,
 * so the file in the repository is a valid ASL document that reads as deployed.
 */
import { join } from 'node:path';
import {
  DETERMINISTIC_AGENT_ERRORS,
  DETERMINISTIC_GATEWAY_ERRORS,
  DETERMINISTIC_PLAN_ERRORS,
  DETERMINISTIC_RECORD_ERRORS,
  DETERMINISTIC_VERIFY_ERRORS,
} from '../../lambdas/shared/errors';
import type { OrchestratorConfig } from '../config/schema';
import { CYCLE_STATES as S, describeCycle, type CycleDescription, type FaultDomainBranch, type RetryPolicy } from './description';

/** Absolute path of the rendered definition for the schema's defaults (see {@link DEFAULT_RENDER_CONFIG}). */
export const CYCLE_DEFINITION_FILE = join(__dirname, '..', '..', 'statemachines', 'cycle.asl.json');

/**
 * The config `statemachines/cycle.asl.json` is rendered for: the schema's defaults (15-minute cadence,
 * risk 3 retries from 2 s at rate 2, data 10 / strategy 5 / critical 0 retries from 1 s at rate 2).
 * The agents do not enter the definition; one is needed only to make the config valid.
 */
export const DEFAULT_RENDER_CONFIG = { agents: [{ name: 'agent' }] } as const;

/** ARN placeholders the deployed definition leaves for `DefinitionSubstitutions`. */
export const ARN_PLACEHOLDERS = ['SupervisorFunctionArn', 'RiskFunctionArn', 'MasterFunctionArn', 'GatewayFunctionArn'] as const;
/** One of {@link ARN_PLACEHOLDERS}. */
export type ArnPlaceholder = (typeof ARN_PLACEHOLDERS)[number];

/** An ASL document as parsed JSON. */
export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>>; Comment?: string; TimeoutSeconds?: number };

type State = Record<string, unknown>;

/** `${Name}` text that `DefinitionSubstitutions` replaces. */
const arn = (name: ArnPlaceholder): string => `\${${name}}`;

/**
 * Errors of the Lambda service itself (throttling, service faults), retried in every Lambda task
 * because they are the platform's transient faults, not the function's (AWS Step Functions
 * best practice "Handle Lambda service exceptions").
 */
const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

/** A retrier that never retries `errors` (deterministic errors: a retry would fail the same way). */
const never = (...errors: string[]): State => ({ ErrorEquals: errors, MaxAttempts: 0 });
/** Lambda service errors: 3 retries from 1 s at rate 2 with full jitter. */
const lambdaServiceRetry: State = { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' };
/** Any other error of a supervisor task: 3 retries from 1 s at rate 2 with full jitter (a retry is idempotent: the claim and the cycle number are kept). */
const supervisorRetry: State = { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' };
/** Any other error of an order gateway task: 2 retries from 1 s at rate 2 with full jitter (each fill is keyed by its idempotency key). */
const gatewayRetry: State = { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2, JitterStrategy: 'FULL' };
/** The Master's in-band halt: 3 retries from 1 s at rate 2 (a halt is idempotent). */
const masterRetry: State = { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 };
/** A configured retry policy for every error left. */
const policyRetry = (p: RetryPolicy): State => ({
  ErrorEquals: ['States.ALL'],
  IntervalSeconds: p.intervalSeconds,
  MaxAttempts: p.maxRetries,
  BackoffRate: p.backoffRate,
});
/** Catch every error, keep the input, put the error at `resultPath` (omitted: the error replaces the state) and go to `next`. */
const catchAll = (next: string, resultPath?: string): State[] => [
  { ErrorEquals: ['States.ALL'], ...(resultPath ? { ResultPath: resultPath } : {}), Next: next },
];
/** A `lambda:invoke` task's fixed head. */
const invoke = (comment: string | undefined, functionName: Record<string, string>, payload: Record<string, unknown>): State => ({
  Type: 'Task',
  ...(comment ? { Comment: comment } : {}),
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { ...functionName, Payload: payload },
});
/** A Choice rule that is true when `variable` is present and satisfies `test`. */
const presentAnd = (variable: string, test: Record<string, unknown>, next: string): State => ({
  And: [
    { Variable: variable, IsPresent: true },
    { Variable: variable, ...test },
  ],
  Next: next,
});

/** The payload fields every agent-side task passes on from the phase's item selector. */
const cycleFields = { 'cycleId.$': '$.cycleId', 'cycleSeq.$': '$.cycleSeq' };

/** One fault domain's branch of "Run agents": its Map over the phase's agents of the domain. */
function faultDomainBranch(branch: FaultDomainBranch): State {
  const { domain, retry, states: n } = branch;
  return {
    StartAt: n.fanOut,
    States: {
      [n.fanOut]: {
        Type: 'Map',
        Comment: `Fan-out over this phase's ${domain}-domain agents, at most its share of maxWorkers at once.`,
        ItemsPath: `$.phase.${domain}`,
        MaxConcurrencyPath: `$.phase.concurrency.${domain}`,
        ItemSelector: {
          'item.$': '$$.Map.Item.Value',
          ...cycleFields,
          'mode.$': '$.mode',
          'riskVerdict.$': '$.riskVerdict',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: n.runAgent,
          States: {
            [n.runAgent]: {
              ...invoke(
                `Invoke the agent's Lambda with its per-agent timeout and the ${domain} fault domain's retry policy. Never retried: a timeout (the agent's time budget), deterministic errors (invalid input or result, a result over its limits) and the halt.`,
                { 'FunctionName.$': '$.item.functionArn' },
                {
                  ...cycleFields,
                  'agent.$': '$.item.agent',
                  'mode.$': '$.mode',
                  'riskVerdict.$': '$.riskVerdict',
                  'params.$': '$.item.params',
                  'dependsOn.$': '$.item.dependsOn',
                  'timeoutSeconds.$': '$.item.timeoutSeconds',
                  'probe.$': '$.item.probe',
                  'attempt.$': '$$.State.RetryCount',
                },
              ),
              TimeoutSecondsPath: '$.item.timeoutSeconds',
              ResultSelector: { 'result.$': '$.Payload' },
              Retry: [
                // The timeout is the agent's time budget (R-AGENT-TIMEOUT); the rest a retry cannot fix (R-RETRY).
                never('States.Timeout', 'AgentTimeout', ...DETERMINISTIC_AGENT_ERRORS),
                lambdaServiceRetry,
                policyRetry(retry),
              ],
              Catch: catchAll(n.recordFailure),
              ResultPath: '$.run',
              Next: n.executeOrders,
            },
            [n.executeOrders]: {
              ...invoke(
                "Order gateway: validate the result, store its output for dependants, and decide each proposed order (one transaction per fill, every pre-trade check) under the work item's agent name, never the agent's own. Returns the result without its orders and output.",
                { FunctionName: arn('GatewayFunctionArn') },
                {
                  action: 'execute',
                  ...cycleFields,
                  'mode.$': '$.mode',
                  'riskVerdict.$': '$.riskVerdict',
                  'agent.$': '$.item.agent',
                  'result.$': '$.run.result',
                },
              ),
              ResultSelector: { ok: true, 'result.$': '$.Payload' },
              Retry: [never(...DETERMINISTIC_GATEWAY_ERRORS), lambdaServiceRetry, gatewayRetry],
              Catch: catchAll(n.recordFailure),
              End: true,
            },
            [n.recordFailure]: {
              Type: 'Pass',
              Comment: 'Turn the caught error (of the agent, or of the gateway on its result) into a FAILED outcome, so one agent never sinks the cycle.',
              Parameters: { ok: false, 'error.$': '$.Error', 'cause.$': '$.Cause' },
              End: true,
            },
          },
        },
        End: true,
      },
    },
  };
}

/**
 * Renders a cycle description to ASL.
 * @returns the definition as an object; the ARN placeholders are still in place.
 */
export function renderCycle(d: CycleDescription): AslDefinition {
  const states: Record<string, State> = {
    [S.planCycle]: {
      ...invoke(
        "Supervisor: claim the slot (group + scheduled time) with one conditional write, refuse a duplicate, late or overlapping slot, number the cycle per group, read the halt flag and every agent's breaker in one consistent batch, then plan the phases. Transient errors are retried (a retry keeps the claim and the number); deterministic ones are not.",
        { FunctionName: arn('SupervisorFunctionArn') },
        { action: 'plan', 'executionName.$': '$$.Execution.Name', 'executionStartTime.$': '$$.Execution.StartTime', 'trigger.$': '$$.Execution.Input' },
      ),
      ResultSelector: { 'plan.$': '$.Payload' },
      Retry: [never(...DETERMINISTIC_PLAN_ERRORS), supervisorRetry],
      Next: S.checkHaltFlag,
      Catch: catchAll(S.cycleNotPlanned, '$.planError'),
    },
    [S.cycleNotPlanned]: {
      Type: 'Fail',
      Comment: `"${S.planCycle}" failed after its retries (or deterministically): no agent ran. The execution fails, so the CycleFailed alarm sees it.`,
      Error: 'PlanFailed',
      CausePath: '$.planError.Cause',
    },
    [S.checkHaltFlag]: {
      Type: 'Choice',
      Comment:
        "While the kill switch is engaged no cycle runs, not even one started by hand. A duplicate, late or overlapping slot ends here too; under BUFFER_ONE the slot waits for the group's running cycle.",
      Choices: [
        { Variable: '$.plan.halted', BooleanEquals: true, Next: S.skipHalted },
        { Variable: '$.plan.skip', IsPresent: true, Next: S.skipSlot },
        { Variable: '$.plan.waitSeconds', IsPresent: true, Next: S.waitForRunningCycle },
      ],
      Default: S.assessRisk,
    },
    [S.skipHalted]: {
      Type: 'Succeed',
      Comment: "The system is halted; the plan's haltReason says why. Only an operator's resume clears the flag.",
    },
    [S.skipSlot]: {
      Type: 'Succeed',
      Comment:
        "The slot runs no cycle: the plan's skip says why (duplicate: another execution holds the slot; overlap: the group still runs a cycle; late: delivered past cycle.maxLatenessSeconds).",
    },
    [S.waitForRunningCycle]: {
      Type: 'Wait',
      Comment: "BUFFER_ONE: this slot is the one waiting for the group's running cycle; plan again (same claim) after the wait.",
      SecondsPath: '$.plan.waitSeconds',
      Next: S.planCycle,
    },
    [S.assessRisk]: {
      ...invoke(
        `Pre-trade risk check. Retried with backoff (${d.risk.maxRetries} retries from ${d.risk.intervalSeconds} s at rate ${d.risk.backoffRate}: risk.maxRetries, risk.intervalSeconds, risk.backoffRate); any error or timeout is a HALT (fails closed).`,
        { FunctionName: arn('RiskFunctionArn') },
        { 'cycleId.$': '$.plan.cycleId', 'cycleSeq.$': '$.plan.cycleSeq', 'mode.$': '$.plan.mode' },
      ),
      TimeoutSecondsPath: '$.plan.riskTimeoutSeconds',
      ResultSelector: { 'assessment.$': '$.Payload' },
      ResultPath: '$.risk',
      Retry: [policyRetry(d.risk)],
      Catch: catchAll(S.failClosed, '$.riskError'),
      Next: S.verifyRiskVerdict,
    },
    [S.verifyRiskVerdict]: {
      ...invoke(
        "Supervisor: a verdict must prove itself. OK or REDUCE counts only as a valid RiskAssessment with this cycle's id, an asOf neither after the plan nor older than the group's previous verdict, and no check in BREACH; anything else becomes HALT with the reason. Any error fails closed.",
        { FunctionName: arn('SupervisorFunctionArn') },
        {
          action: 'verify-risk',
          'cycleId.$': '$.plan.cycleId',
          'cycleSeq.$': '$.plan.cycleSeq',
          'group.$': '$.plan.group',
          'plannedAt.$': '$.plan.plannedAt',
          'assessment.$': '$.risk.assessment',
        },
      ),
      ResultSelector: { 'assessment.$': '$.Payload' },
      ResultPath: '$.risk',
      Retry: [never(...DETERMINISTIC_VERIFY_ERRORS), supervisorRetry],
      Catch: catchAll(S.failClosed, '$.riskError'),
      Next: S.checkRiskVerdict,
    },
    [S.failClosed]: {
      Type: 'Pass',
      Comment: 'The risk check could not complete: treat it as a HALT verdict.',
      Parameters: {
        assessment: { verdict: 'HALT', reasons: ['Risk check failed after its retries; failing closed'] },
        'error.$': '$.riskError.Error',
        'cause.$': '$.riskError.Cause',
      },
      ResultPath: '$.risk',
      Next: S.haltOnRisk,
    },
    [S.checkRiskVerdict]: {
      Type: 'Choice',
      Comment: 'OK runs the agents; REDUCE runs them in safe mode; HALT or anything else engages the kill switch.',
      Choices: [
        presentAnd('$.risk.assessment.verdict', { StringEquals: 'OK' }, S.matchWorkingOrders),
        presentAnd('$.risk.assessment.verdict', { StringEquals: 'REDUCE' }, S.enterSafeMode),
      ],
      Default: S.haltOnRisk,
    },
    [S.enterSafeMode]: {
      Type: 'Pass',
      Comment: 'Risk said REDUCE: agents may only reduce exposure this cycle.',
      Result: 'safe',
      ResultPath: '$.plan.mode',
      Next: S.matchWorkingOrders,
    },
    [S.haltOnRisk]: {
      ...invoke(
        'In-band halt: the Master sets the halt flag, disables the schedules, stops other executions and verifies.',
        { FunctionName: arn('MasterFunctionArn') },
        {
          action: 'halt',
          source: 'cycle',
          'cycleId.$': '$.plan.cycleId',
          'executionArn.$': '$$.Execution.Id',
          reason: 'Risk verdict HALT',
          'details.$': '$.risk.assessment',
        },
      ),
      ResultSelector: { 'result.$': '$.Payload' },
      ResultPath: '$.halt',
      Retry: [masterRetry],
      Catch: catchAll(S.haltedByRiskUnconfirmed, '$.haltError'),
      Next: S.stoppedByRisk,
    },
    [S.haltedByRiskUnconfirmed]: {
      Type: 'Fail',
      Comment:
        'No agent ran, and the in-band halt could not be confirmed (the Master failed after its retries): the execution fails, so the CycleFailed alarm halts the system out of band.',
      Error: 'RiskHalt',
      Cause: `${S.assessRisk} returned HALT or could not complete (fail closed) and the Master could not be reached; the CycleFailed alarm engages the kill switch.`,
    },
    [S.stoppedByRisk]: {
      Type: 'Succeed',
      Comment:
        "Risk said HALT (or failed closed) and the Master engaged the kill switch: no agent ran and the audit trail records the halt. The execution ends without failing, so an operator's resume is not undone by the CycleFailed alarm of the incident it resolves.",
    },
    [S.matchWorkingOrders]: {
      ...invoke(
        "Order gateway: every working (resting limit) order meets this cycle's bar: it fills at its limit when the close crosses it, a DAY order past its session expires, and in safe mode one that would add risk is cancelled. Each move is one transaction, so a fill and a cancel never both win. Only counts leave this state.",
        { FunctionName: arn('GatewayFunctionArn') },
        { action: 'match', 'cycleId.$': '$.plan.cycleId', 'cycleSeq.$': '$.plan.cycleSeq', 'mode.$': '$.plan.mode' },
      ),
      ResultSelector: {
        'filled.$': '$.Payload.filled',
        'expired.$': '$.Payload.expired',
        'cancelled.$': '$.Payload.cancelled',
        'working.$': '$.Payload.working',
      },
      ResultPath: '$.working',
      Retry: [lambdaServiceRetry, gatewayRetry],
      Catch: catchAll(S.runPhases, '$.workingError'),
      Next: S.runPhases,
    },
    [S.runPhases]: {
      Type: 'Map',
      Comment:
        "Phases are topological levels of the agents' dependencies; they run one after another. The results replace the work items in the state (the supervisor stored the plan), so the state never carries both.",
      ItemsPath: '$.plan.phases',
      MaxConcurrency: 1,
      ItemSelector: {
        'phase.$': '$$.Map.Item.Value',
        'cycleId.$': '$.plan.cycleId',
        'cycleSeq.$': '$.plan.cycleSeq',
        'mode.$': '$.plan.mode',
        'riskVerdict.$': '$.risk.assessment.verdict',
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: S.runAgents,
        States: {
          [S.runAgents]: {
            Type: 'Parallel',
            Comment: 'One fan-out per fault domain, so each carries its own retry policy and the clean path costs one state per agent.',
            Branches: d.faultDomains.map(faultDomainBranch),
            End: true,
          },
        },
      },
      ResultPath: '$.plan.phases',
      Next: S.recordOutcomes,
    },
    [S.recordOutcomes]: {
      ...invoke(
        "Supervisor: validate every result, update health and breakers with conditional writes, write the cycle report (the outcomes live there), decide escalation. Only the decision leaves this state, so the rest of the cycle does not carry the fleet's plan and results.",
        { FunctionName: arn('SupervisorFunctionArn') },
        { action: 'record', 'cycleId.$': '$.plan.cycleId', 'mode.$': '$.plan.mode', 'risk.$': '$.risk', 'phaseResults.$': '$.plan.phases' },
      ),
      ResultSelector: { 'cycleId.$': '$.Payload.cycleId', 'escalate.$': '$.Payload.escalate', 'escalationReason.$': '$.Payload.escalationReason' },
      ResultPath: '$.record',
      Retry: [never(...DETERMINISTIC_RECORD_ERRORS), supervisorRetry],
      Catch: catchAll(S.recordFailed, '$.recordError'),
      Next: S.checkEscalation,
      OutputPath: '$.record',
    },
    [S.recordFailed]: {
      Type: 'Pass',
      Comment:
        'The outcomes could not be recorded after the retries (a critical failure or a breaker trip may be unrecorded): an in-band halt with the cause, never a lost one.',
      Parameters: {
        'cycleId.$': '$.plan.cycleId',
        escalate: true,
        'escalationReason.$': `States.Format('${S.recordOutcomes} failed after its retries: {}: {}', $.recordError.Error, $.recordError.Cause)`,
      },
      Next: S.haltOnEscalation,
    },
    [S.checkEscalation]: {
      Type: 'Choice',
      Comment: 'A critical agent failed or too many breakers are open: escalate to the Master.',
      Choices: [presentAnd('$.escalate', { BooleanEquals: true }, S.haltOnEscalation)],
      Default: S.cycleComplete,
    },
    [S.haltOnEscalation]: {
      ...invoke(
        'In-band escalation from the supervisor to the Master.',
        { FunctionName: arn('MasterFunctionArn') },
        { action: 'halt', source: 'supervisor', 'cycleId.$': '$.cycleId', 'executionArn.$': '$$.Execution.Id', 'reason.$': '$.escalationReason' },
      ),
      ResultSelector: { 'result.$': '$.Payload' },
      ResultPath: '$.halt',
      Retry: [masterRetry],
      Catch: catchAll(S.haltedBySupervisorUnconfirmed, '$.haltError'),
      Next: S.stoppedBySupervisor,
    },
    [S.haltedBySupervisorUnconfirmed]: {
      Type: 'Fail',
      Error: 'SupervisorEscalation',
      Cause:
        'The supervisor escalated (a critical agent failed, too many circuit breakers are open, or the outcomes could not be recorded) and the Master could not be reached; the CycleFailed alarm engages the kill switch.',
    },
    [S.stoppedBySupervisor]: {
      Type: 'Succeed',
      Comment:
        "The supervisor escalated and the Master engaged the kill switch (its audit trail records the reason). The execution ends without failing, so an operator's resume is not undone by the CycleFailed alarm of the incident it resolves.",
    },
    [S.cycleComplete]: { Type: 'Succeed' },
  };
  return {
    Comment:
      "One orchestration cycle of the agent fleet: plan (halt flag, circuit breakers, phases), assess risk (fails closed), run the agents phase by phase with a fan-out per fault domain, each agent's proposed orders executed by the order gateway under the work item's name, record outcomes (health, breakers, escalation).",
    StartAt: S.planCycle,
    TimeoutSeconds: d.timeoutSeconds,
    States: states,
  };
}

/**
 * The cycle definition for a validated config: {@link renderCycle} of `describeCycle(config)`.
 * @returns the definition as an object, ARN placeholders still in place (see {@link substituteArns}).
 */
export function renderCycleDefinition(config: OrchestratorConfig): AslDefinition {
  return renderCycle(describeCycle(config));
}

/** The text of `statemachines/cycle.asl.json` for a rendered definition: 2-space JSON and a final newline. */
export function formatDefinitionFile(definition: AslDefinition): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}

/**
 * Replaces the ARN placeholders with concrete ARNs (what CloudFormation does at deploy time).
 * @throws {Error} when an ARN placeholder has no value.
 */
export function substituteArns(definition: AslDefinition, arns: Record<ArnPlaceholder, string>): AslDefinition {
  const text = JSON.stringify(definition).replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name: string) => {
    const value = arns[name as ArnPlaceholder];
    if (!value) throw new Error(`No value for placeholder \${${name}}`);
    return value;
  });
  return JSON.parse(text) as AslDefinition;
}
