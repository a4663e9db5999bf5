/**
 * `monitoring.tracing` (default off): X-Ray active tracing on every function and the state machine, the
 * `FLEET_TRACING` variable, the X-Ray grants and the cdk-nag acknowledgements follow the setting, and the
 * bundle-time switch (`tracingDefine`) leaves Powertools' Tracer out of a bundle built with tracing off.
 */
import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { tracingDefine } from '../../lib/constructs/agent-function';
import { REPO_ROOT } from '../../lib/repo-paths';
import { ENV } from '../../lambdas/shared/env';
import { policyStatements, resourcesOfType, synth } from './template-helpers';

const withTracing = (tracing: boolean) => synth((c) => ({ ...c, monitoring: { ...c.monitoring, tracing } }));
const xrayStatements = (template: Record<string, any>) =>
  policyStatements(template).filter(({ statement }) => [statement.Action].flat().some((a: string) => String(a).startsWith('xray:')));

describe('monitoring.tracing', () => {
  it('defaults to off: no function traces, no FLEET_TRACING, the state machine does not trace, no X-Ray grant', () => {
    const s = synth();
    expect(s.config.monitoring.tracing).toBe(false);
    const fns = resourcesOfType(s.template, 'AWS::Lambda::Function');
    expect(fns.length).toBeGreaterThan(5);
    for (const [id, fn] of fns) {
      expect({ id, mode: fn.Properties.TracingConfig?.Mode }).not.toEqual({ id, mode: 'Active' });
      expect({ id, env: fn.Properties.Environment.Variables[ENV.tracing] }).toEqual({ id, env: undefined });
    }
    const [[, sm]] = resourcesOfType(s.template, 'AWS::StepFunctions::StateMachine');
    expect(sm.Properties.TracingConfiguration?.Enabled ?? false).toBe(false);
    expect(xrayStatements(s.template)).toEqual([]);
  });

  it('on: every function has active tracing and FLEET_TRACING=on, the state machine traces, and the roles may write to X-Ray', () => {
    const s = withTracing(true);
    const fns = resourcesOfType(s.template, 'AWS::Lambda::Function');
    for (const [id, fn] of fns) {
      expect({ id, mode: fn.Properties.TracingConfig?.Mode, env: fn.Properties.Environment.Variables[ENV.tracing] }).toEqual({ id, mode: 'Active', env: 'on' });
    }
    const [[, sm]] = resourcesOfType(s.template, 'AWS::StepFunctions::StateMachine');
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
    const owners = new Set(xrayStatements(s.template).map((x) => x.owner));
    // One X-Ray statement per function role, and one for the state machine's role.
    expect(owners.size).toBeGreaterThanOrEqual(fns.length + 1);
  });

  it.each([false, true])(
    'tracing %s: the AwsSolutions and Serverless packs report nothing unacknowledged, and the X-Ray findings of the state machine are acknowledged only when off',
    (tracing) => {
      const s = withTracing(tracing);
      for (const pack of [new AwsSolutionsChecks(s.app), new ServerlessChecks(s.app)]) {
        const report = pack.validateScope(s.stack);
        const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? r.resourceLogicalId}`));
        expect({ pack: pack.readPackName, findings }).toEqual({ pack: pack.readPackName, findings: [] });
      }
      const acked = s.stack.cycle.stateMachine.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.keys(m.data as Record<string, string>).map((k) => k.replace(/^Annotation::/, '')));
      expect(acked.includes('AwsSolutions-SF2')).toBe(!tracing);
      expect(acked.includes('Serverless-StepFunctionStateMachineXray')).toBe(!tracing);
    },
  );

  it.each([
    ['off', false, false],
    ['on', true, true],
  ])('a bundle built with tracing %s carries the Tracer: %s', (_label, tracing, carries) => {
    const out = buildSync({
      entryPoints: [join(REPO_ROOT, 'lambdas/risk/handler.ts')],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      write: false,
      metafile: true,
      logLevel: 'silent',
      define: tracingDefine(tracing),
    });
    const inputs = Object.keys(out.metafile!.inputs);
    expect(inputs.some((i) => i.includes('node_modules/@aws-lambda-powertools/tracer/'))).toBe(carries);
    expect(inputs.some((i) => i.includes('node_modules/aws-xray-sdk-core/'))).toBe(carries);
  });
});
