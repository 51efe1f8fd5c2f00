// The unit project of jest.config.js alone, for StrykerJS (stryker.config.mjs).
import config from './jest.config.js';

const unit = config.projects.find((p) => p.displayName === 'unit');
export default {
  ...unit,
  // The packages whose modules are mutated: their own tests decide.
  testMatch: ['<rootDir>/packages/{kube,supply-chain,checks}/test/**/*.test.ts'],
  testEnvironment: '@stryker-mutator/jest-runner/jest-env/node',
  rootDir: '.',
  // Instrumented for per-test coverage, the slowest orchestration tests (a hook re-run) pass 20 s.
  testTimeout: 60000,
};
