/** The functions' shared environment: asset files written and mapped, the market data file, conflicts refused. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionEnvironment, type ModelFunction } from '../../local/functions';
import { LocalTemplate, type CfnTemplate } from '../../local/template';

const fn = (vars: Record<string, string>) => ({ Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: vars } } });
const model = (ids: string[], assets: Record<string, Record<string, string>> = {}): ModelFunction[] =>
  ids.map((logicalId) => ({ role: 'agent', entry: `lambdas/agents/${logicalId}/handler.ts`, logicalId, assetFiles: assets[logicalId] }));

describe('functionEnvironment', () => {
  it("merges the functions' variables, writes /var/task files and maps them there, and sets MARKET_DATA_FILE", () => {
    const t: CfnTemplate = {
      Resources: {
        Supervisor: fn({ CONTROL_TABLE: 'Control', SUPERVISOR_SETTINGS_FILE: '/var/task/supervisor-settings.json', MARKET_DATA_FILE: '/var/task/dow.csv' }),
        Risk: fn({ CONTROL_TABLE: 'Control', LEDGER_TABLE: 'Ledger' }),
        NotOurs: fn({ CONTROL_TABLE: 'Other' }),
      },
    };
    const dir = mkdtempSync(join(tmpdir(), 'assets-'));
    const env = functionEnvironment(
      model(['Supervisor', 'Risk'], { Supervisor: { 'supervisor-settings.json': '{"agents":[]}' } }),
      new LocalTemplate(t),
      '/data/dow.csv',
      dir,
    );
    expect(env).toEqual({
      CONTROL_TABLE: 'Control',
      LEDGER_TABLE: 'Ledger',
      SUPERVISOR_SETTINGS_FILE: expect.stringMatching(new RegExp(`^${dir}/[0-9a-f]{16}-supervisor-settings\\.json$`)),
      MARKET_DATA_FILE: '/data/dow.csv',
    });
    expect(readFileSync(env.SUPERVISOR_SETTINGS_FILE, 'utf8')).toBe('{"agents":[]}');
    // The same contents again: the same file.
    expect(
      functionEnvironment(model(['Supervisor'], { Supervisor: { 'supervisor-settings.json': '{"agents":[]}' } }), new LocalTemplate(t), '/d.csv', dir)
        .SUPERVISOR_SETTINGS_FILE,
    ).toBe(env.SUPERVISOR_SETTINGS_FILE);
  });

  it('refuses two functions needing different values for one variable, naming both', () => {
    const t: CfnTemplate = { Resources: { A: fn({ MODE: 'x' }), B: fn({ MODE: 'y' }) } };
    expect(() => functionEnvironment(model(['A', 'B']), new LocalTemplate(t), '/d.csv')).toThrow(/Functions A and B need different values for MODE/);
  });
});
