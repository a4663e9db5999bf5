/**
 * Bounds of the free-text fields the Master stores (audit actor): a halt is never refused for the
 * size of what its caller wrote, so long values are cut, never rejected (DynamoDB's 400 KB item limit).
 */

/** Longest actor stored or sent, characters (longer ones are cut with `…`): a halt is never refused for its size. */
export const MAX_ACTOR_CHARS = 256;

/** Cuts an actor to {@link MAX_ACTOR_CHARS}; an empty one becomes `(unknown)`. */
export function boundActor(actor: string): string {
  const trimmed = actor.replace(/\s+/g, ' ').trim();
  if (!trimmed) return '(unknown)';
  return trimmed.length > MAX_ACTOR_CHARS ? `${trimmed.slice(0, MAX_ACTOR_CHARS - 1)}…` : trimmed;
}
