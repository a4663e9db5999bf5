/**
 * The operator command (entry point `bin/ops.ts`, which wires in the local target):
 *
 *   npm run ops -- status [--json]
 *   npm run ops -- halt --reason "why"
 *   npm run ops -- resume --reason "why it is safe again"
 *   npm run ops -- safe-mode on|off --reason "why"
 *   npm run ops -- run-now
 *
 * Global options: `--local [dir]` (the local runtime's state, default `.local/state`), else AWS
 * with `--stack` (default: stackName of config/orchestrator.config.ts), `--region`, `--profile`;
 * `--actor` (default `operator:<os user>`).
 *
 * Exit codes: 0 success; 1 error (one line on stderr); 2 refused usage (halt, resume or
 * safe-mode without `--reason`).
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import Table from 'cli-table3';
import { userInfo } from 'node:os';
import type { OpsStatus, OpsTarget } from './target';

/** Default directory of the local runtime's state. */
export const DEFAULT_LOCAL_DIR = '.local/state';

/** How to reach the target, from the global options. */
export interface TargetOptions {
  /** Local state directory when `--local` was given. */
  localDir?: string;
  /** AWS stack name (used when `localDir` is absent). */
  stackName: string;
  region?: string;
  profile?: string;
}

/** Opens the target the options name. */
export type TargetFactory = (opts: TargetOptions) => Promise<OpsTarget>;

/** Where the CLI writes (tests capture it). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** An error with the exit code the CLI should use. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

const consoleIo: CliIo = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`) };

/** `operator:<os user name>` (falls back to $USER, then `unknown`). */
export function defaultActor(): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER;
  }
  return `operator:${user || 'unknown'}`;
}

/**
 * Opens the local runtime's target on a state directory (`openLocalOpsTarget(dir)` of
 * `local/ops-target.ts`). ops/ does not import local/ (a layer rule, `npm run lint:layers`): the
 * entry point `bin/ops.ts` passes this in.
 */
export type LocalTargetOpener = (dir: string) => Promise<OpsTarget>;

/**
 * The CLI's target factory: `--local` opens the local runtime's state through `openLocal`, else the
 * deployed stack (`ops/aws-target.ts`, loaded on first use).
 * @param openLocal the local target; absent, `--local` is refused.
 * @throws {CliError} on `--local` without `openLocal`.
 */
export function createTargetFactory(openLocal?: LocalTargetOpener): TargetFactory {
  return async (opts) => {
    if (opts.localDir !== undefined) {
      if (!openLocal) throw new CliError('The local runtime target is not wired into this entry point: use `npm run ops -- --local ...` (bin/ops.ts), or omit --local to use AWS');
      return openLocal(opts.localDir);
    }
    const { openAwsOpsTarget } = await import('./aws-target');
    return openAwsOpsTarget({ stackName: opts.stackName, region: opts.region, profile: opts.profile });
  };
}

/** The default factory: the deployed stack only ({@link createTargetFactory} without a local target). */
export const defaultTargetFactory: TargetFactory = createTargetFactory();

/** Default stack name: `stackName` of config/orchestrator.config.ts after validation. */
async function defaultStackName(): Promise<string> {
  const [{ default: config }, { validateConfig }] = await Promise.all([import('../config/orchestrator.config'), import('../lib/config/schema')]);
  return validateConfig(config).stackName;
}

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/** Renders the status view (tables) as text. Pure. */
export function renderStatus(s: OpsStatus, target: string): string {
  const head = new Table({ head: ['Target', 'Halt flag', 'Mode', 'Reason', 'Actor', 'At'] });
  head.push([target, s.halted ? 'HALTED' : 'running', s.mode, s.reason ?? '', s.actor ?? '', s.at ?? '']);
  const agents = new Table({ head: ['Agent', 'Health', 'Circuit breaker', 'Success rate', 'Consecutive failures', 'Open until'] });
  for (const a of s.agents) agents.push([a.name, a.health, a.breaker, pct(a.successRate), String(a.consecutiveFailures), a.openUntil ?? '']);
  const schedules = new Table({ head: ['Schedule group', 'Schedule', 'State'] });
  for (const sc of s.schedules) schedules.push([sc.group, sc.name, sc.enabled ? 'ENABLED' : 'DISABLED']);
  const running = new Table({ head: ['Running execution', 'Started'] });
  for (const e of s.runningExecutions) running.push([e.name, e.startDate ?? '']);
  const audit = new Table({ head: ['At', 'Action', 'Actor', 'Changed', 'Reason'] });
  for (const a of s.audit.slice(-10)) audit.push([a.at, a.action, a.actor, a.changed ? 'yes' : 'no', a.reason]);
  return [
    head.toString(),
    s.agents.length ? agents.toString() : 'Agents: none recorded yet',
    s.schedules.length ? schedules.toString() : 'Schedules: none',
    s.runningExecutions.length ? running.toString() : 'Running executions: none',
    `Audit trail (last ${Math.min(10, s.audit.length)} of ${s.audit.length}):`,
    s.audit.length ? audit.toString() : '(empty)',
  ].join('\n');
}

function requireReason(reason: string | undefined, command: string): string {
  if (!reason || !reason.trim()) {
    throw new CliError(`Refusing to ${command} without a reason: add --reason "<why>" (it goes to the audit trail)`, 2);
  }
  return reason.trim();
}

/**
 * Builds the commander program. Actions open the target through `targetFactory`, so tests
 * inject a fake target and no AWS call is made. Errors are thrown as {@link CliError} /
 * CommanderError (the program uses `exitOverride`); {@link runCli} turns them into exit codes.
 */
export function buildProgram(targetFactory: TargetFactory = defaultTargetFactory, io: CliIo = consoleIo): Command {
  const program = new Command('ops')
    .description('Operate the agent fleet: status, kill switch (halt / resume), safe mode, run a cycle now')
    .option('--local [dir]', `act on the local runtime's state (default dir ${DEFAULT_LOCAL_DIR})`)
    .option('--stack <name>', 'CloudFormation stack name (default: stackName from config/orchestrator.config.ts)')
    .option('--region <region>', 'AWS region (default: the usual chain)')
    .option('--profile <profile>', 'AWS named profile (sets AWS_PROFILE)')
    .option('--actor <actor>', 'who acts, recorded in the audit trail (default operator:<os user>)')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t.replace(/\n$/, '')), writeErr: (t) => io.err(t.replace(/\n$/, '')) });

  const withTarget = async <T>(cmd: Command, fn: (target: OpsTarget, actor: string) => Promise<T>): Promise<T> => {
    const g = cmd.optsWithGlobals<{ local?: string | boolean; stack?: string; region?: string; profile?: string; actor?: string }>();
    const opts: TargetOptions = {
      ...(g.local !== undefined && g.local !== false ? { localDir: typeof g.local === 'string' ? g.local : DEFAULT_LOCAL_DIR } : {}),
      stackName: g.stack ?? (g.local ? '' : await defaultStackName()),
      region: g.region,
      profile: g.profile,
    };
    const target = await targetFactory(opts);
    try {
      return await fn(target, g.actor ?? defaultActor());
    } finally {
      await target.close();
    }
  };
  const printResult = (label: string, result: unknown): void => {
    io.out(label);
    io.out(JSON.stringify(result, null, 2));
  };

  program
    .command('status')
    .description('halt flag, mode, agents (health, circuit breaker), schedules, running executions, last 10 audit entries')
    .option('--json', 'print the status as JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withTarget(cmd, async (t) => {
        const s = await t.status();
        io.out(o.json ? JSON.stringify(s, null, 2) : renderStatus(s, t.describe()));
      });
    });

  program
    .command('halt')
    .description('engage the kill switch: halt flag, disable schedules, stop running executions, notify, verify')
    .addOption(new Option('--reason <reason>', 'why (required, audited)'))
    .action(async (o: { reason?: string }, cmd: Command) => {
      const reason = requireReason(o.reason, 'halt');
      await withTarget(cmd, async (t, actor) => printResult(`Halt requested on ${t.describe()} by ${actor}:`, await t.halt(reason, actor)));
    });

  program
    .command('resume')
    .description('clear the halt flag and re-enable the schedules (operators only, reason required)')
    .addOption(new Option('--reason <reason>', 'why it is safe to resume (required, audited)'))
    .action(async (o: { reason?: string }, cmd: Command) => {
      const reason = requireReason(o.reason, 'resume');
      await withTarget(cmd, async (t, actor) => printResult(`Resume requested on ${t.describe()} by ${actor}:`, await t.resume(reason, actor)));
    });

  program
    .command('safe-mode')
    .description('switch safe mode on (agents may only reduce exposure) or off; cycles keep running')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .addOption(new Option('--reason <reason>', 'why (required, audited)'))
    .action(async (state: 'on' | 'off', o: { reason?: string }, cmd: Command) => {
      const reason = requireReason(o.reason, `switch safe mode ${state}`);
      await withTarget(cmd, async (t, actor) => printResult(`Safe mode ${state} requested on ${t.describe()} by ${actor}:`, await t.safeMode(state === 'on', reason, actor)));
    });

  program
    .command('run-now')
    .description('start one cycle now (execution manual-<timestamp>)')
    .action(async (_o: unknown, cmd: Command) => {
      await withTarget(cmd, async (t, actor) => {
        const { executionName } = await t.runNow(actor);
        io.out(`Started execution ${executionName} on ${t.describe()}`);
      });
    });

  return program;
}

/** Subcommand names (used to read `--local status` as `--local` + `status`, not as dir `status`). */
export const COMMANDS = ['status', 'halt', 'resume', 'safe-mode', 'run-now', 'help'] as const;

/**
 * `--local` takes an optional dir, so commander would read `--local status` as dir `status`.
 * This rewrites a bare `--local` followed by a subcommand name to `--local=<default dir>`. Pure.
 */
export function normalizeArgv(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--local' && (COMMANDS as readonly string[]).includes(argv[i + 1] ?? '') ? `--local=${DEFAULT_LOCAL_DIR}` : arg));
}

/**
 * Runs the CLI and returns the exit code (never calls process.exit).
 * @param argv - user arguments (without `node` and the script path).
 */
export async function runCli(argv: string[], targetFactory: TargetFactory = defaultTargetFactory, io: CliIo = consoleIo): Promise<number> {
  const program = buildProgram(targetFactory, io);
  try {
    await program.parseAsync(normalizeArgv(argv), { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help / version are exits with code 0; usage errors were already printed by commander.
      return err.exitCode;
    }
    if (err instanceof CliError) {
      io.err(err.message);
      return err.exitCode;
    }
    const e = err as Error;
    io.err(`ops: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message.split('\n')[0]}`);
    return 1;
  }
}
