/**
 * `npm start`'s logic, in-process through `main(argv)` (local/cli.ts): each user mistake exits 2
 * with one line on stderr and no stack trace, before anything runs; `--help` exits 0 with the usage
 * line that works when copied. The process wiring (a real `npm start`, exit codes of the process,
 * Ctrl-C) is test/e2e/cli.test.ts.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../local/cli';

const ROOT = join(__dirname, '..', '..');
/** The fixture fleet as a config file (never the user's config/orchestrator.config.ts). */
const FLEET = join(ROOT, 'test', 'fixtures', 'fleet.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Calls `main(args)` with stdout and stderr captured. */
async function cli(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('npm start refuses user mistakes with exit 2 and one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-bad-'));
  const badCsv = join(dir, 'prices.csv');
  writeFileSync(badCsv, 'date,AAA,BBB\n2024-01-02,1,2\n2024-13-01,1,2\n');
  const noHandler = join(dir, 'ghost.json');
  writeFileSync(noHandler, JSON.stringify({ agents: [{ name: 'ghost', faultDomain: 'strategy' }] }));
  mkdirSync(join(dir, 'empty-state'));

  it.each([
    [['run', '--fail', 'nobody=throw'], /^error: --fail: .*unknown agent "nobody"/],
    [['run', '--cycles', '0'], /^error: option '--cycles <n>' argument '0' is invalid\. --cycles must be a positive integer$/],
    [['run', '--bogus'], /^error: unknown option '--bogus'$/],
    [['run', '--market-data', '/nonexistent/prices.csv'], /unreadable/],
    [['run', '--market-data', badCsv], /prices\.csv line 3, column 1 \(date\): timestamp "2024-13-01" is not a real date/],
    [
      ['run', '--market-data', join(ROOT, 'data/market/dowjones30-daily.csv'), '--symbol', 'AAA'],
      /^error: --symbol AAA: .*dowjones30-daily\.csv is a wide file/,
    ],
    [['run', '--resume-state', '--state-dir', join(dir, 'empty-state')], /^error: --resume-state: no saved state in .*empty-state/],
    [['run', '--config', noHandler], /^error: cannot start the local runtime: Lambda entry lambdas\/agents\/ghost\/handler\.ts does not exist/],
  ])('%j', async (args, re) => {
    const a = args as string[];
    const r = await cli(a.includes('--config') ? a : [...a, '--config', FLEET]);
    expect(r.code).toBe(2);
    // Besides the line naming the config file (resolveConfig), one line: the error.
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('config: '));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(re);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  // ORCHESTRATOR_CONFIG is honoured as --config is (lib/config/resolve.ts): the ghost fleet's missing handler proves the file was used.
  it.each([
    ['ghost.json', /^error: cannot start the local runtime: Lambda entry lambdas\/agents\/ghost\/handler\.ts does not exist/],
    ['typo.json', /^error: config typo\.json \(ORCHESTRATOR_CONFIG\): invalid config: agents\[0\]\.faultDomain: /],
    ['missing.json', /^error: config missing\.json \(ORCHESTRATOR_CONFIG\): file not found/],
  ])('ORCHESTRATOR_CONFIG=%s npm start: exit 2, the file named on stderr', async (file, re) => {
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ agents: [{ name: 'ghost', faultDomain: 'exotic' }] }));
    // As typed in `dir` (npm passes the caller's directory as INIT_CWD).
    const saved = { config: process.env.ORCHESTRATOR_CONFIG, cwd: process.env.INIT_CWD };
    Object.assign(process.env, { ORCHESTRATOR_CONFIG: file, INIT_CWD: dir });
    let r: Run;
    try {
      r = await cli(['run']);
    } finally {
      for (const [k, v] of [
        ['ORCHESTRATOR_CONFIG', saved.config],
        ['INIT_CWD', saved.cwd],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    if (file !== 'missing.json') expect(lines[0]).toBe(`config: ${file} (ORCHESTRATOR_CONFIG)`);
    expect(lines.filter((l) => !l.startsWith('config: '))).toEqual([expect.stringMatching(re)]);
  });

  it('--help: exit 0, and the usage line is what works when copied', async () => {
    const r = await cli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm start -- \[options\]/);
  });

  it('leaves process.exitCode as it found it', async () => {
    const before = process.exitCode;
    await cli(['run', '--bogus']);
    expect(process.exitCode).toBe(before);
  });
});
