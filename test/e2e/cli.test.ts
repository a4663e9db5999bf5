/**
 * `npm start` and `npm run ops` as a user runs them: the CLIs in child processes (tsx), real
 * cycles, the JSON and HTML reports, the operator command on the saved state, the process's exit
 * code on a user mistake, Ctrl-C. The messages of every user mistake: test/local/cli.test.ts (in-process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasChromium, renderInChromium, TEST_OUTPUT } from '../local/chromium';
import defaultConfig from '../fixtures/fleet';

// Generous: on 2 shared cores a CLI run (synth + cycles) can take a minute or more; the runs are CPU-bound, not waiting.
jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const ESC = '\x1b';
/** tsx's loader (`node --import tsx`), by URL: the tests run the CLI from other directories. */
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
/** The fixture fleet as a config file: the runs never read the user's config/orchestrator.config.ts. */
const FLEET = join(ROOT, 'test', 'fixtures', 'fleet.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a CLI as its npm script does: `npm start` is `node --import tsx local/cli.ts run` (one
 * process, so a Ctrl-C reaches the CLI itself), `npm run ops` is `tsx bin/ops.ts`.
 */
function spawnCli(
  script: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): { child: ChildProcess; done: Promise<Run>; stdout: () => string } {
  const argv = script === 'local/cli.ts' ? ['--import', TSX_LOADER, join(ROOT, script), ...args] : [TSX, join(ROOT, script), ...args];
  const child = spawn(process.execPath, argv, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', INIT_CWD: opts.cwd ?? ROOT, ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stdout: () => stdout };
}

const cli = (args: string[], opts?: { cwd?: string; env?: Record<string, string> }) => spawnCli('local/cli.ts', args, opts).done;
const ops = (args: string[], opts?: { cwd?: string; env?: Record<string, string> }) => spawnCli('bin/ops.ts', args, opts).done;

// The Ctrl-C run starts now, alongside the main run (each pays its own synth), and is checked last.
const intDir = mkdtempSync(join(tmpdir(), 'cli-int-'));
const interrupted = (async () => {
  const p = spawnCli('local/cli.ts', ['run', '--config', FLEET, '--cycles', '200', '--report', join(intDir, 'r.json'), '--state-dir', join(intDir, 'state')]);
  const started = Date.now();
  while (!/^Cycle 1 /m.test(p.stdout()) && Date.now() - started < 90_000) await new Promise((r) => setTimeout(r, 100));
  p.child.kill('SIGINT');
  return p.done;
})();

describe('ORCHESTRATOR_CONFIG=cfg.json npm start on the MSFT OHLCV file, then npm run ops on its state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  const stateDir = join(dir, 'state');
  // The fixture fleet (test/fixtures/fleet.ts) with 3 workers instead of 4: the report shows which file ran.
  writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ ...defaultConfig, cycle: { ...defaultConfig.cycle, maxWorkers: 3 } }));
  let run: Run;

  beforeAll(async () => {
    // Relative output paths, from the directory the user is in (INIT_CWD), into directories that do not exist yet.
    run = await cli(
      [
        'run',
        '--cycles',
        '3',
        '--market-data',
        join(ROOT, 'data/market/msft-daily.csv'),
        '--report',
        'reports/deep/run.json',
        '--html',
        'out/run.html',
        '--state-dir',
        'state',
        '--fail',
        'copybot=throw@2',
      ],
      { cwd: dir, env: { NO_COLOR: '1', ORCHESTRATOR_CONFIG: 'cfg.json' } },
    );
  });

  it('runs 3 cycles, exits 0, writes the report and the HTML page where asked, and saves the state', () => {
    expect(run.stderr).not.toMatch(/^error:/m);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/3 slots:/);
    expect(run.stdout).toMatch(/^Cycle 1 /m);
    expect(run.stdout).toContain('report reports/deep/run.json; HTML report out/run.html');
    const rep = JSON.parse(readFileSync(join(dir, 'reports/deep/run.json'), 'utf8'));
    expect(rep.config).toMatchObject({ cadenceMinutes: 15, maxWorkers: 3 });
    expect(run.stderr).toMatch(/^config: cfg\.json \(ORCHESTRATOR_CONFIG\)$/m);
    expect(rep.cycles).toHaveLength(3);
    expect(rep.cycles[0]).toMatchObject({ cycle: 1, slot: '2026-01-05T14:30:00.000Z', status: expect.stringMatching(/^(SUCCEEDED|HALTED)$/) });
    for (const key of ['cycleId', 'durationMs', 'wallMs', 'risk', 'agents', 'transitions']) expect(rep.cycles[0]).toHaveProperty(key);
    expect(rep.cycles[0].agents.map((a: { name: string }) => a.name).sort()).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
    for (const key of ['agents', 'system', 'alarms', 'notifications', 'simulatedMs', 'wallMs']) expect(rep).toHaveProperty(key);
    expect(existsSync(join(stateDir, 'state.json'))).toBe(true);
  });

  it('trades one symbol, MSFT (the OHLCV file is not five "symbols"), and names the params symbols the file lacks', () => {
    // Every fill in the saved ledger is of MSFT.
    const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as { tables: Record<string, Array<Record<string, { S?: string }>>> };
    const ledger = Object.entries(state.tables).find(([name]) => /ledger/i.test(name))![1];
    const fills = ledger.filter((it) => it.pk?.S === 'FILL' || it.pk?.S?.startsWith('FILL#'));
    expect(fills.length).toBeGreaterThan(0);
    expect([...new Set(fills.map((f) => f.symbol?.S))]).toEqual(['MSFT']);
    expect(run.stderr).toMatch(/^warning: agent copybot: params name IBM, GE, KO, JNJ, XOM, not in .*msft-daily\.csv \(it has MSFT\)$/m);
    expect(run.stdout).not.toMatch(/\b(Open|High|Low|Volume)\b/);
  });

  it('with NO_COLOR and a pipe, prints no ANSI escape code; the dashboard says when agents failed', () => {
    expect(run.stdout).not.toContain(ESC);
    expect(run.stderr).not.toContain(ESC);
    expect(run.stdout).toMatch(/^Cycle 2 .*SUCCEEDED, 1 of 4 agents FAILED/m);
    expect(run.stdout).not.toMatch(/(?<![\d.])0\.0 s/); // no zero duration ("simulated 50.0 s" is not one)
    expect(run.stdout).not.toContain('undefined');
    // Fault domains that ran nothing print no "Run ... agents" progress line.
    expect(run.stderr).not.toMatch(/Run critical agents/);
  });

  (hasChromium ? it : it.skip)('the HTML page renders in headless Chromium with its charts', async () => {
    const out = join(TEST_OUTPUT, 'e2e-cli');
    mkdirSync(out, { recursive: true });
    const page = await renderInChromium(join(dir, 'out/run.html'), join(out, 'run.png'));
    expect(page.pageErrors).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
    expect(page.externalRequests).toEqual([]);
    expect(page.canvases).toHaveLength(3);
    for (const c of page.canvases) expect(c).toMatchObject({ chart: true, inkedPixels: expect.any(Number) });
    expect(Math.min(...page.canvases.map((c) => c.inkedPixels))).toBeGreaterThan(1000);
  });

  it('npm run ops -- --local DIR status --json prints JSON that parses (the runtime no longer swallows its lines)', async () => {
    // halt / resume / safe-mode print through the same writer (test/ops/cli.test.ts checks their stdout is JSON only).
    const status = await ops(['--local', 'state', 'status', '--json'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ halted: false, agents: expect.any(Array) });
  });
});

// Each user mistake and --help, in-process through main(argv): test/local/cli.test.ts. Here, one, for the process's exit code.
describe('npm start refuses a user mistake with exit 2 and one line', () => {
  it('an unknown option: the process exits 2, one line on stderr, no stack trace', async () => {
    const r = await cli(['run', '--bogus', '--config', FLEET]);
    expect(r.code).toBe(2);
    // Besides the line naming the config file (resolveConfig), one line: the error.
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('config: ')),
    ).toEqual(["error: unknown option '--bogus'"]);
  });
});

describe('Ctrl-C', () => {
  it('saves the state and a report of the cycles done so far, and exits 130', async () => {
    const r = await interrupted;
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/interrupted after \d+ of 200 slots; state saved in/);
    const rep = JSON.parse(readFileSync(join(intDir, 'r.json'), 'utf8'));
    expect(rep.interrupted).toBe(true);
    expect(rep.cycles.length).toBeGreaterThanOrEqual(1);
    expect(rep.cycles.length).toBeLessThan(200);
    expect(existsSync(join(intDir, 'state', 'state.json'))).toBe(true);
  });
});
