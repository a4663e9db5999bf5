/**
 * The deployed market data file is validated at synth: an invalid file fails the synth with file,
 * line and column; an absolute `marketData.file` is used as it is; a one-symbol OHLCV file keeps
 * its symbol (from its own file name) in `MARKET_DATA_SYMBOL`, since the asset renames it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOrchestratorApp } from '../../lib/app-factory';
import { synthAppModel } from '../../local/runtime';
import { validateConfig } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';
import { MSFT_FILE } from './support';

const withData = (file: string) => validateConfig({ ...defaultConfig, marketData: { file } });

describe('market data at synth', () => {
  it('an invalid file fails the synth with one line naming file, line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'md-synth-'));
    const file = join(dir, 'prices.csv');
    writeFileSync(file, 'date,AAA,AAA\n2024-01-02,1,2\n');
    expect(() => createOrchestratorApp({ config: withData(file), bundling: false })).toThrow(
      /prices\.csv line 1, column 3 \(AAA\): duplicate column name "AAA" \(also column 2\)$/,
    );
  });

  it('an absolute OHLCV file is used as it is, and every function that reads it gets MARKET_DATA_SYMBOL', () => {
    const template = synthAppModel(withData(MSFT_FILE)).template as {
      Resources: Record<string, { Type: string; Properties: { Environment?: { Variables?: Record<string, string> } } }>;
    };
    const fns = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const readers = fns.filter((f) => f.Properties.Environment?.Variables?.MARKET_DATA_FILE);
    expect(readers.length).toBeGreaterThan(0);
    for (const f of readers) expect(f.Properties.Environment!.Variables!.MARKET_DATA_SYMBOL).toBe('MSFT');
  });
});
