/**
 * Idle agent worker threads of closed runtimes, kept for the next runtime of this process
 * (`agent-workers.ts`): a new sandbox then re-initialises a parked thread (the agent's bundle is
 * loaded afresh, a cold start) instead of starting one, and skips loading the libraries under
 * `node_modules` again (about a third of a second of CPU per thread). A parked thread is unref'd:
 * it never keeps the process alive. `npm start` runs one runtime per process, so only the tests
 * and the benchmark, which start many, re-use threads.
 */
import type { Worker } from 'node:worker_threads';

/** Threads kept at most; more are terminated at close. */
export const MAX_PARKED_WORKERS = 16;

const parked: Worker[] = [];

/**
 * Keeps an idle worker thread for a later sandbox (unref'd).
 * @returns false when {@link MAX_PARKED_WORKERS} are kept already (the caller terminates it).
 */
export function parkWorker(worker: Worker): boolean {
  if (parked.length >= MAX_PARKED_WORKERS) return false;
  worker.unref();
  parked.push(worker);
  worker.once('exit', () => {
    const i = parked.indexOf(worker);
    if (i >= 0) parked.splice(i, 1);
  });
  return true;
}

/** A parked worker thread (ref'd again), or undefined when none is kept. */
export function takeParkedWorker(): Worker | undefined {
  const worker = parked.pop();
  worker?.ref();
  return worker;
}

/** How many threads are parked. */
export function parkedWorkerCount(): number {
  return parked.length;
}

/** Terminates every parked thread (the test suite does after each file; a process that exits needs not). */
export async function terminateParkedWorkers(): Promise<void> {
  await Promise.all(parked.splice(0).map((w) => w.terminate()));
}
