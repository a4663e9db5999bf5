/**
 * `defineAgent`: the agent contract as a helper. An agent is a name and a `run(ctx)`
 * function; the helper does everything the contract requires around it:
 *
 * 1. validates the input with `agentInputSchema` (invalid => throws `AgentInputInvalid`);
 * 2. reads this cycle's outputs of `input.dependsOn` from the Cycles table
 *    (pk cycleId, sk `OUTPUT#<dep>`); any missing => returns SKIPPED without running;
 * 3. builds the context: params, mode, risk verdict, deps, logger (cycleId + agent keys),
 *    metrics, this cycle's market-data feed, the paper broker, `assertNotHalted()`;
 * 4. runs `run` racing the deadline (Lambda remaining time, else `timeoutSeconds`) =>
 *    throws `AgentTimeout`;
 * 5. validates what `run` returned (and `outputSchema`) => throws `AgentOutputInvalid`;
 * 6. stores the output in Cycles (sk `OUTPUT#<agent>`, TTL 30 days) for dependents;
 * 7. returns the `AgentResult`.
 *
 * Thrown errors carry a `name` that Step Functions Retry/Catch match. See `docs/agents.md`.
 *
 * May be imported by: agent handlers, `test/`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { agentInputSchema, type AgentInput, type AgentParams, type AgentResult, type Mode, type RiskVerdict } from '../contracts';
import { readControlItem } from '../control-read';
import { METRICS_NAMESPACE } from '../env';
import { SERVICE_NAME } from '../metrics-catalog';
import type { TradingSettings } from '../settings';
import { createPaperBroker, type OrderResult, type PaperBroker } from '../trading/broker';
import { feedForCycle, type MarketDataProvider } from '../trading/market-data';
import type { OrderIntent } from '../trading/pre-trade-checks';
import { documentClient, tradingEnv, tradingSettings } from '../trading/runtime';

/** Days an agent's output is kept in the Cycles table (TTL `expiresAt`). */
export const OUTPUT_RETENTION_DAYS = 30;

/** Counts of this run's orders, kept by `ctx.placeOrder`. */
export interface OrderTally {
  placed: number;
  rejected: number;
  replayed: number;
  /** Check name -> rejections. */
  rejectedBy: Record<string, number>;
}

/** What `run` receives. */
export interface AgentContext {
  readonly input: AgentInput;
  readonly params: AgentParams;
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
  /** The paper broker bound to this cycle's feed and mode (created on first access). */
  readonly broker: PaperBroker;
  /** `TRADING_SETTINGS` (limits, universe, starting cash). */
  readonly settings: TradingSettings;
  /** Consistent read of the halt flag. @throws {Error} named `SystemHalted` when the kill switch is engaged. */
  assertNotHalted(): Promise<void>;
  /**
   * `assertNotHalted()` then `broker.placeOrder` with this cycle and agent filled in, counting the result in {@link tally}.
   * @throws {Error} `SystemHalted` before the order when halted; `AgentTimeout` when the run's deadline has passed.
   */
  placeOrder(order: OrderIntent): Promise<OrderResult>;
  /** Orders placed / rejected / replayed so far in this run. */
  readonly tally: OrderTally;
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
export interface AgentDefinition<TOut> {
  /** Agent name (used in logs; the stored output uses `input.agent`). */
  readonly name: string;
  readonly run: (ctx: AgentContext) => Promise<AgentRunOutput<TOut>>;
  /** Optional schema of `output`; a mismatch throws `AgentOutputInvalid`. */
  readonly outputSchema?: z.ZodType<TOut>;
}

/** The subset of the Lambda context used: remaining time. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
}

const runOutputSchema = z.object({
  summary: z.string().min(1).max(500),
  metrics: z.record(z.string(), z.number().refine(Number.isFinite, 'must be a finite number')).optional(),
  output: z.unknown().optional(),
});

function namedError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.') || '(root)';
}

/**
 * Builds a Lambda handler from an agent definition (see the module comment for the steps).
 * @returns `(event, lambdaContext?) => Promise<AgentResult>`.
 * Errors thrown by the handler (their `name`): `AgentInputInvalid`, `AgentTimeout`,
 * `AgentOutputInvalid`, `SystemHalted`, or whatever `run` throws.
 */
export function defineAgent<TOut = unknown>(def: AgentDefinition<TOut>): (event: unknown, lambdaContext?: LambdaContextLike) => Promise<AgentResult> {
  const logger = new Logger({ serviceName: SERVICE_NAME });
  const metrics = new Metrics({ serviceName: SERVICE_NAME, namespace: METRICS_NAMESPACE });

  return async (event, lambdaContext) => {
    const started = performance.now();
    const parsed = agentInputSchema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw namedError('AgentInputInvalid', `Agent ${def.name}: input is invalid at ${issuePath(issue)}: ${issue.message}`);
    }
    const input = parsed.data;
    const env = tradingEnv();
    const doc = documentClient();
    logger.appendKeys({ cycleId: input.cycleId, agent: input.agent });
    try {
      const deps: Record<string, unknown> = {};
      for (const dep of input.dependsOn) {
        const out = await doc.send(new GetCommand({ TableName: env.cyclesTable, Key: { cycleId: input.cycleId, sk: `OUTPUT#${dep}` }, ConsistentRead: true }));
        if (!out.Item) {
          const reason = `dependency ${dep} produced no output this cycle`;
          logger.info('Skipped', { reason });
          return { agent: input.agent, cycleId: input.cycleId, status: 'SKIPPED', summary: `skipped: ${reason}`, metrics: {}, reason, durationMs: performance.now() - started, attempt: input.attempt };
        }
        deps[dep] = out.Item.output;
      }

      const settings = tradingSettings();
      let feed: MarketDataProvider | undefined;
      let broker: PaperBroker | undefined;
      const getFeed = () => (feed ??= feedForCycle(env.marketDataFile, settings.startBar, input.cycleSeq));
      const getBroker = () =>
        (broker ??= createPaperBroker({ doc, ledgerTable: env.ledgerTable, controlTable: env.controlTable, settings, feed: getFeed(), mode: input.mode }));
      const assertNotHalted = async () => {
        const control = await readControlItem(doc, env.controlTable, true);
        if (control.halted) throw namedError('SystemHalted', `Agent ${input.agent}: the system is halted (${control.reason ?? 'no reason given'}); no order was placed`);
      };
      let timedOut = false;
      const tally: OrderTally = { placed: 0, rejected: 0, replayed: 0, rejectedBy: {} };
      // The earlier of the agent's own timeout (the state machine cuts the task there, but cannot stop
      // the Lambda, and agents sharing a function share its longest timeout) and the Lambda's remaining
      // time, less a reserve (10 %, at most 1 s) to store the output. Step Functions' clock starts
      // before the handler (invoke, cold start), which the reserve also covers.
      const reserve = (ms: number) => ms - Math.min(1000, ms * 0.1);
      const remaining = lambdaContext?.getRemainingTimeInMillis();
      const deadlineMs = Math.min(reserve(input.timeoutSeconds * 1000), remaining !== undefined ? reserve(remaining) : Infinity);
      const ctx: AgentContext = {
        input,
        params: input.params,
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
        get broker() {
          // The raw broker, except that a run past its deadline can place no order through it either.
          const b = getBroker();
          return {
            ...b,
            placeOrder: async (req: Parameters<PaperBroker['placeOrder']>[0]) => {
              if (timedOut) throw namedError('AgentTimeout', `Agent ${input.agent}: order for ${req.symbol} refused, the run already timed out`);
              return b.placeOrder(req);
            },
          };
        },
        settings,
        assertNotHalted,
        async placeOrder(order) {
          // A run that lost the race keeps executing until Lambda freezes it: it must not trade any more.
          if (timedOut) throw namedError('AgentTimeout', `Agent ${input.agent}: order for ${order.symbol} refused, the run already timed out`);
          await assertNotHalted();
          const result = await getBroker().placeOrder({ ...order, cycleId: input.cycleId, agent: input.agent });
          if (result.replayed) tally.replayed++;
          if (result.rejectedBy) {
            tally.rejected++;
            tally.rejectedBy[result.rejectedBy] = (tally.rejectedBy[result.rejectedBy] ?? 0) + 1;
          } else if (!result.replayed) tally.placed++;
          return result;
        },
        tally,
        deadlineMs,
      };

      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => (timedOut = true) && reject(namedError('AgentTimeout', `Agent ${input.agent} did not finish within ${Math.round(deadlineMs)} ms`)), Math.max(0, deadlineMs));
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
        throw namedError('AgentOutputInvalid', `Agent ${input.agent}: run() returned an invalid result at ${issuePath(issue)}: ${issue.message}`);
      }
      let output: unknown = checked.data.output;
      if (def.outputSchema) {
        const out = def.outputSchema.safeParse(output);
        if (!out.success) {
          const issue = out.error.issues[0];
          throw namedError('AgentOutputInvalid', `Agent ${input.agent}: output is invalid at output.${issuePath(issue)}: ${issue.message}`);
        }
        output = out.data;
      }
      await doc.send(
        new PutCommand({
          TableName: env.cyclesTable,
          Item: {
            cycleId: input.cycleId,
            sk: `OUTPUT#${input.agent}`,
            agent: input.agent,
            output: output ?? null,
            summary: checked.data.summary,
            attempt: input.attempt,
            storedAt: new Date().toISOString(),
            expiresAt: Math.floor(Date.now() / 1000) + OUTPUT_RETENTION_DAYS * 86_400,
          },
        }),
      );
      const durationMs = performance.now() - started;
      logger.info('Agent finished', { summary: checked.data.summary, durationMs });
      return {
        agent: input.agent,
        cycleId: input.cycleId,
        status: 'SUCCEEDED',
        summary: checked.data.summary,
        metrics: checked.data.metrics ?? {},
        durationMs,
        attempt: input.attempt,
      };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.removeKeys(['cycleId', 'agent']);
    }
  };
}

/**
 * Formats an order tally for a summary: `placed 3 orders, 1 rejected (maxOrderNotional)`.
 */
export function describeTally(t: OrderTally): string {
  const by = Object.entries(t.rejectedBy).map(([k, v]) => (v > 1 ? `${k} x${v}` : k));
  const parts = [`placed ${t.placed} order${t.placed === 1 ? '' : 's'}`, `${t.rejected} rejected${by.length ? ` (${by.join(', ')})` : ''}`];
  if (t.replayed) parts.push(`${t.replayed} replayed`);
  return parts.join(', ');
}

/** Standard order metrics for an AgentResult: ordersPlaced, ordersRejected, ordersReplayed. */
export function tallyMetrics(t: OrderTally): Record<string, number> {
  return { ordersPlaced: t.placed, ordersRejected: t.rejected, ordersReplayed: t.replayed };
}

/** Reads a numeric param, falling back to a default. @throws {Error} when present but not a finite number. */
export function numberParam(params: AgentParams, name: string, fallback: number): number {
  const v = params[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Parameter ${name} must be a number, got ${JSON.stringify(v)}`);
  return v;
}
