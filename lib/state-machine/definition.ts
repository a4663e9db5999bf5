/**
 * Loads `statemachines/cycle.asl.json` and fills its synth-time placeholders.
 *
 * The file has two kinds of `${Name}` placeholders:
 * - **numbers** from the config (`${RiskMaxAttempts}`, `${StrategyBackoffRate}`, ...). ASL needs
 *   JSON numbers there, and CloudFormation's `DefinitionSubstitutions` can only splice text into
 *   strings, so these are filled at synth time by {@link renderCycleDefinition};
 * - **ARNs** (`${SupervisorFunctionArn}`, `${RiskFunctionArn}`, `${MasterFunctionArn}`, `${GatewayFunctionArn}`), left for
 *   CloudFormation's `DefinitionSubstitutions` in AWS and filled with local ARNs by the local runtime
 *   through {@link substituteArns}.
 *
 * Both the CDK construct and the local runtime use this module, so AWS and the local runtime run
 * the same definition.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cycleTimeoutSeconds, type OrchestratorConfig } from '../config/schema';

/** Absolute path of the cycle definition file. */
export const CYCLE_DEFINITION_FILE = join(__dirname, '..', '..', 'statemachines', 'cycle.asl.json');

/** ARN placeholders the deployed definition leaves for `DefinitionSubstitutions`. */
export const ARN_PLACEHOLDERS = ['SupervisorFunctionArn', 'RiskFunctionArn', 'MasterFunctionArn', 'GatewayFunctionArn'] as const;
export type ArnPlaceholder = (typeof ARN_PLACEHOLDERS)[number];

/** An ASL document as parsed JSON. */
export type AslDefinition = { StartAt: string; States: Record<string, Record<string, unknown>>; Comment?: string };

/**
 * The numeric placeholders and their values for a config: the execution timeout (seconds), the risk
 * retry policy and one retry policy per fault domain. `MaxAttempts` is retries after the first attempt (ASL semantics).
 */
export function numericSubstitutions(config: OrchestratorConfig): Record<string, number> {
  const fd = config.faultDomains;
  return {
    // Execution timeout (the CycleTimedOut alarm fires on it): see cycleTimeoutSeconds.
    CycleTimeoutSeconds: cycleTimeoutSeconds(config),
    RiskMaxAttempts: config.risk.maxRetries,
    RiskIntervalSeconds: config.risk.intervalSeconds,
    RiskBackoffRate: config.risk.backoffRate,
    DataMaxAttempts: fd.data.maxRetries,
    DataIntervalSeconds: fd.data.intervalSeconds,
    DataBackoffRate: fd.data.backoffRate,
    StrategyMaxAttempts: fd.strategy.maxRetries,
    StrategyIntervalSeconds: fd.strategy.intervalSeconds,
    StrategyBackoffRate: fd.strategy.backoffRate,
    CriticalMaxAttempts: fd.critical.maxRetries,
    CriticalIntervalSeconds: fd.critical.intervalSeconds,
    CriticalBackoffRate: fd.critical.backoffRate,
  };
}

/**
 * Reads the definition file and replaces every string value that is exactly `${Name}` for a numeric
 * placeholder with its number.
 *
 * @returns the definition as an object, ARN placeholders still in place.
 * @throws {Error} when the file is not valid JSON, or when a `${Name}` placeholder is neither numeric
 *   nor one of {@link ARN_PLACEHOLDERS} (a typo in the file fails synth instead of deploying).
 */
export function renderCycleDefinition(config: OrchestratorConfig, file: string = CYCLE_DEFINITION_FILE): AslDefinition {
  const numbers = numericSubstitutions(config);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as AslDefinition;
  const unknown: string[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') {
      const whole = /^\$\{([A-Za-z0-9]+)\}$/.exec(value);
      if (whole && whole[1] in numbers) return numbers[whole[1]];
      for (const m of value.matchAll(/\$\{([A-Za-z0-9]+)\}/g)) {
        if (!(ARN_PLACEHOLDERS as readonly string[]).includes(m[1])) unknown.push(`${path}: \${${m[1]}}`);
      }
      return value;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${path}.${k}`)]));
    }
    return value;
  };
  const rendered = walk(raw, '$') as AslDefinition;
  if (unknown.length) throw new Error(`${file}: unknown placeholders:\n  ${unknown.join('\n  ')}`);
  return rendered;
}

/**
 * Replaces the ARN placeholders with concrete ARNs (what CloudFormation does at deploy time).
 * @throws {Error} when an ARN placeholder has no value.
 */
export function substituteArns(definition: AslDefinition, arns: Record<ArnPlaceholder, string>): AslDefinition {
  const text = JSON.stringify(definition).replace(/\$\{([A-Za-z0-9]+)\}/g, (_, name: string) => {
    const arn = arns[name as ArnPlaceholder];
    if (!arn) throw new Error(`No value for placeholder \${${name}}`);
    return arn;
  });
  return JSON.parse(text) as AslDefinition;
}
