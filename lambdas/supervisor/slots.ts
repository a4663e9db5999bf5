/**
 * Exactly one cycle per schedule slot: the group item of the Control table.
 *
 * One item per agent group, `{ pk: 'group#<group>' }`:
 * - `cycleSeq`: the group's cycle counter (each group replays its own bars in sequence);
 * - `slots`: the claims, `{ [slotKey]: { cycleId, claimedAt, cycleSeq?, skip? } }` (pruned: a claim
 *   older than the lateness limit can never run again anyway, it would be refused as late);
 * - `running`: `{ cycleId, since }`, the group's cycle that is running (not kept under `ALLOW_ALL`);
 * - `waiting`: `{ cycleId, since }`, the one slot waiting for it under `BUFFER_ONE`.
 *
 * The rules, each enforced by one conditional write (no transactions needed):
 * 1. {@link claimSlot}: `SET slots.<slot> = <claim>` if `attribute_not_exists(slots.<slot>)`. A second
 *    execution for the slot (Scheduler retried with a new execution id, or a double delivery) loses
 *    and is a skipped duplicate. A retry of the same execution finds its own claim.
 * 2. {@link startCycle}: `SET cycleSeq = cycleSeq + 1, slots.<slot>.cycleSeq = cycleSeq + 1, running = me`
 *    if the slot is still mine and unnumbered and the running marker is what was read (absent or
 *    stale). DynamoDB evaluates every operand on the item before the update, so the claim records
 *    the very number the counter took: a retried "Plan cycle" reads its number back and never takes
 *    a new one (no skipped bar), and two cycles of a group never both run under `SKIP`.
 * 3. {@link endCycle}: "Record outcomes" removes the running marker if it is still this cycle's.
 *
 * A running marker is stale (the cycle is known to have ended) when it is older than the execution
 * timeout, or not younger than the last halt in the control item's audit trail: the kill switch
 * stops every running execution when it halts, so after a resume a stopped cycle's marker never
 * blocks the group.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ControlItem, OverlapPolicy, SlotSkipReason } from '../shared/contracts';
import { isConditionalCheckFailed } from '../shared/dynamo-errors';
import { OrchestratorError } from '../shared/errors';

/** Partition key of a group's item in the Control table. */
export const groupKey = (group: string) => `group#${group}`;

/** One claim of a slot. */
export interface SlotClaim {
  /** Execution name of the cycle that holds the slot. */
  readonly cycleId: string;
  /** ISO time of the claim. */
  readonly claimedAt: string;
  /** The cycle number, once the cycle started. */
  readonly cycleSeq?: number;
  /** Set when the holder itself did not run (overlap, late, halted): a retried plan repeats the decision. */
  readonly skip?: SlotSkipReason;
}

/** A group's running (or waiting) cycle. */
export interface CycleMarker {
  readonly cycleId: string;
  /** ISO time the cycle's execution started. */
  readonly since: string;
}

/** The group item. */
export interface GroupItem {
  readonly pk: string;
  readonly cycleSeq: number;
  readonly slots: Readonly<Record<string, SlotClaim>>;
  readonly running?: CycleMarker;
  readonly waiting?: CycleMarker;
  /** The accepted risk verdict of the group's highest-numbered cycle: its number and `asOf`, epoch ms (see {@link recordRiskAsOf}). */
  readonly riskAsOf?: { readonly cycleSeq: number; readonly asOfMs: number };
  /** Set while an operator has paused the group (`ops pause GROUP --reason`, `pauses.ts`): its slots are skipped as paused. */
  readonly paused?: { readonly reason: string; readonly actor: string; readonly at: string };
}

/** Result of {@link claimSlot}. */
export type ClaimResult =
  { readonly mine: true; readonly claim: SlotClaim; readonly item: GroupItem } | { readonly mine: false; readonly holder: SlotClaim; readonly item: GroupItem };

/** Result of {@link startCycle}. */
export type StartResult =
  | { readonly started: true; readonly cycleSeq: number }
  | { readonly started: false; readonly skip: 'overlap'; readonly detail: string }
  | { readonly started: false; readonly wait: true; readonly detail: string };

/** Thrown when the group item kept changing under a start (30 lost races); `name` is what a Retry matches. */
export class SlotConflict extends OrchestratorError {
  override name = 'SlotConflict' as const;
}

function parseGroupItem(raw: Record<string, unknown> | undefined, group: string): GroupItem {
  return {
    pk: groupKey(group),
    cycleSeq: Number(raw?.cycleSeq ?? 0),
    slots: (raw?.slots as Record<string, SlotClaim> | undefined) ?? {},
    ...(raw?.running ? { running: raw.running as CycleMarker } : {}),
    ...(raw?.waiting ? { waiting: raw.waiting as CycleMarker } : {}),
    ...(raw?.riskAsOf ? { riskAsOf: raw.riskAsOf as GroupItem['riskAsOf'] } : {}),
    ...(raw?.paused ? { paused: raw.paused as GroupItem['paused'] } : {}),
  };
}

/** Strongly consistent read of a group item (an absent item is a fresh group: counter 0, no claims). */
export async function readGroup(doc: DynamoDBDocumentClient, table: string, group: string): Promise<GroupItem> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: { pk: groupKey(group) }, ConsistentRead: true }));
  return parseGroupItem(out.Item, group);
}

/** Creates the group item's counter and claims map if absent (the item may exist already, e.g. written by a pause). Idempotent. */
async function ensureGroupItem(doc: DynamoDBDocumentClient, table: string, group: string): Promise<void> {
  await doc.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk: groupKey(group) },
      UpdateExpression: 'SET #slots = if_not_exists(#slots, :empty), #seq = if_not_exists(#seq, :zero)',
      ExpressionAttributeNames: { '#slots': 'slots', '#seq': 'cycleSeq' },
      ExpressionAttributeValues: { ':empty': {}, ':zero': 0 },
    }),
  );
}

const isMissingMap = (err: unknown) => (err as Error)?.name === 'ValidationException' && /document path|path provided/i.test((err as Error).message);

/**
 * Claims a slot for a cycle: one conditional write (rule 1 of the module comment).
 * @param args.slotKey - `<scheduled time ISO>`, `run:<execution name>` or `event:<trigger>:<event id>` (`plan.ts` slotKeyOf);
 *   used through an expression attribute name, so any characters are safe.
 * @returns `mine: true` with the claim (this execution's, maybe from an earlier attempt), or `mine: false` with the holder.
 * @throws DynamoDB errors as is ("Plan cycle" retries them).
 */
export async function claimSlot(
  doc: DynamoDBDocumentClient,
  table: string,
  args: { readonly group: string; readonly slotKey: string; readonly cycleId: string; readonly nowIso: string },
): Promise<ClaimResult> {
  const claim: SlotClaim = { cycleId: args.cycleId, claimedAt: args.nowIso };
  const write = () =>
    doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: groupKey(args.group) },
        UpdateExpression: 'SET #slots.#slot = :claim',
        ConditionExpression: 'attribute_not_exists(#slots.#slot)',
        ExpressionAttributeNames: { '#slots': 'slots', '#slot': args.slotKey },
        ExpressionAttributeValues: { ':claim': claim },
        ReturnValues: 'ALL_NEW',
      }),
    );
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const out = await write();
      return { mine: true, claim, item: parseGroupItem(out.Attributes, args.group) };
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        const item = await readGroup(doc, table, args.group);
        const holder = item.slots[args.slotKey];
        if (!holder) throw new Error(`Slot ${args.group}@${args.slotKey}: the claim failed its condition but is absent`, { cause: err });
        return holder.cycleId === args.cycleId ? { mine: true, claim: holder, item } : { mine: false, holder, item };
      }
      // First slot of a new group: the item (and its slots map) does not exist yet.
      if (attempt === 0 && isMissingMap(err)) {
        await ensureGroupItem(doc, table, args.group);
        continue;
      }
      throw err;
    }
  }
  throw new Error(`Slot ${args.group}@${args.slotKey}: could not create the group item`);
}

/** The time of the last halt that changed the system (the kill switch stopped every execution then), epoch ms; -Infinity when none. */
export function lastHaltMs(control: Pick<ControlItem, 'audit'>): number {
  let at = -Infinity;
  for (const e of control.audit) if (e.action === 'HALT' && e.changed) at = Math.max(at, Date.parse(e.at));
  return at;
}

/** True when a marker can no longer be a running cycle: older than the execution timeout, or started before the last halt. */
export function markerIsStale(m: CycleMarker, ctx: { readonly nowMs: number; readonly cycleTimeoutSeconds: number; readonly lastHaltMs: number }): boolean {
  const since = Date.parse(m.since);
  return !Number.isFinite(since) || ctx.nowMs - since >= ctx.cycleTimeoutSeconds * 1000 || since <= ctx.lastHaltMs;
}

/**
 * Numbers the cycle and marks it running (rule 2 of the module comment), or decides it may not run
 * under the group's overlap policy.
 * @param item - the group item as last read (from {@link claimSlot}).
 * @returns `started` with the cycle number (the one already recorded in the claim for a retried plan);
 *   `skip: 'overlap'` (and the claim marked so) when another cycle of the group runs under `SKIP`
 *   (or a second one would wait under `BUFFER_ONE`); `wait` under `BUFFER_ONE` (this slot is the one waiting).
 * @throws {SlotConflict} after 30 lost races; DynamoDB errors as is.
 */
export async function startCycle(
  doc: DynamoDBDocumentClient,
  table: string,
  args: {
    readonly group: string;
    readonly slotKey: string;
    readonly cycleId: string;
    readonly since: string;
    readonly policy: OverlapPolicy;
    readonly nowMs: number;
    readonly cycleTimeoutSeconds: number;
    readonly lastHaltMs: number;
    /** Claims claimed before this (epoch ms) are removed. */
    readonly pruneBeforeMs: number;
  },
  item: GroupItem,
): Promise<StartResult> {
  const stale = (m: CycleMarker | undefined) => m !== undefined && markerIsStale(m, args);
  for (let attempt = 1; attempt <= 30; attempt++) {
    const mineClaim = item.slots[args.slotKey];
    if (mineClaim?.cycleId !== args.cycleId) throw new Error(`Slot ${args.group}@${args.slotKey} is not held by ${args.cycleId}`);
    if (mineClaim.cycleSeq !== undefined) return { started: true, cycleSeq: mineClaim.cycleSeq };
    const running = item.running && item.running.cycleId !== args.cycleId && !stale(item.running) ? item.running : undefined;
    const names: Record<string, string> = {
      '#slots': 'slots',
      '#slot': args.slotKey,
      '#seq': 'cycleSeq',
      '#running': 'running',
      '#waiting': 'waiting',
      '#cid': 'cycleId',
    };
    const values: Record<string, unknown> = { ':me': args.cycleId };
    if (running && args.policy !== 'ALLOW_ALL') {
      const waiter = item.waiting && item.waiting.cycleId !== args.cycleId && !stale(item.waiting) ? item.waiting : undefined;
      if (args.policy === 'BUFFER_ONE' && !waiter) {
        if (item.waiting?.cycleId === args.cycleId) return { started: false, wait: true, detail: `waiting for ${running.cycleId}` };
        // Become the one waiting: only if the waiting marker is still what was read.
        const cond = item.waiting ? '#waiting.#cid = :seenWaiting' : 'attribute_not_exists(#waiting)';
        if (item.waiting) values[':seenWaiting'] = item.waiting.cycleId;
        values[':marker'] = { cycleId: args.cycleId, since: args.since };
        const ok = await conditional(doc, {
          TableName: table,
          Key: { pk: groupKey(args.group) },
          UpdateExpression: 'SET #waiting = :marker',
          ConditionExpression: cond,
          ExpressionAttributeNames: { '#waiting': 'waiting', '#cid': 'cycleId' },
          ExpressionAttributeValues: values,
        });
        if (ok) return { started: false, wait: true, detail: `waiting for ${running.cycleId}` };
      } else {
        const detail = waiter
          ? `group ${args.group} still runs ${running.cycleId} (since ${running.since}) and ${waiter.cycleId} already waits for it (BUFFER_ONE)`
          : `group ${args.group} still runs ${running.cycleId} (since ${running.since}; overlap policy ${args.policy})`;
        const ok = await conditional(doc, {
          TableName: table,
          Key: { pk: groupKey(args.group) },
          UpdateExpression: 'SET #slots.#slot.#skip = :skip',
          ConditionExpression: '#slots.#slot.#cid = :me AND attribute_not_exists(#slots.#slot.#seq)',
          ExpressionAttributeNames: { '#slots': 'slots', '#slot': args.slotKey, '#skip': 'skip', '#cid': 'cycleId', '#seq': 'cycleSeq' },
          ExpressionAttributeValues: { ':me': args.cycleId, ':skip': 'overlap' },
        });
        if (ok) return { started: false, skip: 'overlap', detail };
      }
    } else {
      const sets = ['#seq = if_not_exists(#seq, :zero) + :one', '#slots.#slot.#seq = if_not_exists(#seq, :zero) + :one'];
      const removes: string[] = [];
      const conds = ['#slots.#slot.#cid = :me', 'attribute_not_exists(#slots.#slot.#seq)'];
      Object.assign(values, { ':zero': 0, ':one': 1 });
      if (args.policy !== 'ALLOW_ALL') {
        sets.push('#running = :marker');
        values[':marker'] = { cycleId: args.cycleId, since: args.since };
        if (item.running) {
          conds.push('#running.#cid = :seenRunning');
          values[':seenRunning'] = item.running.cycleId;
        } else conds.push('attribute_not_exists(#running)');
      }
      if (item.waiting?.cycleId === args.cycleId) {
        removes.push('#waiting');
        conds.push('#waiting.#cid = :me');
      }
      Object.entries(item.slots)
        .filter(([k, c]) => k !== args.slotKey && Date.parse(c.claimedAt) < args.pruneBeforeMs)
        .slice(0, 50)
        .forEach(([k], i) => {
          names[`#old${i}`] = k;
          removes.push(`#slots.#old${i}`);
        });
      const ok = await conditional(doc, {
        TableName: table,
        Key: { pk: groupKey(args.group) },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: conds.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
      if (ok) {
        const fresh = await readGroup(doc, table, args.group);
        const seq = fresh.slots[args.slotKey]?.cycleSeq;
        if (seq === undefined) throw new Error(`Slot ${args.group}@${args.slotKey}: numbered but the claim holds no cycleSeq`);
        return { started: true, cycleSeq: seq };
      }
    }
    await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    item = await readGroup(doc, table, args.group);
  }
  throw new SlotConflict(`Slot ${args.group}@${args.slotKey}: the group item kept changing; gave up after 30 attempts`);
}

/**
 * Marks the claim of a slot whose cycle does not run (late, halted) so that a retried plan repeats
 * the decision; a no-op when the claim is not this cycle's or already numbered.
 */
export async function markSkipped(
  doc: DynamoDBDocumentClient,
  table: string,
  args: { readonly group: string; readonly slotKey: string; readonly cycleId: string; readonly skip: SlotSkipReason },
): Promise<void> {
  await conditional(doc, {
    TableName: table,
    Key: { pk: groupKey(args.group) },
    UpdateExpression: 'SET #slots.#slot.#skip = :skip REMOVE #waiting',
    ConditionExpression: '#slots.#slot.#cid = :me AND attribute_not_exists(#slots.#slot.#seq) AND (attribute_not_exists(#waiting) OR #waiting.#cid = :me)',
    ExpressionAttributeNames: { '#slots': 'slots', '#slot': args.slotKey, '#skip': 'skip', '#cid': 'cycleId', '#seq': 'cycleSeq', '#waiting': 'waiting' },
    ExpressionAttributeValues: { ':me': args.cycleId, ':skip': args.skip },
  }).then(async (ok) => {
    if (ok) return;
    // The waiting marker belongs to another slot: mark only the claim.
    await conditional(doc, {
      TableName: table,
      Key: { pk: groupKey(args.group) },
      UpdateExpression: 'SET #slots.#slot.#skip = :skip',
      ConditionExpression: '#slots.#slot.#cid = :me AND attribute_not_exists(#slots.#slot.#seq)',
      ExpressionAttributeNames: { '#slots': 'slots', '#slot': args.slotKey, '#skip': 'skip', '#cid': 'cycleId', '#seq': 'cycleSeq' },
      ExpressionAttributeValues: { ':me': args.cycleId, ':skip': args.skip },
    });
  });
}

/**
 * "Verify risk verdict": remembers an accepted verdict's `asOf` for the group, unless a cycle with a
 * higher number already did (one conditional write), so the next cycle's verdict can be checked
 * for staleness.
 */
export async function recordRiskAsOf(doc: DynamoDBDocumentClient, table: string, group: string, cycleSeq: number, asOfMs: number): Promise<void> {
  await conditional(doc, {
    TableName: table,
    Key: { pk: groupKey(group) },
    UpdateExpression: 'SET #risk = :risk',
    ConditionExpression: 'attribute_not_exists(#risk) OR #risk.#seq < :seq',
    ExpressionAttributeNames: { '#risk': 'riskAsOf', '#seq': 'cycleSeq' },
    ExpressionAttributeValues: { ':risk': { cycleSeq, asOfMs }, ':seq': cycleSeq },
  });
}

/** "Record outcomes": the group no longer runs this cycle (rule 3). A no-op when the marker is another cycle's or absent. */
export async function endCycle(doc: DynamoDBDocumentClient, table: string, group: string, cycleId: string): Promise<void> {
  await conditional(doc, {
    TableName: table,
    Key: { pk: groupKey(group) },
    UpdateExpression: 'REMOVE #running',
    ConditionExpression: '#running.#cid = :me',
    ExpressionAttributeNames: { '#running': 'running', '#cid': 'cycleId' },
    ExpressionAttributeValues: { ':me': cycleId },
  });
}

/** One conditional UpdateItem; names and values the expressions do not use are dropped (DynamoDB refuses unused ones). */
async function conditional(doc: DynamoDBDocumentClient, input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
  const text = `${input.UpdateExpression ?? ''} ${input.ConditionExpression ?? ''}`;
  const used = (k: string) => new RegExp(`${k}(?![A-Za-z0-9_])`).test(text);
  const names = Object.fromEntries(Object.entries(input.ExpressionAttributeNames ?? {}).filter(([k]) => used(k)));
  const values = Object.fromEntries(Object.entries(input.ExpressionAttributeValues ?? {}).filter(([k]) => used(k)));
  try {
    await doc.send(
      new UpdateCommand({
        ...input,
        ExpressionAttributeNames: names,
        ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : { ExpressionAttributeValues: undefined }),
      }),
    );
    return true;
  } catch (err) {
    if (isConditionalCheckFailed(err)) return false;
    throw err;
  }
}
