/**
 * `npm start` as a user runs it: the CLI in a child process (tsx), real cycles, JSON report.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(90_000);

const ROOT = join(__dirname, '..', '..');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'local', 'cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('local/cli.ts run', () => {
  it('runs 2 cycles, exits 0, writes the report and saves the state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const report = join(dir, 'report.json');
    const r = await cli(['run', '--cycles', '2', '--report', report, '--state-dir', join(dir, 'state'), '--fail', 'copybot=throw@2']);
    expect(r.stderr).not.toMatch(/^error:/m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 slots:/);
    expect(r.stdout).toMatch(/Cycle 1 /);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.config).toMatchObject({ cadenceMinutes: 15, maxWorkers: 4 });
    expect(rep.cycles).toHaveLength(2);
    expect(rep.cycles[0]).toMatchObject({ cycle: 1, slot: '2026-01-05T14:30:00.000Z', status: expect.stringMatching(/^(SUCCEEDED|HALTED)$/) });
    for (const key of ['cycleId', 'durationMs', 'wallMs', 'risk', 'agents', 'transitions']) expect(rep.cycles[0]).toHaveProperty(key);
    expect(rep.cycles[0].agents.map((a: { name: string }) => a.name).sort()).toEqual(['copybot', 'sentiment', 'strategy', 'trading']);
    for (const key of ['agents', 'system', 'alarms', 'notifications', 'simulatedMs', 'wallMs']) expect(rep).toHaveProperty(key);
    expect(existsSync(join(dir, 'state', 'state.json'))).toBe(true);
  });

  it.each([
    [['run', '--fail', 'nobody=throw'], /unknown agent "nobody"/],
    [['run', '--fail', 'trading=throw@5-2'], /empty/],
    [['run', '--cycles', '0'], /positive integer/],
    [['run', '--market-data', '/nonexistent/prices.csv'], /unreadable/],
  ])('refuses %j with a one-line message and a non-zero exit', async (args, re) => {
    const r = await cli(args as string[]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(re);
  });
});
