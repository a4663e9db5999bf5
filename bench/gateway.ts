/**
 * The order gateway's cost, measured through the real path (`createGatewayHandler` and the
 * order gateway, one `TransactWriteItems` per fill) on DynamoDB Local on this machine:
 * fills per second when one result carries many orders (sequential, the common case), and when
 * many gateway calls race for the same account item (concurrent agents: every conflict re-reads
 * and re-checks). AWS latencies differ (a transaction is ~10-20 ms in-region); the figures show
 * the gateway's own overhead and how conflicts cost under contention.
 */
import { createGatewayHandler } from '../lambdas/gateway/handler';
import type { AgentResult, ProposedOrder } from '../lambdas/shared/contracts';
import { TABLE_SPECS } from '../lambdas/shared/table-specs';
import { createReplayFeed, loadMarketData } from '../lambdas/shared/trading/market-data';
import { tradingSettingsFromConfig } from '../lib/config/lambda-settings';
import type { OrchestratorConfig } from '../lib/config/schema';
import { startLocalDynamo, tableDefFromSpec } from '../local/dynamo';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { join } from 'node:path';

/** Throughput of one way of submitting orders. */
export interface GatewayThroughput {
  /** `sequential` (one result, N orders) or `concurrent` (N gateway calls at once, one order each). */
  readonly mode: 'sequential' | 'concurrent';
  readonly orders: number;
  readonly filled: number;
  readonly wallMs: number;
  readonly fillsPerSecond: number;
}

/**
 * Measures the gateway on a fresh DynamoDB Local namespace with limits high enough that every order fills.
 * @param orders - orders per measurement. @default 200
 */
export async function measureGateway(config: OrchestratorConfig, repoRoot: string, orders = 200): Promise<GatewayThroughput[]> {
  const names = Object.fromEntries(TABLE_SPECS.map((t) => [t.id, `bench-gw-${t.id}`])) as Record<string, string>;
  const dynamo = await startLocalDynamo(TABLE_SPECS.map((t) => tableDefFromSpec(t, names[t.id])));
  const doc = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
  try {
    const base = tradingSettingsFromConfig(config);
    const settings = {
      ...base,
      limits: {
        ...base.limits,
        maxOrdersPerAgentPerCycle: 1e6,
        maxOrdersPerCycle: 1e6,
        maxOrdersPerSecond: 1e6,
        maxGrossExposureUsd: 1e12,
        maxPositionUsd: 1e12,
        minCashUsd: 0,
      },
      startingCashUsd: 1e12,
    };
    const feed = createReplayFeed(loadMarketData(join(repoRoot, config.marketData.file)), 260);
    const symbols = feed.symbols.filter((s) => feed.priceAt(s) !== undefined);
    const handler = createGatewayHandler({
      doc,
      tables: { ledger: names.Ledger, control: names.Control, cycles: names.Cycles },
      settings,
      feedFor: () => feed,
    });
    const order = (i: number): ProposedOrder => ({ clientOrderId: String(i + 1), symbol: symbols[i % symbols.length], side: 'BUY', qty: 1 });
    const result = (agent: string, cycleId: string, list: ProposedOrder[]): AgentResult => ({
      agent,
      cycleId,
      status: 'SUCCEEDED',
      summary: 'bench',
      metrics: {},
      durationMs: 0,
      attempt: 0,
      orders: list,
      output: null,
    });
    const call = (agent: string, cycleId: string, list: ProposedOrder[]) =>
      handler({ action: 'execute', cycleId, cycleSeq: 1, mode: 'normal', riskVerdict: 'OK', agent, result: result(agent, cycleId, list) });
    // Warm-up (JIT of DynamoDB Local, first table writes).
    await call(
      'warm',
      'warm',
      Array.from({ length: 20 }, (_, i) => order(i)),
    );
    const out: GatewayThroughput[] = [];
    let t = performance.now();
    const seq = await call(
      'seq',
      'seq',
      Array.from({ length: orders }, (_, i) => order(i)),
    );
    let ms = performance.now() - t;
    out.push({ mode: 'sequential', orders, filled: seq.execution?.filled ?? 0, wallMs: ms, fillsPerSecond: ((seq.execution?.filled ?? 0) * 1000) / ms });
    const n = Math.min(orders, 50);
    t = performance.now();
    const con = await Promise.all(Array.from({ length: n }, (_, i) => call(`agent-${i}`, 'con', [order(i)])));
    ms = performance.now() - t;
    const filled = con.reduce((a, r) => a + (r.execution?.filled ?? 0), 0);
    out.push({ mode: 'concurrent', orders: n, filled, wallMs: ms, fillsPerSecond: (filled * 1000) / ms });
    return out;
  } finally {
    await dynamo.stop();
  }
}
