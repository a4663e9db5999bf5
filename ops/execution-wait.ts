/**
 * Waiting for a Step Functions execution to end, for `ops run-now` against AWS: poll
 * `DescribeExecution` until the status is no longer RUNNING, then say how it ended.
 */

/** What one `DescribeExecution` call returns, as far as the wait reads it. */
export interface ExecutionDescription {
  /** `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED` or `PENDING_REDRIVE`. */
  readonly status?: string;
  /** The execution's output (JSON text), when it succeeded. */
  readonly output?: string;
  /** Error name and cause, when it failed, timed out or was aborted. */
  readonly error?: string;
  readonly cause?: string;
  readonly startDate?: Date;
  readonly stopDate?: Date;
}

/** Options of {@link waitForExecution}. */
export interface WaitOptions {
  /** Calls `DescribeExecution` for the execution. */
  readonly describe: () => Promise<ExecutionDescription>;
  /** Waits `ms`. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds between polls. @default 5000 (`DescribeExecution` is throttled at 15 per second per account: a 5 s poll costs nothing noticeable). */
  readonly pollMs?: number;
  /** Give up after this many ms (the execution keeps running). @default 3,600,000 (the cycle's default execution timeout, 1 h) */
  readonly timeoutMs?: number;
}

/** How the wait ended. */
export interface WaitResult {
  /** The final status, or `RUNNING` when the wait gave up. */
  readonly status: string;
  /** `error: cause` of a failed execution, or why the wait stopped. */
  readonly reason?: string;
  /** The parsed output of a succeeded execution (the last state's output). */
  readonly output?: unknown;
  /** Duration of the execution, ms, when it ended. */
  readonly durationMs?: number;
}

/**
 * Polls until the execution is no longer RUNNING (or the wait times out).
 * @returns the final status with the reason or the output.
 * @throws whatever `describe` throws (access denied, a missing execution).
 */
export async function waitForExecution(opts: WaitOptions): Promise<WaitResult> {
  const pollMs = opts.pollMs ?? 5_000;
  const timeoutMs = opts.timeoutMs ?? 3_600_000;
  for (let waited = 0; ; waited += pollMs) {
    const d = await opts.describe();
    if (d.status && d.status !== 'RUNNING') {
      const durationMs = d.startDate && d.stopDate ? d.stopDate.getTime() - d.startDate.getTime() : undefined;
      let output: unknown;
      try {
        output = d.output ? (JSON.parse(d.output) as unknown) : undefined;
      } catch {
        output = d.output;
      }
      return {
        status: d.status,
        ...(d.error || d.cause ? { reason: [d.error, d.cause].filter(Boolean).join(': ') } : {}),
        ...(output !== undefined ? { output } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
      };
    }
    if (waited + pollMs > timeoutMs)
      return { status: 'RUNNING', reason: `still running after ${Math.round(timeoutMs / 1000)} s; the wait gave up (the execution goes on)` };
    await opts.sleep(pollMs);
  }
}
