/**
 * Definition loading and checks of the local runtime: what it refuses before starting anything.
 *
 * - the fleet's overlap policies: `BUFFER_ONE` waits in wall time, which the runtime cannot simulate;
 * - the market data file: readable and a CSV;
 * - the state machine: exactly one in the template, its definition (with the template's
 *   substitutions) equal to `renderCycleDefinition(config)` (the deployed file is what runs), and
 *   bridged for the interpreter (`bridges.ts`), which refuses what it cannot run.
 */
import { readFileSync } from 'node:fs';
import { overlapPolicyOf, type OrchestratorConfig } from '../lib/config/schema';
import { renderCycleDefinition, substituteArns, type AslDefinition } from '../lib/state-machine/definition';
import { bridgeDefinition, type BridgeNotes } from './bridges';
import type { CfnTemplate, LocalTemplate } from './template';

/**
 * Refuses a fleet the runtime cannot run as AWS would.
 * @throws {Error} naming the groups with overlap policy `BUFFER_ONE`.
 */
export function assertRunnableLocally(config: OrchestratorConfig): void {
  const buffered = [...new Set(config.agents.map((a) => a.group))].filter((g) => overlapPolicyOf(config, g) === 'BUFFER_ONE');
  if (buffered.length) {
    throw new Error(
      `The local runtime cannot run overlap policy BUFFER_ONE (groups ${buffered.join(', ')}): its "Wait for the running cycle" state would wait in wall time; use SKIP or ALLOW_ALL locally`,
    );
  }
}

/**
 * Checks that the market data file is readable and looks like a CSV (a comma in its first 2,000 characters).
 * @throws {Error} `Market data file PATH is unreadable: why`.
 */
export function assertMarketDataReadable(path: string): void {
  try {
    const head = readFileSync(path, 'utf8').slice(0, 2000);
    if (!head.includes(',')) throw new Error('not a CSV (no comma in the first line)');
  } catch (err) {
    throw new Error(`Market data file ${path} is unreadable: ${(err as Error).message}`, { cause: err });
  }
}

/** The cycle state machine as the interpreter runs it. */
export interface LoadedDefinition {
  /** The bridged definition (`bridges.ts`). */
  readonly definition: Record<string, unknown>;
  /** What the bridges need at run time (timeouts, retries, retry-count keys, task states). */
  readonly notes: BridgeNotes;
  /** The state machine's local ARN. */
  readonly stateMachineArn: string;
}

/**
 * Loads the template's one state machine and checks it against the rendered definition.
 * @throws {Error} when the template has not exactly one state machine, when its definition differs
 *   from `renderCycleDefinition(config)`, or (`UnsupportedDefinitionError`) when the interpreter
 *   cannot run it.
 */
export function loadCycleDefinition(template: CfnTemplate, tpl: LocalTemplate, config: OrchestratorConfig): LoadedDefinition {
  const smIds = tpl.ofType('AWS::StepFunctions::StateMachine');
  if (smIds.length !== 1) throw new Error(`Expected one state machine in the template, found ${smIds.length}`);
  const smId = smIds[0];
  const smProps = template.Resources[smId].Properties ?? {};
  const defText = String(tpl.resolve(smProps.DefinitionString));
  const subs = tpl.resolve(smProps.DefinitionSubstitutions ?? {}) as Record<string, string>;
  const synthesized = JSON.parse(defText.replace(/\$\{([A-Za-z0-9]+)\}/g, (m, n: string) => (n in subs ? subs[n] : m))) as AslDefinition;
  const expected = substituteArns(renderCycleDefinition(config), subs as never);
  if (JSON.stringify(synthesized) !== JSON.stringify(expected)) {
    throw new Error(
      'The synthesized state machine definition differs from statemachines/cycle.asl.json rendered for this config; the local runtime only runs the deployed file',
    );
  }
  const { definition, notes } = bridgeDefinition(synthesized as unknown as Record<string, unknown>);
  return { definition, notes, stateMachineArn: tpl.arn(smId) };
}
