/**
 * Helpers for reading a synthesized CloudFormation template in the infra tests: synthesize once
 * (bundling off), flatten `Fn::Join`/`Ref`/`Fn::GetAtt` into readable strings, and walk ASL graphs.
 */
import type { App } from 'aws-cdk-lib';
import { createOrchestratorApp } from '../../lib/app-factory';
import { validateConfig, type OrchestratorConfig, type OrchestratorConfigInput } from '../../lib/config/schema';
import defaultConfig from '../fixtures/fleet';
import type { OrchestratorStack } from '../../lib/orchestrator-stack';

/** A synthesized stack: app, stack, config and template JSON. */
export interface Synthesized {
  app: App;
  stack: OrchestratorStack;
  config: OrchestratorConfig;
  template: Record<string, any>;
}

const synthesized = new Map<string, Synthesized>();

/**
 * Synthesizes the stack (bundling off) for the fixture fleet (test/fixtures/fleet.ts), optionally
 * patched. Memoized per test file by config and context (synthesis is deterministic and the tests
 * only read the result): a second `synth()` of the same config costs nothing.
 * @throws {ConfigError} for an invalid patched config; whatever synthesis throws.
 */
export function synth(patch: (c: OrchestratorConfigInput) => OrchestratorConfigInput = (c) => c, context?: Record<string, unknown>): Synthesized {
  const config = validateConfig(patch(structuredClone(defaultConfig)));
  const key = JSON.stringify([config, context ?? null]);
  const hit = synthesized.get(key);
  if (hit) return hit;
  const { app, stack } = createOrchestratorApp({ config, bundling: false, context });
  const template = app.synth().getStackByName(stack.stackName).template as Record<string, any>;
  const out = { app, stack, config, template };
  synthesized.set(key, out);
  return out;
}

/** Resources of a type, as [logicalId, resource] pairs. */
export function resourcesOfType(template: Record<string, any>, type: string): Array<[string, any]> {
  return Object.entries<any>(template.Resources).filter(([, r]) => r.Type === type);
}

/**
 * Flattens an intrinsic into a string: pseudo parameters become `aws`, `REGION`, `ACCOUNT`;
 * other `Ref`s `<Ref:Id>`, `Fn::GetAtt` `<GetAtt:Id.Attr>`; `Fn::Join` is joined.
 */
export function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    const v = value as Record<string, any>;
    if ('Ref' in v)
      return (
        ({ 'AWS::Partition': 'aws', 'AWS::Region': 'REGION', 'AWS::AccountId': 'ACCOUNT', 'AWS::URLSuffix': 'amazonaws.com' } as Record<string, string>)[
          v.Ref
        ] ?? `<Ref:${v.Ref}>`
      );
    if ('Fn::GetAtt' in v) return `<GetAtt:${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as unknown[]).map(flatten).join(v['Fn::Join'][0]);
  }
  throw new Error(`Cannot flatten ${JSON.stringify(value)}`);
}

/** Every IAM policy statement in the template (inline role policies and AWS::IAM::Policy documents), with the owning logical id. */
export function policyStatements(template: Record<string, any>): Array<{ owner: string; statement: any }> {
  const out: Array<{ owner: string; statement: any }> = [];
  for (const [id, r] of Object.entries<any>(template.Resources)) {
    const docs: any[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
    for (const d of docs) for (const s of d.Statement) out.push({ owner: id, statement: s });
  }
  return out;
}

/** `x` as an array. */
export const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** Outgoing transitions of one ASL state (Next, Default, Choices, Catch). */
export function successors(state: Record<string, any>): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...((state.Choices ?? []) as any[]).map((c) => c.Next),
    ...((state.Catch ?? []) as any[]).map((c) => c.Next),
  ];
}

/** States reachable from `from` (inclusive) in one States map, never entering `blocked`. */
export function reachable(states: Record<string, any>, from: string, blocked: ReadonlySet<string> = new Set()): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name) || blocked.has(name)) continue;
    seen.add(name);
    queue.push(...successors(states[name]));
  }
  return seen;
}

/** Every state at any depth (Map ItemProcessor/Iterator, Parallel Branches), with its name. */
export function allStates(def: { States: Record<string, any> }): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  const walk = (states: Record<string, any>): void => {
    for (const [name, s] of Object.entries<any>(states)) {
      out.push([name, s]);
      if (s.ItemProcessor) walk(s.ItemProcessor.States);
      if (s.Iterator) walk(s.Iterator.States);
      for (const b of s.Branches ?? []) walk(b.States);
    }
  };
  walk(def.States);
  return out;
}
