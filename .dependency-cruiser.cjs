/**
 * Layer rules, checked by `npm run lint:layers` (dependency-cruiser) in `.ci/run`. They replace the
 * "May be imported by" header comments. Layers (issue 13, DESIGN.md section 9):
 *
 *   lambdas/  the Lambda code: bundled alone by esbuild and run in AWS, so it imports nothing of the
 *             app around it (bin/, lib/, config/, local/, ops/, bench/, test/) and no devDependency.
 *   lib/      the CDK constructs and the config schema: may read the Lambdas' shared names and shapes
 *             (environment variable names, metric names, table specs, settings, contracts, errors)
 *             and nothing else of lambdas/; nothing of local/, ops/, bench/, test/, bin/.
 *   ops/      the operator CLI against AWS: does not import local/ (the local target is wired in by
 *             the entry point bin/ops.ts).
 *   local/, bench/, bin/  composition roots and tools: may import the layers above.
 *   test/     imported by nothing else.
 * No import cycles, type-only imports included (`tsPreCompilationDeps`).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles (type-only ones included) tie modules together: move the shared types to a module both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lambdas-self-contained',
      severity: 'error',
      comment:
        'Lambda code is bundled alone and runs in AWS: it imports nothing from the CDK app, the local runtime, the operator CLI, the benchmark or the tests.',
      from: { path: '^lambdas/' },
      to: { path: '^(bin|lib|config|local|ops|bench|test)/' },
    },
    {
      name: 'lambdas-no-dev-dependencies',
      severity: 'error',
      comment: 'A devDependency is not installed where Lambda code runs (esbuild bundles dependencies only).',
      from: { path: '^lambdas/' },
      // Type-only imports (`import type`, @types/*) are erased by esbuild.
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'], pathNot: '^node_modules/@types/' },
    },
    {
      name: 'lib-only-shared-names-from-lambdas',
      severity: 'error',
      comment:
        'The CDK app may read the names and shapes the Lambdas share (env, metrics-catalog, table-specs, settings, contracts, errors), the market-data parser (synth validates the bundled file) and the pure dependency-graph functions of supervision/phases (one cycle check for synth and the planner), not Lambda implementations.',
      from: { path: '^lib/' },
      to: {
        path: '^lambdas/',
        pathNot: '^lambdas/shared/(env|metrics-catalog|table-specs|settings|contracts|errors|trading/market-data|supervision/phases)\\.ts$',
      },
    },
    {
      name: 'lib-no-tools',
      severity: 'error',
      comment: 'The CDK app does not depend on the local runtime, the operator CLI, the benchmark, the tests or an entry point.',
      from: { path: '^lib/' },
      to: { path: '^(bin|local|ops|bench|test)/' },
    },
    {
      name: 'ops-no-local',
      severity: 'error',
      comment: 'The operator CLI does not import the local runtime: bin/ops.ts wires the local target in.',
      from: { path: '^ops/' },
      to: { path: '^local/' },
    },
    {
      name: 'test-imported-by-tests-only',
      severity: 'error',
      comment: 'Test helpers and fixtures are not part of the product.',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // node_modules is included (not followed) so the devDependency rule sees package imports.
    includeOnly: '^(bin|lib|lambdas|config|local|ops|bench|test|node_modules)/',
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    cache: false,
  },
};
