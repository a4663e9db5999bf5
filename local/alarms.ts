/**
 * CloudWatch, locally: a metric store fed by the handlers' EMF output and by the local
 * Step Functions / Lambda services, and an evaluator for the synthesized
 * `AWS::CloudWatch::Alarm` resources on the simulated clock.
 *
 * Evaluation (after CloudWatch's documented rules, simplified): an alarm exists from its creation
 * (the deploy, {@link LocalCloudWatchOptions.createdAtMs}) in INSUFFICIENT_DATA and is evaluated
 * every minute from then on (at whole minutes, the first within a minute of the creation), as CloudWatch does (AWS::CloudWatch::Alarm: "the alarm state is
 * immediately set to INSUFFICIENT_DATA. The alarm is then evaluated"). Each evaluation looks at the
 * last `EvaluationPeriods` complete periods, aligned to epoch multiples of `Period` (periods before
 * the alarm existed are simply missing), computed with `Statistic`; the alarm is ALARM when at least
 * `DatapointsToAlarm` (default `EvaluationPeriods`) of them breach. Missing periods follow
 * `TreatMissingData` (CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing
 * data"): `breaching` / `notBreaching` count as such, `missing` and `ignore` are left out (with no
 * data at all: `missing` -> INSUFFICIENT_DATA, `ignore` -> unchanged). So a `breaching` alarm goes
 * to ALARM about a minute after a deploy that has no data yet, exactly as it would in AWS.
 *
 * Metric math (`Metrics`): only expressions of numbers, metric ids, `FILL(x, n)`, `IF(c, a, b)`,
 * comparisons (`> >= < <= == !=`), `AND`/`OR`/`NOT` and `+ - * /` are evaluated; anything else is
 * refused at start. In a period where none of the inputs has data the expression has no datapoint
 * (missing), the conservative reading for alarms.
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

/** An alarm as the template deploys it and the evaluator reads it (resolved Properties); the catalog's `AlarmSpec` (lib/constructs/alarm-catalog.ts) is what the stack builds it from. */
export interface DeployedAlarm {
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
  /** Metric math: the expression and its inputs by id (then `namespace`/`metricName`/`dims`/`statistic` are the first input's). */
  expression?: {
    text: string;
    inputs: Record<string, { namespace: string; metricName: string; dims: Record<string, string>; statistic: DeployedAlarm['statistic'] }>;
  };
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
 * Builds an {@link DeployedAlarm} from resolved `AWS::CloudWatch::Alarm` Properties.
 * @throws {Error} naming the alarm when it uses metric math (`Metrics`) or lacks a field.
 */
export function alarmSpecFromProps(id: string, p: Record<string, unknown>): DeployedAlarm {
  const name = String(p.AlarmName ?? id);
  const statOf = (raw: unknown): DeployedAlarm['statistic'] => {
    const stat = String(raw ?? '');
    if (!['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount'].includes(stat))
      throw new Error(`Alarm ${name}: statistic ${stat || String(p.ExtendedStatistic)} is not supported locally`);
    return stat as DeployedAlarm['statistic'];
  };
  const dimsOf = (raw: unknown): Record<string, string> =>
    Object.fromEntries(((raw as { Name: string; Value: string }[]) ?? []).map((d) => [d.Name, String(d.Value)]));
  const evaluationPeriods = Number(p.EvaluationPeriods ?? 1);
  const common = {
    name,
    evaluationPeriods,
    datapointsToAlarm: Number(p.DatapointsToAlarm ?? evaluationPeriods),
    threshold: Number(p.Threshold),
    comparison: String(p.ComparisonOperator),
    treatMissing: (p.TreatMissingData as DeployedAlarm['treatMissing']) ?? 'missing',
    alarmActions: ((p.AlarmActions as string[]) ?? []).map(String),
    okActions: ((p.OKActions as string[]) ?? []).map(String),
    description: p.AlarmDescription ? String(p.AlarmDescription) : undefined,
  };
  if (p.Metrics) {
    type Query = {
      Id: string;
      Expression?: string;
      ReturnData?: boolean;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: unknown }; Period: number; Stat: string };
    };
    const queries = p.Metrics as Query[];
    const returned = queries.filter((q) => q.Expression !== undefined && q.ReturnData !== false);
    if (returned.length !== 1) throw new Error(`Alarm ${name}: metric math needs exactly one returned expression locally, found ${returned.length}`);
    const inputs: NonNullable<DeployedAlarm['expression']>['inputs'] = {};
    let periodS = 0;
    for (const q of queries) {
      if (!q.MetricStat) continue;
      inputs[q.Id] = {
        namespace: q.MetricStat.Metric.Namespace,
        metricName: q.MetricStat.Metric.MetricName,
        dims: dimsOf(q.MetricStat.Metric.Dimensions),
        statistic: statOf(q.MetricStat.Stat),
      };
      periodS ||= Number(q.MetricStat.Period);
    }
    const text = String(returned[0].Expression);
    // Parse now: an expression the evaluator cannot run is refused at start, not at the first evaluation.
    parseExpression(text, name);
    const first = Object.values(inputs)[0];
    if (!first) throw new Error(`Alarm ${name}: metric math without a metric input cannot be evaluated locally`);
    return {
      ...common,
      namespace: first.namespace,
      metricName: first.metricName,
      dims: first.dims,
      statistic: first.statistic,
      periodS: periodS || 300,
      expression: { text, inputs },
    };
  }
  if (!p.MetricName || !p.Namespace) throw new Error(`Alarm ${name}: MetricName and Namespace are required locally`);
  return {
    ...common,
    namespace: String(p.Namespace),
    metricName: String(p.MetricName),
    dims: dimsOf(p.Dimensions),
    statistic: statOf(p.Statistic ?? (p.ExtendedStatistic ? '' : 'Average')),
    periodS: Number(p.Period ?? 300),
  };
}

/** A parsed metric math expression. */
type Expr =
  | { k: 'num'; v: number }
  | { k: 'id'; id: string }
  | { k: 'call'; fn: string; args: Expr[] }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr };

/**
 * Parses the supported subset of CloudWatch metric math (see the module doc).
 * @throws {Error} `Alarm <name>: metric math "<text>" is not supported locally (<why>)`.
 */
export function parseExpression(text: string, alarm = '(alarm)'): Expr {
  const fail = (why: string): never => {
    throw new Error(`Alarm ${alarm}: metric math "${text}" is not supported locally (${why})`);
  };
  const tokens = text.match(/\s*(>=|<=|==|!=|&&|\|\||[-+*/(),<>!]|[0-9]+(?:\.[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*|\S)/g)?.map((t) => t.trim()) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (t?: string): string => {
    const got = tokens[i++];
    if (got === undefined || (t !== undefined && got !== t)) fail(`expected ${t ?? 'more'} at token ${i}`);
    return got as string;
  };
  const levels: string[][] = [
    ['OR', '||'],
    ['AND', '&&'],
    ['==', '!=', '<', '<=', '>', '>='],
    ['+', '-'],
    ['*', '/'],
  ];
  const binary = (level: number): Expr => {
    if (level === levels.length) return unary();
    let left = binary(level + 1);
    while (peek() !== undefined && levels[level].includes(peek()!.toUpperCase())) {
      const op = take().toUpperCase();
      left = { k: 'bin', op: op === '||' ? 'OR' : op === '&&' ? 'AND' : op, l: left, r: binary(level + 1) };
    }
    return left;
  };
  const unary = (): Expr => {
    const t = peek();
    if (t === '!' || t?.toUpperCase() === 'NOT') return (take(), { k: 'not', e: unary() });
    if (t === '-') return (take(), { k: 'neg', e: unary() });
    return primary();
  };
  const primary = (): Expr => {
    const t = take();
    if (t === '(') {
      const e = binary(0);
      take(')');
      return e;
    }
    if (/^[0-9]/.test(t)) return { k: 'num', v: Number(t) };
    if (!/^[A-Za-z_]/.test(t)) fail(`unexpected "${t}"`);
    if (peek() !== '(') return { k: 'id', id: t };
    const fn = t.toUpperCase();
    if (fn !== 'FILL' && fn !== 'IF') fail(`function ${t}`);
    take('(');
    const args: Expr[] = [binary(0)];
    while (peek() === ',') {
      take();
      args.push(binary(0));
    }
    take(')');
    if ((fn === 'FILL' && args.length !== 2) || (fn === 'IF' && args.length !== 3)) fail(`${fn} takes ${fn === 'FILL' ? 2 : 3} arguments`);
    return { k: 'call', fn, args };
  };
  const e = binary(0);
  if (i !== tokens.length) fail(`unexpected "${tokens[i]}"`);
  return e;
}

/** Evaluates a parsed expression; `undefined` is "no datapoint" (propagates, except through FILL). */
function evalExpr(e: Expr, values: Record<string, number | undefined>): number | undefined {
  switch (e.k) {
    case 'num':
      return e.v;
    case 'id':
      return values[e.id];
    case 'not': {
      const v = evalExpr(e.e, values);
      return v === undefined ? undefined : v ? 0 : 1;
    }
    case 'neg': {
      const v = evalExpr(e.e, values);
      return v === undefined ? undefined : -v;
    }
    case 'call': {
      if (e.fn === 'FILL') return evalExpr(e.args[0], values) ?? evalExpr(e.args[1], values);
      const c = evalExpr(e.args[0], values);
      return c === undefined ? undefined : evalExpr(c ? e.args[1] : e.args[2], values);
    }
    case 'bin': {
      const l = evalExpr(e.l, values);
      const r = evalExpr(e.r, values);
      if (l === undefined || r === undefined) return undefined;
      const ops: Record<string, (a: number, b: number) => number> = {
        OR: (a, b) => (a || b ? 1 : 0),
        AND: (a, b) => (a && b ? 1 : 0),
        '==': (a, b) => (a === b ? 1 : 0),
        '!=': (a, b) => (a !== b ? 1 : 0),
        '<': (a, b) => (a < b ? 1 : 0),
        '<=': (a, b) => (a <= b ? 1 : 0),
        '>': (a, b) => (a > b ? 1 : 0),
        '>=': (a, b) => (a >= b ? 1 : 0),
        '+': (a, b) => a + b,
        '-': (a, b) => a - b,
        '*': (a, b) => a * b,
        '/': (a, b) => a / b,
      };
      return ops[e.op](l, r);
    }
  }
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

function statistic(stat: DeployedAlarm['statistic'], values: number[]): number {
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

/** Options of {@link LocalCloudWatch}. */
export interface LocalCloudWatchOptions {
  /** Simulated epoch ms at which the alarms were created (the deploy); the first evaluation is at the next whole minute. Default 0. */
  createdAtMs?: number;
}

/** CloudWatch evaluates metric alarms once a minute. */
export const EVALUATION_INTERVAL_MS = 60_000;

const seriesKey = (namespace: string, name: string, dims: Record<string, string>): string =>
  JSON.stringify([namespace, name, Object.entries(dims).sort(([a], [b]) => a.localeCompare(b))]);

/** Stores datapoints and evaluates alarms. */
export class LocalCloudWatch {
  readonly datapoints: Datapoint[] = [];
  readonly states = new Map<string, { value: AlarmStateValue; changedAt: number }>();
  /** Datapoints by metric (namespace, name, exact dimension set), in arrival (= time) order. */
  private readonly series = new Map<string, Datapoint[]>();
  /** Per alarm: next evaluation time and the end of the last window evaluated. */
  private readonly cursor = new Map<string, { next: number; lastEnd: number }>();
  private readonly parsed = new Map<string, Expr>();
  private createdAtMs: number;

  constructor(
    readonly alarms: DeployedAlarm[],
    opts: LocalCloudWatchOptions = {},
  ) {
    this.createdAtMs = opts.createdAtMs ?? 0;
    for (const a of alarms) {
      this.states.set(a.name, { value: 'INSUFFICIENT_DATA', changedAt: 0 });
      if (a.expression) this.parsed.set(a.name, parseExpression(a.expression.text, a.name));
    }
  }

  /**
   * Restarts the once-a-minute evaluation at `ms` (first evaluation at the next whole minute): at a deploy,
   * or when a saved state is resumed (the alarms existed before; their states are restored separately).
   */
  startEvaluatingAt(ms: number): void {
    this.createdAtMs = ms;
    this.cursor.clear();
  }

  put(dp: Datapoint): void {
    this.datapoints.push(dp);
    const key = seriesKey(dp.namespace, dp.name, dp.dims);
    const list = this.series.get(key);
    if (list) list.push(dp);
    else this.series.set(key, [dp]);
  }

  /** Values of one metric in [from, to). */
  private values(namespace: string, metricName: string, dims: Record<string, string>, from: number, to: number): number[] {
    const list = this.series.get(seriesKey(namespace, metricName, dims)) ?? [];
    return list.filter((d) => d.at >= from && d.at < to).map((d) => d.value);
  }

  /** The alarm's datapoint for the period [from, to), or undefined when it has none. */
  private periodValue(a: DeployedAlarm, from: number, to: number): number | undefined {
    if (!a.expression) {
      const vals = this.values(a.namespace, a.metricName, a.dims, from, to);
      return vals.length ? statistic(a.statistic, vals) : undefined;
    }
    const values: Record<string, number | undefined> = {};
    for (const [id, m] of Object.entries(a.expression.inputs)) {
      const vals = this.values(m.namespace, m.metricName, m.dims, from, to);
      values[id] = vals.length ? statistic(m.statistic, vals) : undefined;
    }
    if (Object.values(values).every((v) => v === undefined)) return undefined;
    return evalExpr(this.parsed.get(a.name)!, values);
  }

  /** Evaluates one alarm over the `EvaluationPeriods` periods that end at `at`; returns its new state. */
  evaluateAt(a: DeployedAlarm, at: number): { value: AlarmStateValue; reason: string } {
    const p = a.periodS * 1000;
    let breaching = 0;
    let withData = 0;
    const seen: string[] = [];
    for (let k = 0; k < a.evaluationPeriods; k++) {
      const v = this.periodValue(a, at - (k + 1) * p, at - k * p);
      if (v === undefined) {
        if (a.treatMissing === 'breaching') {
          breaching++;
          withData++;
        } else if (a.treatMissing === 'notBreaching') withData++;
        continue;
      }
      seen.push(String(Math.round(v * 1000) / 1000));
      withData++;
      if (compare(a.comparison, v, a.threshold)) breaching++;
    }
    const current = this.states.get(a.name)!.value;
    if (!withData)
      return a.treatMissing === 'ignore' ? { value: current, reason: 'no data (ignored)' } : { value: 'INSUFFICIENT_DATA', reason: 'no datapoints' };
    const reason = `Threshold Crossed: ${breaching} of the last ${a.evaluationPeriods} datapoints [${seen.join(', ')}] were ${a.comparison} ${a.threshold} (needed ${a.datapointsToAlarm}; missing data ${a.treatMissing})`;
    return { value: breaching >= a.datapointsToAlarm ? 'ALARM' : 'OK', reason };
  }

  /**
   * Runs every once-a-minute evaluation in (last evaluation, nowMs], at whole minutes from the first
   * one after the alarms' creation; returns the state transitions in time order (`at` = the evaluation's minute).
   * Evaluations that see the same complete periods as the one before give the same result (data is
   * only ever added to the current period), so only the first minute of each window is computed.
   */
  evaluateUntil(nowMs: number): AlarmTransition[] {
    const out: AlarmTransition[] = [];
    const first = (Math.floor(this.createdAtMs / EVALUATION_INTERVAL_MS) + 1) * EVALUATION_INTERVAL_MS;
    const grid = (ms: number): number => Math.max(first, Math.ceil(ms / EVALUATION_INTERVAL_MS) * EVALUATION_INTERVAL_MS);
    for (const a of this.alarms) {
      const p = a.periodS * 1000;
      const c = this.cursor.get(a.name) ?? { next: first, lastEnd: Number.NaN };
      while (c.next <= nowMs) {
        const end = Math.floor(c.next / p) * p;
        if (end !== c.lastEnd) {
          const next = this.evaluateAt(a, end);
          const st = this.states.get(a.name)!;
          if (next.value !== st.value) {
            out.push({ alarm: a.name, from: st.value, to: next.value, at: c.next, reason: next.reason });
            this.states.set(a.name, { value: next.value, changedAt: c.next });
          }
          c.lastEnd = end;
        }
        c.next = Math.max(c.next + EVALUATION_INTERVAL_MS, grid(end + p));
      }
      this.cursor.set(a.name, c);
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
