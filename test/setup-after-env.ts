/**
 * Jest setup after the framework is installed, in every test file: the agent worker threads that a
 * file's closed runtimes parked for re-use (`local/worker-parking.ts`) are terminated when the file
 * ends, so no thread outlives its file in Jest's worker process.
 */
import { terminateParkedWorkers } from '../local/worker-parking';

afterAll(() => terminateParkedWorkers());
