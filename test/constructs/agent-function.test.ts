/**
 * FleetFunction (lib/constructs/agent-function.ts) on a bare Stack, bundling off: Node.js 22 on
 * arm64, X-Ray tracing only when asked (`tracing`), 256 MB, an explicit log group kept one month and retained, Powertools
 * variables; the timeout from `timeoutSeconds` or the task's timeout + 5 s (Lambda's 900 s at most);
 * market data validated at synth and named in the environment; asset files staged as literal files;
 * every prop with a default shown at its default and overridden; every synth error.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ENV, METRICS_NAMESPACE } from '../../lambdas/shared/env';
import { SERVICE_NAME } from '../../lambdas/shared/metrics-catalog';
import {
  FleetFunction,
  LAMBDA_MAX_TIMEOUT_SECONDS,
  LAMBDA_MEMORY_MB,
  LAMBDA_TIMEOUT_MARGIN_SECONDS,
  MARKET_DATA_PATH_IN_LAMBDA,
  type FleetFunctionProps,
} from '../../lib/constructs/agent-function';

const ENTRY = 'lambdas/agents/strategy/handler.ts';

const newStack = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
const build = (props: Partial<FleetFunctionProps> = {}) => {
  const stack = newStack();
  const f = new FleetFunction(stack, 'Agent', { entry: ENTRY, description: 'strategy agent', timeoutSeconds: 30, ...props });
  const template = Template.fromStack(stack);
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')).map((r) => r.Properties);
  return { stack, f, template, fn };
};
const attempt = (props: Partial<FleetFunctionProps>) => () => build(props);

describe('FleetFunction', () => {
  it('defaults: Node.js 22 on arm64, no tracing, 256 MB, no name or reserved concurrency, Powertools variables', () => {
    const { f, fn, stack, template } = build();
    template.resourceCountIs('AWS::Lambda::Function', 1);
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Description: 'strategy agent',
      MemorySize: 256,
      Timeout: 30,
      LoggingConfig: { LogGroup: { Ref: stack.getLogicalId(f.logGroup.node.defaultChild as logs.CfnLogGroup) } },
    });
    expect(fn.TracingConfig?.Mode ?? 'PassThrough').not.toBe('Active');
    expect(f.tracing).toBe(false);
    expect(fn.FunctionName).toBeUndefined();
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    expect(fn.Environment.Variables).toEqual({
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
    });
    expect(f.entry).toBe(ENTRY);
    expect(f.assetFiles).toEqual({});
  });

  it('tracing: X-Ray active tracing, FLEET_TRACING=on, and the X-Ray write actions on the role', () => {
    const { f, fn, template } = build({ tracing: true });
    expect(f.tracing).toBe(true);
    expect(fn.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.Environment.Variables[ENV.tracing]).toBe('on');
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string | string[] }) => [st.Action].flat()),
    );
    expect(actions).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    expect(Object.values(build().template.findResources('AWS::IAM::Policy'))).toEqual([]);
  });

  it('the log group keeps one month and is retained by default', () => {
    const { template } = build();
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { RetentionInDays: 30 } });
  });

  it('overrides: memory, name, reserved concurrency, extra environment, log retention and removal policy', () => {
    const { fn, template } = build({
      memoryMb: 1024,
      functionName: 'Fleet-strategy',
      reservedConcurrency: 3,
      environment: { TABLE: 'T' },
      logRetention: logs.RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
    expect(fn).toMatchObject({ MemorySize: 1024, FunctionName: 'Fleet-strategy', ReservedConcurrentExecutions: 3 });
    expect(fn.Environment.Variables).toMatchObject({ TABLE: 'T', POWERTOOLS_SERVICE_NAME: SERVICE_NAME });
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', Properties: { RetentionInDays: 7 } });
  });

  it(`the timeout is the task's timeout + ${LAMBDA_TIMEOUT_MARGIN_SECONDS} s, and the larger one when both are given`, () => {
    expect(build({ timeoutSeconds: undefined, taskTimeoutSeconds: 300 }).fn.Timeout).toBe(300 + LAMBDA_TIMEOUT_MARGIN_SECONDS);
    expect(build({ timeoutSeconds: 60, taskTimeoutSeconds: 30 }).fn.Timeout).toBe(60);
    expect(build({ timeoutSeconds: 10, taskTimeoutSeconds: 30 }).fn.Timeout).toBe(35);
    expect(build({ timeoutSeconds: undefined, taskTimeoutSeconds: LAMBDA_MAX_TIMEOUT_SECONDS - LAMBDA_TIMEOUT_MARGIN_SECONDS }).fn.Timeout).toBe(
      LAMBDA_MAX_TIMEOUT_SECONDS,
    );
  });

  it('market data: a multi-symbol file sets MARKET_DATA_FILE only; a one-symbol OHLCV file also its symbol', () => {
    const wide = build({ marketDataFile: 'data/market/dowjones30-daily.csv' }).fn.Environment.Variables;
    expect(wide[ENV.marketDataFile]).toBe(MARKET_DATA_PATH_IN_LAMBDA);
    expect(MARKET_DATA_PATH_IN_LAMBDA).toBe('/var/task/market-data.csv');
    expect(wide.MARKET_DATA_SYMBOL).toBeUndefined();
    const ohlcv = build({ marketDataFile: join(__dirname, '..', '..', 'data/market/msft-daily.csv') }).fn.Environment.Variables;
    expect(ohlcv).toMatchObject({ [ENV.marketDataFile]: MARKET_DATA_PATH_IN_LAMBDA, MARKET_DATA_SYMBOL: 'MSFT' });
  });

  it("asset files are staged as literal files in the app's output directory", () => {
    const { f, stack } = build({ assetFiles: { 'settings.json': '{"a":1}' } });
    const staged = f.assetFiles['settings.json'];
    expect(Object.keys(f.assetFiles)).toEqual(['settings.json']);
    expect(staged.startsWith(join((stack.node.root as App).outdir, 'fleet-asset-files'))).toBe(true);
    expect(basename(staged)).toMatch(/^[0-9a-f]{16}-settings\.json$/);
    expect(readFileSync(staged, 'utf8')).toBe('{"a":1}');
  });

  describe('synth errors', () => {
    it('an entry that does not exist, naming the entry and the function', () => {
      expect(attempt({ entry: 'lambdas/agents/nope/handler.ts' })).toThrow('Lambda entry lambdas/agents/nope/handler.ts does not exist (function Agent)');
    });
    it('a market data file that does not exist', () => {
      expect(attempt({ marketDataFile: 'data/market/nope.csv' })).toThrow('Market data file data/market/nope.csv does not exist (function Agent)');
    });
    it('invalid market data, with file, line and column (MarketDataInvalid)', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'fleet-fn-')), 'bad.csv');
      writeFileSync(file, '"date","AA"\n"2000-01-03",abc\n');
      expect(attempt({ marketDataFile: file })).toThrow(
        expect.objectContaining({ name: 'MarketDataInvalid', message: expect.stringMatching(/line 2, column 2/) }),
      );
    });
    it('neither timeoutSeconds nor taskTimeoutSeconds', () => {
      expect(attempt({ timeoutSeconds: undefined })).toThrow('Function Agent: give timeoutSeconds or taskTimeoutSeconds');
    });
    it("a timeout over Lambda's 900 s, naming the task timeout to lower", () => {
      expect(attempt({ timeoutSeconds: undefined, taskTimeoutSeconds: 896 })).toThrow(
        /timeout 901 s exceeds Lambda's 900 s .*lower the task timeout to at most 895 s/,
      );
      expect(attempt({ timeoutSeconds: 901 })).toThrow("Function Agent: timeoutSeconds 901 exceeds Lambda's 900 s");
    });
    it('memoryMb outside 128..10240 MB or not whole (Lambda quota)', () => {
      for (const m of [LAMBDA_MEMORY_MB.min, LAMBDA_MEMORY_MB.max]) expect(attempt({ memoryMb: m })).not.toThrow();
      for (const m of [64, 10_241, 256.5]) {
        expect(attempt({ memoryMb: m })).toThrow(`Function Agent: memoryMb must be a whole number from 128 to 10240 (Lambda quota), got ${m}`);
      }
    });
    it('a function name over 64 characters (Lambda quota)', () => {
      expect(attempt({ functionName: 'f'.repeat(64) })).not.toThrow();
      expect(attempt({ functionName: 'f'.repeat(65) })).toThrow(/Function name f{65} is longer than 64 characters/);
    });
    it('an asset file with a deploy-time token', () => {
      const stack = newStack();
      const topic = new sns.Topic(stack, 'T');
      expect(
        () =>
          new FleetFunction(stack, 'Agent', {
            entry: ENTRY,
            description: 'd',
            timeoutSeconds: 30,
            assetFiles: { 'x.json': JSON.stringify({ topic: topic.topicArn }) },
          }),
      ).toThrow('Asset file x.json of Agent contains a deploy-time token; asset files must be literal');
    });
  });
});
