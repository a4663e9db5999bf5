/**
 * `bin/app.ts` loads the config through validateConfig: a bad config (ORCHESTRATOR_CONFIG) fails the
 * app with the field paths and exit code 1, without a stack trace; `loadOrchestratorConfig` reads JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrchestratorConfig } from '../../lib/app-factory';
import { ConfigError } from '../../lib/config/schema';
import defaultConfig from '../../config/orchestrator.config';

const REPO = join(__dirname, '..', '..');

describe('bin/app.ts config loading', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orch-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with the ConfigError field paths and exit code 1 on a bad config, without a stack trace', () => {
    const bad = structuredClone(defaultConfig) as any;
    bad.agents[1].faultDomain = 'exotic';
    bad.cycle.maxWorkers = 0;
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(bad));
    const outdir = join(dir, 'out');
    const res = spawnSync(process.execPath, [join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO, 'bin', 'app.ts')], {
      cwd: REPO,
      env: { ...process.env, ORCHESTRATOR_CONFIG: file, CDK_OUTDIR: outdir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/Invalid orchestrator config/);
    expect(res.stderr).toMatch(/agents\[1\]\.faultDomain/);
    expect(res.stderr).toMatch(/cycle\.maxWorkers/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('loadOrchestratorConfig reads a JSON file and validates it', () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ ...defaultConfig, stackName: 'Other', cycle: { cadenceMinutes: 5 } }));
    const c = loadOrchestratorConfig(file);
    expect(c.stackName).toBe('Other');
    expect(c.cycle.cadenceMinutes).toBe(5);
    expect(c.cycle.maxWorkers).toBe(4);
    const badFile = join(dir, 'bad-timezone.json');
    writeFileSync(badFile, JSON.stringify({ ...defaultConfig, cycle: { timezone: 'Nope/Nope' } }));
    expect(() => loadOrchestratorConfig(badFile)).toThrow(ConfigError);
    expect(() => loadOrchestratorConfig(join(dir, 'missing.json'))).toThrow(/Config file not found/);
  });

  it('loadOrchestratorConfig defaults to config/orchestrator.config.ts', () => {
    const saved = process.env.ORCHESTRATOR_CONFIG;
    delete process.env.ORCHESTRATOR_CONFIG;
    try {
      expect(loadOrchestratorConfig().agents.map((a) => a.name)).toEqual(defaultConfig.agents.map((a) => a.name));
    } finally {
      if (saved !== undefined) process.env.ORCHESTRATOR_CONFIG = saved;
    }
  });
});
