/**
 * Safe mode (REDUCE: agents may only reduce exposure; cycles keep running). Anyone may switch it on (tightening
 * control is never refused); only an operator, with a reason, may switch it off (DESIGN.md section 9, "Authority
 * from IAM"). The mode write is a gate; after it, when the mode changed, the steps `notify` then `event` run by
 * `runSteps` (`step-runner.ts`), the second whatever the first did.
 */
import { ControlChangeRefused, writeMode, type ControlChange } from './control-store';
import { completeOrThrow, SafeModeRefused } from './kill-switch-errors';
import type { KillSwitchEnv, SafeModeRequest, SafeModeResult } from './kill-switch-types';
import { runSteps } from './step-runner';

/**
 * Switches safe mode on or off.
 * @throws {SafeModeRefused} when switching off from a non-operator source, for operators without a reason, or when
 *   the control store refuses the change (nothing changed).
 * @throws the mode write's own error when it failed (nothing changed).
 * @throws {KillSwitchIncomplete} when notifying or publishing failed after the mode was written.
 */
export async function setSafeMode(env: KillSwitchEnv, req: SafeModeRequest): Promise<SafeModeResult> {
  if (!req.on && req.source !== 'operator') {
    throw new SafeModeRefused(`Safe mode off refused: only an operator can switch safe mode off (source was '${req.source}', actor ${req.actor})`);
  }
  if (req.source === 'operator' && !req.reason.trim()) throw new SafeModeRefused(`Safe mode ${req.on ? 'on' : 'off'} refused: a reason is required`);
  const mode = req.on ? 'safe' : 'normal';
  let change: ControlChange;
  try {
    change = await writeMode(env.doc, env.controlTable, mode, { actor: req.actor, reason: req.reason, at: env.now() });
  } catch (err) {
    if (err instanceof ControlChangeRefused) throw new SafeModeRefused(err.message, { cause: err });
    throw err;
  }
  const { ports } = env;
  const { errors } = await runSteps([
    {
      step: 'notify',
      when: () => change.changed,
      run: () =>
        ports.notify(
          `[agent-fleet] SAFE MODE ${req.on ? 'ON' : 'OFF'}: ${req.reason}`,
          `${req.actor} switched safe mode ${req.on ? 'on (agents may only reduce exposure)' : 'off (normal trading)'}.\nReason: ${req.reason}`,
        ),
    },
    {
      step: 'event',
      when: () => change.changed,
      run: () => ports.publishEvent('SafeModeChanged', { mode, actor: req.actor, reason: req.reason, source: req.source }),
    },
  ]);
  return completeOrThrow('Safe mode', { action: req.on ? 'SAFE_MODE_ON' : 'SAFE_MODE_OFF', changed: change.changed, mode, audit: change.audit, errors });
}
