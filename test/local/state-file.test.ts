/** The state directory: write then read back, no state, a broken file named, fingerprints. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDLER_LOG_FILE, propertiesFingerprint, readSavedState, statePath, writeSavedState, type SavedState } from '../../local/state-file';
import { validateConfig } from '../../lib/config/schema';
import defaults from '../fixtures/fleet';

const state = (): SavedState => ({
  version: 1,
  savedAt: '2026-01-05T15:00:00.000Z',
  clockMs: 1_767_625_200_000,
  slotCursor: 1_767_625_200_000,
  slotNumber: 3,
  tables: {} as SavedState['tables'],
  schedules: [{ group: 'default', name: 'cycle', state: 'DISABLED', fingerprint: 'abc' }],
  executionNames: ['a', 'b'],
  executions: [{ name: 'a', status: 'SUCCEEDED', cycle: 1, start: '2026-01-05T14:45:00.000Z' }],
  alarms: { FleetErrors: { value: 'OK', changedAt: 0 } },
  config: validateConfig(defaults),
});

describe('state file', () => {
  it('writes state.json and handler-logs.jsonl into a new directory and reads the state back', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'state-file-')), 'nested', 'state');
    writeSavedState(dir, state(), ['{"level":"WARN"}', '{"level":"INFO"}']);
    expect(readSavedState(dir)).toEqual(state());
    expect(readFileSync(join(dir, HANDLER_LOG_FILE), 'utf8')).toBe('{"level":"WARN"}\n{"level":"INFO"}\n');
  });

  it('no state file: undefined; a broken or foreign one: an error naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-file-'));
    expect(readSavedState(dir)).toBeUndefined();
    writeFileSync(statePath(dir), '{ nope');
    expect(() => readSavedState(dir)).toThrow(new RegExp(`State file ${statePath(dir).replace(/[/\\.]/g, '\\$&')} is not valid JSON`));
    writeFileSync(statePath(dir), JSON.stringify({ version: 2 }));
    expect(() => readSavedState(dir)).toThrow(/has version 2, expected 1/);
  });

  it('fingerprints equal for equal properties, different otherwise', () => {
    expect(propertiesFingerprint({ a: 1 })).toBe(propertiesFingerprint({ a: 1 }));
    expect(propertiesFingerprint({ a: 1 })).not.toBe(propertiesFingerprint({ a: 2 }));
    expect(propertiesFingerprint(undefined)).toMatch(/^[0-9a-f]{32}$/);
  });
});
