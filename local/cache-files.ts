/**
 * The local runtime's files under `.local/` that several processes share (worker bundles, cached
 * templates, asset files): written atomically, so two processes writing the same file at once both
 * leave a whole one, and pruned once unused for a while.
 */
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes `text` to `file` through a temporary file renamed into place (its directory created when missing). */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * Deletes the files of `dir` whose names end with `suffix` and that were last modified more than
 * `maxAgeMs` ago. Best effort: a file another process removed first is skipped.
 */
export function pruneUnused(dir: string, maxAgeMs: number, suffix: string): void {
  const cutoff = Date.now() - maxAgeMs;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(suffix)) continue;
    try {
      if (statSync(join(dir, name)).mtimeMs < cutoff) unlinkSync(join(dir, name));
    } catch {
      // another process pruned it first
    }
  }
}
