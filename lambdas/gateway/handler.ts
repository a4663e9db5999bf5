/**
 * The order gateway Lambda, behind each "Execute ... orders" state: right after an agent's task
 * succeeds, the state machine hands this function the agent's result, labelled with the work
 * item's agent name. It
 *
 * 1. validates the result (`agentResultSchema`, {@link AGENT_RESULT_LIMITS}) and that it names the
 *    work item's agent and cycle, else throws `AgentOutputInvalid` / `AgentResultTooLarge`
 *    (never retried: the agent's outcome is FAILED with the reason);
 * 2. stores the agent's output for its dependants (Cycles table, sk `OUTPUT#<agent>`; the agent
 *    itself can write nothing);
 * 3. submits each proposed order, in the agent's order, to the order gateway
 *    (`lambdas/shared/trading/gateway.ts`: one transaction per fill, every pre-trade check);
 * 4. returns the result without `orders` and `output` and, when the agent proposed orders, with
 *    `execution` (filled, working, rejected by check) and order metrics, so the state stays small.
 *
 * A retried call is harmless: the output is overwritten with the same content and every order
 * is idempotent on (cycle, agent, client order id).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { AGENT_RESULT_LIMITS, agentResultSchema, MODES, RISK_VERDICTS, type AgentResult, type OrderExecution } from '../shared/contracts';
import { AgentOutputInvalid, GatewayInputInvalid } from '../shared/errors';
import { assertResultWithinLimits } from '../shared/agent-kit/define-agent';
import { SERVICE_NAME } from '../shared/metrics-catalog';
import type { TradingSettings } from '../shared/settings';
import { createOrderGateway } from '../shared/trading/gateway';
import type { MarketDataProvider } from '../shared/trading/market-data';
import { tradingPortsFromEnv } from '../shared/trading/runtime';
import { cycleAnnotations, traced } from '../shared/tracing';

/** Days an agent's output is kept in the Cycles table (TTL `expiresAt`). */
export const OUTPUT_RETENTION_DAYS = 30;

/** Input of the "Execute ... orders" task. */
export const executeInputSchema = z.object({
  action: z.literal('execute'),
  cycleId: z.string().min(1),
  cycleSeq: z.number().int().min(1),
  mode: z.enum(MODES),
  riskVerdict: z.enum(RISK_VERDICTS),
  /** The work item's agent: the only name anything is filed under. */
  agent: z.string().min(1),
  /** The agent task's raw result (validated here). */
  result: z.unknown(),
});
export type ExecuteInput = z.infer<typeof executeInputSchema>;

/** Input of "Match working orders" (once per cycle, before the agents run). */
export const matchInputSchema = z.object({ action: z.literal('match'), cycleId: z.string().min(1), cycleSeq: z.number().int().min(1), mode: z.enum(MODES) });

/** Input of a cancel-all (operators: `ops cancel-all`; the kill switch cancels through the same gateway code). */
export const cancelAllInputSchema = z.object({ action: z.literal('cancelAll'), reason: z.string().min(1).max(500), agent: z.string().optional() });

/** Every input the gateway Lambda accepts. */
export const gatewayInputSchema = z.discriminatedUnion('action', [executeInputSchema, matchInputSchema, cancelAllInputSchema]);

/** What "Match working orders" returns (small: it stays in the state). */
export interface MatchResult {
  readonly filled: number;
  readonly expired: number;
  readonly cancelled: number;
  readonly working: number;
}

/** The gateway's ports. */
export interface GatewayHandlerDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly tables: { readonly ledger: string; readonly control: string; readonly cycles: string };
  readonly settings: TradingSettings;
  /** This cycle's market data. */
  readonly feedFor: (cycleSeq: number) => MarketDataProvider;
  /** Epoch ms. @default Date.now */
  readonly now?: () => number;
  /** Waits (backoff, rate pacing). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: Logger;
}

function describe(e: OrderExecution): string {
  if (e.proposed === 0) return 'no orders';
  const by = Object.entries(e.rejectedBy).map(([k, v]) => (v > 1 ? `${k} x${v}` : k));
  return `${e.filled} filled, ${e.working ? `${e.working} working, ` : ''}${e.rejected} rejected${by.length ? ` (${by.join(', ')})` : ''}${e.replayed ? `, ${e.replayed} replayed` : ''}`;
}

/**
 * Builds the handler from its ports.
 * @throws {GatewayInputInvalid} on a malformed payload (a definition error);
 *   `AgentOutputInvalid` / `AgentResultTooLarge` for a bad agent result; `OrderGatewayContention`.
 */
export function createGatewayHandler(deps: GatewayHandlerDeps): (event: unknown) => Promise<AgentResult> {
  const handler = createGatewayActions(deps);
  return (event) => handler(event) as Promise<AgentResult>;
}

/**
 * Builds the handler of every gateway action: `execute` (an agent's result, returns the trimmed
 * result), `match` (working orders against this cycle's bar, returns {@link MatchResult}),
 * `cancelAll` (returns `{ cancelled }`).
 * @throws {GatewayInputInvalid} on a malformed payload.
 */
export function createGatewayActions(deps: GatewayHandlerDeps): (event: unknown) => Promise<AgentResult | MatchResult | { cancelled: number }> {
  const logger = deps.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const gatewayFor = (feed?: MarketDataProvider) =>
    createOrderGateway({
      doc: deps.doc,
      ledgerTable: deps.tables.ledger,
      controlTable: deps.tables.control,
      settings: deps.settings,
      feed,
      now: deps.now,
      sleep: deps.sleep,
    });
  return async (event) => {
    const parsed = gatewayInputSchema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GatewayInputInvalid(`Gateway input is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    if (parsed.data.action === 'match') {
      const m = await gatewayFor(deps.feedFor(parsed.data.cycleSeq)).matchWorking(parsed.data.mode);
      logger.info('Working orders matched', { cycleId: parsed.data.cycleId, ...m });
      return m;
    }
    if (parsed.data.action === 'cancelAll') {
      const cancelled = await gatewayFor().cancelAll(parsed.data.reason, parsed.data.agent);
      logger.info('Working orders cancelled', { cancelled, reason: parsed.data.reason });
      return { cancelled };
    }
    const input = parsed.data;
    const checked = agentResultSchema.safeParse(input.result);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new AgentOutputInvalid(`Agent ${input.agent}: result is invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const result = checked.data;
    if (result.agent !== input.agent)
      throw new AgentOutputInvalid(`Agent ${input.agent}: the result names agent "${result.agent}"; results are filed under the work item's agent only`);
    if (result.cycleId !== input.cycleId)
      throw new AgentOutputInvalid(`Agent ${input.agent}: the result names cycle "${result.cycleId}", this is ${input.cycleId}`);
    assertResultWithinLimits(input.agent, result);

    const { orders = [], output, ...rest } = result;
    const execution: OrderExecution = { proposed: orders.length, filled: 0, working: 0, cancelled: 0, rejected: 0, replayed: 0, rejectedBy: {} };
    // What stays in the state is small (K agents' results share the 256 KiB quota): no order, no order figures.
    if (result.status === 'SKIPPED') return rest;
    const now = deps.now ?? Date.now;
    await deps.doc.send(
      new PutCommand({
        TableName: deps.tables.cycles,
        Item: {
          cycleId: input.cycleId,
          sk: `OUTPUT#${input.agent}`,
          agent: input.agent,
          output: output ?? null,
          summary: result.summary,
          attempt: result.attempt,
          storedAt: new Date(now()).toISOString(),
          expiresAt: Math.floor(now() / 1000) + OUTPUT_RETENTION_DAYS * 86_400,
        },
      }),
    );
    if (orders.length) {
      const gateway = gatewayFor(deps.feedFor(input.cycleSeq));
      for (const o of orders) {
        const decision = await gateway.submit({ ...o, cycleId: input.cycleId, agent: input.agent, mode: input.mode, riskVerdict: input.riskVerdict });
        if (decision.replayed) execution.replayed++;
        if (decision.order.status === 'FILLED') execution.filled++;
        else if (decision.order.status === 'WORKING') execution.working++;
        else if (decision.order.status === 'CANCELLED')
          execution.cancelled++; // IOC not marketable
        else {
          execution.rejected++;
          const by = decision.rejectedBy ?? decision.order.rejectedBy ?? 'unknown';
          execution.rejectedBy[by] = (execution.rejectedBy[by] ?? 0) + 1;
        }
      }
    }
    logger.info('Orders executed', { cycleId: input.cycleId, agent: input.agent, ...execution });
    if (!orders.length) return rest;
    const summary = orders.length ? `${result.summary}; orders: ${describe(execution)}` : result.summary;
    return {
      ...rest,
      summary: summary.length > AGENT_RESULT_LIMITS.summaryChars ? `${summary.slice(0, AGENT_RESULT_LIMITS.summaryChars - 1)}…` : summary,
      metrics: {
        ...rest.metrics,
        ordersProposed: execution.proposed,
        ordersPlaced: execution.filled,
        ordersWorking: execution.working,
        ordersRejected: execution.rejected,
        ordersReplayed: execution.replayed,
      },
      execution,
    };
  };
}

let cached: ((event: unknown) => Promise<AgentResult | MatchResult | { cancelled: number }>) | undefined;

/**
 * The Lambda entry point: the handler built once per sandbox from the environment; traced (annotations
 * cycleId, agent, action) when `monitoring.tracing` is on (`lambdas/shared/tracing.ts`).
 */
export const handler = traced(async (event: unknown): Promise<AgentResult | MatchResult | { cancelled: number }> => {
  if (!cached) {
    const ports = tradingPortsFromEnv();
    cached = createGatewayActions({ doc: ports.doc, tables: ports.tables, settings: ports.settings, feedFor: ports.feedFor });
  }
  return cached(event);
}, cycleAnnotations);
