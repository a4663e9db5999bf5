/** The slot runner: fire times, disabled schedules, alarm evaluation around slots, and the late / duplicate / overlap deliveries. */
import type { LocalExecution } from '../../local/executions';
import { parseFault } from '../../local/faults';
import type { CycleReport } from '../../local/report';
import type { LocalSchedule } from '../../local/schedules';
import { SlotRunner, type SlotRunnerDeps } from '../../local/slot-runner';

const EPOCH = Date.parse('2026-01-05T14:30:00.000Z');
const schedule = (over: Partial<LocalSchedule> = {}): LocalSchedule => ({
  name: 'cycle-default',
  group: 'default',
  expression: 'rate(15 minutes)',
  timezone: 'UTC',
  state: 'ENABLED',
  targetArn: 'arn:aws:states:local:000000000000:stateMachine:Cycle',
  input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
  ...over,
});

/** A runner on recorded fakes: `start` records the delivery, `finish` reports it at once. */
function runner(schedules: LocalSchedule[], faults: string[] = []) {
  const events: string[] = [];
  let clockMs = EPOCH - 450_000;
  const deps: SlotRunnerDeps = {
    schedules,
    clock: { advanceTo: (ms: number) => void (clockMs = Math.max(clockMs, ms)) },
    epochMs: EPOCH,
    maxLatenessSeconds: 300,
    faults: faults.map((f) => parseFault(f)),
    start: (name, input, cycle) => {
      events.push(`start ${name} #${cycle} at ${new Date(clockMs).toISOString()} ${JSON.stringify(input)}`);
      return { name, status: 'RUNNING', events: [] } as unknown as LocalExecution;
    },
    finish: async (exec, slot, schedule) => {
      events.push(`finish ${exec.name}`);
      return { cycle: 0, cycleId: exec.name, slot, schedule, status: 'SUCCEEDED' } as CycleReport;
    },
    skipped: (rep) => void events.push(`skipped #${rep.cycle} ${rep.reason}`),
    evaluateAlarms: async () => void events.push(`alarms at ${new Date(clockMs).toISOString()}`),
    progress: () => undefined,
    untilPlanned: async (exec) => void events.push(`planned ${exec.name}`),
  };
  return { slots: new SlotRunner(deps, { cursor: clockMs, number: 0 }), events };
}

describe('SlotRunner', () => {
  it('runs the next slots at the fire times, alarms before each, and up to the next slot after the last', async () => {
    const { slots, events } = runner([schedule()]);
    const reps = await slots.run(2);
    expect(reps.map((r) => r.slot)).toEqual(['2026-01-05T14:30:00.000Z', '2026-01-05T14:45:00.000Z']);
    expect(events).toEqual([
      'alarms at 2026-01-05T14:30:00.000Z',
      'start cycle-default-20260105T143000Z #1 at 2026-01-05T14:30:00.000Z {"scheduledTime":"2026-01-05T14:30:00.000Z"}',
      'finish cycle-default-20260105T143000Z',
      'alarms at 2026-01-05T14:45:00.000Z',
      'start cycle-default-20260105T144500Z #2 at 2026-01-05T14:45:00.000Z {"scheduledTime":"2026-01-05T14:45:00.000Z"}',
      'finish cycle-default-20260105T144500Z',
      'alarms at 2026-01-05T14:59:59.999Z',
    ]);
    expect([slots.number, slots.cursor]).toEqual([2, Date.parse('2026-01-05T14:45:00.000Z')]);
  });

  it('a disabled schedule starts nothing: its slot is reported NOT_STARTED', async () => {
    const { slots, events } = runner([schedule({ state: 'DISABLED' })]);
    const [rep] = await slots.run(1);
    expect([rep.status, rep.reason, rep.cycle]).toEqual(['NOT_STARTED', 'skipped: schedule disabled', 1]);
    expect(events.filter((e) => e.startsWith('start'))).toEqual([]);
  });

  it('schedule faults: late after the lateness limit, duplicate with a second id, overlap waits for the next slot', async () => {
    const late = runner([schedule()], ['schedule=late@1']);
    await late.slots.run(1);
    expect(late.events[1]).toMatch(/ at 2026-01-05T14:36:00\.000Z /); // 300 s + 60 s late
    const dup = runner([schedule()], ['schedule=duplicate@1']);
    await dup.slots.run(1);
    expect(dup.events.filter((e) => e.startsWith('start')).map((e) => e.split(' ')[1])).toEqual([
      'cycle-default-20260105T143000Z',
      'cycle-default-20260105T143000Z-redeliver',
    ]);
    const overlap = runner([schedule()], ['schedule=overlap@2']);
    expect(await overlap.slots.run(1)).toEqual([]); // slot 1 still runs when slot 2 arrives
    const next = await overlap.slots.run(1);
    expect(next.map((r) => r.cycleId)).toEqual(['cycle-default-20260105T143000Z', 'cycle-default-20260105T144500Z']);
    expect(overlap.events.indexOf('planned cycle-default-20260105T143000Z')).toBeLessThan(overlap.events.indexOf('alarms at 2026-01-05T14:45:00.000Z'));
  });
});
