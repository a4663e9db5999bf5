/**
 * Checks of a validated config that the field-by-field schema cannot make: the worst-case retry
 * chain of a cycle against the execution timeout, surprising but legitimate settings (warnings),
 * and the universe against the market data file.
 *
 * `createOrchestratorApp` runs them at synth (so `cdk synth` and `npm start`, which synthesizes
 * in-process, both refuse or warn): errors throw a {@link ConfigError} naming the field path,
 * warnings become CDK warning annotations and are printed by `npm start`.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadMarketData } from '../../lambdas/shared/trading/market-data';
import { ConfigError, cycleTimeoutSeconds, formatPath, type OrchestratorConfig } from './schema';

/** One finding, with the config path it is about (`faultDomains.data.maxRetries`). */
export interface ConfigFinding {
  readonly path: string;
  readonly message: string;
}

/** Lambda service errors (throttling, `Lambda.ServiceException`) are retried 3 times in every domain (`statemachines/cycle.asl.json`). */
const SERVICE_RETRIES = 3;

/**
 * Seconds one retry chain holds its phase: the backoff waits between the attempts (`interval x
 * rate^k`, ASL Retry semantics) and those of the Lambda service-error retrier (1 s, rate 2), plus
 * one attempt running to its timeout. A timeout is never retried, so the retried attempts are the
 * ones that fail fast; this is the chain of an agent that keeps failing (the issue's 1,031 s).
 */
export function retryChainSeconds(
  timeoutSeconds: number,
  policy: { readonly maxRetries: number; readonly intervalSeconds: number; readonly backoffRate: number },
): number {
  let waits = 0;
  for (let k = 0; k < policy.maxRetries; k++) waits += policy.intervalSeconds * policy.backoffRate ** k;
  for (let k = 0; k < SERVICE_RETRIES; k++) waits += 2 ** k;
  return waits + timeoutSeconds;
}

/**
 * Worst-case seconds of one cycle of each group: the risk chain, then each phase (dependency level)
 * at its slowest agent's chain; the agents of a phase run at once.
 */
export function worstCaseCycleSeconds(config: OrchestratorConfig): Map<string, { seconds: number; slowest: string }> {
  const risk = retryChainSeconds(config.risk.timeoutSeconds, config.risk);
  const out = new Map<string, { seconds: number; slowest: string }>();
  const enabled = config.agents.filter((a) => a.enabled);
  const level = new Map<string, number>();
  const depth = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const a = enabled.find((x) => x.name === name);
    const d = a && a.dependsOn.length ? 1 + Math.max(...a.dependsOn.map(depth)) : 0;
    level.set(name, d);
    return d;
  };
  for (const group of new Set(enabled.map((a) => a.group))) {
    const phases = new Map<number, { seconds: number; agent: string }>();
    for (const a of enabled.filter((x) => x.group === group)) {
      const s = retryChainSeconds(a.timeoutSeconds, config.faultDomains[a.faultDomain]);
      const d = depth(a.name);
      if (!phases.has(d) || phases.get(d)!.seconds < s) phases.set(d, { seconds: s, agent: a.name });
    }
    const worst = [...phases.values()].sort((x, y) => y.seconds - x.seconds)[0];
    out.set(group, { seconds: risk + [...phases.values()].reduce((t, p) => t + p.seconds, 0), slowest: worst?.agent ?? '' });
  }
  return out;
}

/**
 * Errors: a group whose cycle, with every retry chain at its longest ({@link retryChainSeconds}), is
 * longer than the execution timeout (the cycle would time out, and the CycleTimedOut alarm halt the
 * system, before its retries end).
 */
export function configErrors(config: OrchestratorConfig): ConfigFinding[] {
  const limit = cycleTimeoutSeconds(config);
  const out: ConfigFinding[] = [];
  for (const [group, w] of worstCaseCycleSeconds(config)) {
    if (w.seconds > limit) {
      const agent = config.agents.find((a) => a.name === w.slowest)!;
      out.push({
        path: `faultDomains.${agent.faultDomain}.maxRetries`,
        message: `with its retry chains at their longest, a group "${group}" cycle takes ${Math.round(w.seconds)} s (slowest: ${agent.name}, ${agent.timeoutSeconds} s per attempt), longer than the execution timeout (${limit} s): lower the retries or the agents' timeoutSeconds`,
      });
    }
  }
  return out;
}

/** Warnings: legitimate but surprising settings (a critical domain that retries). */
export function configWarnings(config: OrchestratorConfig): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  if (config.faultDomains.critical.maxRetries > 0) {
    out.push({
      path: 'faultDomains.critical.maxRetries',
      message: `is ${config.faultDomains.critical.maxRetries}: critical agents are fail-stop by design (a failure escalates and halts); a retried critical agent may act twice`,
    });
  }
  return out;
}

/**
 * The universe against the market data: a symbol missing from the file would make the risk gate say
 * HALT in every cycle ("not in the market data").
 * @param repoRoot - `marketData.file` is relative to it.
 * @returns findings at `portfolio.universe[i]`; none when the file does not exist (the bundling step reports that).
 */
export function dataErrors(config: OrchestratorConfig, repoRoot: string): ConfigFinding[] {
  const file = isAbsolute(config.marketData.file) ? config.marketData.file : join(repoRoot, config.marketData.file);
  if (config.portfolio.universe.length === 0 || !existsSync(file)) return [];
  const symbols = new Set(loadMarketData(file).symbols);
  return config.portfolio.universe.flatMap((sym, i) =>
    symbols.has(sym)
      ? []
      : [{ path: `portfolio.universe[${i}]`, message: `"${sym}" is not a column of ${config.marketData.file} (the risk gate would HALT every cycle)` }],
  );
}

/** The part of a zod schema the params check uses (the agent module's `handler.paramsSchema`, see `defineAgent`). */
interface ParamsSchemaLike {
  safeParse(v: unknown): { success: true } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/**
 * Each agent's `params` against the schema its handler declares (`defineAgent({ params })`): the
 * agent's module (`agents[].entry`, default `lambdas/agents/<name>/handler.ts`) is loaded and its
 * `handler.paramsSchema` applied, so a typo is an error at synth with its path instead of a
 * silently used default (issue 14). Agents that declare no schema are not checked; a module that
 * cannot be loaded is left to the bundling step, which names it.
 * @param repoRoot - entries are relative to it.
 * @returns findings at `agents[i].params.<key>`.
 */
export function paramsErrors(config: OrchestratorConfig, repoRoot: string): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  config.agents.forEach((agent, i) => {
    const entry = join(repoRoot, agent.entry ?? `lambdas/agents/${agent.name}/handler.ts`);
    if (!existsSync(entry)) return;
    let schema: ParamsSchemaLike | undefined;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      schema = (require(entry) as { handler?: { paramsSchema?: ParamsSchemaLike } }).handler?.paramsSchema;
    } catch {
      return;
    }
    const parsed = schema?.safeParse(agent.params);
    if (parsed && !parsed.success) {
      for (const issue of parsed.error.issues)
        out.push({ path: formatPath([`agents`, i, 'params', ...issue.path]), message: `${issue.message} (agent ${agent.name})` });
    }
  });
  return out;
}

/**
 * Runs {@link configErrors}, {@link dataErrors} and {@link paramsErrors}.
 * @returns the warnings ({@link configWarnings}).
 * @throws {ConfigError} listing every error with its path.
 */
export function checkConfig(config: OrchestratorConfig, repoRoot: string): ConfigFinding[] {
  const errors = [...configErrors(config), ...dataErrors(config, repoRoot), ...paramsErrors(config, repoRoot)];
  if (errors.length) throw new ConfigError(errors);
  return configWarnings(config);
}

/**
 * {@link checkConfig} on the repo this module is in, as synthesis runs it: errors throw, warnings go
 * to stderr as `warning: config <path>: <message>` (cdk synth, npm start). The local runtime runs it
 * on its own when it serves a cached template.
 * @throws {ConfigError} naming the field's path when a check fails.
 */
export function runConfigChecks(config: OrchestratorConfig): void {
  for (const w of checkConfig(config, join(__dirname, '..', '..'))) console.warn(`warning: config ${w.path}: ${w.message}`);
}
