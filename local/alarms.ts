/**
 * CloudWatch, locally: a metric store fed by the handlers' EMF output and by the local
 * Step Functions / Lambda services, and an evaluator for the synthesized
 * `AWS::CloudWatch::Alarm` resources on the simulated clock.
 *
 * Evaluation (after CloudWatch's documented rules, simplified): periods are aligned to epoch
 * multiples of `Period`; at each period end the last `EvaluationPeriods` periods are computed
 * with `Statistic`; the alarm is ALARM when at least `DatapointsToAlarm` (default
 * `EvaluationPeriods`) of them breach. Missing periods follow `TreatMissingData`:
 * `breaching` / `notBreaching` count as such, `missing` and `ignore` are left out (with no data
 * at all: `missing` -> INSUFFICIENT_DATA, `ignore` -> unchanged). Metric math (`Metrics`) is refused.
 *
 * May be imported by: `local/`, `test/`.
 */

/** One datapoint. */
export interface Datapoint {
  namespace: string;
  name: string;
  /** Dimension name -> value (the full set: CloudWatch matches exact sets). */
  dims: Record<string, string>;
  value: number;
  /** Simulated epoch ms. */
  at: number;
}

/** An alarm as the evaluator reads it (resolved Properties). */
export interface AlarmSpec {
  name: string;
  namespace: string;
  metricName: string;
  dims: Record<string, string>;
  statistic: 'Sum' | 'Average' | 'Maximum' | 'Minimum' | 'SampleCount';
  periodS: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: string;
  treatMissing: 'missing' | 'ignore' | 'breaching' | 'notBreaching';
  alarmActions: string[];
  okActions: string[];
  description?: string;
}

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A state change. */
export interface AlarmTransition {
  alarm: string;
  from: AlarmStateValue;
  to: AlarmStateValue;
  at: number;
  reason: string;
}

/**
 * Builds an {@link AlarmSpec} from resolved `AWS::CloudWatch::Alarm` Properties.
 * @throws {Error} naming the alarm when it uses metric math (`Metrics`) or lacks a field.
 */
export function alarmSpecFromProps(id: string, p: Record<string, unknown>): AlarmSpec {
  const name = String(p.AlarmName ?? id);
  if (p.Metrics) throw new Error(`Alarm ${name}: metric math (Metrics) cannot be evaluated by the local runtime`);
  if (!p.MetricName || !p.Namespace) throw new Error(`Alarm ${name}: MetricName and Namespace are required locally`);
  const stat = String(p.Statistic ?? (p.ExtendedStatistic ? '' : 'Average'));
  if (!['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount'].includes(stat)) throw new Error(`Alarm ${name}: statistic ${stat || String(p.ExtendedStatistic)} is not supported locally`);
  const evaluationPeriods = Number(p.EvaluationPeriods ?? 1);
  return {
    name,
    namespace: String(p.Namespace),
    metricName: String(p.MetricName),
    dims: Object.fromEntries(((p.Dimensions as { Name: string; Value: string }[]) ?? []).map((d) => [d.Name, String(d.Value)])),
    statistic: stat as AlarmSpec['statistic'],
    periodS: Number(p.Period ?? 300),
    evaluationPeriods,
    datapointsToAlarm: Number(p.DatapointsToAlarm ?? evaluationPeriods),
    threshold: Number(p.Threshold),
    comparison: String(p.ComparisonOperator),
    treatMissing: (p.TreatMissingData as AlarmSpec['treatMissing']) ?? 'missing',
    alarmActions: ((p.AlarmActions as string[]) ?? []).map(String),
    okActions: ((p.OKActions as string[]) ?? []).map(String),
    description: p.AlarmDescription ? String(p.AlarmDescription) : undefined,
  };
}

function compare(op: string, v: number, t: number): boolean {
  switch (op) {
    case 'GreaterThanThreshold':
      return v > t;
    case 'GreaterThanOrEqualToThreshold':
      return v >= t;
    case 'LessThanThreshold':
      return v < t;
    case 'LessThanOrEqualToThreshold':
      return v <= t;
    default:
      throw new Error(`Comparison ${op} is not supported locally`);
  }
}

function statistic(stat: AlarmSpec['statistic'], values: number[]): number {
  switch (stat) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'SampleCount':
      return values.length;
  }
}

/** Stores datapoints and evaluates alarms. */
export class LocalCloudWatch {
  readonly datapoints: Datapoint[] = [];
  readonly states = new Map<string, { value: AlarmStateValue; changedAt: number }>();
  private lastEvaluated = new Map<string, number>();

  constructor(readonly alarms: AlarmSpec[]) {
    for (const a of alarms) this.states.set(a.name, { value: 'INSUFFICIENT_DATA', changedAt: 0 });
  }

  put(dp: Datapoint): void {
    this.datapoints.push(dp);
  }

  /** Values of one alarm's metric in [from, to). */
  private values(a: AlarmSpec, from: number, to: number): number[] {
    const keys = Object.keys(a.dims);
    return this.datapoints
      .filter(
        (d) =>
          d.at >= from &&
          d.at < to &&
          d.name === a.metricName &&
          d.namespace === a.namespace &&
          Object.keys(d.dims).length === keys.length &&
          keys.every((k) => d.dims[k] === a.dims[k]),
      )
      .map((d) => d.value);
  }

  /** Evaluates one alarm at period end `at`; returns its new state. */
  evaluateAt(a: AlarmSpec, at: number): { value: AlarmStateValue; reason: string } {
    const p = a.periodS * 1000;
    let breaching = 0;
    let withData = 0;
    const seen: string[] = [];
    for (let k = 0; k < a.evaluationPeriods; k++) {
      const vals = this.values(a, at - (k + 1) * p, at - k * p);
      if (!vals.length) {
        if (a.treatMissing === 'breaching') {
          breaching++;
          withData++;
        } else if (a.treatMissing === 'notBreaching') withData++;
        continue;
      }
      const v = statistic(a.statistic, vals);
      seen.push(String(Math.round(v * 1000) / 1000));
      withData++;
      if (compare(a.comparison, v, a.threshold)) breaching++;
    }
    const current = this.states.get(a.name)!.value;
    if (!withData) return a.treatMissing === 'ignore' ? { value: current, reason: 'no data (ignored)' } : { value: 'INSUFFICIENT_DATA', reason: 'no datapoints' };
    const reason = `Threshold Crossed: ${breaching} of the last ${a.evaluationPeriods} datapoints [${seen.join(', ')}] were ${a.comparison} ${a.threshold} (needed ${a.datapointsToAlarm})`;
    return { value: breaching >= a.datapointsToAlarm ? 'ALARM' : 'OK', reason };
  }

  /** Evaluates every alarm at every period end in (last evaluation, nowMs]; returns transitions in time order. */
  evaluateUntil(nowMs: number): AlarmTransition[] {
    const out: AlarmTransition[] = [];
    for (const a of this.alarms) {
      const p = a.periodS * 1000;
      const last = this.lastEvaluated.get(a.name) ?? (this.datapoints.length ? Math.floor(Math.min(...this.datapoints.map((d) => d.at)) / p) * p : nowMs);
      for (let t = Math.floor(last / p) * p + p; t <= nowMs; t += p) {
        const next = this.evaluateAt(a, t);
        const st = this.states.get(a.name)!;
        if (next.value !== st.value) {
          out.push({ alarm: a.name, from: st.value, to: next.value, at: t, reason: next.reason });
          this.states.set(a.name, { value: next.value, changedAt: t });
        }
        this.lastEvaluated.set(a.name, t);
      }
    }
    return out.sort((x, y) => x.at - y.at);
  }
}

/**
 * Parses one EMF line (CloudWatch embedded metric format) into datapoints, one per metric and
 * dimension set. Returns [] for a line that is not EMF.
 */
export function parseEmf(line: string, at: number): Datapoint[] {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line);
  } catch {
    return [];
  }
  const aws = doc._aws as { CloudWatchMetrics?: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } | undefined;
  if (!aws?.CloudWatchMetrics) return [];
  const out: Datapoint[] = [];
  for (const d of aws.CloudWatchMetrics) {
    for (const m of d.Metrics) {
      const raw = doc[m.Name];
      const values = (Array.isArray(raw) ? raw : [raw]).map(Number).filter((v) => Number.isFinite(v));
      for (const set of d.Dimensions.length ? d.Dimensions : [[]]) {
        const dims = Object.fromEntries(set.map((k) => [k, String(doc[k])]));
        for (const value of values) out.push({ namespace: d.Namespace, name: m.Name, dims, value, at });
      }
    }
  }
  return out;
}
