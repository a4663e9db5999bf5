/**
 * EventBridge Scheduler, locally: the synthesized schedules, their fire times on the simulated
 * clock, ENABLED/DISABLED state (the Master disables them), and the target input with the
 * Scheduler's context placeholders filled per slot.
 *
 * Supported expressions: `rate(N minute|minutes|hour|hours|day|days)` (slots at multiples of
 * the rate from the run's epoch) and six-field `cron(min hour day-of-month month day-of-week year)`
 * with `*`, `?`, lists, ranges and `/` steps, evaluated in `ScheduleExpressionTimezone`.
 */

/** One local schedule. */
export interface LocalSchedule {
  /** Schedule name. */
  name: string;
  /** Group name (`default` when none). */
  group: string;
  expression: string;
  timezone: string;
  state: 'ENABLED' | 'DISABLED';
  /** Target ARN (the state machine's local ARN). */
  targetArn: string;
  /** Target input template (JSON text with `<aws.scheduler.*>` placeholders). */
  input: string;
}

/** `group/name`, the id the Master and ops use. */
export function scheduleId(s: Pick<LocalSchedule, 'group' | 'name'>): string {
  return `${s.group}/${s.name}`;
}

/**
 * The first fire time strictly after `afterMs` (epoch ms).
 * @param epochMs - anchor of rate schedules (rate slots are `epochMs + k x rate`).
 * @throws {Error} for an expression this module does not support (names it).
 */
export function nextFireTime(expression: string, timezone: string, afterMs: number, epochMs: number): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const unit = rate[2].startsWith('minute') ? 60_000 : rate[2].startsWith('hour') ? 3_600_000 : 86_400_000;
    const step = Number(rate[1]) * unit;
    if (afterMs < epochMs) return epochMs;
    return epochMs + (Math.floor((afterMs - epochMs) / step) + 1) * step;
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  if (!cron) throw new Error(`Unsupported schedule expression "${expression}" (local runtime: rate(...) or cron(...))`);
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`cron expression "${expression}" must have 6 fields`);
  const [mi, h, dom, mo, dow, yr] = fields;
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  });
  const wd: Record<string, number> = { Sun: 1, Mon: 2, Tue: 3, Wed: 4, Thu: 5, Fri: 6, Sat: 7 };
  let t = Math.floor(afterMs / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 60 * 24 * 400; i++, t += 60_000) {
    const parts = Object.fromEntries(fmt.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
    if (
      matchCron(mi, Number(parts.minute), 0, 59) &&
      matchCron(h, Number(parts.hour), 0, 23) &&
      matchCron(dom, Number(parts.day), 1, 31) &&
      matchCron(mo, Number(parts.month), 1, 12) &&
      matchCron(
        dow.replace(/SUN|MON|TUE|WED|THU|FRI|SAT/g, (d) => String(wd[d[0] + d.slice(1).toLowerCase()])),
        wd[parts.weekday],
        1,
        7,
      ) &&
      matchCron(yr, Number(parts.year), 1970, 2199)
    )
      return t;
  }
  throw new Error(`cron expression "${expression}" does not fire within 400 days`);
}

function matchCron(field: string, value: number, min: number, max: number): boolean {
  if (field === '*' || field === '?') return true;
  return field.split(',').some((part) => {
    const [range, stepS] = part.split('/');
    const step = stepS ? Number(stepS) : 1;
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(Number) as [number, number];
    else [lo, hi] = [Number(range), stepS ? max : Number(range)];
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

/**
 * Deterministic execution name for a slot: `<schedule>-<yyyymmddThhmmssZ>` (at most 80 chars,
 * Step Functions' limit), so a double trigger of one slot reuses the name.
 */
export function slotExecutionName(schedule: LocalSchedule, slotMs: number): string {
  const stamp = new Date(slotMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${schedule.name}-${stamp}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
}

/** Fills `<aws.scheduler.scheduled-time>`, `<aws.scheduler.execution-id>`, `<aws.scheduler.schedule-arn>`, `<aws.scheduler.attempt-number>`. */
export function fillScheduleInput(input: string, values: { scheduledTime: string; executionId: string; scheduleArn: string }): unknown {
  const text = input
    .replaceAll('<aws.scheduler.scheduled-time>', values.scheduledTime)
    .replaceAll('<aws.scheduler.execution-id>', values.executionId)
    .replaceAll('<aws.scheduler.schedule-arn>', values.scheduleArn)
    .replaceAll('<aws.scheduler.attempt-number>', '0');
  return text.trim() ? JSON.parse(text) : {};
}
