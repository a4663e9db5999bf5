/**
 * Config and template for issue 12's reduce-only pieces: `resume.*` defaults and validation, the per-agent
 * budget's allocation and daily-loss fields reaching TRADING_SETTINGS, RESUME_POLICY on the Master and the
 * operator function, the per-agent P&L / exposure dashboard widgets behind `monitoring.perAgentMetrics`, and
 * the EMF records the risk Lambda emits for them.
 */
import { ConfigError, validateConfig, type OrchestratorConfigInput } from '../../lib/config/schema';
import { tradingSettingsFromConfig } from '../../lib/config/lambda-settings';
import defaultConfig from '../fixtures/fleet';
import { publishAgentTradingMetrics } from '../../lambdas/shared/trading/risk-metrics';
import { flatten, resourcesOfType, synth } from './template-helpers';

const base = (): OrchestratorConfigInput => structuredClone(defaultConfig);

describe('config', () => {
  it('resume.coolDownSeconds defaults to one cadence; allowDirectToNormal to false', () => {
    expect(validateConfig(base()).resume).toEqual({ coolDownSeconds: 900, allowDirectToNormal: false });
    const c = base();
    c.cycle = { ...c.cycle, cadenceMinutes: 5 };
    expect(validateConfig(c).resume.coolDownSeconds).toBe(300);
    const bad = base();
    bad.resume = { coolDownSeconds: -5 };
    expect(() => validateConfig(bad)).toThrow(ConfigError);
    expect(() => validateConfig(bad)).toThrow(/resume\.coolDownSeconds:/);
  });

  it('agents[].budget: allocations over the starting cash fail at the field; a daily-loss fraction gets an equal-share allocation by default', () => {
    const over = base();
    over.agents = over.agents.map((a, i) => (i === 0 ? { ...a, budget: { allocationUsd: 2_000_000 } } : a));
    expect(() => validateConfig(over)).toThrow(/agents\[0\]\.budget\.allocationUsd: .*exceed portfolio\.startingCashUsd/);
    const frac = base();
    frac.agents = frac.agents.map((a, i) => (i === 1 ? { ...a, budget: { maxDailyLossFraction: 0.02 } } : a));
    const c = validateConfig(frac);
    const enabled = c.agents.filter((a) => a.enabled).length;
    expect(tradingSettingsFromConfig(c).budgets[c.agents[1].name]).toEqual({ maxDailyLossFraction: 0.02, allocationUsd: 1_000_000 / enabled });
    const tooBig = base();
    tooBig.agents = tooBig.agents.map((a, i) => (i === 1 ? { ...a, budget: { maxDailyLossFraction: 1.5 } } : a));
    expect(() => validateConfig(tooBig)).toThrow(/agents\[1\]\.budget\.maxDailyLossFraction/);
  });
});

describe('template', () => {
  it('the Master and the operator function get RESUME_POLICY from config resume', () => {
    const s = synth((c) => ({ ...c, resume: { coolDownSeconds: 120, allowDirectToNormal: true } }));
    const fns = resourcesOfType(s.template, 'AWS::Lambda::Function').filter(([, r]) => r.Properties.Environment?.Variables?.RESUME_POLICY);
    expect(fns).toHaveLength(2);
    for (const [, fn] of fns)
      expect(JSON.parse(fn.Properties.Environment.Variables.RESUME_POLICY)).toEqual({ coolDownSeconds: 120, allowDirectToNormal: true });
  });

  it('the dashboard has per-agent P&L and exposure widgets only with monitoring.perAgentMetrics', () => {
    const titles = (perAgentMetrics: boolean) => {
      const s = synth((c) => ({ ...c, monitoring: { perAgentMetrics, perAgentAlarms: false } }));
      const [[, dash]] = resourcesOfType(s.template, 'AWS::CloudWatch::Dashboard');
      return JSON.parse(flatten(dash.Properties.DashboardBody)).widgets as Array<{ properties: { title: string; metrics?: unknown[] } }>;
    };
    const on = titles(true);
    const pnl = on.find((w) => w.properties.title === 'Agent P&L (USD)')!;
    expect(pnl.properties.metrics).toHaveLength(4);
    expect(JSON.stringify(pnl.properties.metrics)).toContain('AgentPnlUsd');
    expect(on.map((w) => w.properties.title)).toContain('Agent gross exposure (USD) and daily-loss REDUCE (1 = reduce-only)');
    expect(
      titles(false)
        .map((w) => w.properties.title)
        .filter((t) => /P&L|gross exposure/.test(t ?? '')),
    ).toEqual([]);
  });
});

describe('per-agent metrics', () => {
  it('one record per agent with the agent dimension; non-finite figures are left out', () => {
    const records: Array<{ dims: Record<string, string>; metrics: Record<string, number> }> = [];
    let cur = { dims: {} as Record<string, string>, metrics: {} as Record<string, number> };
    publishAgentTradingMetrics(
      {
        addDimension: (n, v) => void (cur.dims[n] = v),
        addMetric: (n, _u, v) => void (cur.metrics[n] = v),
        publishStoredMetrics: () => {
          records.push(cur);
          cur = { dims: {}, metrics: {} };
        },
      },
      {
        a: { pnlUsd: 12.5, pnlTodayUsd: -3, grossExposureUsd: 900, peakPnlUsd: 20, drawdownFraction: 0.001, reduceOnly: true },
        b: { pnlUsd: Number.NaN, pnlTodayUsd: 0, grossExposureUsd: 0, peakPnlUsd: 0, drawdownFraction: 0, reduceOnly: false },
      },
    );
    expect(records).toEqual([
      { dims: { agent: 'a' }, metrics: { AgentPnlUsd: 12.5, AgentPnlTodayUsd: -3, AgentGrossExposureUsd: 900, AgentReduceOnly: 1 } },
      { dims: { agent: 'b' }, metrics: { AgentPnlTodayUsd: 0, AgentGrossExposureUsd: 0, AgentReduceOnly: 0 } },
    ]);
  });
});
