// Mutation testing of the pure modules with StrykerJS: each mutant (a small change at a decision point)
// must make a unit test fail. `npm run mutation` takes hours on 2 cores since the orchestration tests cover
// the kube modules (measured: 121 of 892 mutants in 8 min, a sixth of them timing out in a watch); the
// report is reports/mutation/ (not committed). Only the packages' unit tests run, each mutant against the
// tests that cover it. deploy.ts and rollback.ts are left out: their mutants mostly hang a watch until it
// times out (tens of seconds each); orchestration.test.ts covers them.
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings'],
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'packages/kube/src/{bluegreen,lease,history,ownership,rollout}.ts',
    'packages/supply-chain/src/{identity,gate}.ts',
    'packages/checks/src/analysis.ts',
  ],
  concurrency: 2,
  timeoutMS: 5000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.tmp/stryker',
  cleanTempDir: 'always',
};
