/**
 * One of the orchestrator's Lambda functions (supervisor, risk, Master or an agent), with the
 * project's conventions in one place: Node.js 22 on arm64, esbuild bundling on the local machine
 * (no Docker), Powertools environment, X-Ray tracing, and an explicit log group with retention.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENV, METRICS_NAMESPACE } from '../../lambdas/shared/env';
import { SERVICE_NAME } from '../../lambdas/shared/metrics-catalog';

/** Absolute path of the repository root (entries and data files are relative to it). */
export const REPO_ROOT = join(__dirname, '..', '..');

/** Where the market CSV lands inside a function's asset, and the value of `MARKET_DATA_FILE` in AWS. */
export const MARKET_DATA_IN_ASSET = 'market-data.csv';
/** `MARKET_DATA_FILE` in AWS: Lambda unpacks the asset to `/var/task`. */
export const MARKET_DATA_PATH_IN_LAMBDA = `/var/task/${MARKET_DATA_IN_ASSET}`;

/** Props of {@link FleetFunction}. */
export interface FleetFunctionProps {
  /** Handler module relative to the repo root, e.g. `lambdas/risk/handler.ts`; it must export `handler`. */
  readonly entry: string;
  /** Function description shown in the console. */
  readonly description: string;
  /** Function timeout, seconds (Lambda quota: at most 900). */
  readonly timeoutSeconds: number;
  /** Memory, MB (128..10240). Default 256. */
  readonly memoryMb?: number;
  /** Extra environment variables (table names, settings JSON...). Powertools variables are always set. */
  readonly environment?: Record<string, string>;
  /**
   * Market data CSV relative to the repo root. When set, bundling copies it into the asset as
   * `market-data.csv` (esbuild `afterBundling` hook) and `MARKET_DATA_FILE` is set to
   * `/var/task/market-data.csv`. Default: none.
   */
  readonly marketDataFile?: string;
  /** Log retention. Default one month. */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group. Default RETAIN. */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * A `NodejsFunction` with the project's defaults. `fn` is the function; `logGroup` its log group.
 * @throws {Error} at synth when `entry` or `marketDataFile` does not exist.
 */
export class FleetFunction extends Construct {
  /** The Lambda function. */
  public readonly fn: nodejs.NodejsFunction;
  /** Its explicit log group (`/aws/lambda/...` is not used, so retention is under our control). */
  public readonly logGroup: logs.LogGroup;
  /** The entry, repo-relative, as given. */
  public readonly entry: string;

  constructor(scope: Construct, id: string, props: FleetFunctionProps) {
    super(scope, id);
    const entry = join(REPO_ROOT, props.entry);
    if (!existsSync(entry)) throw new Error(`Lambda entry ${props.entry} does not exist (function ${id})`);
    const marketData = props.marketDataFile ? join(REPO_ROOT, props.marketDataFile) : undefined;
    if (marketData && !existsSync(marketData)) throw new Error(`Market data file ${props.marketDataFile} does not exist (function ${id})`);
    this.entry = props.entry;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb ?? 256,
      timeout: Duration.seconds(props.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        [ENV.metricsNamespace]: METRICS_NAMESPACE,
        ...(marketData ? { [ENV.marketDataFile]: MARKET_DATA_PATH_IN_LAMBDA } : {}),
        ...props.environment,
      },
      bundling: {
        minify: true,
        target: 'node22',
        sourceMap: false,
        // Local esbuild from node_modules; never fall back to Docker.
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            marketData ? [`cp "${marketData}" "${join(outputDir, MARKET_DATA_IN_ASSET)}"`] : [],
        },
      },
    });
  }
}
