/**
 * The live terminal dashboard of `npm start`: on a colour TTY, one region redrawn in place
 * (log-update, pinned) instead of the scrolling log: a status line (slot N of M and the state
 * being entered) above the dashboard of the last finished cycle. When piped, with `--quiet`,
 * `NO_COLOR` or `TERM=dumb`, or under CI, the CLI prints the plain log instead
 * ({@link liveDashboardWanted}).
 */
import { colorEnabled } from './cli-env';

/** What decides between the live dashboard and the plain log. */
export interface LiveDashboardContext {
  quiet?: boolean;
  /** `--no-live`. */
  noLive?: boolean;
  stdout: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * True when the live dashboard should be used: stdout is a terminal with colour allowed
 * ({@link colorEnabled}), not `--quiet`, not `--no-live`, and not under CI (`CI` set). Pure but for
 * reading `process.env` through {@link colorEnabled}.
 */
export function liveDashboardWanted(ctx: LiveDashboardContext): boolean {
  if (ctx.quiet || ctx.noLive) return false;
  if (ctx.env.CI) return false;
  return Boolean(ctx.stdout.isTTY) && colorEnabled(ctx.stdout);
}

/** A live region on the terminal. */
export interface LiveDashboard {
  /** The run moved to its `n`-th slot (1-based). */
  slot(n: number): void;
  /** The state being entered (a progress line). */
  progress(line: string): void;
  /** A cycle finished: its dashboard replaces the previous one. */
  cycle(text: string): void;
  /** Writes text above the live region (kept in the scrollback), e.g. a warning. */
  log(text: string): void;
  /** Leaves the last frame on screen and releases the terminal. */
  done(): void;
}

/**
 * Frame text: the status line, a blank line, the last cycle's dashboard. Pure.
 * @param slot - 1-based slot being run (0 before the first).
 * @param total - slots of the run.
 */
export function liveFrame(slot: number, total: number, state: string, lastCycle: string): string {
  const status = `slot ${slot} of ${total}${state ? ` · ${state.trim()}` : ''}`;
  return lastCycle ? `${status}\n\n${lastCycle}` : status;
}

/**
 * Starts the live region on `write` (the terminal's own stdout write, captured before the local
 * runtime patches `process.stdout`).
 * @param total - slots of the run (for the status line).
 * @param write - raw stdout writer.
 */
export async function createLiveDashboard(total: number, write: (s: string) => void): Promise<LiveDashboard> {
  const { createLogUpdate } = await import('log-update');
  const stream = {
    write: (s: string) => (write(s), true),
    get columns() {
      return process.stdout.columns;
    },
    get rows() {
      return process.stdout.rows;
    },
    isTTY: true,
  };
  const update = createLogUpdate(stream as unknown as NodeJS.WriteStream, { showCursor: true });
  let slot = 0;
  let state = '';
  let last = '';
  const draw = () => update(liveFrame(slot, total, state, last));
  return {
    slot(n) {
      slot = n;
      draw();
    },
    progress(line) {
      state = line;
      draw();
    },
    cycle(text) {
      last = text;
      state = '';
      draw();
    },
    log(text) {
      update.clear();
      write(text.endsWith('\n') ? text : `${text}\n`);
      draw();
    },
    done() {
      state = 'done';
      draw();
      update.done();
    },
  };
}
