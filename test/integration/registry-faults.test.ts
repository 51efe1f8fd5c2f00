// The registry misbehaving, through a fault-injecting proxy in front of the real one: 5xx answers,
// stalled requests, dropped connections, and a registry that stays down. After each: the end state is
// read back from the registry itself (does the signature verify, with the real cosign too?) and from the
// cluster, and a re-run without the faults converges.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient, parseReference } from '@deploy-suite/oci';
import { findBundles, readPublicKey, verifyImage } from '@deploy-suite/supply-chain';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { useNamespace } from '../support/namespace.js';
import { freshImage, registryHost } from '../support/registry-api.js';

const run = `f${randomBytes(3).toString('hex')}`;
const registry = registryHost();
const key = {
  private: readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8'),
  publicPath: join(repoRoot, 'test/fixtures/cosign/cosign.pub'),
  password: 'fixture-password',
};
const publicKey = readPublicKey(readFileSync(key.publicPath, 'utf8'));
const signOnly = {
  'cosign-private-key': key.private,
  'cosign-password': key.password,
  sbom: 'false',
  'attest-sbom': 'none',
  scan: 'false',
};
let proxy: FaultProxy;
let via = '';
let nonce = 0;

/** A new digest in the registry; its name through the proxy, and directly. */
async function image(): Promise<{ proxied: string; direct: string }> {
  const direct = await freshImage(`${run}/app`, `${run}-${++nonce}`);
  return { direct, proxied: direct.replace(registry, via) };
}

async function signatures(direct: string): Promise<{ verified: boolean; count: number }> {
  const client = new RegistryClient();
  const bundles = await findBundles(client, parseReference(direct));
  const result = await verifyImage(client, parseReference(direct), { kind: 'key', key: publicKey });
  return { verified: result.verified, count: bundles.length };
}

const cosignVerifies = (direct: string) =>
  spawnSync(
    process.env.DEPLOY_SUITE_COSIGN!,
    ['verify', '--key', key.publicPath, '--insecure-ignore-tlog=true', direct],
    { encoding: 'utf8' },
  ).status === 0;

beforeAll(async () => {
  proxy = new FaultProxy(registry);
  via = await proxy.start();
});
afterAll(() => proxy.stop());

describe('sbom-and-sign against a faulty registry', () => {
  it('503s, a stalled request and a dropped connection on the way: retried, signed once, cosign verifies it', async () => {
    const { proxied, direct } = await image();
    proxy.faults.push(
      { path: /\/manifests\/sha256:/, times: 1, stallMs: 3000 },
      { method: 'POST', path: /\/blobs\/uploads\//, times: 1, status: 503 },
      { method: 'PUT', path: /\/blobs\/uploads\//, times: 1, reset: true },
      { method: 'PUT', path: /\/manifests\//, times: 1, status: 502 },
    );
    const result = await runAction(
      'sbom-and-sign',
      { image: proxied, ...signOnly },
      await loadEvent('push-default-branch'),
    );
    expect({ injected: proxy.injected, left: proxy.faults.map((f) => f.times) }).toEqual({
      injected: expect.any(Array),
      left: [0, 0, 0, 0],
    });
    proxy.faults.length = 0;
    expect(result.exitCode).toBe(0);
    expect(await signatures(direct)).toEqual({ verified: true, count: 1 });
    expect(cosignVerifies(direct)).toBe(true);
  });

  it('a registry that keeps failing the signature push: a clear failure, no signature, and a re-run converges', async () => {
    const { proxied, direct } = await image();
    proxy.faults.push({ method: 'PUT', path: /\/manifests\//, times: 1000, status: 503 });
    const failed = await runAction(
      'sbom-and-sign',
      { image: proxied, ...signOnly },
      await loadEvent('push-default-branch'),
    );
    proxy.faults.length = 0;
    expect(failed.exitCode).toBe(1);
    expect(failed.shown).toMatch(
      /::error::sign: pushing the signature of .* failed: .*503.*Fix: check that the registry is reachable/,
    );
    expect(await signatures(direct)).toEqual({ verified: false, count: 0 });
    const rerun = await runAction(
      'sbom-and-sign',
      { image: proxied, ...signOnly },
      await loadEvent('push-default-branch'),
    );
    expect(rerun.exitCode).toBe(0);
    expect(await signatures(direct)).toEqual({ verified: true, count: 1 });
  });
});

describe("bluegreen-deploy's signature check against a faulty registry", () => {
  const namespace = `${run}-deploy`;
  const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
  const cluster = useNamespace(namespace);
  const live = async () =>
    (await cluster().get('v1', 'Service', namespace, 'shop'))?.metadata.annotations?.['deploy-suite.dev/live-digest'];
  const deploy = async (image: string) =>
    runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'shop', image, replicas: '2', 'verify-key': key.publicPath },
      await loadEvent('push-default-branch'),
    );

  it('a 503 and a dropped connection while reading the signature: retried, verified, deployed', async () => {
    const { proxied, direct } = await image();
    expect(
      (await runAction('sbom-and-sign', { image: direct, ...signOnly }, await loadEvent('push-default-branch')))
        .exitCode,
    ).toBe(0);
    proxy.faults.push(
      { method: 'GET', path: /\/referrers\//, times: 1, status: 503 },
      { method: 'GET', path: /\/manifests\//, times: 1, reset: true },
    );
    const deployed = await deploy(proxied);
    proxy.faults.length = 0;
    expect(deployed.shown).toMatch(/signature verified for .*: key/);
    expect(deployed.exitCode).toBe(0);
    expect(await live()).toBe(direct.split('@')[1]);
  });

  it('the registry down: the deploy is refused before the cluster is touched, and the live release stays', async () => {
    const before = await cluster().get('v1', 'Service', namespace, 'shop');
    const { direct } = await image();
    expect(
      (await runAction('sbom-and-sign', { image: direct, ...signOnly }, await loadEvent('push-default-branch')))
        .exitCode,
    ).toBe(0);
    proxy.faults.push({ path: /./, times: 1000, status: 503 });
    const refused = await deploy(direct.replace(registry, via));
    proxy.faults.length = 0;
    expect(refused.exitCode).toBe(1);
    expect(refused.shown).toMatch(
      /::error::verify: cannot read the signatures of .*503.*Nothing was applied\. Fix: check that the registry is reachable/,
    );
    const after = await cluster().get('v1', 'Service', namespace, 'shop');
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(await cluster().get('apps/v1', 'Deployment', namespace, 'shop-green')).toBeUndefined();
  });
});
