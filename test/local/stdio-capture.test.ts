/** The stdio capture: EMF lines to metrics, Powertools log lines kept with simulated time, everything else (a CLI's JSON) untouched. */
import { createStdioCapture, isEmfLine, withSimTime } from '../../local/stdio-capture';

describe('createStdioCapture', () => {
  const emf = JSON.stringify({
    _aws: { Timestamp: 0, CloudWatchMetrics: [{ Namespace: 'AgentFleet', Dimensions: [['service']], Metrics: [{ Name: 'X' }] }] },
    service: 's',
    X: 1,
  });
  const log = JSON.stringify({ level: 'INFO', message: 'Agent finished', timestamp: '2026-12-01T00:00:00.000Z', agent: 'a' });

  it('splits what handlers write: metrics, handler logs (with simTime), and the rest passes through, also split across writes', () => {
    const passed: string[] = [];
    const realOut = process.stdout.write;
    // What the capture sees as "the terminal": record it instead of printing.
    process.stdout.write = ((chunk: string) => (passed.push(chunk), true)) as typeof process.stdout.write;
    const emfs: string[] = [];
    const logs: string[] = [];
    const cap = createStdioCapture({ simIso: () => '2026-01-05T14:30:00.000Z', onEmf: (l) => emfs.push(l), onLog: (l) => logs.push(l) });
    try {
      const cliJson = JSON.stringify({ action: 'STATUS', halted: false, mode: 'normal' }, null, 2);
      process.stdout.write(`${emf}\n${log.slice(0, 20)}`);
      process.stdout.write(`${log.slice(20)}\n${cliJson}\n`);
      process.stdout.write(JSON.stringify({ halted: true }) + '\n');
    } finally {
      cap.restore();
      process.stdout.write = realOut;
    }
    expect(emfs).toEqual([emf]);
    expect(logs.map((l) => JSON.parse(l))).toEqual([{ ...JSON.parse(log), simTime: '2026-01-05T14:30:00.000Z' }]);
    // The CLI's own JSON (pretty or one line) reaches the terminal whole, starting with its "{".
    const out = passed.join('');
    expect(out).toBe(`${JSON.stringify({ action: 'STATUS', halted: false, mode: 'normal' }, null, 2)}\n${JSON.stringify({ halted: true })}\n`);
    expect(() => JSON.parse(out.split('\n{"halted"')[0])).not.toThrow();
  });

  it("ingest takes a worker's text the same way; stderr passes at once, less logs and Powertools' no-metrics warning", () => {
    const err: string[] = [];
    const realErr = process.stderr.write;
    process.stderr.write = ((chunk: string) => (err.push(chunk), true)) as typeof process.stderr.write;
    const logs: string[] = [];
    const cap = createStdioCapture({ simIso: () => 'T', onEmf: () => undefined, onLog: (l) => logs.push(l) });
    try {
      cap.ingest(`${log}\nNo application metrics to publish. The cold-start metric may be published if enabled.\nprogress 50%`, 'stderr');
    } finally {
      cap.restore();
      process.stderr.write = realErr;
    }
    expect(logs).toHaveLength(1);
    expect(err.join('')).toBe('progress 50%');
  });

  it('restore puts the real writers back (idempotent)', () => {
    const before = process.stdout.write;
    const cap = createStdioCapture({ simIso: () => 'T', onEmf: () => undefined, onLog: () => undefined });
    expect(process.stdout.write).not.toBe(before);
    cap.restore();
    cap.restore();
    expect(process.stdout.write).toBe(before);
  });

  it('isEmfLine and withSimTime', () => {
    expect(isEmfLine(emf)).toBe(true);
    expect(isEmfLine('{"_aws": broken')).toBe(false);
    expect(isEmfLine(log)).toBe(false);
    expect(JSON.parse(withSimTime(log, 'S')).simTime).toBe('S');
    expect(withSimTime('not json', 'S')).toBe('not json');
  });
});
