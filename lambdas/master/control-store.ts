/**
 * Writes to the system control item (Control table, pk `control`) made by the Master:
 * halt, resume and safe mode. Each is ONE conditional UpdateItem on the single control
 * item that changes the state and appends the audit entry together, so the flag and its
 * audit entry can never disagree (dynalite, and this design, use no transactions).
 *
 * Concurrency: read the item (consistent), decide, then write conditioned only on the field the
 * decision rests on (`halted` for halt/resume, `mode` for safe mode) still having the value read,
 * appending the entry with `list_append` and `ADD version 1`. Writers that agree (fifty concurrent
 * halts of a halted system) never conflict, so none loses its entry; a writer whose premise was
 * changed under it (a resume between its read and its write) re-reads and decides again, through the
 * shared backoff-with-jitter helper (`lambdas/shared/retry.ts`). 50 concurrent halts: one
 * `changed: true`, 50 audit entries (test/master/audit-race.test.ts).
 *
 * Bounded trail: once the list exceeds {@link AUDIT_RETAINED_ENTRIES}, a separate version-checked
 * write keeps the newest ones (a lost race there is harmless: the next writer trims).
 *
 * Only the fields the Master owns are written (`halted`, `mode`, `reason`, `actor`, `at`,
 * `version`, `audit`); `cycleSeq`, written by "Plan cycle", is never overwritten.
 */
import { isConditionalCheckFailed } from '../shared/dynamo-errors';
import { retryWithBackoff } from '../shared/retry';
import { boundActor } from './bounds';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, ControlItem, Mode } from '../shared/contracts';
import { CONTROL_KEY, parseControlItem } from '../shared/control-read';

/**
 * Audit entries kept on the control item, newest last. DynamoDB caps an item at 400 KB
 * (AWS limit) and "Plan cycle" reads the item every cycle, so the trail is bounded: once
 * it holds this many entries, the oldest are dropped as new ones are appended. Every
 * action is also logged in full by the Master (CloudWatch Logs) as the long-term record.
 */
export const AUDIT_RETAINED_ENTRIES = 200;

/** Longest `reason` stored in an audit entry or on the item, characters (longer ones are cut with `…`). */
export const MAX_REASON_CHARS = 500;

/** Attempts of one write before giving up under contention (each attempt re-reads the item). */
export const MAX_WRITE_ATTEMPTS = 25;

/** Who asks for a change and why; `at` is epoch ms (the audit entry stores it as ISO 8601). */
export interface ControlActor {
  actor: string;
  reason: string;
  at: number;
}

/** Result of one audited write. */
export interface ControlChange {
  /** False when the item already was in the requested state (only the audit trail grew). */
  changed: boolean;
  /** The item as read just before the winning write. */
  before: ControlItem;
  /** The item as written (before + the change + the audit entry). */
  after: ControlItem;
  /** The audit entry appended. */
  audit: AuditEntry;
  /** Write attempts used (1 without contention). */
  attempts: number;
}

/**
 * The control item write could not win against concurrent writers within
 * {@link MAX_WRITE_ATTEMPTS} attempts. Name `ControlWriteConflict`.
 */
export class ControlWriteConflict extends Error {
  constructor(what: string, attempts: number) {
    super(`Control item ${what}: lost the conditional write ${attempts} times in a row to concurrent writers`);
    this.name = 'ControlWriteConflict';
  }
}

/** Cuts a reason to {@link MAX_REASON_CHARS}; an empty reason becomes `(no reason given)`. */
export function normalizeReason(reason: string): string {
  const trimmed = reason.trim();
  if (!trimmed) return '(no reason given)';
  return trimmed.length > MAX_REASON_CHARS ? `${trimmed.slice(0, MAX_REASON_CHARS - 1)}…` : trimmed;
}

/** What a decision function returns: the attributes to SET (besides version and audit), the entry, and the premise. */
interface Decision {
  changed: boolean;
  set: Partial<Pick<ControlItem, 'halted' | 'mode' | 'reason' | 'actor' | 'at'>>;
  entry: AuditEntry;
  /** The field the decision rests on; the write is conditioned on it still having the value read. */
  premise: 'halted' | 'mode';
}

/**
 * The generic audited write: read, decide, UpdateItem conditioned on the premise, retry (backoff
 * with jitter) when the premise changed in between; then trim the trail if it grew past the bound.
 * @throws {ControlWriteConflict} after {@link MAX_WRITE_ATTEMPTS} lost races.
 * @throws whatever DynamoDB throws besides ConditionalCheckFailedException (not retried here).
 */
async function auditedWrite(doc: DynamoDBDocumentClient, table: string, what: string, decide: (current: ControlItem) => Decision): Promise<ControlChange> {
  const won = await retryWithBackoff<ControlChange>({ attempts: MAX_WRITE_ATTEMPTS }, async (attempt) => {
    const raw = (await doc.send(new GetCommand({ TableName: table, Key: CONTROL_KEY, ConsistentRead: true }))).Item;
    const before = parseControlItem(raw);
    const decision = decide(before);
    const entry: AuditEntry = { ...decision.entry, actor: boundActor(decision.entry.actor) };
    const names: Record<string, string> = { '#version': 'version', '#audit': 'audit', '#cycleSeq': 'cycleSeq', '#premise': decision.premise };
    const values: Record<string, unknown> = { ':one': 1, ':zero': 0, ':entry': [entry], ':empty': [], ':premise': before[decision.premise] };
    const sets = ['#cycleSeq = if_not_exists(#cycleSeq, :zero)', '#audit = list_append(if_not_exists(#audit, :empty), :entry)'];
    // Keep the item complete when this write creates it (fields parseControlItem would default).
    const defaults: Record<string, unknown> = { mode: 'normal', halted: false };
    for (const [key, fallback] of Object.entries(defaults)) {
      if ((decision.set as Record<string, unknown>)[key] !== undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}Default`] = fallback;
      sets.push(`#${key} = if_not_exists(#${key}, :${key}Default)`);
    }
    for (const [key, value] of Object.entries(decision.set)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = key === 'actor' ? boundActor(String(value)) : value;
      sets.push(`#${key} = :${key}`);
    }
    // A premise read as the default from an absent attribute also holds while the attribute is absent.
    const condition = raw?.[decision.premise] === undefined ? 'attribute_not_exists(#premise) OR #premise = :premise' : '#premise = :premise';
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: CONTROL_KEY,
          UpdateExpression: `SET ${sets.join(', ')} ADD #version :one`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return { done: false };
    }
    const after: ControlItem = { ...before, ...decision.set, version: before.version + 1, audit: [...before.audit, entry] };
    return { done: true, value: { changed: decision.changed, before, after, audit: entry, attempts: attempt } };
  });
  if (!won) throw new ControlWriteConflict(what, MAX_WRITE_ATTEMPTS);
  const change = won.value;
  if (change.after.audit.length > AUDIT_RETAINED_ENTRIES) {
    await trimAudit(doc, table);
    change.after = { ...change.after, audit: change.after.audit.slice(-AUDIT_RETAINED_ENTRIES) };
  }
  return change;
}

/** Keeps the newest {@link AUDIT_RETAINED_ENTRIES} entries; version-checked, and a lost race is left to the next writer. */
async function trimAudit(doc: DynamoDBDocumentClient, table: string): Promise<void> {
  const raw = (await doc.send(new GetCommand({ TableName: table, Key: CONTROL_KEY, ConsistentRead: true }))).Item;
  const current = parseControlItem(raw);
  if (current.audit.length <= AUDIT_RETAINED_ENTRIES || raw?.version === undefined) return;
  try {
    await doc.send(
      new UpdateCommand({
        TableName: table,
        Key: CONTROL_KEY,
        UpdateExpression: 'SET #audit = :kept ADD #version :one',
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#audit': 'audit', '#version': 'version' },
        ExpressionAttributeValues: { ':kept': current.audit.slice(-AUDIT_RETAINED_ENTRIES), ':one': 1, ':expected': current.version },
      }),
    );
  } catch (err) {
    if (!isConditionalCheckFailed(err)) throw err;
  }
}

/**
 * Sets the halt flag. When the system is already halted nothing changes but the audit trail
 * (entry `changed: false`, reason prefixed `already halted: `); the original reason, actor
 * and time stay on the item.
 */
export function writeHalt(doc: DynamoDBDocumentClient, table: string, req: ControlActor): Promise<ControlChange> {
  const reason = normalizeReason(req.reason);
  const at = new Date(req.at).toISOString();
  return auditedWrite(doc, table, 'halt', (current) =>
    current.halted
      ? {
          changed: false,
          premise: 'halted',
          set: {},
          entry: { at, action: 'HALT', actor: req.actor, reason: normalizeReason(`already halted: ${reason}`), changed: false },
        }
      : {
          changed: true,
          premise: 'halted',
          set: { halted: true, reason, actor: req.actor, at },
          entry: { at, action: 'HALT', actor: req.actor, reason, changed: true },
        },
  );
}

/**
 * Clears the halt flag (`reason`/`actor`/`at` then describe the resume). When the system is
 * not halted nothing changes but the audit trail (`changed: false`, reason prefixed `not halted: `).
 * Authorisation (operator only, reason required) is the caller's job (`kill-switch.ts`).
 */
export function writeResume(doc: DynamoDBDocumentClient, table: string, req: ControlActor): Promise<ControlChange> {
  const reason = normalizeReason(req.reason);
  const at = new Date(req.at).toISOString();
  return auditedWrite(doc, table, 'resume', (current) =>
    current.halted
      ? {
          changed: true,
          premise: 'halted',
          set: { halted: false, reason, actor: req.actor, at },
          entry: { at, action: 'RESUME', actor: req.actor, reason, changed: true },
        }
      : {
          changed: false,
          premise: 'halted',
          set: {},
          entry: { at, action: 'RESUME', actor: req.actor, reason: normalizeReason(`not halted: ${reason}`), changed: false },
        },
  );
}

/**
 * Sets the cycle mode (`safe`: agents may only reduce exposure; `normal`). Audited as
 * SAFE_MODE_ON / SAFE_MODE_OFF; `changed: false` when the mode already was the requested one.
 * The halt `reason`/`actor`/`at` fields are left alone: the audit entry records who and why.
 */
export function writeMode(doc: DynamoDBDocumentClient, table: string, mode: Mode, req: ControlActor): Promise<ControlChange> {
  const reason = normalizeReason(req.reason);
  const at = new Date(req.at).toISOString();
  const action = mode === 'safe' ? 'SAFE_MODE_ON' : 'SAFE_MODE_OFF';
  return auditedWrite(doc, table, `set mode ${mode}`, (current) => {
    const changed = current.mode !== mode;
    return {
      changed,
      premise: 'mode',
      set: changed ? { mode } : {},
      entry: { at, action, actor: req.actor, reason: changed ? reason : normalizeReason(`already ${mode}: ${reason}`), changed },
    };
  });
}
