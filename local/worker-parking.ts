/**
 * Idle agent worker threads of closed runtimes, kept for the next runtime of this process
 * (`agent-workers.ts`): a new sandbox of the same function (the same bundle and function name, so
 * the same code, role and principal) then re-initialises a parked thread (the agent's bundle is
 * loaded afresh, a cold start) instead of starting one, and skips loading the libraries under
 * `node_modules` again (about a third of a second of CPU per thread). A parked thread is unref'd:
 * it never keeps the process alive; one that throws or exits while parked is dropped (an agent's
 * leftover timer may still run there, as in a warm Lambda sandbox). `npm start` runs one runtime per
 * process, so only the tests and the benchmark, which start many, re-use threads.
 */
import type { Worker } from 'node:worker_threads';

/** Threads kept at most; more are terminated at close. */
export const MAX_PARKED_WORKERS = 16;

interface Parked {
  readonly worker: Worker;
  readonly key: string;
  readonly onError: (err: Error) => void;
  readonly onExit: () => void;
}

const parked: Parked[] = [];

function drop(entry: Parked): void {
  const i = parked.indexOf(entry);
  if (i >= 0) parked.splice(i, 1);
  entry.worker.off('error', entry.onError);
  entry.worker.off('exit', entry.onExit);
}

/**
 * Keeps an idle worker thread for a later sandbox of the same function (unref'd).
 * @param key - the function's identity: its bundle and name.
 * @returns false when {@link MAX_PARKED_WORKERS} are kept already (the caller terminates it).
 */
export function parkWorker(worker: Worker, key: string): boolean {
  if (parked.length >= MAX_PARKED_WORKERS) return false;
  const entry: Parked = {
    worker,
    key,
    // A late throw of the previous sandbox's leftover work: the thread is dropped, never the process.
    onError: () => {
      drop(entry);
      void worker.terminate();
    },
    onExit: () => drop(entry),
  };
  worker.on('error', entry.onError);
  worker.on('exit', entry.onExit);
  worker.unref();
  parked.push(entry);
  return true;
}

/** A parked worker thread of the function `key` (ref'd again, its parking listeners removed), or undefined. */
export function takeParkedWorker(key: string): Worker | undefined {
  const entry = [...parked].reverse().find((p) => p.key === key);
  if (!entry) return undefined;
  drop(entry);
  entry.worker.ref();
  return entry.worker;
}

/** How many threads are parked. */
export function parkedWorkerCount(): number {
  return parked.length;
}

/** Terminates every parked thread (the test suite does after each file; a process that exits needs not). */
export async function terminateParkedWorkers(): Promise<void> {
  const all = parked.splice(0);
  await Promise.all(
    all.map((p) => {
      p.worker.off('error', p.onError);
      p.worker.off('exit', p.onExit);
      return p.worker.terminate();
    }),
  );
}
