/**
 * Pause with a note, per agent group and per agent (issue 15): what `ops pause GROUP --reason`,
 * `ops unpause GROUP --reason`, `ops agent disable NAME --reason` and `ops agent enable NAME --reason` write.
 *
 * - A group's pause lives on its group item in the Control table (`slots.ts`): `paused: { reason,
 *   actor, at }`, and each change appends `{ at, action: PAUSE | UNPAUSE, actor, reason, changed }`
 *   to the item's `pauseAudit`, in the same UpdateItem (no write half done). "Plan cycle" skips a
 *   paused group's slots (`skip: paused`, the note in the detail).
 * - An agent's pause lives on its AgentState item: `disabled: { reason, actor, at }` and `pauseAudit`
 *   (last 20), in one version-conditional write (`AgentStateStore.update`). "Plan cycle" skips the
 *   agent (SKIPPED with `paused by <actor> at <at>: <reason>`, its dependants too) without claiming a probe.
 *
 * A second pause (or an unpause of what is not paused) changes nothing and is audited with `changed: false`.
 */
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AgentStateItem } from '../shared/contracts';
import type { AgentStateStore } from '../shared/supervision/agent-state-store';
import { groupKey, readGroup } from './slots';
import { OrchestratorError } from '../shared/errors';

/** Thrown for a pause without a reason (the note is the point). */
export class PauseReasonRequired extends OrchestratorError {
  override name = 'PauseReasonRequired' as const;
  constructor(what: string) {
    super(`${what} needs a reason (--reason "..."): it is shown with every skipped slot or agent and audited`);
  }
}

/** One audited pause change. */
export interface PauseChange {
  readonly at: string;
  readonly action: 'PAUSE' | 'UNPAUSE' | 'DISABLE' | 'ENABLE';
  readonly target: string;
  readonly actor: string;
  readonly reason: string;
  /** False when nothing changed (already paused / not paused). */
  readonly changed: boolean;
}

/**
 * The paused groups: a Scan of the Control table for group items with a pause note (the table holds
 * the control item and one item per group, so the scan is small).
 * @returns `{ group, note }` per paused group, note `<actor> at <time>: <reason>`, sorted by group.
 */
export async function listPausedGroups(doc: DynamoDBDocumentClient, controlTable: string): Promise<Array<{ group: string; note: string }>> {
  const out: Array<{ group: string; note: string }> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: controlTable, ConsistentRead: true, ExclusiveStartKey: start }));
    for (const it of page.Items ?? []) {
      const p = it.paused as { reason?: string; actor?: string; at?: string } | undefined;
      if (typeof it.pk === 'string' && it.pk.startsWith('group#') && p)
        out.push({ group: it.pk.slice('group#'.length), note: `${p.actor} at ${p.at}: ${p.reason}` });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out.sort((a, b) => a.group.localeCompare(b.group));
}

/**
 * Pauses or unpauses an agent group.
 * @param nowIso - ISO time of the change.
 * @throws {PauseReasonRequired} for an empty reason; DynamoDB errors as is.
 */
export async function setGroupPaused(
  doc: DynamoDBDocumentClient,
  controlTable: string,
  args: { readonly group: string; readonly paused: boolean; readonly reason: string; readonly actor: string; readonly nowIso: string },
): Promise<PauseChange> {
  if (!args.reason.trim()) throw new PauseReasonRequired(`${args.paused ? 'Pausing' : 'Unpausing'} group ${args.group}`);
  const before = await readGroup(doc, controlTable, args.group);
  const changed = args.paused !== Boolean(before.paused);
  const entry: PauseChange = {
    at: args.nowIso,
    action: args.paused ? 'PAUSE' : 'UNPAUSE',
    target: `group ${args.group}`,
    actor: args.actor,
    reason: args.reason,
    changed,
  };
  const audit = 'pauseAudit = list_append(if_not_exists(pauseAudit, :empty), :entry)';
  await doc.send(
    new UpdateCommand({
      TableName: controlTable,
      Key: { pk: groupKey(args.group) },
      UpdateExpression: changed ? (args.paused ? `SET paused = :note, ${audit}` : `SET ${audit} REMOVE paused`) : `SET ${audit}`,
      // The change is decided on what was read: a concurrent pause/unpause makes this fail (ConditionalCheckFailed) instead of writing a wrong `changed`.
      ConditionExpression: before.paused ? 'paused.#at = :seenAt' : 'attribute_not_exists(paused)',
      ...(before.paused ? { ExpressionAttributeNames: { '#at': 'at' } } : {}),
      ExpressionAttributeValues: {
        ':entry': [entry],
        ':empty': [],
        ...(before.paused ? { ':seenAt': before.paused.at } : {}),
        ...(changed && args.paused ? { ':note': { reason: args.reason, actor: args.actor, at: args.nowIso } } : {}),
      },
    }),
  );
  return entry;
}

/**
 * Pauses (disables) or enables an agent with one version-conditional write of its state item.
 * @throws {PauseReasonRequired} for an empty reason; `AgentStateConflict` after lost races.
 */
export async function setAgentDisabled(
  store: AgentStateStore,
  args: { readonly agent: string; readonly disabled: boolean; readonly reason: string; readonly actor: string; readonly nowIso: string },
): Promise<PauseChange> {
  if (!args.reason.trim()) throw new PauseReasonRequired(`${args.disabled ? 'Disabling' : 'Enabling'} agent ${args.agent}`);
  const res = await store.update<PauseChange>(args.agent, (cur: AgentStateItem) => {
    const changed = args.disabled !== Boolean(cur.disabled);
    const entry: PauseChange = {
      at: args.nowIso,
      action: args.disabled ? 'DISABLE' : 'ENABLE',
      target: `agent ${args.agent}`,
      actor: args.actor,
      reason: args.reason,
      changed,
    };
    const { disabled: _old, ...rest } = cur;
    void _old;
    const next: AgentStateItem = {
      ...(args.disabled ? { ...cur, disabled: changed ? { reason: args.reason, actor: args.actor, at: args.nowIso } : cur.disabled } : rest),
      pauseAudit: [
        ...(cur.pauseAudit ?? []),
        { at: entry.at, action: entry.action as 'DISABLE' | 'ENABLE', actor: entry.actor, reason: entry.reason, changed },
      ].slice(-20),
      version: cur.version + 1,
    };
    return { next, info: entry };
  });
  return res.info;
}
