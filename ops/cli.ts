/**
 * The operator command (entry point `bin/ops.ts`, which wires in the local target):
 *
 *   npm run ops -- status [--json]
 *   npm run ops -- halt --reason "why"
 *   npm run ops -- resume --reason "why it is safe again"            (HALTED -> REDUCE, reduce-only)
 *   npm run ops -- resume --to normal --reason "why"                (REDUCE -> normal, after the cool-down)
 *   npm run ops -- cancel-all --reason "why" [--json]               (every working order, without halting)
 *   npm run ops -- flatten --reason "why" [--json]                  (close every position; admitted while HALTED)
 *   npm run ops -- safe-mode on|off --reason "why"
 *   npm run ops -- run-now
 *
 * Global options: `--local [dir]` (the local runtime's state, default `.local/state`), else AWS
 * with `--stack` (default: stackName of the config: `--config <file>`, else `ORCHESTRATOR_CONFIG`, else
 * config/orchestrator.config.ts, found by `lib/config/resolve.ts`), `--region`, `--profile`;
 * `--actor` (default `operator:<os user>`).
 *
 * Output: stdout carries only the result (the status tables, or JSON: `status --json`, and the
 * Master's response of halt / resume / safe-mode, which is always JSON); the "requested by" line
 * goes to stderr (left out with `--json`), so `... | node -e 'JSON.parse(...)'` works.
 *
 * Exit codes: 0 success; 2 usage errors and refusals, one line on stderr (an unknown command or option,
 * halt, resume, safe-mode, cancel-all or flatten without `--reason`, run-now on a halted system, a
 * refused resume (`ResumeRefused`: e.g. `--to normal` inside the cool-down, naming the time left), a
 * refused safe mode off or order action, no AWS region or credentials); 1 other errors (one line on stderr).
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import Table from 'cli-table3';
import { userInfo } from 'node:os';
import { DEFAULT_STATE_DIR } from '../lib/repo-paths';
import type { OpsStatus, OpsTarget } from './target';

/** Default directory of the local runtime's state (`lib/repo-paths.ts`). */
export const DEFAULT_LOCAL_DIR = DEFAULT_STATE_DIR;

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

// Bound at load: the local runtime patches process.stdout.write while it runs (to capture handler
// logs), and the CLI's own output must reach the terminal untouched.
const stdoutWrite = process.stdout.write.bind(process.stdout);
const stderrWrite = process.stderr.write.bind(process.stderr);
export const consoleIo: CliIo = { out: (t) => stdoutWrite(`${t}\n`), err: (t) => stderrWrite(`${t}\n`) };

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
      if (!openLocal)
        throw new CliError(
          'The local runtime target is not wired into this entry point: use `npm run ops -- --local ...` (bin/ops.ts), or omit --local to use AWS',
        );
      return openLocal(opts.localDir);
    }
    const { openAwsOpsTarget } = await import('./aws-target');
    return openAwsOpsTarget({ stackName: opts.stackName, region: opts.region, profile: opts.profile });
  };
}

/** The default factory: the deployed stack only ({@link createTargetFactory} without a local target). */
export const defaultTargetFactory: TargetFactory = createTargetFactory();

/**
 * Default stack name: `stackName` of the config `resolveConfig` finds (`--config`, else
 * ORCHESTRATOR_CONFIG, else config/orchestrator.config.ts), after validation. Loaded only when needed.
 * @throws {CliError} exit code 2, one line naming the file (and every bad field's path), when the config is unusable.
 */
async function defaultStackName(configFile: string | undefined, io: CliIo): Promise<string> {
  const { ConfigFileError, resolveConfig } = await import('../lib/config/resolve');
  try {
    return resolveConfig({ file: configFile, log: (line) => io.err(line) }).config.stackName;
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CliError(`ops: ${err.message}`, 2);
    throw err;
  }
}

const pct = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/**
 * Renders the status view (tables) as text. Pure.
 * @param color - ANSI colours in the table heads and borders. Default false (the CLI passes
 *   `colorEnabled()`: never when piped or with `NO_COLOR`).
 */
export function renderStatus(s: OpsStatus, target: string, color = false): string {
  const style = color ? { head: ['cyan'], border: ['grey'] } : { head: [], border: [] };
  const T = (head: string[]) => new Table({ head, style });
  const head = T(['Target', 'Halt flag', 'Mode', 'Stage', 'Last change: reason', 'Actor', 'At']);
  const stage = s.stage ?? (s.halted ? 'halted' : s.mode === 'safe' ? 'reduce-only' : 'normal');
  head.push([target, s.halted ? 'HALTED' : 'running', s.mode, stage, s.reason ?? '', s.actor ?? '', s.at ?? '']);
  const working = T(['Agent', 'Working orders']);
  for (const w of s.workingOrders ?? []) working.push([w.agent, String(w.count)]);
  const workingTotal = (s.workingOrders ?? []).reduce((n, w) => n + w.count, 0);
  const agents = T(['Agent', 'Health', 'Circuit breaker', 'Success rate', 'Consecutive failures', 'Open until', 'Paused']);
  for (const a of s.agents) agents.push([a.name, a.health, a.breaker, pct(a.successRate), String(a.consecutiveFailures), a.openUntil ?? '', a.paused ?? '']);
  const schedules = T(['Schedule group', 'Schedule', 'State']);
  for (const sc of s.schedules) schedules.push([sc.group, sc.name, sc.enabled ? 'ENABLED' : 'DISABLED']);
  const running = T(['Running execution', 'Started']);
  for (const e of s.runningExecutions) running.push([e.name, e.startDate ?? '']);
  const audit = T(['At', 'Action', 'Actor', 'Changed', 'Reason']);
  for (const a of s.audit.slice(-10)) audit.push([a.at, a.action, a.actor, a.changed ? 'yes' : 'no', a.reason]);
  return [
    head.toString(),
    ...(s.coolDownUntil ? [`Reduce-only after the resume at ${s.resumedAt ?? '?'}: resume --to normal allowed from ${s.coolDownUntil}`] : []),
    ...(s.workingOrders === undefined ? [] : workingTotal ? [`Working orders: ${workingTotal}`, working.toString()] : ['Working orders: none']),
    ...(s.pausedGroups?.length ? [`Paused groups: ${s.pausedGroups.map((p) => `${p.group} (${p.note})`).join('; ')}`] : []),
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
export function buildProgram(targetFactory: TargetFactory = defaultTargetFactory, io: CliIo = consoleIo, color = false): Command {
  const program = new Command('ops')
    // Before .command(): subcommands copy these settings when created.
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t.replace(/\n$/, '')), writeErr: (t) => io.err(t.replace(/\n$/, '')) })
    .usage('[--local [dir] | --stack NAME --region REGION] <command> [options]')
    .description('Operate the agent fleet: status, kill switch (halt / resume), safe mode, run a cycle now')
    .option('--local [dir]', `act on the local runtime's state (default dir ${DEFAULT_LOCAL_DIR})`)
    .option('--stack <name>', 'CloudFormation stack name (default: stackName of the config)')
    .option('--config <file>', 'config whose stackName is the default --stack (default $ORCHESTRATOR_CONFIG, else config/orchestrator.config.ts)')
    .option('--region <region>', 'AWS region (default: the usual chain)')
    .option('--profile <profile>', 'AWS named profile (sets AWS_PROFILE)')
    .option('--actor <actor>', 'who acts, recorded in the audit trail (default operator:<os user>)');

  const withTarget = async <T>(cmd: Command, fn: (target: OpsTarget, actor: string) => Promise<T>): Promise<T> => {
    const g = cmd.optsWithGlobals<{ local?: string | boolean; stack?: string; config?: string; region?: string; profile?: string; actor?: string }>();
    const opts: TargetOptions = {
      ...(g.local !== undefined && g.local !== false ? { localDir: typeof g.local === 'string' ? g.local : DEFAULT_LOCAL_DIR } : {}),
      stackName: g.stack ?? (g.local ? '' : await defaultStackName(g.config, io)),
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
  // The label goes to stderr (and not at all with --json): stdout is only the JSON result.
  const printResult = (label: string, result: unknown, json?: boolean): void => {
    if (!json) io.err(label);
    io.out(JSON.stringify(result, null, 2));
  };

  program
    .command('status')
    .description('halt flag, mode, agents (health, circuit breaker), schedules, running executions, last 10 audit entries')
    .option('--json', 'print the status as JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withTarget(cmd, async (t) => {
        const s = await t.status();
        io.out(o.json ? JSON.stringify(s, null, 2) : renderStatus(s, t.describe(), color));
      });
    });

  program
    .command('halt')
    .description('engage the kill switch: halt flag, disable schedules, stop running executions, notify, verify')
    .addOption(new Option('--reason <reason>', 'why (required, audited)'))
    .option('--json', 'print only the JSON result (no "requested by" line on stderr)')
    .action(async (o: { reason?: string; json?: boolean }, cmd: Command) => {
      const reason = requireReason(o.reason, 'halt');
      await withTarget(cmd, async (t, actor) => printResult(`Halt requested on ${t.describe()} by ${actor}:`, await t.halt(reason, actor), o.json));
    });

  program
    .command('resume')
    .description(
      'staged resume (operators only, reason required): clear the halt flag into REDUCE (reduce-only) and re-enable the schedules; ' +
        'then --to normal, a second action, once the cool-down (config resume.coolDownSeconds) has passed with no new halt',
    )
    .addOption(new Option('--reason <reason>', 'why it is safe to resume (required, audited)'))
    .addOption(new Option('--to <stage>', 'reduce: HALTED -> REDUCE (default); normal: REDUCE -> normal after the cool-down').choices(['reduce', 'normal']))
    .option('--json', 'print only the JSON result (no "requested by" line on stderr)')
    .action(async (o: { reason?: string; json?: boolean; to?: 'reduce' | 'normal' }, cmd: Command) => {
      const reason = requireReason(o.reason, 'resume');
      await withTarget(cmd, async (t, actor) =>
        printResult(`Resume${o.to === 'normal' ? ' to normal' : ''} requested on ${t.describe()} by ${actor}:`, await t.resume(reason, actor, o.to), o.json),
      );
    });

  program
    .command('cancel-all')
    .description('cancel every working order without halting (operators only, audited); prints the count')
    .addOption(new Option('--reason <reason>', 'why (required, audited)'))
    .option('--json', 'print only the JSON result')
    .action(async (o: { reason?: string; json?: boolean }, cmd: Command) => {
      const reason = requireReason(o.reason, 'cancel every working order');
      await withTarget(cmd, async (t, actor) => {
        const result = (await t.cancelAll(reason, actor)) as { cancelled?: number };
        if (o.json) return io.out(JSON.stringify(result, null, 2));
        io.err(`Cancel-all requested on ${t.describe()} by ${actor}:`);
        io.out(`${result.cancelled ?? 0} working order${result.cancelled === 1 ? '' : 's'} cancelled`);
      });
    });

  program
    .command('flatten')
    .description(
      'close every position with market orders through the order path (working orders cancelled first), each attributed to its agent; ' +
        'the one trading action admitted while HALTED (operators only, audited)',
    )
    .addOption(new Option('--reason <reason>', 'why (required, audited)'))
    .option('--json', 'print only the JSON result (no "requested by" line on stderr)')
    .action(async (o: { reason?: string; json?: boolean }, cmd: Command) => {
      const reason = requireReason(o.reason, 'flatten');
      await withTarget(cmd, async (t, actor) => printResult(`Flatten requested on ${t.describe()} by ${actor}:`, await t.flatten(reason, actor), o.json));
    });

  program
    .command('safe-mode')
    .description('switch safe mode on (agents may only reduce exposure) or off; cycles keep running')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .addOption(new Option('--reason <reason>', 'why (required, audited)'))
    .option('--json', 'print only the JSON result (no "requested by" line on stderr)')
    .action(async (state: 'on' | 'off', o: { reason?: string; json?: boolean }, cmd: Command) => {
      const reason = requireReason(o.reason, `switch safe mode ${state}`);
      await withTarget(cmd, async (t, actor) =>
        printResult(`Safe mode ${state} requested on ${t.describe()} by ${actor}:`, await t.safeMode(state === 'on', reason, actor), o.json),
      );
    });

  for (const [name, paused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    program
      .command(`${name} <group>`)
      .description(
        paused
          ? 'pause an agent group with a note: its slots are skipped as paused until unpause (audited on the group item)'
          : 'unpause an agent group (reason required, audited)',
      )
      .addOption(new Option('--reason <reason>', 'why (required, shown with every skipped slot, audited)'))
      .action(async (group: string, o: { reason?: string }, cmd: Command) => {
        const reason = requireReason(o.reason, `${name} group ${group}`);
        await withTarget(cmd, async (t, actor) =>
          printResult(`${paused ? 'Pause' : 'Unpause'} of group ${group} on ${t.describe()} by ${actor}:`, await t.pauseGroup(group, paused, reason, actor)),
        );
      });
  }
  const agentCmd = program.command('agent').description('pause (disable) or enable one agent with a note');
  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    agentCmd
      .command(`${name} <agent>`)
      .description(
        disabled
          ? 'pause an agent with a note: it is SKIPPED with the note until enabled (audited on its state item)'
          : 'enable a paused agent (reason required, audited)',
      )
      .addOption(new Option('--reason <reason>', 'why (required, shown with every skip, audited)'))
      .action(async (agent: string, o: { reason?: string }, cmd: Command) => {
        const reason = requireReason(o.reason, `${name} agent ${agent}`);
        await withTarget(cmd, async (t, actor) =>
          printResult(
            `Agent ${agent} ${disabled ? 'disabled' : 'enabled'} on ${t.describe()} by ${actor}:`,
            await t.disableAgent(agent, disabled, reason, actor),
          ),
        );
      });
  }

  program
    .command('run-now')
    .description(
      "run one cycle now (execution manual-<timestamp>) and print its result; the group's overlap policy applies (SKIP: skipped while the group runs a cycle); refused while the system is halted",
    )
    .option('--group <name>', 'agent group to run (required when the fleet has several)')
    .option('--json', 'print the result as JSON')
    .action(async (o: { json?: boolean; group?: string }, cmd: Command) => {
      await withTarget(cmd, async (t, actor) => {
        const before = await t.status();
        if (before.halted) {
          throw new CliError(
            `Refusing run-now: the system is halted (${before.actor ?? '?'}: ${before.reason ?? 'no reason recorded'}); resume it first (npm run ops -- resume --reason "...")`,
            2,
          );
        }
        const result = await t.runNow(actor, o.group);
        if (o.json) return io.out(JSON.stringify(result, null, 2));
        if (!result.status) return io.out(`Started execution ${result.executionName} on ${t.describe()}`);
        io.out(
          `Execution ${result.executionName} on ${t.describe()}: ${result.status}${result.reason ? ` (${result.reason})` : ''}${result.summary ? `\n${result.summary}` : ''}`,
        );
      });
    });

  // No subcommand matched: `ops`, or `ops --local explode` (where --local took "explode" as its dir).
  program.argument('[command]').action(async (command: string | undefined, o: { local?: string | boolean }) => {
    const guess = command ?? (typeof o.local === 'string' && !/[\\/.]/.test(o.local) ? o.local : undefined);
    const names = COMMANDS.filter((c) => c !== 'help').join(', ');
    throw new CliError(
      guess
        ? `ops: unknown command '${guess}' (commands: ${names}; npm run ops -- --help)`
        : `ops: no command given (commands: ${names}; npm run ops -- --help)`,
      2,
    );
  });

  return program;
}

/** Subcommand names (used to read `--local status` as `--local` + `status`, not as dir `status`). */
export const COMMANDS = ['status', 'halt', 'resume', 'safe-mode', 'run-now', 'cancel-all', 'flatten', 'pause', 'unpause', 'agent', 'help'] as const;

/**
 * `--local` takes an optional dir, so commander would read `--local status` as dir `status`.
 * This rewrites a bare `--local` followed by a subcommand name to `--local=<default dir>`. Pure.
 */
export function normalizeArgv(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--local' && (COMMANDS as readonly string[]).includes(argv[i + 1] ?? '') ? `--local=${DEFAULT_LOCAL_DIR}` : arg));
}

/** Error names of a refusal by the Master / operator function (nothing changed): the CLI exits 2. */
export const REFUSALS: ReadonlySet<string> = new Set(['ResumeRefused', 'SafeModeRefused', 'OrderActionRefused']);

/**
 * Runs the CLI and returns the exit code (never calls process.exit).
 * @param argv - user arguments (without `node` and the script path).
 */
export async function runCli(argv: string[], targetFactory: TargetFactory = defaultTargetFactory, io: CliIo = consoleIo, color = false): Promise<number> {
  const program = buildProgram(targetFactory, io, color);
  try {
    await program.parseAsync(normalizeArgv(argv), { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help / version exit 0; usage errors (already printed by commander, one line) exit 2.
      return err.exitCode === 0 || /help|version/.test(err.code) ? 0 : 2;
    }
    if (err instanceof CliError) {
      io.err(err.message);
      return err.exitCode;
    }
    const e = err as Error;
    if (REFUSALS.has(e.name)) {
      // The Master / operator function refused (nothing changed): its one-line message names why.
      io.err(`ops: ${e.name}: ${e.message.split('\n')[0]}`);
      return 2;
    }
    if (e.name === 'UsageError') {
      io.err(`ops: ${e.message.split('\n')[0]}`);
      return 2;
    }
    const setup = awsSetupHint(e);
    if (setup) {
      io.err(setup);
      return 2;
    }
    io.err(`ops: ${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message.split('\n')[0]}`);
    return 1;
  }
}

/**
 * The one-line hint for an AWS SDK error that means "no AWS set-up here" (no region, no
 * credentials), naming `--region` / `AWS_REGION`, `--profile` and `--local`; undefined for any
 * other error. Pure.
 */
export function awsSetupHint(err: { name?: string; message?: string }): string | undefined {
  const msg = `${err.name ?? ''} ${err.message ?? ''}`;
  if (/Region is missing|ConfigError: Missing region/i.test(msg)) {
    return "ops: no AWS region: pass --region REGION or set AWS_REGION (and credentials, e.g. --profile NAME), or use --local for the local runtime's state";
  }
  if (
    /CredentialsProviderError|Could not load credentials|Unable to locate credentials|ExpiredToken|UnrecognizedClientException|InvalidClientTokenId/i.test(msg)
  ) {
    return `ops: no usable AWS credentials (${(err.message ?? '').split('\n')[0]}): pass --profile NAME or set AWS_PROFILE / AWS_ACCESS_KEY_ID, or use --local for the local runtime's state`;
  }
  return undefined;
}
