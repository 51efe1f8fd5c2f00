// sbomAndSign phase by phase, without a server: an in-memory registry (fake-registry.ts), syft and trivy
// stand-ins that write the files the real tools write (and log how they were called), a real cosign key.
// What each path pushes, in which order, and what it leaves alone when it fails.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PhaseError, Phases } from '@deploy-suite/action-kit';
import { MEDIA_TYPES, type ImageReference } from '@deploy-suite/oci';
import {
  KeyError,
  PREDICATE_TYPES,
  keySigning,
  openCosignPrivateKey,
  readPublicKey,
  sbomAndSign,
  verifyImage,
  type SbomAndSignRequest,
  type SignaturePolicy,
  type SigningMethod,
} from '../src/index.js';
import { FakeRegistry } from './fake-registry.js';
import { KEY } from './keys.js';

const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), 'sbom-and-sign-'));
const syft = join(dir, 'syft.cjs');
const trivy = join(dir, 'trivy.cjs');
const calls = join(dir, 'calls.log');

// The stand-ins read their orders from SYFT_*/TRIVY_* variables: the tools' own prefixes, which the suite
// passes to them (toolEnvironment).
writeFileSync(
  syft,
  `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.SYFT_STANDIN_LOG, JSON.stringify(['syft', ...args]) + '\\n');
if (process.env.SYFT_STANDIN_FAIL) { console.error(process.env.SYFT_STANDIN_FAIL); process.exit(1); }
args.forEach((arg, i) => {
  if (arg !== '-o') return;
  const [format, path] = args[i + 1].split('=');
  fs.writeFileSync(path, JSON.stringify(format === 'spdx-json'
    ? { spdxVersion: 'SPDX-2.3', name: args[1] }
    : { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{ type: 'library', name: 'openssl' }, { type: 'file', name: '/etc/passwd' }] }));
});
`,
);
writeFileSync(
  trivy,
  `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.TRIVY_STANDIN_LOG, JSON.stringify(['trivy', ...args]) + '\\n');
const platform = args.includes('--platform') ? args[args.indexOf('--platform') + 1] : '';
const found = JSON.parse(process.env.TRIVY_STANDIN_FINDINGS || '{}')[platform] || [];
fs.writeFileSync(args[args.indexOf('--output') + 1], JSON.stringify({ SchemaVersion: 2, Results: [{ Target: args.at(-1), Vulnerabilities: found }] }));
`,
);
chmodSync(syft, 0o755);
chmodSync(trivy, 0o755);

const repository = 'acme/api';
const image = (digest: string): ImageReference => ({ registry: 'fake.registry', repository, digest });
const critical = (pkg: string) => ({
  VulnerabilityID: `CVE-2026-${pkg.length}000`,
  PkgName: pkg,
  InstalledVersion: '1.0',
  FixedVersion: '1.1',
  Severity: 'CRITICAL',
});

/** A platform image as BuildKit pushes it: a config, one layer, a manifest. */
function seedImage(registry: FakeRegistry, architecture: string): string {
  const config = registry.seedBlob(
    repository,
    Buffer.from(JSON.stringify({ architecture, os: 'linux', config: { User: '10001' } })),
    'application/vnd.oci.image.config.v1+json',
  );
  const layer = registry.seedBlob(
    repository,
    Buffer.from(`layer ${architecture}`),
    'application/vnd.oci.image.layer.v1.tar+gzip',
  );
  return registry.seedManifest(repository, {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config,
    layers: [layer],
  });
}

/** linux/amd64 and linux/arm64, and BuildKit's attestation manifest of the amd64 image. */
function seedIndex(registry: FakeRegistry): { index: string; amd64: string; arm64: string; attestation: string } {
  const amd64 = seedImage(registry, 'amd64');
  const arm64 = seedImage(registry, 'arm64');
  const attestation = seedImage(registry, 'unknown');
  const entry = (digest: string, architecture: string) => ({
    mediaType: MEDIA_TYPES.ociManifest,
    digest,
    size: 400,
    platform: { os: 'linux', architecture },
  });
  const index = registry.seedManifest(
    repository,
    {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        entry(amd64, 'amd64'),
        entry(arm64, 'arm64'),
        {
          ...entry(attestation, 'unknown'),
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64 },
        },
      ],
    },
    'trunk',
  );
  return { index, amd64, arm64, attestation };
}

let method: SigningMethod;
let policy: SignaturePolicy;
beforeAll(async () => {
  method = keySigning(await openCosignPrivateKey(KEY.private, KEY.password));
  policy = { kind: 'key', key: readPublicKey(KEY.public) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = { ...process.env };
beforeEach(() => {
  process.env = { ...saved, SYFT_STANDIN_LOG: calls, TRIVY_STANDIN_LOG: calls };
  writeFileSync(calls, '');
});
afterAll(() => {
  process.env = saved;
});

const toolCalls = (): string[][] =>
  readFileSync(calls, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);

function request(
  registry: FakeRegistry,
  digest: string,
  overrides: Partial<SbomAndSignRequest> = {},
): SbomAndSignRequest {
  return {
    client: registry,
    image: image(digest),
    outputDir: join(dir, 'out'),
    plainHttp: false,
    sbom: { syft, attest: ['cyclonedx'] },
    scan: {
      trivy,
      cacheDir: '',
      offline: true,
      policy: { failOn: ['CRITICAL', 'HIGH'], ignoreUnfixed: false, ignores: [] },
    },
    signing: Promise.resolve({ method, policy }),
    log: () => undefined,
    ...overrides,
  };
}

describe('sbomAndSign, phase by phase', () => {
  it('one image: resolve, SBOM and scan side by side, the gate, the signature, the attestation; each verifies', async () => {
    const registry = new FakeRegistry();
    const digest = seedImage(registry, 'amd64');
    const phases = new Phases();
    const result = await sbomAndSign(request(registry, digest), phases);

    expect(phases.timings.map((t) => t.name).sort()).toEqual(['attest', 'resolve', 'sbom', 'scan', 'sign']);
    expect(phases.timings[0]!.name).toBe('resolve');
    expect(phases.timings.slice(-2).map((t) => t.name)).toEqual(['sign', 'attest']);
    expect(result.index).toBe(false);
    expect(result.platforms[0]!.sboms!.packages).toBe(1); // syft's file components are not packages
    expect(result.scan!.decision.passed).toBe(true);
    // The signature first, the attestation after it, both on the digest given.
    expect(registry.attachedTo(digest).map((w) => w.digest)).toEqual([
      result.signature!.manifestDigest,
      result.attestations[0]!.attached.manifestDigest,
    ]);
    expect(result.signer).toBe(policy.kind === 'key' ? `key ${policy.key.hint}` : '');
    const verified = await verifyImage(registry, image(digest), policy);
    expect(verified.signer).toBe(result.signer);
    await verifyImage(registry, image(digest), policy, PREDICATE_TYPES.cyclonedx);
    // Upload sessions opened ahead were used or cancelled: none left for the registry to expire.
    expect(registry.openUploads.size).toBe(0);
  });

  it('a gate that fails pushes nothing, not even an upload session', async () => {
    const registry = new FakeRegistry();
    const digest = seedImage(registry, 'amd64');
    process.env.TRIVY_STANDIN_FINDINGS = JSON.stringify({ '': [critical('openssl')] });
    const phases = new Phases();
    const result = await sbomAndSign(request(registry, digest), phases);
    expect(result.scan!.decision.passed).toBe(false);
    expect(result.scan!.decision.blocking.map((f) => f.package)).toEqual(['openssl']);
    expect(result.signature).toBeUndefined();
    expect(registry.writes).toEqual([]);
    expect(phases.timings.map((t) => t.name)).not.toContain('sign');
  });

  it('an index: each platform described and scanned as itself, the attestation manifest left out, the platforms signed before the index', async () => {
    const registry = new FakeRegistry();
    const { index, amd64, arm64, attestation } = seedIndex(registry);
    const logged: string[] = [];
    const result = await sbomAndSign(request(registry, index, { log: (m) => logged.push(m) }), new Phases());

    expect(result.index).toBe(true);
    expect(result.platforms.map((p) => [p.platform, p.digest])).toEqual([
      ['linux/amd64', amd64],
      ['linux/arm64', arm64],
    ]);
    expect(result.skipped).toEqual([{ digest: attestation, why: `attestation manifest of ${amd64}` }]);
    expect(logged).toContain(`left out ${attestation}: attestation manifest of ${amd64}`);
    expect(
      toolCalls()
        .filter((c) => c[0] === 'syft')
        .map((c) => [c[2], c[4]])
        .sort(),
    ).toEqual(
      [
        [`registry:fake.registry/${repository}@${amd64}`, 'linux/amd64'],
        [`registry:fake.registry/${repository}@${arm64}`, 'linux/arm64'],
      ].sort(),
    );
    expect(
      toolCalls()
        .filter((c) => c[0] === 'trivy')
        .map((c) => [c.at(-1), c[c.indexOf('--platform') + 1]])
        .sort(),
    ).toEqual(
      [
        [`fake.registry/${repository}@${amd64}`, 'linux/amd64'],
        [`fake.registry/${repository}@${arm64}`, 'linux/arm64'],
      ].sort(),
    );

    // Signatures: amd64, arm64, then the index (a reader that finds the index signed finds all of it signed).
    const signatures = registry.writes
      .filter((w) => w.kind === 'manifest' && w.subject)
      .slice(0, 3)
      .map((w) => w.subject);
    expect(signatures).toEqual([amd64, arm64, index]);
    for (const digest of [index, amd64, arm64]) await verifyImage(registry, image(digest), policy);
    // Each platform's SBOM attestation on its manifest and on the index; nothing on the attestation manifest.
    for (const digest of [amd64, arm64]) await verifyImage(registry, image(digest), policy, PREDICATE_TYPES.cyclonedx);
    expect(registry.attachedTo(index)).toHaveLength(3);
    expect(registry.attachedTo(attestation)).toEqual([]);
  });

  it('an index: a finding on one platform fails the gate once, naming that platform', async () => {
    const registry = new FakeRegistry();
    const { index } = seedIndex(registry);
    process.env.TRIVY_STANDIN_FINDINGS = JSON.stringify({ 'linux/arm64': [critical('zlib')] });
    const result = await sbomAndSign(request(registry, index), new Phases());
    expect(result.scan!.decision.passed).toBe(false);
    expect(result.scan!.findings.map((f) => [f.package, f.platforms])).toEqual([['zlib', ['linux/arm64']]]);
    expect(result.platforms.map((p) => p.scan!.decision.passed)).toEqual([true, false]);
    expect(registry.writes).toEqual([]);
  });

  it('a registry without the referrers API: the signature is found through the sha256-<hex> tag index', async () => {
    const registry = new FakeRegistry();
    registry.referrersApi = false;
    const digest = seedImage(registry, 'amd64');
    const result = await sbomAndSign(request(registry, digest, { sbom: undefined, scan: undefined }), new Phases());
    expect(result.signature!.via).toBe('tag-index');
    expect(registry.tags.has(`${repository}:${digest.replace(':', '-')}`)).toBe(true);
    await verifyImage(registry, image(digest), policy);
  });

  it('a registry refusing the push: the sign phase fails with the credentials fix, sessions cancelled', async () => {
    const registry = new FakeRegistry();
    const digest = seedImage(registry, 'amd64');
    registry.refuseWrites = 403;
    const error = await sbomAndSign(request(registry, digest), new Phases()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseError);
    expect((error as PhaseError).phase).toBe('sign');
    expect((error as PhaseError).message).toContain('pushing the signature of the image');
    expect((error as PhaseError).fix).toContain('registry-username and registry-password');
    expect(registry.openUploads.size).toBe(0);
  });

  it('a digest the registry does not hold: the resolve phase says so, and no tool ran', async () => {
    const registry = new FakeRegistry();
    const error = await sbomAndSign(request(registry, `sha256:${'e'.repeat(64)}`), new Phases()).catch(
      (e: unknown) => e,
    );
    expect((error as PhaseError).phase).toBe('resolve');
    expect((error as PhaseError).message).toContain('is not in the registry');
    expect(toolCalls()).toEqual([]);
  });

  it('a wrong key password is the error reported, even when the digest is missing too (the input first)', async () => {
    const registry = new FakeRegistry();
    const wrongKey = openCosignPrivateKey(KEY.private, 'wrong').then((key) => ({ method: keySigning(key), policy }));
    const error = await sbomAndSign(
      request(registry, `sha256:${'e'.repeat(64)}`, { signing: wrongKey }),
      new Phases(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyError);
  });

  it('syft failing stops the run in the sbom phase with its last lines; nothing is pushed', async () => {
    const registry = new FakeRegistry();
    const digest = seedImage(registry, 'amd64');
    process.env.SYFT_STANDIN_FAIL = 'unauthorized: authentication required';
    const error = await sbomAndSign(request(registry, digest), new Phases()).catch((e: unknown) => e);
    expect((error as PhaseError).phase).toBe('sbom');
    expect((error as PhaseError).message).toContain('unauthorized: authentication required');
    expect(registry.writes).toEqual([]);
  });
});
