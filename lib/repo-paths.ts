/**
 * Paths of this checkout that several layers name (the CDK constructs, the config resolver, the
 * local runtime, the operator CLI, the benchmark): one definition each.
 */
import { join } from 'node:path';

/** The repository's root directory (absolute). */
export const REPO_ROOT = join(__dirname, '..');

/** The local runtime's working directory (absolute; in .gitignore): saved state, worker bundles, cached templates, asset files. */
export const LOCAL_DIR = join(REPO_ROOT, '.local');

/** Default state directory of `npm start` and `npm run ops -- --local`, relative to the repo root. */
export const DEFAULT_STATE_DIR = '.local/state';
