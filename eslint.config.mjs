// @ts-check
/**
 * ESLint flat config: typescript-eslint's `recommended` set (not the type-aware one: on this
 * 2-core machine `recommendedTypeChecked` takes ~85 s against ~5 s, over the CI budget).
 * `npm run lint`. Formatting is Prettier's job (`npm run format:check`), layers are
 * dependency-cruiser's (`npm run lint:layers`), dead exports knip's (`npm run lint:dead`).
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '.local/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // `let x!: T` assigned once after the closures that read it were built (local/runtime.ts wires
      // ports before the executions they call): not expressible as a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks a parameter kept for a signature (a port, a Lambda handler's context).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests and the benchmark walk synthesized CloudFormation templates and JSON reports whose
    // shape they assert rather than declare; `any` there is the JSON, not a hole in a contract.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // `jest.isolateModules(() => require(...))` is how a test loads a handler module fresh.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // CommonJS configs (jest.config.js, jest.localstack.config.js, .dependency-cruiser.cjs).
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
