/**
 * Config validation: each invalid field is reported with its path, so `cdk synth` names it.
 */
import { ConfigError, validateConfig, type OrchestratorConfigInput } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';

const base = (): OrchestratorConfigInput => structuredClone(defaultConfig);

/** Validates and returns the ConfigError message, failing the test if the config is accepted. */
function errorOf(raw: unknown): string {
  try {
    validateConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('config was accepted');
}

describe('config validation', () => {
  it('accepts the default config and fills the defaults the specification sets', () => {
    const c = validateConfig(base());
    expect(c.risk.maxRetries).toBe(3);
    expect(c.risk.backoffRate).toBe(2);
    expect(c.cycle.maxWorkers).toBe(4);
    expect(c.cycle.cadenceMinutes).toBe(15);
    expect(c.agents.map((a) => a.name)).toEqual(['strategy', 'sentiment', 'copybot', 'trading']);
  });

  it('rejects a breaker OPEN wait that does not exceed one cadence at breaker.openSeconds', () => {
    expect(errorOf({ ...base(), breaker: { openSeconds: 900 } })).toMatch(/breaker\.openSeconds: must exceed one cadence \(900 s\)/);
    expect(() => validateConfig({ ...base(), cycle: { cadenceMinutes: 5 }, breaker: { openSeconds: 900 } })).not.toThrow();
  });

  it('rejects an unknown fault domain at agents[i].faultDomain', () => {
    const c = base();
    (c.agents[1] as any).faultDomain = 'exotic';
    expect(errorOf(c)).toMatch(/agents\[1\]\.faultDomain/);
  });

  it('rejects a dependency cycle at agents[i].dependsOn, naming the cycle', () => {
    const c = base();
    c.agents[0].dependsOn = ['trading'];
    const msg = errorOf(c);
    expect(msg).toMatch(/agents\[\d\]\.dependsOn: dependency cycle: /);
    expect(msg).toMatch(/strategy/);
    expect(msg).toMatch(/trading/);
  });

  it('rejects a duplicate agent at agents[i].name', () => {
    const c = base();
    c.agents.push({ ...c.agents[0] });
    expect(errorOf(c)).toMatch(/agents\[4\]\.name: duplicate agent "strategy"/);
  });

  it('rejects a negative timeout at agents[i].timeoutSeconds', () => {
    const c = base();
    c.agents[2].timeoutSeconds = -5;
    expect(errorOf(c)).toMatch(/agents\[2\]\.timeoutSeconds/);
  });

  it('rejects a timeout over the Lambda limit of 900 s', () => {
    const c = base();
    c.agents[0].timeoutSeconds = 901;
    expect(errorOf(c)).toMatch(/agents\[0\]\.timeoutSeconds/);
  });

  it('rejects maxWorkers 0 at cycle.maxWorkers', () => {
    const c = base();
    c.cycle = { ...c.cycle, maxWorkers: 0 };
    expect(errorOf(c)).toMatch(/cycle\.maxWorkers/);
  });

  it('rejects an unknown dependsOn at agents[i].dependsOn[j]', () => {
    const c = base();
    c.agents[3].dependsOn = ['strategy', 'ghost'];
    expect(errorOf(c)).toMatch(/agents\[3\]\.dependsOn\[1\]: unknown agent "ghost"/);
  });

  it('rejects a bad timezone at cycle.timezone', () => {
    const c = base();
    c.cycle = { ...c.cycle, timezone: 'Mars/Olympus_Mons' };
    expect(errorOf(c)).toMatch(/cycle\.timezone: must be an IANA timezone/);
  });

  it('rejects unknown fields (strict), naming the field', () => {
    const c = base() as any;
    c.cycle.cadense = 15;
    expect(errorOf(c)).toMatch(/cycle/);
    expect(errorOf(c)).toMatch(/cadense/);
  });

  it('reports every problem at once, one a line', () => {
    const c = base();
    c.cycle = { ...c.cycle, maxWorkers: 0, timezone: 'Nowhere/Land' };
    c.agents[2].timeoutSeconds = 0;
    const lines = errorOf(c)
      .split('\n')
      .filter((l) => l.startsWith('  - '));
    expect(lines.length).toBeGreaterThanOrEqual(3);
  });
});
