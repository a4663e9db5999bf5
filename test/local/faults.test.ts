/**
 * Fault specs of npm start --fail (local/faults.ts): parsing and which invocation a fault hits.
 */
import { faultFor, parseFault } from '../../local/faults';

describe('parseFault', () => {
  const known = ['trading', 'risk'];
  it('parses modes and ranges', () => {
    expect(parseFault('trading=throw', known)).toEqual({ target: 'trading', mode: 'throw' });
    expect(parseFault('risk=timeout@3', known)).toEqual({ target: 'risk', mode: 'timeout', first: 3, last: 3 });
    expect(parseFault('trading=garbage@2-4', known)).toEqual({ target: 'trading', mode: 'garbage', first: 2, last: 4 });
    expect(parseFault('trading=throw@2-', known)).toEqual({ target: 'trading', mode: 'throw', first: 2 });
  });
  it.each([
    ['nobody=throw', /unknown agent "nobody"/],
    ['trading=explode', /unknown mode/],
    ['trading=throw@5-2', /empty/],
    ['trading=throw@0', /start at 1/],
    ['trading', /expected TARGET=MODE/],
    ['schedule=throw@2', /mode "throw" does not apply to "schedule" \(use duplicate, late, overlap\)/],
    ['plan=timeout', /does not apply to "plan" \(use throw, down\)/],
    ['trading=duplicate', /does not apply to an agent/],
  ])('refuses %s', (spec, re) => expect(() => parseFault(spec, known)).toThrow(re));
  it('parses schedule and supervisor-step faults whatever the agent names', () => {
    expect(parseFault('schedule=duplicate@2', known)).toEqual({ target: 'schedule', mode: 'duplicate', first: 2, last: 2 });
    expect(parseFault('plan=throw@2', known)).toEqual({ target: 'plan', mode: 'throw', first: 2, last: 2 });
    expect(parseFault('record=throw', known)).toEqual({ target: 'record', mode: 'throw' });
  });
  it('applies a fault only inside its range', () => {
    const f = [parseFault('trading=throw@2-3')];
    expect([1, 2, 3, 4].map((c) => Boolean(faultFor(f, 'trading', c)))).toEqual([false, true, true, false]);
    expect(faultFor(f, 'risk', 2)).toBeUndefined();
  });
});
