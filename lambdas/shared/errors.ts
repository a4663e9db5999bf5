/**
 * The project's error classes. One base class, {@link OrchestratorError}: every subclass's `name`
 * equals its class name (Step Functions Retry / Catch match `name` as the error type, so these
 * names are part of the state machine's contract) and `cause` is passed through.
 *
 * {@link DETERMINISTIC_AGENT_ERRORS} lists the errors that a retry cannot fix; the state machine's
 * agent tasks never retry them (see `statemachines/cycle.asl.json`, requirement R-RETRY in
 * `docs/requirements.md`).
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

/** Error names the agent tasks never retry (deterministic failures and the halt). */
export const DETERMINISTIC_AGENT_ERRORS = ['AgentInputInvalid', 'AgentOutputInvalid', 'AgentResultTooLarge', 'SystemHalted'] as const;
