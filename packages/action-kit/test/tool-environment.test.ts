import { describe, expect, it } from '@jest/globals';
import { execTool, toolEnvironment } from '../src/index.js';

const runner = {
  PATH: '/usr/bin',
  HOME: '/home/runner',
  RUNNER_TEMP: '/tmp/r',
  HTTPS_PROXY: 'http://proxy:3128',
  no_proxy: 'localhost',
  SSL_CERT_FILE: '/etc/ca.pem',
  DOCKER_CONFIG: '/home/runner/.docker',
  TRIVY_DB_REPOSITORY: 'mirror/trivy-db',
  AWS_REGION: 'eu-west-1',
  AWS_SESSION_TOKEN: 'the user logged in to ECR on purpose',
  INPUT_PASSWORD: 'registry password',
  'INPUT_COSIGN-PRIVATE-KEY': 'the key',
  ACTIONS_RUNTIME_TOKEN: 'runtime token',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc request token',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token',
  GITHUB_TOKEN: 'ghs_token',
  DEPLOY_KEY: 'something a workflow put in env',
};

describe('toolEnvironment: what a tool sees', () => {
  it('passes the basics, proxies, CA files, the tools’ own and cloud login variables; never inputs or tokens', () => {
    const env = toolEnvironment({}, runner);
    expect(Object.keys(env).sort()).toEqual(
      [
        'AWS_REGION',
        'AWS_SESSION_TOKEN',
        'DOCKER_CONFIG',
        'HOME',
        'HTTPS_PROXY',
        'PATH',
        'RUNNER_TEMP',
        'SSL_CERT_FILE',
        'TRIVY_DB_REPOSITORY',
        'no_proxy',
      ].sort(),
    );
  });

  it('adds what the caller names, over the passed ones', () => {
    const env = toolEnvironment({ DOCKER_CONFIG: '/tmp/session', NPM_TOKEN: 'named by secret-envs' }, runner);
    expect(env.DOCKER_CONFIG).toBe('/tmp/session');
    expect(env.NPM_TOKEN).toBe('named by secret-envs');
    expect(env.INPUT_PASSWORD).toBeUndefined();
  });

  it('a tool that exits without reading its input is no error (EPIPE on its stdin): its exit code tells', async () => {
    for (let i = 0; i < 20; i++) {
      const result = await execTool('/bin/sh', ['-c', 'exit 3'], { stream: false, input: 'x'.repeat(256 * 1024) });
      expect(result.exitCode).toBe(3);
    }
  });

  it('is what execTool gives the child', async () => {
    const saved = process.env.INPUT_SECRET_PROBE;
    process.env.INPUT_SECRET_PROBE = 'must-not-reach-the-child';
    try {
      const result = await execTool('/usr/bin/env', [], { stream: false, env: { EXTRA_FOR_TOOL: 'yes' } });
      expect(result.stdout).not.toContain('must-not-reach-the-child');
      expect(result.stdout).toMatch(/^EXTRA_FOR_TOOL=yes$/m);
      expect(result.stdout).toMatch(/^PATH=/m);
    } finally {
      if (saved === undefined) delete process.env.INPUT_SECRET_PROBE;
      else process.env.INPUT_SECRET_PROBE = saved;
    }
  });
});
