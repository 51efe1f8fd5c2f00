// After each integration file: free the images it built from the docker engine (test/platform/clean.sh).
// Under the vfs storage driver (where overlayfs cannot be mounted) each is a ~160 MB full copy, and a whole
// run's worth filled a CI disk. Safe between files: jest runs them one at a time (--runInBand).
import { afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './action-runner.js';

afterAll(() => {
  spawnSync('bash', [join(repoRoot, 'test/platform/clean.sh')], { stdio: 'ignore' });
});
