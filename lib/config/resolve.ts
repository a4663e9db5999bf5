/**
 * One way to find, load and validate the orchestrator's config, used by every entry point: the CDK
 * app (`bin/app.ts`, so `cdk synth` / `cdk deploy`), `npm start` (`local/cli.ts`), `npm run ops`
 * (`ops/cli.ts`, for the default stack name) and `npm run bench` (`bench/run.ts`).
 *
 * Which file: `--config <file>` when given (CDK: `-c config=<file>`), else the `ORCHESTRATOR_CONFIG`
 * environment variable when set and not empty, else `config/orchestrator.config.ts`
 * ({@link DEFAULT_CONFIG_FILE}). A relative path resolves against the directory the command was typed
 * in (`INIT_CWD` under npm, else the working directory), then against the repository root.
 *
 * What file: `.json` (parsed as JSON), or a `.ts` / `.js` / `.mjs` / `.cjs` module whose default export
 * (else its `config` export, else the CommonJS `module.exports`) is the config. TS modules need a TS-aware loader (tsx, which every npm
 * script uses, or ts-jest).
 *
 * One line on stderr names the file loaded and why (`config: cfg.json (ORCHESTRATOR_CONFIG)`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { OrchestratorError } from '../../lambdas/shared/errors';
import { REPO_ROOT } from '../repo-paths';
import { ConfigError, validateConfig, type OrchestratorConfig } from './schema';

/** Default config module, relative to the repository root. */
export const DEFAULT_CONFIG_FILE = 'config/orchestrator.config.ts';

/** The environment variable naming the config file (same meaning as `--config`, which wins over it). */
export const CONFIG_ENV_VAR = 'ORCHESTRATOR_CONFIG';

const MODULE_EXTENSIONS = ['.ts', '.js', '.mjs', '.cjs', '.mts', '.cts'];

/** Why a file was chosen: the command line (`--config`, or the {@link ResolveConfigOptions.flag} given), the environment variable, or the default. */
export type ConfigSource = string;

/** Options of {@link resolveConfig}. */
export interface ResolveConfigOptions {
  /** The `--config <file>` value, when the command line has one. Wins over the environment. @default none */
  readonly file?: string;
  /** How the user gave `file`, for the messages (the CDK app passes `-c config`). @default `--config` */
  readonly flag?: string;
  /** Environment read for {@link CONFIG_ENV_VAR}. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Directory a relative path resolves against first (then the repository root). @default `env.INIT_CWD`, else `process.cwd()` */
  readonly cwd?: string;
  /** The repository root, where a relative path not found from `cwd` is looked up. @default this checkout's root */
  readonly repoRoot?: string;
  /** Where the one line naming the file goes; `false` prints nothing. @default a line on process.stderr */
  readonly log?: ((line: string) => void) | false;
}

/** What {@link resolveConfig} found. */
export interface ResolvedConfig {
  /** The validated config, every default filled in. */
  readonly config: OrchestratorConfig;
  /** The config as the file holds it, before validation (to build variants from, as the benchmark does). */
  readonly raw: unknown;
  /** Absolute path of the file loaded. */
  readonly file: string;
  /** Why that file. */
  readonly source: ConfigSource;
}

/**
 * A config that cannot be used: the file is missing, unreadable, not JSON, has no config export, or
 * its content fails validation. The message is one line naming the file (as given) and, for an
 * invalid field, each field's path (`cfg.json (ORCHESTRATOR_CONFIG): invalid config: agents[0].faultDomain: ...`).
 * CLIs print it and exit 2. `cause` is the underlying error ({@link ConfigError} for invalid fields).
 */
export class ConfigFileError extends OrchestratorError {
  override name = 'ConfigFileError' as const;
  constructor(
    /** The path as given on the command line or in the environment. */
    public readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  /** The invalid fields with their paths, when validation failed; empty otherwise. */
  get issues(): ReadonlyArray<{ path: string; message: string }> {
    return this.cause instanceof ConfigError ? this.cause.issues : [];
  }
}

/**
 * Finds, loads and validates the config (see the module comment for the rules), printing one line
 * that names the file.
 * @returns the validated config, its raw form, the absolute file and why it was chosen.
 * @throws {ConfigFileError} when the file does not exist (neither from the cwd nor from the repository
 *   root), cannot be read or parsed, exports no config, or fails validation (message: every field path).
 */
export function resolveConfig(opts: ResolveConfigOptions = {}): ResolvedConfig {
  const env = opts.env ?? process.env;
  const fromEnv = env[CONFIG_ENV_VAR];
  const [given, source]: [string, ConfigSource] = opts.file
    ? [opts.file, opts.flag ?? '--config']
    : fromEnv
      ? [fromEnv, CONFIG_ENV_VAR]
      : [DEFAULT_CONFIG_FILE, 'default'];
  const label = source === 'default' ? given : `${given} (${source})`;
  const cwd = opts.cwd || env.INIT_CWD || process.cwd();
  const candidates = isAbsolute(given) ? [given] : [resolve(cwd, given), join(opts.repoRoot ?? REPO_ROOT, given)];
  const file = candidates.find((p) => existsSync(p));
  if (!file) throw new ConfigFileError(given, `config ${label}: file not found (looked in ${[...new Set(candidates)].join(', ')})`);
  const raw = readRaw(file, given, label);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (log) log(`config: ${shown(file, cwd)}${source === 'default' ? ' (default)' : ` (${source})`}`);
  try {
    return { config: validateConfig(raw), raw, file, source };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const fields = err.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigFileError(given, `config ${label}: invalid config: ${fields}`, { cause: err });
  }
}

function readRaw(file: string, given: string, label: string): unknown {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigFileError(given, `config ${label}: cannot read it (${(err as Error).message})`, { cause: err });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ConfigFileError(given, `config ${label}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
  }
  if (!MODULE_EXTENSIONS.includes(ext)) {
    throw new ConfigFileError(given, `config ${label}: unsupported file type "${ext || '(none)'}": use .json or a .ts / .js module with a default export`);
  }
  let mod: { default?: unknown; config?: unknown };
  try {
    // A config module is user code named at run time: require() is the loader (tsx / ts-jest hook it for .ts).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(file) as { default?: unknown; config?: unknown };
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    throw new ConfigFileError(given, `config ${label}: cannot load the module (${first})`, { cause: err });
  }
  // A CommonJS module may export the config itself (module.exports = { agents: [...] }).
  const raw = mod.default ?? mod.config ?? (Object.keys(mod).length > 0 ? mod : undefined);
  if (raw === undefined) throw new ConfigFileError(given, `config ${label}: the module has no default export (export default { agents: [...] })`);
  return raw;
}

/** The path relative to `cwd` when inside it, else absolute. */
function shown(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}
