// Each action's run is importable (src/index.ts only starts it): a test drives it in process, as the
// runner would with no inputs set, and every missing input is reported at once before anything runs.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@deploy-suite/action-kit';

const ACTIONS = {
  'build-image': () => import('../../actions/build-image/src/main.js'),
  'sbom-and-sign': () => import('../../actions/sbom-and-sign/src/main.js'),
  'bluegreen-deploy': () => import('../../actions/bluegreen-deploy/src/main.js'),
  'verify-rollback': () => import('../../actions/verify-rollback/src/main.js'),
};
// In an empty workspace: build-image's default context then has no Dockerfile either.
const REQUIRED: Record<keyof typeof ACTIONS, string[]> = {
  'build-image': ['image', 'file'],
  'sbom-and-sign': ['image'],
  'bluegreen-deploy': ['kubeconfig', 'app', 'image'],
  'verify-rollback': ['kubeconfig', 'app', 'http-url'],
};

describe("each action's run, imported", () => {
  const saved = { ...process.env };
  let output = '';
  beforeEach(() => {
    process.env = Object.fromEntries(Object.entries(saved).filter(([name]) => !name.startsWith('INPUT_')));
    const dir = mkdtempSync(join(tmpdir(), 'entry-'));
    output = join(dir, 'output');
    writeFileSync(output, '');
    Object.assign(process.env, { GITHUB_WORKSPACE: dir, GITHUB_OUTPUT: output, KUBECONFIG: join(dir, 'none') });
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it.each(Object.keys(ACTIONS) as (keyof typeof ACTIONS)[])(
    '%s: no inputs is an InputError naming each required one',
    async (action) => {
      const { run } = await ACTIONS[action]();
      const error = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).problems.map((p) => p.input)).toEqual(REQUIRED[action]);
      expect(readFileSync(output, 'utf8')).toBe('');
    },
  );
});
