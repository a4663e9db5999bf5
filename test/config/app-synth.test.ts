/**
 * `bin/app.ts` (the CDK app) finds its config through resolveConfig: `--config` or CDK context
 * `config`, else ORCHESTRATOR_CONFIG; a bad config fails the app with the field paths and exit code 2,
 * without a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appConfig, requestedConfigFile } from '../../bin/app';
import { ConfigFileError } from '../../lib/config/resolve';

const REPO = join(__dirname, '..', '..');
const noContext = () => undefined;

describe('bin/app.ts config loading', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'orch-config-'));
    writeFileSync(join(dir, 'env.json'), JSON.stringify({ stackName: 'FromEnv', agents: [{ name: 'alpha' }] }));
    // An entry that exists in every checkout (the benchmark's synthetic agent), so the stack synthesizes.
    writeFileSync(join(dir, 'flag.json'), JSON.stringify({ stackName: 'FromFlag', agents: [{ name: 'alpha', entry: 'bench/fixtures/synthetic-agent.ts' }] }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails with the field paths and exit code 2 on a bad config, without a stack trace', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ agents: [{ name: 'alpha' }, { name: 'beta', faultDomain: 'exotic' }], cycle: { maxWorkers: 0 } }));
    const outdir = join(dir, 'out');
    const res = spawnSync(process.execPath, [join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO, 'bin', 'app.ts')], {
      cwd: REPO,
      env: { ...process.env, ORCHESTRATOR_CONFIG: file, CDK_OUTDIR: outdir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/^config: .*bad\.json \(ORCHESTRATOR_CONFIG\)$/m);
    expect(res.stderr).toMatch(/invalid config: .*agents\[1\]\.faultDomain/);
    expect(res.stderr).toMatch(/cycle\.maxWorkers/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it('under the CDK CLI (CDK_OUTDIR, context `config`) the cloud assembly holds the stack of the file named', () => {
    const outdir = join(dir, 'assembly');
    const res = spawnSync(process.execPath, [join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO, 'bin', 'app.ts')], {
      cwd: REPO,
      // What `cdk synth -c config=<file>` hands the app; no bundling, so no esbuild run.
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ config: join(dir, 'flag.json'), 'aws:cdk:bundling-stacks': [] }) },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/^config: .*flag\.json \(-c config\)$/m);
    // The app reads the context through a throwaway App; were it to synthesize itself at exit, the manifest would list no stack.
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
    expect(
      Object.entries(manifest.artifacts)
        .filter(([, a]) => a.type === 'aws:cloudformation:stack')
        .map(([id]) => id),
    ).toEqual(['FromFlag']);
  });

  it('--config <file> and --config=<file> win over CDK context `config`, which wins over ORCHESTRATOR_CONFIG', () => {
    const ctx = (k: string) => (k === 'config' ? 'from-context.json' : undefined);
    expect(requestedConfigFile(['--config', 'a.json'], ctx)).toEqual({ file: 'a.json', flag: '--config' });
    expect(requestedConfigFile(['--config=b.json'], ctx)).toEqual({ file: 'b.json', flag: '--config' });
    expect(requestedConfigFile([], ctx)).toEqual({ file: 'from-context.json', flag: '-c config' });
    expect(requestedConfigFile([], noContext)).toBeUndefined();
    expect(() => requestedConfigFile(['--config'], noContext)).toThrow(ConfigFileError);
  });

  it('appConfig loads the requested file, else the one ORCHESTRATOR_CONFIG names', () => {
    const env = { ORCHESTRATOR_CONFIG: join(dir, 'env.json') };
    const lines: string[] = [];
    expect(appConfig([], { env, context: noContext, log: (l) => lines.push(l) }).stackName).toBe('FromEnv');
    expect(appConfig(['--config', join(dir, 'flag.json')], { env, context: noContext, log: (l) => lines.push(l) }).stackName).toBe('FromFlag');
    expect(lines).toEqual([`config: ${join(dir, 'env.json')} (ORCHESTRATOR_CONFIG)`, `config: ${join(dir, 'flag.json')} (--config)`]);
  });
});
