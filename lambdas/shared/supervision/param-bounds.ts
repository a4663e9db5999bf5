/**
 * Bounded parameter changes: the supervisor may tune an agent's numeric parameters, but never
 * beyond `maxParamAdjustFraction` of the configured value (autonomy boundary R-PARAM-BOUNDS: ±20 %;
 * config `supervisor.maxParamAdjustFraction`, at most 0.2).
 *
 * Pure functions only.
 */
import type { AgentParams, HealthStatus, ParamChange } from '../contracts';

/** One requested change: set `param` to `to` (a number) because of `reason`. */
export interface ParamChangeRequest {
  readonly param: string;
  readonly to: number;
  readonly reason: string;
}

/** Fraction by which the planner scales down position sizes of an agent that is not HEALTHY. */
export const DEGRADED_SIZE_REDUCTION = 0.1;

/**
 * Bounds of a numeric parameter: `[configured * (1 - f), configured * (1 + f)]` (ordered, so a
 * negative configured value works too; a configured 0 can only stay 0).
 */
export function paramBounds(configured: number, maxFraction: number): { min: number; max: number } {
  const a = configured * (1 - maxFraction);
  const b = configured * (1 + maxFraction);
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/**
 * Applies requested changes to an agent's parameters, each clamped to ±`maxFraction` of its
 * configured value. Requests apply in order; `from` is the value before that request.
 *
 * @param agent - agent name (copied into each {@link ParamChange}).
 * @param configured - the configured parameters (never mutated).
 * @param requests - the changes wanted.
 * @param maxFraction - allowed relative change, 0..0.2 (±20 %, R-PARAM-BOUNDS).
 * @returns the new parameters and one change record per request that changed a value (a request
 *   that changes nothing, after clamping, is not recorded). A clamped request's reason ends with
 *   `(clamped to ±<pct> % of configured)`.
 * @throws {Error} when a request names a parameter that is missing or not a number, or `to` is
 *   not finite, or `maxFraction` is outside 0..0.2.
 */
export function applyBoundedChanges(
  agent: string,
  configured: AgentParams,
  requests: readonly ParamChangeRequest[],
  maxFraction: number,
): { params: AgentParams; changes: ParamChange[] } {
  if (!(maxFraction >= 0 && maxFraction <= 0.2)) throw new Error(`maxParamAdjustFraction must be within 0..0.2, got ${maxFraction}`);
  const params: AgentParams = { ...configured };
  const changes: ParamChange[] = [];
  for (const req of requests) {
    const base = configured[req.param];
    if (typeof base !== 'number') throw new Error(`Cannot adjust ${agent}.${req.param}: not a numeric configured parameter`);
    if (!Number.isFinite(req.to)) throw new Error(`Cannot adjust ${agent}.${req.param}: target ${req.to} is not a finite number`);
    const { min, max } = paramBounds(base, maxFraction);
    const to = Math.min(max, Math.max(min, req.to));
    const from = params[req.param] as number;
    if (to === from) continue;
    params[req.param] = to;
    const clamped = to !== req.to;
    changes.push({
      agent,
      param: req.param,
      configured: base,
      from,
      to,
      reason: clamped ? `${req.reason} (clamped to ±${Math.round(maxFraction * 100)} % of configured)` : req.reason,
    });
  }
  return { params, changes };
}

/**
 * The planner's policy: an agent that is DEGRADED or UNHEALTHY gets every numeric parameter whose
 * name ends in `Usd` (a position size in USD) scaled down by {@link DEGRADED_SIZE_REDUCTION} (10 %, rounded to cents),
 * clamped to ±`maxFraction` of configured. HEALTHY agents run with their configured parameters.
 */
export function healthAdjustments(
  agent: string,
  configured: AgentParams,
  health: HealthStatus,
  maxFraction: number,
): { params: AgentParams; changes: ParamChange[] } {
  if (health === 'HEALTHY') return { params: { ...configured }, changes: [] };
  const requests = Object.entries(configured)
    .filter(([name, value]) => name.endsWith('Usd') && typeof value === 'number')
    .map(([name, value]) => ({
      param: name,
      to: Math.round((value as number) * (1 - DEGRADED_SIZE_REDUCTION) * 100) / 100,
      reason: `agent ${health}: position size reduced by ${DEGRADED_SIZE_REDUCTION * 100} %`,
    }));
  return applyBoundedChanges(agent, configured, requests, maxFraction);
}
