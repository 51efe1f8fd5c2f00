// The bundles as the runner loads them: the lazily loaded HTTP client still fetches OIDC tokens the
// way GitHub's token service answers, and the entry chunk stays free of it.
import { describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actionBuildOptions } from '../../scripts/esbuild-options.mjs';
import { node24, parseOutputFile, repoRoot } from '../support/action-runner.js';

describe('action bundles', () => {
  it('core.getIDToken works through the lazy HTTP client', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'oidc-bundle-'));
    await build(actionBuildOptions(join(repoRoot, 'test/fixtures/oidc-action/main.ts'), outdir));
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvc2hvcC1hcGkifQ.c2lnbmF0dXJl';
    const seen: { url?: string; authorization?: string } = {};
    const server = createServer((req, res) => {
      seen.url = req.url;
      seen.authorization = req.headers.authorization;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: 1, value: jwt }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const output = join(outdir, 'output');
      await writeFile(output, '');
      // Not spawnSync: it would block the event loop that serves the token request.
      const result = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(node24(), [join(outdir, 'index.js')], {
          env: {
            PATH: process.env.PATH,
            GITHUB_OUTPUT: output,
            ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token-123',
          },
        });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
        child.on('close', (status) => resolve({ status, stdout }));
      });
      expect(result.stdout).toContain(`::add-mask::${jwt}`);
      expect(result.status).toBe(0);
      expect(seen.url).toBe('/token?api-version=2.0&audience=sigstore');
      expect(seen.authorization).toBe('Bearer request-token-123');
      expect(parseOutputFile(await readFile(output, 'utf8'))['token-length']).toBe(String(jwt.length));
      const entry = await readFile(join(outdir, 'index.js'), 'utf8');
      expect(entry).not.toMatch(/undici/);
    } finally {
      server.close();
    }
  }, 60_000);

  it('every committed bundle starts on Node 24', () => {
    const result = spawnSync(
      node24(),
      ['-e', `await import(${JSON.stringify(join(repoRoot, 'actions/build-image/dist/index.js'))})`],
      {
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
      },
    );
    // With no inputs the action fails cleanly, naming the missing input (it loaded and ran).
    expect(result.stdout).toContain("input 'image'");
    expect(result.status).toBe(1);
  });
});
