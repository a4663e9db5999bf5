/**
 * `lib/config/resolve.ts`: which file `resolveConfig` loads (`--config` over ORCHESTRATOR_CONFIG over
 * the default), how relative paths resolve, the one line it prints, and the one-line errors naming the
 * file and every bad field's path. Configs, the default one included, are written to a temp directory
 * here: the user's config/orchestrator.config.ts is never read.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_ENV_VAR, ConfigFileError, DEFAULT_CONFIG_FILE, resolveConfig } from '../../lib/config/resolve';
import { ConfigError } from '../../lib/config/schema';

const fleet = (name: string) => ({ stackName: name, agents: [{ name: 'alpha' }, { name: 'beta', dependsOn: ['alpha'] }] });

describe('resolveConfig', () => {
  let dir: string;
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orch-resolve-'));
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify(fleet('FromJson')));
    writeFileSync(join(dir, 'other.json'), JSON.stringify(fleet('FromFlag')));
    writeFileSync(join(dir, 'cfg.ts'), `export default ${JSON.stringify(fleet('FromTs'))};\n`);
    writeFileSync(join(dir, 'named.ts'), `export const config = ${JSON.stringify(fleet('FromNamed'))};\n`);
    writeFileSync(join(dir, 'empty.ts'), 'export {};\n');
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ agents: [{ name: 'alpha', faultDomian: 'data' }], cycle: { maxWorkers: 0 } }));
    writeFileSync(join(dir, 'broken.json'), '{ "agents": [');
    writeFileSync(join(dir, 'cfg.yaml'), 'agents: []\n');
    mkdirSync(join(dir, 'sub'));
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, DEFAULT_CONFIG_FILE), `export default ${JSON.stringify(fleet('FromDefault'))};\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => lines.splice(0));

  it('without --config or the variable: config/orchestrator.config.ts (here a fixture in the cwd), and says so', () => {
    const r = resolveConfig({ env: {}, cwd: dir, log });
    expect(r.source).toBe('default');
    expect(r.file).toBe(join(dir, DEFAULT_CONFIG_FILE));
    expect(r.config.stackName).toBe('FromDefault');
    expect(lines).toEqual([`config: ${DEFAULT_CONFIG_FILE} (default)`]);
  });

  it('ORCHESTRATOR_CONFIG names a JSON file, relative to the cwd; the config is validated with defaults filled', () => {
    const r = resolveConfig({ env: { [CONFIG_ENV_VAR]: 'cfg.json' }, cwd: dir, log });
    expect(r).toMatchObject({ source: 'ORCHESTRATOR_CONFIG', file: join(dir, 'cfg.json') });
    expect(r.config.stackName).toBe('FromJson');
    expect(r.config.agents.map((a) => a.name)).toEqual(['alpha', 'beta']);
    expect(r.config.cycle.maxWorkers).toBe(4);
    expect(r.raw).toEqual(fleet('FromJson'));
    expect(lines).toEqual(['config: cfg.json (ORCHESTRATOR_CONFIG)']);
  });

  it('--config wins over ORCHESTRATOR_CONFIG; an empty variable counts as unset', () => {
    const r = resolveConfig({ file: join(dir, 'other.json'), env: { [CONFIG_ENV_VAR]: join(dir, 'cfg.json') }, log });
    expect([r.source, r.config.stackName]).toEqual(['--config', 'FromFlag']);
    expect(resolveConfig({ env: { [CONFIG_ENV_VAR]: '' }, cwd: dir, log: false }).source).toBe('default');
  });

  it('reads a TS module by its default export, else its `config` export', () => {
    expect(resolveConfig({ file: join(dir, 'cfg.ts'), log: false }).config.stackName).toBe('FromTs');
    expect(resolveConfig({ file: join(dir, 'named.ts'), log: false }).config.stackName).toBe('FromNamed');
  });

  it('a relative path not found from the cwd resolves against the repository root', () => {
    const r = resolveConfig({ file: 'cfg.json', cwd: join(dir, 'sub'), repoRoot: dir, log: false });
    expect(r.file).toBe(join(dir, 'cfg.json'));
    expect(() => resolveConfig({ file: 'cfg.json', cwd: join(dir, 'sub'), repoRoot: join(dir, 'sub'), log: false })).toThrow(/file not found/);
  });

  it('the cwd defaults to INIT_CWD (the directory npm was run in)', () => {
    expect(resolveConfig({ env: { [CONFIG_ENV_VAR]: 'cfg.json', INIT_CWD: dir }, log: false }).file).toBe(join(dir, 'cfg.json'));
  });

  it('an invalid field: one line naming the file and each field path; the ConfigError is the cause', () => {
    let err: unknown;
    try {
      resolveConfig({ env: { [CONFIG_ENV_VAR]: 'typo.json' }, cwd: dir, log });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigFileError);
    const e = err as ConfigFileError;
    expect(e.name).toBe('ConfigFileError');
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(/^config typo\.json \(ORCHESTRATOR_CONFIG\): invalid config: /);
    expect(e.message).toMatch(/agents\[0\]: Unrecognized key: "faultDomian"/);
    expect(e.message).toMatch(/cycle\.maxWorkers: /);
    expect(e.cause).toBeInstanceOf(ConfigError);
    expect(e.issues.map((i) => i.path).sort()).toEqual(['agents[0]', 'cycle.maxWorkers']);
    // The file was found and read, so the line naming it is printed before the error.
    expect(lines).toEqual(['config: typo.json (ORCHESTRATOR_CONFIG)']);
  });

  it.each([
    ['missing.json', /^config missing\.json \(--config\): file not found \(looked in .*missing\.json\)$/],
    ['broken.json', /^config broken\.json \(--config\): not valid JSON \(/],
    ['cfg.yaml', /^config cfg\.yaml \(--config\): unsupported file type "\.yaml": use \.json or a \.ts \/ \.js module with a default export$/],
    ['empty.ts', /^config empty\.ts \(--config\): the module has no default export/],
  ])('%s: a ConfigFileError with one line naming the file', (file, re) => {
    expect(() => resolveConfig({ file, cwd: dir, log: false })).toThrow(ConfigFileError);
    expect(() => resolveConfig({ file, cwd: dir, log: false })).toThrow(re);
  });
});
