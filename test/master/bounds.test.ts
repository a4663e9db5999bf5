/**
 * boundActor (lambdas/master/bounds.ts): a halt is never refused for the size of its actor; long
 * actors are cut to MAX_ACTOR_CHARS with an ellipsis, whitespace is collapsed, empty is "(unknown)".
 */
import { boundActor, MAX_ACTOR_CHARS } from '../../lambdas/master/bounds';

describe('boundActor', () => {
  it('keeps a normal actor, collapsing whitespace', () => {
    expect(boundActor('  operator:alice \n via  console ')).toBe('operator:alice via console');
  });
  it('cuts a long actor to MAX_ACTOR_CHARS characters ending in …', () => {
    const cut = boundActor('x'.repeat(10_000));
    expect(cut).toHaveLength(MAX_ACTOR_CHARS);
    expect(cut.endsWith('…')).toBe(true);
    expect(boundActor('y'.repeat(MAX_ACTOR_CHARS))).toBe('y'.repeat(MAX_ACTOR_CHARS));
  });
  it('an empty or blank actor is (unknown)', () => {
    expect(boundActor('')).toBe('(unknown)');
    expect(boundActor(' \t\n')).toBe('(unknown)');
  });
});
