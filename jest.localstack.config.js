/**
 * LocalStack suite (npm run test:localstack), not part of `npm test`. It needs a stack deployed
 * with `npm run local:deploy`; without a LocalStack endpoint Jest reports its tests as skipped
 * (the suite's name gives the reason) and the run exits 0.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/localstack'],
  testMatch: ['**/*.test.ts'],
  // The same TypeScript transform as npm test (jest.config.js).
  transform: require('./jest.config').transform,
  setupFiles: ['<rootDir>/test/setup.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup-after-env.ts'],
  testTimeout: 300000,
};
