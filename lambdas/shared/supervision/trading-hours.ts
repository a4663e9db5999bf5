/**
 * Trading-hours windows, evaluated by "Plan cycle" at the cycle's "now" (execution start time).
 * Timezone-aware through the `Intl` API (IANA zones, daylight saving time included).
 *
 * Rules: the local weekday must be in `weekdays` (ISO: 1 = Monday .. 7 = Sunday); the local
 * time must satisfy `start <= time < end` (start inclusive, end exclusive). A window whose end is
 * not after its start spans midnight (`22:00`-`06:00`: time >= start or time < end), and the
 * weekday is the local weekday at "now".
 *
 * Pure functions only.
 */

/** A trading-hours window (config `agents[].tradingHours`). */
export interface TradingHours {
  /** IANA timezone, e.g. `America/New_York`. */
  readonly timezone: string;
  /** Local opening time `HH:MM`, inclusive. */
  readonly start: string;
  /** Local closing time `HH:MM`, exclusive. */
  readonly end: string;
  /** ISO weekdays (1 = Monday .. 7 = Sunday). */
  readonly weekdays: readonly number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/**
 * Local ISO weekday and minutes after midnight at `nowMs` in `timezone`.
 * @throws {RangeError} when the timezone is unknown (from `Intl`).
 */
export function localTime(nowMs: number, timezone: string): { isoWeekday: number; minutes: number } {
  let fmt = formatters.get(timezone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(nowMs)).map((p) => [p.type, p.value]));
  return { isoWeekday: WEEKDAYS[parts.weekday], minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** `HH:MM` to minutes after midnight. @throws {Error} when not `HH:MM`. */
export function parseHhMm(value: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(value);
  if (!m) throw new Error(`Invalid time "${value}": expected HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** True when `nowMs` (epoch ms) falls inside the window (see the module comment). */
export function withinTradingHours(hours: TradingHours, nowMs: number): boolean {
  const { isoWeekday, minutes } = localTime(nowMs, hours.timezone);
  if (!hours.weekdays.includes(isoWeekday)) return false;
  const start = parseHhMm(hours.start);
  const end = parseHhMm(hours.end);
  return end > start ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

/** The skip reason the planner records: `outside trading hours (<tz> <start>-<end>)`. */
export function outsideTradingHoursReason(hours: TradingHours): string {
  return `outside trading hours (${hours.timezone} ${hours.start}-${hours.end})`;
}
