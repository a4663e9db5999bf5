/**
 * EventBridge, locally: the template's rules (`cycle.triggers`, `lib/constructs/cycle-triggers.ts`)
 * matched against an injected event (`npm start -- --event FILE`), and their targets' input
 * transformers rendered, so the event starts the cycle with the input AWS would give it.
 *
 * Event patterns supported: nested objects, arrays of literal values (string, number, boolean,
 * null), and the operators `prefix`, `suffix`, `exists`, `anything-but` (a value or a list) and
 * `numeric` (`<`, `<=`, `=`, `>=`, `>` pairs). Anything else is refused (`UnsupportedEventPattern`):
 * where the runtime cannot be strict, it refuses.
 */

/** A pattern or operator the local matcher does not implement. */
export class UnsupportedEventPattern extends Error {
  constructor(message: string) {
    super(`The local runtime cannot run this event pattern: ${message}`);
    this.name = 'UnsupportedEventPattern';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function matchOne(rule: Json, value: Json | undefined, present: boolean): boolean {
  if (rule === null || typeof rule !== 'object') return present && (Array.isArray(value) ? value.some((v) => v === rule) : value === rule);
  const ops = Object.entries(rule);
  if (ops.length !== 1) throw new UnsupportedEventPattern(`operator object ${JSON.stringify(rule)}`);
  const [op, arg] = ops[0];
  const values = Array.isArray(value) ? value : [value];
  switch (op) {
    case 'exists':
      return arg === present;
    case 'prefix':
      return present && values.some((v) => typeof v === 'string' && typeof arg === 'string' && v.startsWith(arg));
    case 'suffix':
      return present && values.some((v) => typeof v === 'string' && typeof arg === 'string' && v.endsWith(arg));
    case 'anything-but': {
      const not = Array.isArray(arg) ? arg : [arg];
      if (not.some((n) => n !== null && typeof n === 'object')) throw new UnsupportedEventPattern(`anything-but ${JSON.stringify(arg)}`);
      return present && values.every((v) => !not.includes(v as Json));
    }
    case 'numeric': {
      if (!Array.isArray(arg) || arg.length % 2) throw new UnsupportedEventPattern(`numeric ${JSON.stringify(arg)}`);
      return (
        present &&
        values.some((v) => {
          if (typeof v !== 'number') return false;
          for (let i = 0; i < arg.length; i += 2) {
            const [cmp, n] = [arg[i], Number(arg[i + 1])];
            const ok = cmp === '<' ? v < n : cmp === '<=' ? v <= n : cmp === '=' ? v === n : cmp === '>=' ? v >= n : cmp === '>' ? v > n : undefined;
            if (ok === undefined) throw new UnsupportedEventPattern(`numeric comparison ${String(cmp)}`);
            if (!ok) return false;
          }
          return true;
        })
      );
    }
    default:
      throw new UnsupportedEventPattern(`operator "${op}"`);
  }
}

/**
 * True when `event` matches an EventBridge event pattern.
 * @throws {UnsupportedEventPattern} for an operator the module does not implement.
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const present = Object.prototype.hasOwnProperty.call(event, key);
    const value = event[key] as Json | undefined;
    if (Array.isArray(rule)) return rule.length > 0 && rule.some((r) => matchOne(r as Json, value, present));
    if (rule !== null && typeof rule === 'object') {
      if (!present || value === null || typeof value !== 'object' || Array.isArray(value)) return false;
      return matchesEventPattern(rule as Record<string, unknown>, value as Record<string, unknown>);
    }
    throw new UnsupportedEventPattern(`"${key}": a pattern value must be an array or an object`);
  });
}

/** Reads a JSONPath of the simple form `$.a.b` from an event. */
function pathValue(event: Record<string, unknown>, path: string): unknown {
  if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(path)) throw new UnsupportedEventPattern(`input path ${path}`);
  return path
    .split('.')
    .slice(1)
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), event);
}

/**
 * The input a rule target gives the execution: its `Input` (JSON text), or its `InputTransformer`
 * (`InputPathsMap` read from the event, each `<name>` of `InputTemplate` replaced by the JSON value),
 * or the event itself.
 */
export function renderTargetInput(
  target: { Input?: unknown; InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate?: string } },
  event: Record<string, unknown>,
): unknown {
  if (typeof target.Input === 'string') return JSON.parse(target.Input);
  const tr = target.InputTransformer;
  if (!tr) return event;
  let text = String(tr.InputTemplate ?? '');
  for (const [name, path] of Object.entries(tr.InputPathsMap ?? {})) text = text.split(`<${name}>`).join(JSON.stringify(pathValue(event, path) ?? null));
  return JSON.parse(text);
}
