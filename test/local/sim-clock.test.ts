import { SimClock } from '../../local/sim-clock';

describe('SimClock', () => {
  it('runs at real speed when nothing waits on it, scaled while a timer is pending and no handler computes', () => {
    let wall = 0;
    const c = new SimClock({ startMs: 1_000_000, timeScale: 1000, wallNow: () => wall });
    wall = 10;
    expect(c.now()).toBe(1_000_010);
    const t = c.timer(c.now() + 60_000);
    wall = 20;
    expect(c.now()).toBe(1_000_010 + 10_000);
    const done = c.beginActive();
    wall = 30;
    expect(c.now()).toBe(1_000_010 + 10_000 + 10); // a handler computes: real speed
    done();
    t.cancel();
    c.dispose();
  });

  it('a handler computing longer than activeCapMs no longer holds the clock back', () => {
    let wall = 0;
    const c = new SimClock({ startMs: 0, timeScale: 100, activeCapMs: 50, wallNow: () => wall });
    c.beginActive();
    const t = c.timer(1e9);
    wall = 50;
    expect(c.now()).toBe(50);
    wall = 60;
    expect(c.now()).toBe(50 + 10 * 100);
    t.cancel();
    c.dispose();
  });

  it('an idle-metered hold (an agent in a worker) keeps real speed while it computes, however long, and lets go after activeCapMs of waiting', () => {
    let wall = 0;
    let idle = 0;
    const c = new SimClock({ startMs: 0, timeScale: 100, activeCapMs: 50, wallNow: () => wall });
    const done = c.beginActive({ idleMs: () => idle });
    const t = c.timer(1e9); // someone waits on the clock (another agent's deadline)
    wall = 15_000; // busy 15 s: idle stays 0, the clock runs 1:1
    expect(c.now()).toBe(15_000);
    idle = 30; // then waits 30 ms: still under the cap
    wall = 15_030;
    expect(c.now()).toBe(15_030);
    idle = 80; // 50 ms more of waiting: the cap (50 ms of idle) was reached 30 ms ago
    wall = 15_080;
    expect(c.now()).toBe(15_050 + 30 * 100);
    // Expired for good: computing again does not slow the clock, and it never goes back.
    idle = 80;
    wall = 15_090;
    expect(c.now()).toBe(15_050 + 40 * 100);
    done();
    t.cancel();
    c.dispose();
  });

  it('sleep resolves on the simulated clock: 300 s at scale 1000 takes 0.3 s wall (fake timers, no wall-clock assert)', async () => {
    jest.useFakeTimers({ now: 0 });
    const c = new SimClock({ startMs: 0, timeScale: 1000, wallNow: () => Date.now() });
    try {
      let done = false;
      const slept = c.sleep(300_000).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(290);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(20);
      await slept;
      expect(done).toBe(true);
      expect(c.now()).toBeGreaterThanOrEqual(300_000);
      expect(c.now()).toBeLessThan(300_000 + 20 * 1000);
    } finally {
      c.dispose();
      jest.useRealTimers();
    }
  });

  it('reset and advanceTo move the clock; advanceTo never goes back', () => {
    const c = new SimClock({ startMs: 5_000, timeScale: 1000 });
    c.reset(100);
    expect(c.now()).toBeLessThan(1_000);
    c.advanceTo(50);
    expect(c.now()).toBeGreaterThanOrEqual(100);
    c.advanceTo(10_000_000);
    expect(c.now()).toBeGreaterThanOrEqual(10_000_000);
    expect(() => new SimClock({ startMs: 0, timeScale: 0.5 })).toThrow(/timeScale/);
    c.dispose();
  });
});
