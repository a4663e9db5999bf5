/** Helpers of the agent tests: environment, ledger reset, control item, agent input. */
import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createGatewayHandler } from '../../lambdas/gateway/handler';
import type { AgentLambdaHandler, AgentHandler, AgentPorts } from '../../lambdas/shared/agent-kit/define-agent';
import type { AgentInput, AgentResult } from '../../lambdas/shared/contracts';
import { tradingPortsFromEnv } from '../../lambdas/shared/trading/runtime';
import { feedForCycle } from '../../lambdas/shared/trading/market-data';
import { ENV } from '../../lambdas/shared/env';
import type { TradingSettings } from '../../lambdas/shared/settings';
import type { TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from '../trading/support';

/** Points the handlers at the local DynamoDB, the Dow file and the given settings. */
export function useEnv(db: TestDynamo, settings: TradingSettings = testSettings(), file = DOW_FILE): void {
  Object.assign(process.env, db.env);
  process.env[ENV.tradingSettings] = JSON.stringify(settings);
  process.env[ENV.marketDataFile] = file;
}

/** The agent ports of the environment {@link useEnv} set (tables, settings, market data file) on the test's DynamoDB. */
export function agentPorts(db: TestDynamo): AgentPorts {
  return tradingPortsFromEnv(process.env, db.doc);
}

/** Deletes every item of the Ledger (fresh account on next use). */
export async function clearLedger(db: TestDynamo): Promise<void> {
  const items = (await db.doc.send(new ScanCommand({ TableName: db.tables.Ledger }))).Items ?? [];
  for (const it of items) await db.doc.send(new DeleteCommand({ TableName: db.tables.Ledger, Key: { pk: it.pk, sk: it.sk } }));
}

/** Writes the control item with the halt flag set or cleared. */
export async function setHalted(db: TestDynamo, halted: boolean): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.tables.Control,
      Item: { pk: 'control', halted, mode: 'normal', cycleSeq: 1, version: 1, audit: [], ...(halted ? { reason: 'test halt' } : {}) },
    }),
  );
}

/** An agent payload as the state machine builds it. */
export function agentInput(agent: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return {
    cycleId: 'cycle-1',
    cycleSeq: 1,
    agent,
    mode: 'normal',
    riskVerdict: 'OK',
    params: {},
    dependsOn: [],
    timeoutSeconds: 30,
    attempt: 0,
    probe: false,
    ...overrides,
  };
}

/**
 * Runs an agent as the state machine does: the agent's task (on {@link agentPorts}), then "Execute ... orders" (the real
 * order gateway handler) on its result, labelled with the input's agent. Returns the gateway's
 * output (the result with `execution` and order metrics).
 */
export function throughGateway(db: TestDynamo, settings: () => TradingSettings = () => JSON.parse(process.env[ENV.tradingSettings]!) as TradingSettings) {
  return (agent: AgentHandler | AgentLambdaHandler) =>
    async (input: AgentInput): Promise<AgentResult> => {
      // A defineAgent handler runs on this test's ports (built now, from the current environment).
      const run = 'withPorts' in agent ? agent.withPorts(agentPorts(db)) : agent;
      const result = await run(input);
      const s = settings();
      const gateway = createGatewayHandler({
        doc: db.doc,
        tables: { ledger: db.tables.Ledger, control: db.tables.Control, cycles: db.tables.Cycles },
        settings: s,
        feedFor: (cycleSeq) => feedForCycle(process.env[ENV.marketDataFile]!, s.startBar, cycleSeq),
      });
      return gateway({
        action: 'execute',
        cycleId: input.cycleId,
        cycleSeq: input.cycleSeq,
        mode: input.mode,
        riskVerdict: input.riskVerdict,
        agent: input.agent,
        result,
      });
    };
}
