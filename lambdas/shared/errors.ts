/**
 * The project's error classes. One base class, {@link OrchestratorError}: every subclass's `name`
 * equals its class name (Step Functions Retry / Catch match `name` as the error type, so these
 * names are part of the state machine's contract) and `cause` is passed through.
 *
 * The `DETERMINISTIC_*_ERRORS` lists name the errors that a retry cannot fix, per task; the state
 * machine's renderer (`lib/state-machine/definition.ts`) puts each list in its task's no-retry
 * retrier (requirement R-RETRY in `docs/requirements.md`).
 */

/**
 * Base class: `cause` is kept (ES2022 error cause). Subclasses spell their `name` out as a literal
 * (never `new.target.name`: the bundles are minified, which renames classes).
 */
export class OrchestratorError extends Error {
  override name: string = 'OrchestratorError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A BatchGetItem left keys unprocessed after every round (sustained throttling): the read did not happen; a retry may succeed. */
export class BatchGetIncomplete extends OrchestratorError {
  override name = 'BatchGetIncomplete' as const;
}

/** The agent's input failed `agentInputSchema`. Deterministic: never retried. */
export class AgentInputInvalid extends OrchestratorError {
  override name = 'AgentInputInvalid' as const;
}

/** The agent's `run()` returned something that fails the result contract. Deterministic: never retried. */
export class AgentOutputInvalid extends OrchestratorError {
  override name = 'AgentOutputInvalid' as const;
}

/** The agent's result is over a hard size limit (named in the message). Deterministic: never retried. */
export class AgentResultTooLarge extends OrchestratorError {
  override name = 'AgentResultTooLarge' as const;
}

/** The agent ran past its deadline. Never retried: the timeout is the agent's time budget. */
export class AgentTimeout extends OrchestratorError {
  override name = 'AgentTimeout' as const;
}

/** The system is halted (kill switch engaged). Never retried, and never counted against the agent's health. */
export class SystemHalted extends OrchestratorError {
  override name = 'SystemHalted' as const;
}

/** The order gateway could not commit an order after its bounded conflict retries (hot account item). */
export class OrderGatewayContention extends OrchestratorError {
  override name = 'OrderGatewayContention' as const;
}

/** A supervisor task's payload is not a valid plan, verify-risk or record request (a definition error). Deterministic: never retried. */
export class InvalidSupervisorPayload extends OrchestratorError {
  override name = 'InvalidSupervisorPayload' as const;
}

/** "Plan cycle": the trigger names no group and the fleet has several, so the cycle would not know whose bars to replay. Deterministic: never retried. */
export class GroupRequired extends OrchestratorError {
  override name = 'GroupRequired' as const;
}

/** "Plan cycle": the plan is over what one execution's state can carry (Step Functions payload quota 256 KiB). Deterministic: never retried. */
export class PlanTooLarge extends OrchestratorError {
  override name = 'PlanTooLarge' as const;
}

/** "Record outcomes" found no stored plan for its cycle. Deterministic: never retried. */
export class PlanNotFound extends OrchestratorError {
  override name = 'PlanNotFound' as const;
}

/** The order gateway's payload is malformed (a definition error). Deterministic: never retried. */
export class GatewayInputInvalid extends OrchestratorError {
  override name = 'GatewayInputInvalid' as const;
}

/** Error names the agent tasks never retry (deterministic failures and the halt). */
export const DETERMINISTIC_AGENT_ERRORS = ['AgentInputInvalid', 'AgentOutputInvalid', 'AgentResultTooLarge', 'SystemHalted'] as const satisfies ReadonlyArray<
  (AgentInputInvalid | AgentOutputInvalid | AgentResultTooLarge | SystemHalted)['name']
>;

/** Error names "Plan cycle" never retries. */
export const DETERMINISTIC_PLAN_ERRORS = ['InvalidSupervisorPayload', 'GroupRequired', 'PlanTooLarge'] as const satisfies ReadonlyArray<
  (InvalidSupervisorPayload | GroupRequired | PlanTooLarge)['name']
>;

/** Error names "Verify risk verdict" never retries. */
export const DETERMINISTIC_VERIFY_ERRORS = ['InvalidSupervisorPayload'] as const satisfies ReadonlyArray<InvalidSupervisorPayload['name']>;

/** Error names "Record outcomes" never retries. */
export const DETERMINISTIC_RECORD_ERRORS = ['InvalidSupervisorPayload', 'PlanNotFound'] as const satisfies ReadonlyArray<
  (InvalidSupervisorPayload | PlanNotFound)['name']
>;

/** Error names the order gateway's "Execute <domain> agent orders" never retries (the agent's result is invalid or over its limits, or the payload is malformed). */
export const DETERMINISTIC_GATEWAY_ERRORS = ['AgentOutputInvalid', 'AgentResultTooLarge', 'GatewayInputInvalid'] as const satisfies ReadonlyArray<
  (AgentOutputInvalid | AgentResultTooLarge | GatewayInputInvalid)['name']
>;
