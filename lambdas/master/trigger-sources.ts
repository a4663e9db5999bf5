/**
 * Who can ask the Master for something: the `source` of every request it accepts. A module of its
 * own because both `triggers.ts` (which validates payloads into requests) and `kill-switch.ts`
 * (whose requests carry the source) need it, and neither should import the other for it (no
 * import cycle; `npm run lint:layers`).
 */

/** The sources, in the order the docs list them. */
export const TRIGGER_SOURCES = ['alarm', 'cycle', 'supervisor', 'operator', 'deploy'] as const;
/** One of {@link TRIGGER_SOURCES}. */
export type TriggerSource = (typeof TRIGGER_SOURCES)[number];
