/** The local EventBridge matcher and input transformer (`local/events.ts`), against the patterns `cycle.triggers` may use. */
import { matchesEventPattern, renderTargetInput } from '../../local/events';

const event = {
  id: 'e1',
  source: 'acme.news',
  'detail-type': 'Earnings',
  time: '2026-01-05T14:31:00Z',
  detail: { symbol: 'IBM', surprise: 0.07, tags: ['tech', 'dow'] },
};

describe('matchesEventPattern', () => {
  it.each([
    [{ source: ['acme.news'] }, true],
    [{ source: ['other'] }, false],
    [{ source: ['acme.news'], detail: { symbol: ['IBM', 'KO'] } }, true],
    [{ detail: { symbol: [{ prefix: 'IB' }] } }, true],
    [{ detail: { symbol: [{ suffix: 'M' }] } }, true],
    [{ detail: { symbol: [{ 'anything-but': ['IBM'] }] } }, false],
    [{ detail: { surprise: [{ numeric: ['>', 0.05, '<=', 1] }] } }, true],
    [{ detail: { surprise: [{ numeric: ['>', 0.1] }] } }, false],
    [{ detail: { missing: [{ exists: false }] } }, true],
    [{ detail: { symbol: [{ exists: false }] } }, false],
    [{ detail: { tags: ['dow'] } }, true],
    [{ detail: { nested: { x: ['y'] } } }, false],
  ])('%j -> %s', (pattern, expected) => expect(matchesEventPattern(pattern, event)).toBe(expected));
  it('refuses what it cannot evaluate', () => {
    expect(() => matchesEventPattern({ source: [{ wildcard: 'acme.*' }] }, event)).toThrow(/cannot run this event pattern: operator "wildcard"/);
    expect(() => matchesEventPattern({ source: 'acme.news' }, event)).toThrow(/must be an array or an object/);
  });
});

describe('renderTargetInput', () => {
  it('fills an input transformer with JSON values, as EventBridge does', () => {
    const target = {
      InputTransformer: {
        InputPathsMap: { id: '$.id', time: '$.time' },
        InputTemplate: '{"source":"event","trigger":"earnings","group":"default","eventId":<id>,"eventTime":<time>}',
      },
    };
    expect(renderTargetInput(target, event)).toEqual({
      source: 'event',
      trigger: 'earnings',
      group: 'default',
      eventId: 'e1',
      eventTime: '2026-01-05T14:31:00Z',
    });
    expect(renderTargetInput({ Input: '{"a":1}' }, event)).toEqual({ a: 1 });
  });
});
