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
import { OrchestratorError } from '../shared/errors';
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
export class ControlWriteConflict extends OrchestratorError {
  override name = 'ControlWriteConflict' as const;
  constructor(what: string, attempts: number) {
    super(`Control item ${what}: lost the conditional write ${attempts} times in a row to concurrent writers`);
  }
}

/** Cuts a reason to {@link MAX_REASON_CHARS}; an empty reason becomes `(no reason given)`. */
export function normalizeReason(reason: string): string {
  const trimmed = reason.trim();
  if (!trimmed) return '(no reason given)';
  return trimmed.length > MAX_REASON_CHARS ? `${trimmed.slice(0, MAX_REASON_CHARS - 1)}…` : trimmed;
}

/** Fields of the control item a decision may rest on (its premise). */
type PremiseField = 'halted' | 'mode' | 'resumedAt';

/** What a decision function returns: the attributes to SET / REMOVE (besides version and audit), the entry, and the premise. */
interface Decision {
  changed: boolean;
  set: Partial<Pick<ControlItem, 'halted' | 'mode' | 'reason' | 'actor' | 'at' | 'resumedAt' | 'coolDownUntil'>>;
  /** Attributes to remove (`resumedAt`, `coolDownUntil` when a staged resume ends). */
  remove?: Array<'resumedAt' | 'coolDownUntil'>;
  entry: AuditEntry;
  /** The fields the decision rests on; the write is conditioned on every one still having the value read. Empty: unconditional (an audit-only entry). */
  premise: PremiseField[];
}

/**
 * A control change refused by its rule (cool-down not over, a direct resume to normal not allowed,
 * ...), decided on a consistent read inside the write's retry loop; nothing was written. `kind` names
 * the action refused (`kill-switch.ts` turns it into `ResumeRefused` / `SafeModeRefused`).
 */
export class ControlChangeRefused extends OrchestratorError {
  override name = 'ControlChangeRefused' as const;
  constructor(
    readonly kind: 'resume' | 'safe-mode',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The generic audited write: read, decide, UpdateItem conditioned on the premise, retry (backoff
 * with jitter) when the premise changed in between; then trim the trail if it grew past the bound.
 * @throws {ControlWriteConflict} after {@link MAX_WRITE_ATTEMPTS} lost races.
 * @throws {ControlChangeRefused} when `decide` refuses (nothing written).
 * @throws whatever DynamoDB throws besides ConditionalCheckFailedException (not retried here).
 */
async function auditedWrite(doc: DynamoDBDocumentClient, table: string, what: string, decide: (current: ControlItem) => Decision): Promise<ControlChange> {
  const won = await retryWithBackoff<ControlChange>({ attempts: MAX_WRITE_ATTEMPTS }, async (attempt) => {
    const raw = (await doc.send(new GetCommand({ TableName: table, Key: CONTROL_KEY, ConsistentRead: true }))).Item;
    const before = parseControlItem(raw);
    const decision = decide(before);
    const entry: AuditEntry = { ...decision.entry, actor: boundActor(decision.entry.actor) };
    const names: Record<string, string> = { '#version': 'version', '#audit': 'audit', '#cycleSeq': 'cycleSeq' };
    const values: Record<string, unknown> = { ':one': 1, ':zero': 0, ':entry': [entry], ':empty': [] };
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
    const removes = (decision.remove ?? []).filter((k) => (decision.set as Record<string, unknown>)[k] === undefined);
    for (const key of removes) names[`#${key}`] = key;
    // Each premise field must still have the value read; one read as absent (or as the default of an
    // absent attribute) must still be absent.
    const conditions = decision.premise.map((field, i) => {
      names[`#p${i}`] = field;
      if (raw?.[field] !== undefined) {
        values[`:p${i}`] = raw[field];
        return `#p${i} = :p${i}`;
      }
      if (field === 'resumedAt') return `attribute_not_exists(#p${i})`;
      values[`:p${i}`] = before[field];
      return `(attribute_not_exists(#p${i}) OR #p${i} = :p${i})`;
    });
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: CONTROL_KEY,
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.map((k) => `#${k}`).join(', ')}` : ''} ADD #version :one`,
          ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      return { done: false };
    }
    const after: ControlItem = { ...before, ...decision.set, version: before.version + 1, audit: [...before.audit, entry] };
    for (const key of removes) delete after[key];
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
          premise: ['halted'],
          set: {},
          entry: { at, action: 'HALT', actor: req.actor, reason: normalizeReason(`already halted: ${reason}`), changed: false },
        }
      : {
          changed: true,
          premise: ['halted'],
          set: { halted: true, reason, actor: req.actor, at },
          entry: { at, action: 'HALT', actor: req.actor, reason, changed: true },
        },
  );
}

/** The staged-resume rule (config `resume`), as the Master receives it (env `RESUME_POLICY`). */
export interface ResumePolicy {
  /**
   * Seconds the system stays in REDUCE (reduce-only) after a resume from HALTED before an operator may
   * take it to normal (`ops resume --to normal`). Config `resume.coolDownSeconds`, default one cadence.
   */
  readonly coolDownSeconds: number;
  /** May `ops resume --to normal` go straight from HALTED to normal? Config `resume.allowDirectToNormal`. @default false */
  readonly allowDirectToNormal: boolean;
}

/** The policy used when none is configured: 15 minutes (the default cadence), no direct resume to normal. */
export const DEFAULT_RESUME_POLICY: ResumePolicy = { coolDownSeconds: 900, allowDirectToNormal: false };

/** Where a staged resume goes: `reduce` (HALTED -> REDUCE, the default) or `normal`. */
export type ResumeTarget = 'reduce' | 'normal';

/** `1 min 30 s`, `45 s`, `2 h 5 min`: a duration for people, from ms (rounded up to the second). */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return [h ? `${h} h` : '', m ? `${m} min` : '', s || (!h && !m) ? `${s} s` : ''].filter(Boolean).join(' ');
}

/**
 * Staged resume (issue 12; NautilusTrader's ACTIVE / REDUCING / HALTED, hummingbot#2497): one conditional
 * UpdateItem per step.
 *
 * - `to: 'reduce'` on a HALTED system clears the flag into REDUCE: `mode` `safe` (only reducing orders are
 *   admitted), `resumedAt` = now, `coolDownUntil` = now + `policy.coolDownSeconds`. Premise: `halted`.
 *   Not halted: nothing changes but the audit trail (`changed: false`, reason prefixed `not halted: `).
 * - `to: 'normal'` from REDUCE after a staged resume: only once `coolDownUntil` has passed; sets mode
 *   `normal` and removes `resumedAt` / `coolDownUntil`. Premise: `halted`, `mode` and `resumedAt` all as
 *   read, so a halt (and a resume) in between makes the write fail, re-read and decide again: refused while
 *   halted, and the cool-down restarts with the new `resumedAt`. From HALTED only with
 *   `policy.allowDirectToNormal`. From safe mode without a staged resume (an alarm's or an operator's safe
 *   mode) it is the same as `safe-mode off`. Already normal: audit only (`changed: false`).
 *
 * Authorisation (operator only, reason required) is the caller's job (`kill-switch.ts`).
 * @throws {ControlChangeRefused} (kind `resume`) for `to: 'normal'` before the cool-down ends (naming the
 *   time left and its end), or from HALTED without `allowDirectToNormal`. Nothing is written.
 */
export function writeResume(
  doc: DynamoDBDocumentClient,
  table: string,
  req: ControlActor & { to?: ResumeTarget },
  policy: ResumePolicy = DEFAULT_RESUME_POLICY,
): Promise<ControlChange> {
  const reason = normalizeReason(req.reason);
  const at = new Date(req.at).toISOString();
  if ((req.to ?? 'reduce') === 'reduce') {
    const coolDownUntil = new Date(req.at + policy.coolDownSeconds * 1000).toISOString();
    return auditedWrite(doc, table, 'resume', (current) =>
      current.halted
        ? {
            changed: true,
            premise: ['halted'],
            set: { halted: false, mode: 'safe', resumedAt: at, coolDownUntil, reason, actor: req.actor, at },
            entry: { at, action: 'RESUME', actor: req.actor, reason, changed: true },
          }
        : {
            changed: false,
            premise: ['halted'],
            set: {},
            entry: { at, action: 'RESUME', actor: req.actor, reason: normalizeReason(`not halted: ${reason}`), changed: false },
          },
    );
  }
  return auditedWrite(doc, table, 'resume to normal', (current) => {
    const premise: PremiseField[] = ['halted', 'mode', 'resumedAt'];
    const entry = (changed: boolean, why: string): AuditEntry => ({ at, action: 'RESUME_TO_NORMAL', actor: req.actor, reason: why, changed });
    if (current.halted) {
      if (!policy.allowDirectToNormal) {
        throw new ControlChangeRefused(
          'resume',
          'Resume to normal refused: the system is HALTED; resume into REDUCE first (ops resume --reason "..."), then --to normal after the cool-down (resume.allowDirectToNormal is false)',
        );
      }
      return {
        changed: true,
        premise,
        set: { halted: false, mode: 'normal', reason, actor: req.actor, at },
        remove: ['resumedAt', 'coolDownUntil'],
        entry: entry(true, `${reason} (HALTED -> normal: resume.allowDirectToNormal)`),
      };
    }
    if (current.mode === 'normal') return { changed: false, premise, set: {}, entry: entry(false, normalizeReason(`already normal: ${reason}`)) };
    refuseInCoolDown(current, req.at, 'Resume to normal refused', 'resume');
    return { changed: true, premise, set: { mode: 'normal' }, remove: ['resumedAt', 'coolDownUntil'], entry: entry(true, reason) };
  });
}

/** Throws when `current` is in the cool-down of a staged resume at `nowMs`. */
function refuseInCoolDown(current: ControlItem, nowMs: number, what: string, kind: ControlChangeRefused['kind']): void {
  if (!current.coolDownUntil) return;
  const end = Date.parse(current.coolDownUntil);
  if (!(end > nowMs)) return;
  throw new ControlChangeRefused(
    kind,
    `${what}: REDUCE cool-down after the resume at ${current.resumedAt ?? '?'}: ${formatDuration(end - nowMs)} left (until ${current.coolDownUntil}, config resume.coolDownSeconds); no new halt may come in between`,
  );
}

/**
 * Sets the cycle mode (`safe`: agents may only reduce exposure; `normal`). Audited as
 * SAFE_MODE_ON / SAFE_MODE_OFF; `changed: false` when the mode already was the requested one.
 * The halt `reason`/`actor`/`at` fields are left alone: the audit entry records who and why.
 * Switching to normal during the cool-down of a staged resume is refused (it would skip the cool-down);
 * after it, it ends the staged resume (removes `resumedAt` / `coolDownUntil`). Premise: `mode` and `resumedAt`.
 * @throws {ControlChangeRefused} (kind `safe-mode`) for `normal` inside a cool-down; nothing is written.
 */
export function writeMode(doc: DynamoDBDocumentClient, table: string, mode: Mode, req: ControlActor): Promise<ControlChange> {
  const reason = normalizeReason(req.reason);
  const at = new Date(req.at).toISOString();
  const action = mode === 'safe' ? 'SAFE_MODE_ON' : 'SAFE_MODE_OFF';
  return auditedWrite(doc, table, `set mode ${mode}`, (current) => {
    const changed = current.mode !== mode;
    if (changed && mode === 'normal') refuseInCoolDown(current, req.at, 'Safe mode off refused', 'safe-mode');
    return {
      changed,
      premise: ['mode', 'resumedAt'],
      set: changed ? { mode } : {},
      ...(changed && mode === 'normal' ? { remove: ['resumedAt', 'coolDownUntil'] as Array<'resumedAt' | 'coolDownUntil'> } : {}),
      entry: { at, action, actor: req.actor, reason: changed ? reason : normalizeReason(`already ${mode}: ${reason}`), changed },
    };
  });
}

/**
 * Appends an audit-only entry (an operator's `CANCEL_ALL` or `FLATTEN`): unconditional, so it never
 * conflicts; `changed` says whether the action moved anything.
 */
export function writeAuditEntry(
  doc: DynamoDBDocumentClient,
  table: string,
  action: 'CANCEL_ALL' | 'FLATTEN',
  changed: boolean,
  req: ControlActor,
): Promise<ControlChange> {
  const at = new Date(req.at).toISOString();
  return auditedWrite(doc, table, action.toLowerCase(), () => ({
    changed,
    premise: [],
    set: {},
    entry: { at, action, actor: req.actor, reason: normalizeReason(req.reason), changed },
  }));
}
