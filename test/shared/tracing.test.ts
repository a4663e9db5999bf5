/**
 * lambdas/shared/tracing.ts: without `FLEET_TRACING=on`, or outside Lambda, every function is a pass-through
 * (no Tracer work); in a Lambda environment with tracing on, clients are captured and an invocation runs in a
 * `## handler` subsegment annotated with the cycle's ids, closed and restored whether the handler returns or throws.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type * as TracingModule from '../../lambdas/shared/tracing';

const KEYS = ['FLEET_TRACING', 'AWS_EXECUTION_ENV', 'POWERTOOLS_TRACE_ENABLED', 'AWS_XRAY_CONTEXT_MISSING', '_HANDLER'] as const;
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  for (const k of KEYS) delete process.env[k];
});
afterEach(() => {
  for (const k of KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

type XRay = typeof import('aws-xray-sdk-core');

/** A fresh copy of the module (its Tracer is one per process) under the given environment, and the X-Ray SDK it uses. */
function load(env: Partial<Record<(typeof KEYS)[number], string>>): typeof TracingModule & { xray: () => XRay } {
  Object.assign(process.env, env);
  let mod!: typeof TracingModule;
  let xray!: () => XRay;
  jest.isolateModules(() => {
    mod = require('../../lambdas/shared/tracing');
    xray = () => require('aws-xray-sdk-core');
  });
  return { ...mod, xray };
}

const xrayMiddleware = (client: DynamoDBClient) => client.middlewareStack.identify().filter((m) => /xray/i.test(m));

describe('cycleAnnotations', () => {
  it('takes cycleId (else executionName), agent, action and source when they are non-empty strings', () => {
    const { cycleAnnotations } = load({});
    expect(cycleAnnotations({ cycleId: 'c-1', agent: 'trading', action: 'execute', source: 'cycle', cycleSeq: 3 })).toEqual({
      cycleId: 'c-1',
      agent: 'trading',
      action: 'execute',
      source: 'cycle',
    });
    expect(cycleAnnotations({ action: 'plan', executionName: 'default-2026-01-05T1430' })).toEqual({ action: 'plan', cycleId: 'default-2026-01-05T1430' });
    expect(cycleAnnotations({ cycleId: '', agent: 7 })).toEqual({});
    expect(cycleAnnotations(null)).toEqual({});
    expect(cycleAnnotations('halt')).toEqual({});
    expect(String(cycleAnnotations({ cycleId: 'x'.repeat(5000) }).cycleId)).toHaveLength(1000);
  });
});

describe('tracing off or outside Lambda: pass-through', () => {
  it.each<[string, Partial<Record<(typeof KEYS)[number], string>>]>([
    ['FLEET_TRACING unset (a bundle built with monitoring.tracing off)', {}],
    ['FLEET_TRACING=on outside Lambda (no AWS_EXECUTION_ENV: the local runtime, the tests)', { FLEET_TRACING: 'on' }],
    [
      'FLEET_TRACING=on in Lambda with POWERTOOLS_TRACE_ENABLED=false',
      { FLEET_TRACING: 'on', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' },
    ],
  ])('%s', (_label, env) => {
    const { lambdaTracer, traceClient, traced, cycleAnnotations } = load(env);
    if (!env.FLEET_TRACING) expect(lambdaTracer()).toBeUndefined();
    else expect(lambdaTracer()?.isTracingEnabled()).toBe(false);
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(traceClient(client)).toBe(client);
    expect(xrayMiddleware(client)).toEqual([]);
    const handler = async (e: unknown) => e;
    expect(traced(handler, cycleAnnotations)).toBe(handler);
  });
});

describe('tracing on in a Lambda environment', () => {
  const lambdaEnv = { FLEET_TRACING: 'on', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR', _HANDLER: 'index.handler' };

  it('captures an SDK v3 client (X-Ray middleware on its stack)', () => {
    const { traceClient } = load(lambdaEnv);
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(traceClient(client)).toBe(client);
    expect(xrayMiddleware(client).length).toBeGreaterThan(0);
  });

  it('runs each invocation in a "## index.handler" subsegment with the annotations, and restores the segment after a result and after an error', async () => {
    const { lambdaTracer, traced, cycleAnnotations, xray } = load(lambdaEnv);
    const tracer = lambdaTracer()!;
    expect(tracer.isTracingEnabled()).toBe(true);
    const AWSXRay = xray();
    const segment = new AWSXRay.Segment('agent-fleet-test');
    const seen: string[] = [];
    const handler = traced(async (e: { cycleId: string; agent: string; fail?: boolean }) => {
      seen.push((tracer.getSegment() as { name: string }).name);
      if (e.fail) throw new Error('agent failed');
      return 'done';
    }, cycleAnnotations);

    // Lambda's facade segment, as the X-Ray SDK keeps it: in its continuation-local namespace.
    await AWSXRay.getNamespace().runPromise(async () => {
      tracer.setSegment(segment);
      await expect(handler({ cycleId: 'c-7', agent: 'copybot' })).resolves.toBe('done');
      await expect(handler({ cycleId: 'c-8', agent: 'copybot', fail: true })).rejects.toThrow('agent failed');
      expect(tracer.getSegment()).toBe(segment);
    });
    expect(seen).toEqual(['## index.handler', '## index.handler']);
    const subs = (segment.subsegments ?? []) as unknown as Array<{
      name: string;
      annotations: Record<string, unknown>;
      in_progress?: boolean;
      fault?: boolean;
      error?: boolean;
      cause?: unknown;
    }>;
    expect(subs.map((s) => [s.name, s.annotations.cycleId, s.annotations.agent, s.annotations.Service])).toEqual([
      ['## index.handler', 'c-7', 'copybot', 'agent-fleet'],
      ['## index.handler', 'c-8', 'copybot', 'agent-fleet'],
    ]);
    expect(subs.map((s) => s.in_progress ?? false)).toEqual([false, false]);
    expect(subs[0].cause).toBeUndefined();
    expect(subs[1].cause).toBeDefined();
  });
});
