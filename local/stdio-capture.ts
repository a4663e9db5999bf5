/**
 * The local runtime's stdio capture: what the handlers write is split as CloudWatch would see it.
 *
 * - an EMF line (a JSON object with `_aws`, what Powertools Metrics prints) becomes metric
 *   datapoints at the simulated time (`onEmf`);
 * - a handler log line (Powertools Logger: a JSON object with `level`, `message`, `timestamp`)
 *   is kept with `simTime`, the simulated ISO time it was written (`onLog`);
 * - anything else passes through to the terminal untouched: progress, a CLI's own JSON output
 *   (`ops status --json`), pretty-printed objects, plain text;
 * - Powertools' "No application metrics to publish" warning is dropped.
 *
 * stdout is judged line by line (a partial line waits for its newline); stderr passes on at once,
 * less the captured lines, so a terminal redraw on stderr is not held back.
 *
 * In-process handlers write through `process.stdout` / `process.stderr` (patched while installed);
 * agents in worker threads send their text here through {@link StdioCapture.ingest}.
 */

/** Options of {@link createStdioCapture}. */
export interface StdioCaptureOptions {
  /** Simulated ISO time (stamped on handler logs). */
  readonly simIso: () => string;
  /** Receives an EMF line. */
  readonly onEmf: (line: string) => void;
  /** Receives a handler log line with `simTime` added. */
  readonly onLog: (line: string) => void;
}

/** An installed capture. */
export interface StdioCapture {
  /** Text some handler wrote (split into lines; a trailing partial line waits for its newline). */
  ingest(text: string, stream: 'stdout' | 'stderr'): void;
  /** Writes to the real stdout (not captured). */
  readonly writeStdout: (text: string) => void;
  /** Writes to the real stderr (not captured). */
  readonly writeStderr: (text: string) => void;
  /** Restores `process.stdout.write` and `process.stderr.write` (idempotent). */
  restore(): void;
}

/**
 * A handler's structured log line (Powertools Logger: one JSON object with `level`, `message` and
 * `timestamp`), which goes to `handler-logs.jsonl`. Anything else (a CLI's own JSON output, a
 * pretty-printed object, plain text) passes through to the terminal untouched.
 */
export function isHandlerLogLine(line: string): boolean {
  if (!line.startsWith('{') || !line.endsWith('}')) return false;
  try {
    const o = JSON.parse(line) as unknown;
    return typeof o === 'object' && o !== null && !Array.isArray(o) && 'level' in o && 'message' in o && 'timestamp' in o;
  } catch {
    return false;
  }
}

/** An EMF line: a JSON object with `_aws` metadata (CloudWatch embedded metric format). */
export function isEmfLine(line: string): boolean {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return false;
  try {
    const o = JSON.parse(line) as unknown;
    return typeof o === 'object' && o !== null && '_aws' in o;
  } catch {
    return false;
  }
}

/** A handler log line with `simTime` (simulated ISO time) added after its own keys; unchanged when not a JSON object. */
export function withSimTime(line: string, simIso: string): string {
  try {
    return JSON.stringify({ ...(JSON.parse(line) as Record<string, unknown>), simTime: simIso });
  } catch {
    return line;
  }
}

/** Powertools Metrics' warning when a handler flushes no metrics: noise locally. */
const NO_METRICS_WARNING = 'No application metrics to publish';

/**
 * Installs the capture on `process.stdout` and `process.stderr` (see the module comment).
 * Call {@link StdioCapture.restore} when done.
 */
export function createStdioCapture(opts: StdioCaptureOptions): StdioCapture {
  const realOut = process.stdout.write;
  const realErr = process.stderr.write;
  const origOut = realOut.bind(process.stdout) as (s: string) => boolean;
  const origErr = realErr.bind(process.stderr) as (s: string) => boolean;
  let partialOut = '';

  /** True when the line is the capture's (metrics, a handler log, the no-metrics warning); false when it goes to the terminal. */
  const capture = (l: string): boolean => {
    if (isEmfLine(l)) opts.onEmf(l);
    else if (isHandlerLogLine(l)) opts.onLog(withSimTime(l, opts.simIso()));
    else return l.startsWith(NO_METRICS_WARNING);
    return true;
  };
  const ingest = (text: string, stream: 'stdout' | 'stderr') => {
    if (stream === 'stderr') {
      // Passed on at once (a partial line too: a terminal redraw), less the captured lines.
      const keep = text
        .split('\n')
        .filter((l) => !capture(l))
        .join('\n');
      if (keep.trim()) origErr(keep);
      return;
    }
    // stdout is line-buffered: a JSON line is judged whole.
    let buf = partialOut + text;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!capture(l)) origOut(l + '\n');
    }
    partialOut = buf;
  };
  const patch = (stream: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      ingest(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'), stream);
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = patch('stdout');
  process.stderr.write = patch('stderr');
  let restored = false;
  return {
    ingest,
    writeStdout: (t) => void origOut(t),
    writeStderr: (t) => void origErr(t),
    restore() {
      if (restored) return;
      restored = true;
      if (partialOut) origOut(partialOut);
      process.stdout.write = realOut;
      process.stderr.write = realErr;
    },
  };
}
