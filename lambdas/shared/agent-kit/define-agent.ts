/**
 * `defineAgent`: the agent contract as a helper. An agent is a name and a `run(ctx)`
 * function; the helper does everything the contract requires around it:
 *
 * 1. validates the input with `agentInputSchema` (invalid => throws `AgentInputInvalid`);
 * 2. reads this cycle's outputs of `input.dependsOn` from the Cycles table
 *    (pk cycleId, sk `OUTPUT#<dep>`); any missing => returns SKIPPED without running;
 * 3. builds the context: params, mode, risk verdict, deps, logger (cycleId + agent keys),
 *    metrics, this cycle's market-data feed, read-only views of the account and of the agent's
 *    own book, `placeOrder()` (which *proposes*: see below), `assertNotHalted()`;
 * 4. runs `run` racing the deadline (Lambda remaining time, else `timeoutSeconds`) =>
 *    throws `AgentTimeout`;
 * 5. validates what `run` returned (and `outputSchema`) => throws `AgentOutputInvalid`, and
 *    the hard size limits ({@link AGENT_RESULT_LIMITS}) => throws `AgentResultTooLarge`;
 * 6. returns the `AgentResult` with the proposed orders and the output.
 *
 * Agents propose, the orchestrator disposes: an agent writes nothing. Its orders and its output
 * travel in its result to the state machine's "Execute ... orders" step, where the order gateway
 * (`lambdas/gateway/handler.ts`) decides each order under the name of the work item's agent and
 * stores the output for dependants. An agent's role has no DynamoDB write action at all.
 *
 * Thrown errors carry a `name` that Step Functions Retry/Catch match. See `docs/agents.md`.
 *
 * Ports: {@link createAgentHandler} builds the handler from {@link AgentPorts} (read-only DynamoDB
 * client, table names, settings, market data); `defineAgent`'s handler builds them from the
 * environment at its first invocation (the Lambda entry), and carries the definition so the local
 * runtime and tests build the same agent on their own ports (`handler.definition`, `handler.withPorts`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import {
  AGENT_RESULT_LIMITS,
  agentInputSchema,
  CLIENT_ORDER_ID,
  type AgentInput,
  type AgentParams,
  type AgentResult,
  type Mode,
  type ProposedOrder,
  type RiskVerdict,
} from '../contracts';
import { readControlItem } from '../control-read';
import { METRICS_NAMESPACE } from '../env';
import { AgentInputInvalid, AgentOutputInvalid, AgentResultTooLarge, AgentTimeout, SystemHalted } from '../errors';
import { SERVICE_NAME } from '../metrics-catalog';
import type { TradingSettings } from '../settings';
import { readAccount, readBook } from '../trading/ledger';
import type { MarketDataProvider } from '../trading/market-data';
import type { Portfolio, Position } from '../trading/portfolio';
import type { OrderProposal } from '../trading/pre-trade-checks';
import { tradingPortsFromEnv, type TradingPorts } from '../trading/runtime';
import { cycleAnnotations, traced } from '../tracing';

/** What `ctx.placeOrder` returns: the proposal as it will reach the order gateway. */
export interface ProposalReceipt {
  /** The id under which the gateway will decide the order (idempotent per cycle and agent). */
  readonly clientOrderId: string;
  /** Always `PROPOSED`: the gateway decides after `run` returns (see the cycle report for fills and rejections). */
  readonly status: 'PROPOSED';
}

/** The agent's own book: what its own fills did (read-only). */
export interface AgentBookView {
  /** Symbol -> the agent's own position. Long-only agents may sell at most these quantities (less shares reserved by working SELLs). */
  readonly positions: Readonly<Record<string, Position>>;
  /** Symbol -> signed shares of the agent's working orders (BUY +, SELL -): size new orders net of them. */
  readonly workingQty: Readonly<Record<string, number>>;
  /** Net cash the agent's fills moved, USD (sells add, buys subtract). */
  readonly cashFlowUsd: number;
}

/**
 * What `run` receives. `TParams` is the type of the agent's params: the output of its declared
 * `params` schema, or the free-form {@link AgentParams} when it declares none.
 */
export interface AgentContext<TParams = AgentParams> {
  readonly input: AgentInput;
  /** `agents[].params` of the config (as tuned by the supervisor), parsed by the agent's `params` schema when it declares one (defaults applied). */
  readonly params: TParams;
  readonly mode: Mode;
  readonly riskVerdict: RiskVerdict;
  readonly cycleId: string;
  readonly cycleSeq: number;
  /** This agent's name (from the input). */
  readonly agent: string;
  /** Outputs of `input.dependsOn` this cycle, by agent name. */
  readonly deps: Readonly<Record<string, unknown>>;
  /** Powertools logger with `cycleId` and `agent` keys appended. */
  readonly logger: Logger;
  /** Powertools metrics (namespace AgentFleet, service agent-fleet); published when run ends. */
  readonly metrics: Metrics;
  /** Market data for this cycle's bar (created on first access; no bar after it is visible). */
  readonly feed: MarketDataProvider;
  /** `TRADING_SETTINGS` (limits, universe, starting cash). */
  readonly settings: TradingSettings;
  /** The fleet's account: cash (USD) and positions, strongly consistent, read-only. */
  portfolio(): Promise<Portfolio>;
  /** This agent's own book inside the account, strongly consistent, read-only. */
  book(): Promise<AgentBookView>;
  /** Consistent read of the halt flag. @throws {SystemHalted} when the kill switch is engaged. */
  assertNotHalted(): Promise<void>;
  /**
   * Proposes an order. Nothing is written: the proposals go out in the result, and the order gateway
   * decides each one after `run` returns, under this agent's name, through every pre-trade check.
   * Orders are numbered `1`, `2`, ... in call order unless `clientOrderId` is given.
   * @throws {AgentOutputInvalid} when the order is malformed (symbol, side, qty a positive integer, limit price).
   * @throws {AgentTimeout} when the run's deadline has passed.
   * @throws {AgentResultTooLarge} beyond {@link AGENT_RESULT_LIMITS}.orders proposals.
   */
  placeOrder(order: OrderProposal): Promise<ProposalReceipt>;
  /** The proposals so far, in order. */
  readonly proposals: readonly ProposedOrder[];
  /** Time budget of `run`, ms (from the Lambda context or `timeoutSeconds`). */
  readonly deadlineMs: number;
}

/** What `run` returns. `summary` says what the agent did; `metrics` are numbers with units in their names. */
export interface AgentRunOutput<TOut> {
  summary: string;
  metrics?: Record<string, number>;
  output?: TOut;
}

/** An agent's definition. */
export interface AgentDefinition<TOut, TParams = AgentParams> {
  /** Agent name (used in logs; the gateway files everything under the work item's agent). */
  readonly name: string;
  readonly run: (ctx: AgentContext<TParams>) => Promise<AgentRunOutput<TOut>>;
  /** Optional schema of `output`; a mismatch throws `AgentOutputInvalid`. */
  readonly outputSchema?: z.ZodType<TOut>;
  /**
   * Optional schema of the agent's `params` (`agents[].params` in the config), e.g.
   * `z.strictObject({ positionUsd: z.number().positive().default(20_000) })`. Declaring one makes a
   * typo an error with its path instead of a silently used default: `cdk synth` and `npm start`
   * refuse a config whose params fail it (`agents[2].params.positionUsd: ...`, see
   * `lib/config/checks.ts`), and an invocation whose params fail it throws `AgentInputInvalid`
   * (a deterministic FAILED outcome, never retried). Use `z.strictObject` so unknown keys are refused.
   * @default none: params are passed as given ({@link AgentParams}), read with {@link numberParam}.
   */
  readonly params?: z.ZodType<TParams>;
}

/** An agent's Lambda handler: an {@link AgentInput} (unvalidated) in, an {@link AgentResult} out. */
export type AgentLambdaHandler = (event: unknown, lambdaContext?: LambdaContextLike) => Promise<AgentResult>;

/**
 * What an agent handler needs from the outside world: the trading ports it reads (an agent writes
 * nothing; its role has no DynamoDB write action), and its logger and metrics.
 */
export interface AgentPorts extends Pick<TradingPorts, 'doc' | 'tables' | 'settings' | 'feedFor'> {
  /** @default a Powertools Logger (service agent-fleet), created when the handler is built */
  readonly logger?: Logger;
  /** @default Powertools Metrics (namespace AgentFleet), created when the handler is built */
  readonly metrics?: Metrics;
}

/**
 * The Lambda handler {@link defineAgent} returns: `(event, lambdaContext?) => Promise<AgentResult>`,
 * carrying the agent's declared `params` schema (synth checks the config's params against it), its
 * definition and a way to build it on other ports.
 */
export type AgentHandler = AgentLambdaHandler & {
  /** The agent's `params` schema, when it declares one. */
  readonly paramsSchema?: z.ZodType;
  /** The definition it was made from. */
  readonly definition: AgentDefinition<unknown, never>;
  /** The same agent on other ports (tests, the local runtime's worker threads): `createAgentHandler(definition, ports)`. */
  withPorts(ports: AgentPorts): AgentLambdaHandler;
};

/** The subset of the Lambda context used: remaining time. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

const runOutputSchema = z.object({
  summary: z.string().min(1).max(AGENT_RESULT_LIMITS.summaryChars),
  metrics: z.record(z.string().max(AGENT_RESULT_LIMITS.metricNameChars), z.number().refine(Number.isFinite, 'must be a finite number')).optional(),
  output: z.unknown().optional(),
});

const proposalSchema = z
  .object({
    clientOrderId: z.string().regex(CLIENT_ORDER_ID, 'must be 1-64 of [A-Za-z0-9._:-]').optional(),
    symbol: z.string().min(1).max(32),
    side: z.enum(['BUY', 'SELL']),
    qty: z.number().int('must be a whole number of shares').positive().max(1e9),
    limitPrice: z.number().positive().finite().optional(),
    timeInForce: z.enum(['DAY', 'GTC', 'IOC']).optional(),
  })
  .strict()
  .refine((o) => o.timeInForce === undefined || o.limitPrice !== undefined, {
    message: 'timeInForce needs a limitPrice (a market order fills at the close)',
    path: ['timeInForce'],
  });

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.') || '(root)';
}

/** UTF-8 bytes of a value as JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/**
 * Checks a result against {@link AGENT_RESULT_LIMITS}.
 * @throws {AgentResultTooLarge} naming the limit, the figure and the agent.
 */
export function assertResultWithinLimits(agent: string, result: { metrics?: Record<string, number>; orders?: readonly unknown[]; output?: unknown }): void {
  const L = AGENT_RESULT_LIMITS;
  const metrics = Object.keys(result.metrics ?? {}).length;
  if (metrics > L.metrics) throw new AgentResultTooLarge(`Agent ${agent}: ${metrics} metrics exceed the limit of ${L.metrics} (AGENT_RESULT_LIMITS.metrics)`);
  const orders = result.orders?.length ?? 0;
  if (orders > L.orders)
    throw new AgentResultTooLarge(`Agent ${agent}: ${orders} proposed orders exceed the limit of ${L.orders} (AGENT_RESULT_LIMITS.orders)`);
  const out = result.output === undefined ? 0 : jsonBytes(result.output);
  if (out > L.outputBytes)
    throw new AgentResultTooLarge(`Agent ${agent}: output is ${out} bytes as JSON, over the limit of ${L.outputBytes} (AGENT_RESULT_LIMITS.outputBytes)`);
  const all = jsonBytes(result);
  if (all > L.resultBytes)
    throw new AgentResultTooLarge(
      `Agent ${agent}: the result is ${all} bytes as JSON, over the limit of ${L.resultBytes} (AGENT_RESULT_LIMITS.resultBytes; the state quota is 256 KiB)`,
    );
}

/**
 * Declares an agent (see the module comment for the steps its handler runs). Export the result as
 * `handler`: it is the Lambda entry, built on {@link tradingPortsFromEnv} at its first invocation
 * (LEDGER_TABLE, CONTROL_TABLE, CYCLES_TABLE, MARKET_DATA_FILE, TRADING_SETTINGS) and reused while warm.
 * @returns the handler, with `paramsSchema`, `definition` and `withPorts(ports)`.
 * Errors thrown by the handler (their `name`): `AgentInputInvalid` (also for params that fail the
 * agent's `params` schema), `AgentTimeout`, `AgentOutputInvalid`, `AgentResultTooLarge`,
 * `SystemHalted`, or whatever `run` throws; at the first invocation, `Missing environment variable
 * NAME` or a settings error.
 */
export function defineAgent<TOut = unknown, TParams = AgentParams>(def: AgentDefinition<TOut, TParams>): AgentHandler {
  let deployed: AgentLambdaHandler | undefined;
  // Traced (annotations cycleId, agent) when `monitoring.tracing` is on (`lambdas/shared/tracing.ts`).
  const handler: AgentLambdaHandler = traced(
    (event: unknown, lambdaContext?: LambdaContextLike) => (deployed ??= createAgentHandler(def, tradingPortsFromEnv()))(event, lambdaContext),
    cycleAnnotations,
  );
  return Object.assign(handler, {
    definition: def as unknown as AgentDefinition<unknown, never>,
    withPorts: (ports: AgentPorts) => createAgentHandler(def, ports),
    ...(def.params ? { paramsSchema: def.params as z.ZodType } : {}),
  });
}

/**
 * Builds an agent's handler from its definition and its ports.
 * @returns `(event, lambdaContext?) => Promise<AgentResult>`; errors as for {@link defineAgent}.
 */
export function createAgentHandler<TOut = unknown, TParams = AgentParams>(def: AgentDefinition<TOut, TParams>, ports: AgentPorts): AgentLambdaHandler {
  const logger = ports.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const metrics = ports.metrics ?? new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });
  const { doc, tables, settings } = ports;

  return async (event: unknown, lambdaContext?: LambdaContextLike): Promise<AgentResult> => {
    const started = performance.now();
    const parsed = agentInputSchema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AgentInputInvalid(`Agent ${def.name}: input is invalid at ${issuePath(issue)}: ${issue.message}`);
    }
    const input = parsed.data;
    const params = parseParams(def, input.agent, input.params);
    logger.appendKeys({ cycleId: input.cycleId, agent: input.agent });
    try {
      const deps: Record<string, unknown> = {};
      for (const dep of input.dependsOn) {
        const out = await doc.send(new GetCommand({ TableName: tables.cycles, Key: { cycleId: input.cycleId, sk: `OUTPUT#${dep}` }, ConsistentRead: true }));
        if (!out.Item) {
          const reason = `dependency ${dep} produced no output this cycle`;
          logger.info('Skipped', { reason });
          return {
            agent: input.agent,
            cycleId: input.cycleId,
            status: 'SKIPPED',
            summary: `skipped: ${reason}`,
            metrics: {},
            reason,
            durationMs: performance.now() - started,
            attempt: input.attempt,
          };
        }
        deps[dep] = out.Item.output;
      }

      let feed: MarketDataProvider | undefined;
      const getFeed = () => (feed ??= ports.feedFor(input.cycleSeq));
      const assertNotHalted = async () => {
        const control = await readControlItem(doc, tables.control, true);
        if (control.halted) throw new SystemHalted(`Agent ${input.agent}: the system is halted (${control.reason ?? 'no reason given'})`);
      };
      let timedOut = false;
      const proposals: ProposedOrder[] = [];
      const used = new Set<string>();
      // The earlier of the agent's own timeout (the state machine cuts the task there, but cannot stop
      // the Lambda, and agents sharing a function share its longest timeout) and the Lambda's remaining
      // time, less a reserve (10 %, at most 1 s) to return the result. Step Functions' clock starts
      // before the handler (invoke, cold start), which the reserve also covers.
      const reserve = (ms: number) => ms - Math.min(1000, ms * 0.1);
      const remaining = lambdaContext?.getRemainingTimeInMillis();
      const deadlineMs = Math.min(reserve(input.timeoutSeconds * 1000), remaining !== undefined ? reserve(remaining) : Infinity);
      const ctx: AgentContext<TParams> = {
        input,
        params,
        mode: input.mode,
        riskVerdict: input.riskVerdict,
        cycleId: input.cycleId,
        cycleSeq: input.cycleSeq,
        agent: input.agent,
        deps,
        logger,
        metrics,
        get feed() {
          return getFeed();
        },
        settings,
        portfolio: () => readAccount(doc, tables.ledger, settings.startingCashUsd),
        book: async () => {
          const b = await readBook(doc, tables.ledger, input.agent);
          return { positions: b.positions, workingQty: b.workingQty, cashFlowUsd: b.cashFlowUsd };
        },
        assertNotHalted,
        async placeOrder(order) {
          // A run that lost the race keeps executing until Lambda freezes it: it must not propose any more.
          if (timedOut) throw new AgentTimeout(`Agent ${input.agent}: order for ${String(order?.symbol)} refused, the run already timed out`);
          const checked = proposalSchema.safeParse(order);
          if (!checked.success) {
            const issue = checked.error.issues[0];
            throw new AgentOutputInvalid(`Agent ${input.agent}: order ${proposals.length + 1} is invalid at ${issuePath(issue)}: ${issue.message}`);
          }
          if (proposals.length >= AGENT_RESULT_LIMITS.orders) {
            throw new AgentResultTooLarge(`Agent ${input.agent}: more than ${AGENT_RESULT_LIMITS.orders} proposed orders (AGENT_RESULT_LIMITS.orders)`);
          }
          const clientOrderId = checked.data.clientOrderId ?? String(proposals.length + 1);
          if (used.has(clientOrderId)) throw new AgentOutputInvalid(`Agent ${input.agent}: client order id ${clientOrderId} is used twice in one run`);
          used.add(clientOrderId);
          proposals.push({ ...checked.data, clientOrderId });
          return { clientOrderId, status: 'PROPOSED' };
        },
        proposals,
        deadlineMs,
      };

      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => {
            timedOut = true;
            reject(new AgentTimeout(`Agent ${input.agent} did not finish within ${Math.round(deadlineMs)} ms`));
          },
          Math.max(0, deadlineMs),
        );
      });
      let raw: unknown;
      try {
        raw = await Promise.race([def.run(ctx), deadline]);
      } finally {
        clearTimeout(timer);
      }

      const checked = runOutputSchema.safeParse(raw);
      if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new AgentOutputInvalid(`Agent ${input.agent}: run() returned an invalid result at ${issuePath(issue)}: ${issue.message}`);
      }
      let output: unknown = checked.data.output;
      if (def.outputSchema) {
        const out = def.outputSchema.safeParse(output);
        if (!out.success) {
          const issue = out.error.issues[0];
          throw new AgentOutputInvalid(`Agent ${input.agent}: output is invalid at output.${issuePath(issue)}: ${issue.message}`);
        }
        output = out.data;
      }
      const durationMs = performance.now() - started;
      const result: AgentResult = {
        agent: input.agent,
        cycleId: input.cycleId,
        status: 'SUCCEEDED',
        summary: checked.data.summary,
        metrics: checked.data.metrics ?? {},
        durationMs,
        attempt: input.attempt,
        orders: [...proposals],
        output: output ?? null,
      };
      assertResultWithinLimits(input.agent, result);
      logger.info('Agent finished', { summary: checked.data.summary, durationMs, ordersProposed: proposals.length });
      return result;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.removeKeys(['cycleId', 'agent']);
    }
  };
}

/**
 * Parses an invocation's params with the agent's declared schema (unchanged when it declares none).
 * @throws {AgentInputInvalid} naming the param's path (`params.positionUsd`) and the problem.
 */
function parseParams<TParams>(def: AgentDefinition<unknown, TParams>, agent: string, raw: AgentParams): TParams {
  if (!def.params) return raw as TParams;
  const out = def.params.safeParse(raw);
  if (out.success) return out.data;
  const issue = out.error.issues[0];
  const at = issue.path.length ? `params.${issuePath(issue)}` : 'params';
  throw new AgentInputInvalid(`Agent ${agent}: params are invalid at ${at}: ${issue.message} (agents[].params in the config)`);
}

/** `proposed N orders` for a summary (the gateway appends what it filled and rejected). */
export function describeProposals(ctx: Pick<AgentContext, 'proposals'>): string {
  const n = ctx.proposals.length;
  return `proposed ${n} order${n === 1 ? '' : 's'}`;
}

/** Reads a numeric param, falling back to a default. @throws {Error} when present but not a finite number. */
export function numberParam(params: AgentParams, name: string, fallback: number): number {
  const v = params[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Parameter ${name} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
