/**
 * Reads the system control item (halt flag, mode, cycle counter, audit trail).
 * Writers live with their owners: the Master (halt, resume, safe mode) and "Plan cycle"
 * (cycle counter). This module only reads.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { controlItemSchema, type ControlItem } from './contracts';

/** Key of the control item in the Control table. */
export const CONTROL_KEY = { pk: 'control' } as const;

/** The control item of a fresh system: running, normal mode, no cycles yet, empty audit trail. */
export function initialControlItem(): ControlItem {
  return { pk: 'control', halted: false, mode: 'normal', cycleSeq: 0, version: 0, audit: [] };
}

/**
 * Parses a raw control item, filling the defaults of {@link initialControlItem} for absent fields.
 * @throws {Error} `Control item is malformed at <path>: <problem>` when a present field has the wrong type.
 */
export function parseControlItem(raw: Record<string, unknown> | undefined): ControlItem {
  const parsed = controlItemSchema.safeParse({ ...initialControlItem(), ...(raw ?? {}) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Control item is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Reads the control item.
 * @param consistent - strongly consistent read (default true): agents re-check the halt flag
 *   right before any side effect and must see a halt that has just been written.
 * @returns the item, or the initial item when none has been written yet.
 */
export async function readControlItem(doc: DynamoDBDocumentClient, tableName: string, consistent = true): Promise<ControlItem> {
  const out = await doc.send(new GetCommand({ TableName: tableName, Key: CONTROL_KEY, ConsistentRead: consistent }));
  return parseControlItem(out.Item);
}
