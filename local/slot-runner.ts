/**
 * Schedule slots, as EventBridge Scheduler delivers them: the next fire time of every schedule
 * after the last slot, the clock moved there, the alarms evaluated up to it, then each due
 * schedule's execution started (a disabled schedule fires nothing and its slot is reported
 * NOT_STARTED) and waited for. Schedule faults (`--fail schedule=MODE@N`, `faults.ts`) change the
 * delivery: `late` delivers after the lateness limit, `duplicate` twice with two execution ids,
 * `overlap` delivers the next slot while this slot's cycle is still running (past "Plan cycle").
 */
import type { OrchestratorConfig } from '../lib/config/schema';
import { scheduledExecution } from './deploy-update';
import type { LocalExecution } from './executions';
import { faultFor, type Fault } from './faults';
import type { CycleReport } from './report';
import { nextFireTime, scheduleId, slotExecutionName, type LocalSchedule } from './schedules';
import type { SimClock } from './sim-clock';

/** What the slot runner drives. */
export interface SlotRunnerDeps {
  readonly schedules: LocalSchedule[];
  readonly clock: Pick<SimClock, 'advanceTo'>;
  /** Epoch of the schedules' rate expressions (simulated epoch ms). */
  readonly epochMs: number;
  /** `config.cycle.maxLatenessSeconds` (a `late` delivery comes 60 s after it). */
  readonly maxLatenessSeconds: OrchestratorConfig['cycle']['maxLatenessSeconds'];
  readonly faults: readonly Fault[];
  /** Starts an execution (StartExecution). */
  readonly start: (name: string, input: unknown, cycle: number) => LocalExecution;
  /** Waits for an execution and builds its cycle report (also recorded by the runtime). */
  readonly finish: (exec: LocalExecution, slot: string, schedule: string) => Promise<CycleReport>;
  /** Records the report of a slot that started nothing. */
  readonly skipped: (report: CycleReport) => void;
  /** Evaluates the alarms up to the clock's time. */
  readonly evaluateAlarms: () => Promise<void>;
  readonly progress: (line: string) => void;
  /** Resolves once an execution is past "Plan cycle" (or ended). @default polls its events every 2 ms wall */
  readonly untilPlanned?: (exec: LocalExecution) => Promise<void>;
}

/** The report of a slot whose schedule is disabled. */
export function disabledSlotReport(cycle: number, slotIso: string, s: LocalSchedule): CycleReport {
  return {
    cycle,
    cycleId: '',
    slot: slotIso,
    schedule: scheduleId(s),
    status: 'NOT_STARTED',
    reason: 'skipped: schedule disabled',
    durationMs: 0,
    wallMs: 0,
    risk: { verdict: null, reasons: [] },
    agents: [],
    transitions: 0,
  };
}

async function pollUntilPlanned(exec: LocalExecution): Promise<void> {
  while (exec.status === 'RUNNING' && !exec.events.some((e) => e.type === 'StateExited' && (e.state as { name?: string } | undefined)?.name === 'Plan cycle')) {
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Runs schedule slots; its position (`cursor`, `number`) is saved with the state and restored on resume. */
export class SlotRunner {
  /** The last slot's time (simulated epoch ms): the next slot is strictly after it. */
  cursor: number;
  /** Slots run so far (the 1-based number of the last one). */
  number: number;
  /** Executions of earlier slots still running when the next slot is delivered (`schedule=overlap`). */
  private readonly carried: { exec: LocalExecution; slotIso: string; schedule: string }[] = [];

  constructor(
    private readonly deps: SlotRunnerDeps,
    position: { cursor: number; number: number },
  ) {
    this.cursor = position.cursor;
    this.number = position.number;
  }

  private nextTimes(): number[] {
    return this.deps.schedules.map((s) => nextFireTime(s.expression, s.timezone, this.cursor, this.deps.epochMs));
  }

  /**
   * Simulates the next `n` slots; returns their cycle reports (a cycle carried by an `overlap` fault
   * is reported with the next slot). After the last slot, the alarms are evaluated up to the next slot time.
   */
  async run(n: number): Promise<CycleReport[]> {
    const d = this.deps;
    const out: CycleReport[] = [];
    const scheduleFault = (k: number) => faultFor(d.faults, 'schedule', k)?.mode;
    for (let i = 0; i < n; i++) {
      const times = this.nextTimes();
      const slotMs = Math.min(...times);
      this.cursor = slotMs;
      const slot = ++this.number;
      d.clock.advanceTo(slotMs);
      await d.evaluateAlarms();
      const slotIso = new Date(slotMs).toISOString();
      d.progress(`slot ${slot} ${slotIso}`);
      for (const s of d.schedules.filter((_, k) => times[k] === slotMs)) {
        if (s.state !== 'ENABLED') {
          const rep = disabledSlotReport(slot, slotIso, s);
          d.skipped(rep);
          out.push(rep);
          d.progress(`  #${slot} skipped: schedule ${scheduleId(s)} disabled`);
          continue;
        }
        const deliver = (executionId: string) => {
          const { name, input } = scheduledExecution(s, slotIso, executionId);
          return d.start(name, input, slot);
        };
        const executionId = slotExecutionName(s, slotMs);
        if (scheduleFault(slot) === 'late') d.clock.advanceTo(slotMs + (d.maxLatenessSeconds + 60) * 1000);
        const execs = [deliver(executionId)];
        if (scheduleFault(slot) === 'duplicate') execs.push(deliver(`${executionId.slice(0, 70)}-redeliver`));
        if (scheduleFault(slot + 1) === 'overlap') {
          // The next slot arrives while this cycle still runs: deliver it once this one is past "Plan cycle".
          for (const exec of execs) this.carried.push({ exec, slotIso, schedule: scheduleId(s) });
          await (d.untilPlanned ?? pollUntilPlanned)(execs[0]);
          continue;
        }
        for (const c of this.carried.splice(0)) out.push(await d.finish(c.exec, c.slotIso, c.schedule));
        for (const exec of execs) out.push(await d.finish(exec, slotIso, scheduleId(s)));
      }
    }
    // A cycle still running for the next slot's overlap (schedule=overlap) is reported with that slot.
    if (this.carried.length) return out;
    // Let the alarms see the last slot's datapoints: evaluate up to the next slot time.
    d.clock.advanceTo(Math.min(...this.nextTimes()) - 1);
    await d.evaluateAlarms();
    return out;
  }
}
