/**
 * The local runtime's simulated clock.
 *
 * Model (documented in docs/local.md, "Time scaling"):
 * - while at least one real handler is computing (for less than {@link SimClockOptions.activeCapMs}
 *   wall ms, default 10 s), the clock runs at real speed (1 wall ms = 1 simulated ms), so handler durations and
 *   their timeouts are measured like in Lambda and never cut spuriously by a busy machine;
 * - otherwise (everything is waiting: retry backoffs, an agent that hangs until its timeout,
 *   timers) it runs `timeScale` times faster: 1 wall ms = `timeScale` simulated ms, so an agent cut
 *   at its 300 s timeout costs 0.3 s wall at the default scale 1000;
 * - between schedule slots the runtime jumps the clock with {@link SimClock.advanceTo}.
 * A handler that computes for longer than `activeCapMs` stops counting as active, so a real
 * handler that hangs is still cut on the scaled clock.
 *
 * An agent in a worker thread (`agent-workers.ts`) marks itself active with an idle meter
 * ({@link ActiveOptions.idleMs}, its event loop's idle time): only the time it waits counts
 * towards the cap, the time it computes never does. So an agent that busy-loops 15 s keeps the clock
 * at real speed for those 15 s (15 simulated s, 1:1), and one that awaits something that never
 * comes stops holding the clock after `activeCapMs` of waiting.
 */

/** Options of {@link SimClock}. */
export interface SimClockOptions {
  /** Simulated epoch ms at start. */
  startMs: number;
  /** Simulated ms per wall ms while nothing computes. Default 1000. Must be >= 1. */
  timeScale?: number;
  /** Wall ms after which a still-running handler no longer holds the clock at real speed. Default 10,000. */
  activeCapMs?: number;
  /** Wall clock source in ms (tests inject one). Default `performance.now()`. */
  wallNow?: () => number;
}

interface Timer {
  at: number;
  fire: () => void;
}

/** Options of {@link SimClock.beginActive}. */
export interface ActiveOptions {
  /**
   * Wall ms the handler has spent waiting (idle) since it began, e.g. a worker's event loop idle
   * time (`worker.performance.eventLoopUtilization(start).idle`). Given: the cap counts this
   * idle time only, so computing never ends the hold. Omitted: the cap counts wall time since begin.
   */
  idleMs?: () => number;
}

interface Active {
  startedWall: number;
  idleMs?: () => number;
  /** Wall time at which an idle-metered hold reached the cap (frozen once reached). */
  expiredAtWall?: number;
}

/** A monotonic simulated clock with scaled waiting (see the module doc). */
export class SimClock {
  readonly timeScale: number;
  private readonly activeCapMs: number;
  private readonly wallNow: () => number;
  private anchorSim: number;
  private anchorWall: number;
  private readonly active = new Map<number, Active>();
  private lastNow = -Infinity;
  private nextActiveId = 1;
  private timers: Timer[] = [];
  private disposed = false;
  private wake: NodeJS.Timeout | undefined;
  private capCheck: NodeJS.Timeout | undefined;

  constructor(opts: SimClockOptions) {
    this.timeScale = opts.timeScale ?? 1000;
    if (!(this.timeScale >= 1)) throw new Error(`timeScale must be >= 1, got ${opts.timeScale}`);
    this.activeCapMs = opts.activeCapMs ?? 10_000;
    this.wallNow = opts.wallNow ?? (() => performance.now());
    this.anchorSim = opts.startMs;
    this.anchorWall = this.wallNow();
  }

  /** Wall time until which one hold keeps the clock at real speed (for an idle-metered one not yet expired: now + the idle time left). */
  private holdUntil(a: Active, w: number): number {
    if (!a.idleMs) return a.startedWall + this.activeCapMs;
    if (a.expiredAtWall !== undefined) return a.expiredAtWall;
    const idle = Math.max(0, a.idleMs());
    // Idle time grows at most 1:1 with wall time, so the cap was reached `idle - cap` ms ago.
    if (idle >= this.activeCapMs) return (a.expiredAtWall = w - (idle - this.activeCapMs));
    return w + (this.activeCapMs - idle);
  }

  /** Wall time until which some handler holds the clock at real speed (-Infinity when none). */
  private slowUntil(): number {
    let until = -Infinity;
    const w = this.wallNow();
    for (const a of this.active.values()) until = Math.max(until, this.holdUntil(a, w));
    return until;
  }

  /** Wall time from which the clock runs scaled: only while something waits on it (a timer) and no handler computes. */
  private fastFrom(): number {
    return this.timers.length ? Math.max(this.anchorWall, this.slowUntil()) : Infinity;
  }

  /** Current rate: simulated ms per wall ms. */
  rate(): number {
    return this.wallNow() >= this.fastFrom() ? this.timeScale : 1;
  }

  /** Simulated epoch ms (piecewise: real speed, then scaled from {@link fastFrom}); never goes back except by {@link reset}. */
  now(): number {
    const w = this.wallNow();
    const fast = Math.min(w, this.fastFrom());
    const t = this.anchorSim + (fast - this.anchorWall) + (w - fast) * this.timeScale;
    this.lastNow = Math.max(this.lastNow, t);
    return this.lastNow;
  }

  /**
   * Sets the clock (also backwards). Only for setup: the runtime calls it once before the first
   * slot, so synthesis and module loading cost no simulated time.
   */
  reset(atMs: number): void {
    this.lastNow = -Infinity;
    this.anchorSim = atMs;
    this.anchorWall = this.wallNow();
    this.schedule();
  }

  /** Simulated time as ISO 8601. */
  iso(): string {
    return new Date(this.now()).toISOString();
  }

  private reanchor(): void {
    this.anchorSim = this.now();
    this.anchorWall = this.wallNow();
  }

  /**
   * Marks a real handler as computing; returns the function that marks it done. While any handler
   * is computing (up to `activeCapMs` wall, or of idle time with {@link ActiveOptions.idleMs}), the
   * clock runs at real speed.
   */
  beginActive(opts: ActiveOptions = {}): () => void {
    this.reanchor();
    const id = this.nextActiveId++;
    this.active.set(id, { startedWall: this.wallNow(), idleMs: opts.idleMs });
    this.schedule();
    return () => {
      if (!this.active.has(id)) return;
      this.reanchor();
      this.active.delete(id);
      this.schedule();
    };
  }

  /** Resolves when the simulated clock reaches `atMs`. */
  until(atMs: number): Promise<void> {
    return this.timer(atMs).promise;
  }

  /** Like {@link until}, with `cancel()` (the promise then never resolves and holds no wall timer). */
  timer(atMs: number): { promise: Promise<void>; cancel: () => void } {
    let entry!: Timer;
    const promise = new Promise<void>((resolve) => {
      this.reanchor();
      entry = { at: atMs, fire: resolve };
      this.timers.push(entry);
      this.schedule();
    });
    return {
      promise,
      cancel: () => {
        if (!this.timers.includes(entry)) return;
        this.reanchor();
        this.timers = this.timers.filter((t) => t !== entry);
        this.schedule();
      },
    };
  }

  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number): Promise<void> {
    return this.until(this.now() + Math.max(0, ms));
  }

  /**
   * Jumps the clock forward to `atMs` (no-op when already past it), firing due timers. Used between
   * schedule slots, when nothing is in flight.
   */
  advanceTo(atMs: number): void {
    const now = this.now();
    if (atMs > now) {
      this.lastNow = atMs;
      this.anchorSim = atMs;
      this.anchorWall = this.wallNow();
    }
    this.schedule();
  }

  /** Stops pending wall timers (pending sleeps never resolve); later timers and holds start no wall timer. */
  dispose(): void {
    this.disposed = true;
    if (this.wake) clearTimeout(this.wake);
    if (this.capCheck) clearTimeout(this.capCheck);
    this.timers = [];
  }

  private schedule(): void {
    if (this.disposed) return;
    if (this.wake) clearTimeout(this.wake);
    if (this.capCheck) clearTimeout(this.capCheck);
    this.wake = undefined;
    this.capCheck = undefined;
    const now = this.now();
    const due = this.timers.filter((t) => t.at <= now);
    if (due.length) {
      this.reanchor();
      this.timers = this.timers.filter((t) => t.at > now);
      for (const t of due) t.fire();
    }
    if (!this.timers.length) return;
    const next = Math.min(...this.timers.map((t) => t.at));
    const rate = this.rate();
    this.wake = setTimeout(() => this.schedule(), Math.max(0, Math.ceil((next - now) / rate)));
    if (rate === 1 && this.active.size && this.timers.length) {
      // When the oldest active handler reaches the cap, the rate changes: re-plan then.
      const w = this.wallNow();
      const capIn = Math.min(...[...this.active.values()].map((a) => this.holdUntil(a, w) - w).filter((x) => x > 0));
      if (Number.isFinite(capIn)) {
        this.capCheck = setTimeout(
          () => {
            this.reanchor();
            this.schedule();
          },
          Math.ceil(capIn) + 1,
        );
      }
    }
  }
}
