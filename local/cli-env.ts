/**
 * Environment defaults and helpers shared by the local and operator CLIs. Import this first: it
 * sets variables before any AWS SDK module loads (the SDK's once-per-process notice that it will
 * need Node 22 from January 2027 is not useful on every run; the README says it once).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The directory the user typed the command in. `npm start` / `npm run` change the working
 * directory to the package root and keep the caller's in `INIT_CWD` (npm's documented
 * behaviour); a direct `npx tsx local/cli.ts` has the caller's directory as `process.cwd()`.
 */
export function userCwd(): string {
  return process.env.INIT_CWD || process.cwd();
}

/**
 * Resolves a path the user gave on the command line against {@link userCwd} (absolute paths are
 * kept). Used for every file the CLIs write (`--report`, `--html`, `--state-dir`).
 */
export function resolveFromUserCwd(p: string): string {
  return isAbsolute(p) ? p : resolve(userCwd(), p);
}

/**
 * Resolves an input file the user named: absolute, else relative to {@link userCwd}; when no
 * such file exists there, relative to `repoRoot` (so the README's `data/market/...` paths work
 * from any directory of the checkout). Returns the cwd-relative path when neither exists, so the
 * error names the path the user meant.
 */
export function resolveInputPath(p: string, repoRoot: string): string {
  if (isAbsolute(p)) return p;
  const fromCwd = resolve(userCwd(), p);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = join(repoRoot, p);
  return existsSync(fromRoot) ? fromRoot : fromCwd;
}

/**
 * Whether a CLI may write ANSI colour / cursor codes to `stream`: never when `NO_COLOR` is set to
 * a non-empty value (the no-color.org convention) or `TERM=dumb`; always when `FORCE_COLOR` is
 * set to a non-empty value other than `0`; otherwise only when the stream is a TTY.
 * @param stream - default `process.stdout`.
 */
export function colorEnabled(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.TERM === 'dumb') return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

/** Removes ANSI escape sequences (CSI and OSC) from `text`. Pure. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '');
}
