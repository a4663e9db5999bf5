/**
 * Lambda settings come from `<NAME>` (JSON) or, when that is unset, from the file `<NAME>_FILE`;
 * every failure names the source and the field.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { readSettings } from '../../lambdas/shared/settings';

const schema = z.object({ maxWorkers: z.number().int().min(1) });
const dir = mkdtempSync(join(tmpdir(), 'settings-'));

afterEach(() => {
  delete process.env.TEST_SETTINGS;
  delete process.env.TEST_SETTINGS_FILE;
});

test('reads the variable first, then the file', () => {
  const file = join(dir, 'ok.json');
  writeFileSync(file, '{"maxWorkers": 7}');
  process.env.TEST_SETTINGS_FILE = file;
  expect(readSettings('TEST_SETTINGS', schema)).toEqual({ maxWorkers: 7 });
  process.env.TEST_SETTINGS = '{"maxWorkers": 2}';
  expect(readSettings('TEST_SETTINGS', schema)).toEqual({ maxWorkers: 2 });
});

test('names the file and the field when the file is missing or invalid', () => {
  process.env.TEST_SETTINGS_FILE = join(dir, 'absent.json');
  expect(() => readSettings('TEST_SETTINGS', schema)).toThrow(/TEST_SETTINGS_FILE \(.*absent\.json\) cannot be read/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"maxWorkers": 0}');
  process.env.TEST_SETTINGS_FILE = bad;
  expect(() => readSettings('TEST_SETTINGS', schema)).toThrow(/TEST_SETTINGS_FILE \(.*bad\.json\) is invalid at maxWorkers/);
});

test('says which variables it looked for when neither is set', () => {
  expect(() => readSettings('TEST_SETTINGS', schema)).toThrow('Missing environment variable TEST_SETTINGS (or TEST_SETTINGS_FILE)');
});
