/** Helpers of the agent tests: environment, ledger reset, control item, agent input. */
import { DeleteCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { AgentInput } from '../../lambdas/shared/contracts';
import { ENV } from '../../lambdas/shared/env';
import type { TradingSettings } from '../../lambdas/shared/settings';
import type { TestDynamo } from '../support/dynalite';
import { DOW_FILE, testSettings } from '../trading/support';

/** Points the handlers at dynalite, the Dow file and the given settings. */
export function useEnv(db: TestDynamo, settings: TradingSettings = testSettings(), file = DOW_FILE): void {
  Object.assign(process.env, db.env);
  process.env[ENV.tradingSettings] = JSON.stringify(settings);
  process.env[ENV.marketDataFile] = file;
}

/** Deletes every item of the Ledger (fresh account on next use). */
export async function clearLedger(db: TestDynamo): Promise<void> {
  const items = (await db.doc.send(new ScanCommand({ TableName: db.tables.Ledger }))).Items ?? [];
  for (const it of items) await db.doc.send(new DeleteCommand({ TableName: db.tables.Ledger, Key: { pk: it.pk, sk: it.sk } }));
}

/** Writes the control item with the halt flag set or cleared. */
export async function setHalted(db: TestDynamo, halted: boolean): Promise<void> {
  await db.doc.send(
    new PutCommand({ TableName: db.tables.Control, Item: { pk: 'control', halted, mode: 'normal', cycleSeq: 1, version: 1, audit: [], ...(halted ? { reason: 'test halt' } : {}) } }),
  );
}

/** An agent payload as the state machine builds it. */
export function agentInput(agent: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return { cycleId: 'cycle-1', cycleSeq: 1, agent, mode: 'normal', riskVerdict: 'OK', params: {}, dependsOn: [], timeoutSeconds: 30, attempt: 0, probe: false, ...overrides };
}
