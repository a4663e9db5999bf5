/**
 * AWS X-Ray tracing of the Lambda entries with Powertools' Tracer, for a stack built with
 * `monitoring.tracing` on (config, default off).
 *
 * Whether the Tracer is in a bundle is decided at bundle time: `FleetFunction` gives esbuild
 * `define: { 'process.env.FLEET_TRACING': '"on"' | '"off"' }`, so with tracing off the branch that
 * loads `@aws-lambda-powertools/tracer` is dead code and esbuild leaves the Tracer and
 * `aws-xray-sdk-core` (about 115 KB minified, and their load time at cold start) out of every bundle.
 * Unbundled (the local runtime, the tests) `FLEET_TRACING` is read from the environment, where the
 * function's template environment sets it to `on` only when tracing is on.
 *
 * Once loaded, the Tracer is itself disabled outside Lambda (no `AWS_EXECUTION_ENV`) and with
 * `POWERTOOLS_TRACE_ENABLED=false`, which the local runtime sets: then every function here is a
 * pass-through and no X-Ray daemon is contacted.
 *
 * Used only by the thin Lambda entries and the ports-from-env builders; the handler factories
 * (`createSupervisorHandler`, `createMasterHandler`, ...) know nothing of tracing.
 */
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './metrics-catalog';

/** A value X-Ray accepts as an annotation (indexed, searchable in the console). */
export type AnnotationValue = string | number | boolean;

let tracer: Tracer | undefined;

/**
 * The sandbox's Tracer (service `agent-fleet`), created at the first call and reused; `undefined`
 * when the bundle was built without tracing (`monitoring.tracing` off) or `FLEET_TRACING` is not `on`.
 * It may still be disabled (see the module comment): check `isTracingEnabled()`.
 */
export function lambdaTracer(): Tracer | undefined {
  // The literal `process.env.FLEET_TRACING` is what esbuild's `define` replaces (ENV.tracing names it); the
  // require must sit inside the branch, so that with "off" esbuild sees a dead branch and leaves the Tracer out
  // (a static import would be bundled either way: the Powertools packages do not declare `sideEffects: false`).
  if (process.env.FLEET_TRACING === 'on') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tracer ??= new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({ serviceName: SERVICE_NAME });
    return tracer;
  }
  return undefined;
}

/**
 * Captures an AWS SDK v3 client (`tracer.captureAWSv3Client`: one X-Ray subsegment per call) when
 * tracing is on and enabled; otherwise returns it unchanged.
 * @returns the same client.
 */
export function traceClient<T>(client: T): T {
  const t = lambdaTracer();
  return t?.isTracingEnabled() ? t.captureAWSv3Client(client) : client;
}

/**
 * The annotations of a cycle's payload: the string fields `cycleId` (else `executionName`, the
 * cycle id of a "Plan cycle" request), `agent`, `action` and `source`; other types, empty strings
 * and missing fields are left out (X-Ray annotation keys are letters, digits and underscores; values
 * are cut to 1,000 characters). Pure; never throws.
 * @param event - the raw Lambda event (anything).
 */
export function cycleAnnotations(event: unknown): Record<string, AnnotationValue> {
  const out: Record<string, AnnotationValue> = {};
  if (!event || typeof event !== 'object') return out;
  const e = event as Record<string, unknown>;
  const field = (k: string) => (typeof e[k] === 'string' && e[k] ? (e[k] as string).slice(0, 1000) : undefined);
  const cycleId = field('cycleId') ?? field('executionName');
  if (cycleId) out.cycleId = cycleId;
  for (const k of ['agent', 'action', 'source']) {
    const v = field(k);
    if (v) out[k] = v;
  }
  return out;
}

/**
 * Wraps a Lambda entry in a `## <handler>` subsegment of the invocation's segment (annotations
 * `ColdStart`, `Service` and those `annotate` returns; the error, if any, as metadata), the
 * Tracer's manual instrumentation. Without tracing (see {@link lambdaTracer}) it returns `handler`
 * itself, so nothing runs per invocation.
 * @param handler - the entry.
 * @param annotate - the annotations of one event (e.g. {@link cycleAnnotations}); must not throw.
 * @returns a handler with the same signature; it rethrows what `handler` throws.
 */
export function traced<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
  annotate?: (...args: A) => Record<string, AnnotationValue>,
): (...args: A) => Promise<R> {
  const t = lambdaTracer();
  if (!t?.isTracingEnabled()) return handler;
  return async (...args) => {
    const segment = t.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${process.env._HANDLER ?? 'handler'}`);
    if (subsegment) t.setSegment(subsegment);
    t.annotateColdStart();
    t.addServiceNameAnnotation();
    for (const [k, v] of Object.entries(annotate?.(...args) ?? {})) t.putAnnotation(k, v);
    try {
      return await handler(...args);
    } catch (err) {
      t.addErrorAsMetadata(err as Error);
      throw err;
    } finally {
      if (segment && subsegment) {
        subsegment.close();
        t.setSegment(segment);
      }
    }
  };
}
