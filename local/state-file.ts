/**
 * The local runtime's state directory: `state.json` (tables, schedules, custom resources, used
 * execution names, alarms, clock, config) and `handler-logs.jsonl`, written when a runtime closes
 * and read by `--resume-state` and the ops CLI's local target. Also the template fingerprints a
 * resume compares, as a CloudFormation update compares templates.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OrchestratorConfig } from '../lib/config/schema';
import type { AlarmStateValue } from './alarms';
import type { LocalDynamo } from './dynamo';

/** What the state directory holds (`state.json`). */
export interface SavedState {
  version: 1;
  savedAt: string;
  clockMs: number;
  slotCursor: number;
  slotNumber: number;
  tables: Awaited<ReturnType<LocalDynamo['dump']>>;
  /** Each schedule's state and a hash of its template properties (a resume compares it, as CloudFormation compares templates). */
  schedules: { group: string; name: string; state: 'ENABLED' | 'DISABLED'; fingerprint?: string }[];
  /** Custom resources served by the Master: logical id -> hash of their template properties. */
  customResources?: Record<string, string>;
  executionNames: string[];
  executions: { name: string; status: string; cycle?: number; start: string; error?: string }[];
  alarms: Record<string, { value: AlarmStateValue; changedAt: number }>;
  /** The validated config of the run that saved this state (the ops target reuses it). */
  config: OrchestratorConfig;
}

/** Name of the state file in a state directory. */
export const STATE_FILE = 'state.json';

/** Name of the handler log file in a state directory (one Powertools JSON line each, with `simTime`). */
export const HANDLER_LOG_FILE = 'handler-logs.jsonl';

/** The state file's path in `stateDir`. */
export function statePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

/** A hash of a resource's template properties (32 hex characters): equal when CloudFormation would see no change. */
export function propertiesFingerprint(properties: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(properties ?? {}))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Reads the saved state of `stateDir`, or undefined when it has none.
 * @throws {Error} naming the file when it is not JSON or not a version 1 state.
 */
export function readSavedState(stateDir: string): SavedState | undefined {
  const path = statePath(stateDir);
  if (!existsSync(path)) return undefined;
  let saved: SavedState;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as SavedState;
  } catch (err) {
    throw new Error(`State file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (saved?.version !== 1) throw new Error(`State file ${path} has version ${JSON.stringify(saved?.version)}, expected 1`);
  return saved;
}

/** Writes `state.json` and `handler-logs.jsonl` into `stateDir` (created when missing). */
export function writeSavedState(stateDir: string, state: SavedState, handlerLogs: readonly string[]): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(statePath(stateDir), JSON.stringify(state, null, 1));
  writeFileSync(join(stateDir, HANDLER_LOG_FILE), handlerLogs.join('\n') + (handlerLogs.length ? '\n' : ''));
}
