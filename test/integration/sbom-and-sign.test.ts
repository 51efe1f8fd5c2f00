// sbom-and-sign, bundled, run as the runner runs it, against the local registry, syft and trivy built from
// their Go modules, a trivy database built from fixture advisories, and the real cosign 3 as the
// independent verifier (offline: key pairs, no transparency log).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient, parseReference } from '@deploy-suite/oci';
import type { SerializedBundle } from '@sigstore/bundle';
import {
  GITHUB_CLAIM_FLAGS,
  PREDICATE_TYPES,
  DEFAULT_RELEASES,
  attachBundle,
  findBundles,
  installTool,
  resolveToolRelease,
  readPublicKey,
  verifyImage,
  type GitHubClaims,
} from '@deploy-suite/supply-chain';
import { loadEvent, repoRoot, runAction, type ActionRun } from '../support/action-runner.js';
import { freshImage, listTags, openUploads, registryHost } from '../support/registry-api.js';
import { GITHUB_ISSUER, startOidcTokenService, startSigstoreDoubles } from '../support/sigstore-doubles.js';
import { startReleasesHost, type ReleasesHost } from '../support/releases-host.js';

const run = `s${randomBytes(4).toString('hex')}`;
const registry = registryHost();
const fixtures = join(repoRoot, 'test/fixtures');
const KEY = {
  private: readFileSync(join(fixtures, 'cosign/cosign.key'), 'utf8'),
  public: join(fixtures, 'cosign/cosign.pub'),
  password: 'fixture-password',
};
const OTHER_PUB = join(fixtures, 'cosign/other.pub');
const cosign = process.env.DEPLOY_SUITE_COSIGN ?? 'cosign';
const tools = {
  syft: process.env.DEPLOY_SUITE_SYFT ?? '',
  trivy: process.env.DEPLOY_SUITE_TRIVY ?? '',
  'trivy-cache-dir': process.env.DEPLOY_SUITE_TRIVY_CACHE ?? '',
  offline: 'true',
};

let nonce = 0;
/**
 * Builds a fixture image under a new digest and pushes it: with the engine's builder (one manifest), or
 * as a two-platform index from the current BuildKit (QEMU for arm64), as GitHub's runners push it, each
 * platform with its provenance attestation manifest beside it.
 */
function pushFixture(
  target: 'clean' | 'vulnerable' | 'arm64-vulnerable',
  repository: string,
  { multiPlatform = false } = {},
): string {
  const image = `${registry}/${run}/${repository}`;
  const dir = join(tmpdir(), `${run}-${repository}-${++nonce}`);
  const builder = multiPlatform
    ? [
        '--builder',
        process.env.DEPLOY_SUITE_BUILDKIT_BUILDER ?? 'deploy-suite-buildkit',
        '--platform',
        'linux/amd64,linux/arm64',
        '--provenance',
        'mode=min',
        '--output',
        `type=image,name=${image}:fixture,push=true,registry.insecure=true`,
      ]
    : ['--tag', `${image}:fixture`, '--push'];
  const base = multiPlatform ? process.env.DEPLOY_SUITE_MULTI_BASE_IMAGE : process.env.DEPLOY_SUITE_BASE_IMAGE;
  const build = spawnSync(
    'docker',
    [
      'buildx',
      'build',
      ...builder,
      '--target',
      target,
      '--build-arg',
      `NONCE=${run}-${nonce}`,
      '--build-arg',
      `BASE=${base}`,
      '--metadata-file',
      `${dir}.json`,
      join(fixtures, 'scan-app'),
    ],
    { encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`fixture build failed: ${build.stderr}`);
  const digest = (JSON.parse(readFileSync(`${dir}.json`, 'utf8')) as Record<string, string>)['containerimage.digest']!;
  return `${image}@${digest}`;
}

function runCosign(args: string[], env: Record<string, string> = {}): { status: number; output: string } {
  // verify-attestation prints the whole SBOM statement: megabytes.
  const result = spawnSync(cosign, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status ?? 1, output: `${result.stdout}\n${result.stderr}` };
}

const visible = (log: string) =>
  log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');

describe('sbom-and-sign with a key pair', () => {
  let image: string;
  let signed: ActionRun;

  beforeAll(async () => {
    image = pushFixture('clean', 'clean');
    signed = await runAction(
      'sbom-and-sign',
      {
        image,
        'cosign-private-key': KEY.private,
        'cosign-password': KEY.password,
        'attest-sbom': 'cyclonedx,spdx',
        ...tools,
      },
      await loadEvent('push-default-branch'),
    );
  }, 180_000);

  it('writes both SBOMs of the pushed image, passes the gate, signs and attests', () => {
    expect(visible(signed.log)).not.toMatch(/::error/);
    expect(signed.exitCode).toBe(0);
    const o = signed.outputs;
    expect(o.gate).toBe('passed');
    expect(JSON.parse(o.findings!)).toEqual({ CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    const spdx = JSON.parse(readFileSync(o['sbom-spdx']!, 'utf8')) as {
      spdxVersion: string;
      packages: { name: string }[];
    };
    expect(spdx.spdxVersion).toBe('SPDX-2.3');
    expect(signed.summary).toMatch(/SBOM<\/td><td>[0-9]+ packages; SPDX 2.3, CycloneDX 1\./);
    // The base image's dpkg database: the SBOM describes the image, not the source tree.
    expect(spdx.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['dpkg', 'libc6', 'bash']));
    const cdx = JSON.parse(readFileSync(o['sbom-cyclonedx']!, 'utf8')) as { bomFormat: string; specVersion: string };
    expect(cdx.bomFormat).toBe('CycloneDX');
    expect(o['artifact-name']).toBe(`sbom-${run}-clean-${image.split('@sha256:')[1]!.slice(0, 12)}`);
    expect(o.signature).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(JSON.parse(o.attestations!).map((a: { format: string }) => a.format)).toEqual(['cyclonedx', 'spdx']);
    expect(signed.summary).toContain('sbom-and-sign: signed');
    expect(signed.summary).toContain('cosign verify --key cosign.pub');
    // One upload session per bundle, each used: none left open in the registry.
    expect(openUploads(`${run}/clean`)).toEqual([]);
  });

  it('the real cosign verifies the signature and the CycloneDX and SPDX attestations', () => {
    const verify = runCosign(['verify', '--key', KEY.public, '--insecure-ignore-tlog=true', image]);
    expect(verify.output).toContain('The signatures were verified against the specified public key');
    expect(verify.status).toBe(0);
    const cdx = runCosign([
      'verify-attestation',
      '--key',
      KEY.public,
      '--insecure-ignore-tlog=true',
      '--type',
      'cyclonedx',
      image,
    ]);
    expect(cdx.status).toBe(0);
    const spdx = runCosign([
      'verify-attestation',
      '--key',
      KEY.public,
      '--insecure-ignore-tlog=true',
      '--type',
      'spdxjson',
      image,
    ]);
    expect(spdx.status).toBe(0);
  });

  it("another key is refused by cosign and by the suite's verifier", async () => {
    expect(runCosign(['verify', '--key', OTHER_PUB, '--insecure-ignore-tlog=true', image]).status).not.toBe(0);
    const result = await verifyImage(new RegistryClient(), parseReference(image), {
      kind: 'key',
      key: readPublicKey(readFileSync(OTHER_PUB, 'utf8')),
    });
    expect(result.verified).toBe(false);
    expect(result.reasons.join('\n')).toMatch(/signature does not verify/);
  });

  it('a signature moved onto another digest is refused by both (the statement names the signed digest)', async () => {
    const client = new RegistryClient();
    const [stored] = await findBundles(client, parseReference(image));
    const other = pushFixture('clean', 'clean');
    await attachBundle(client, parseReference(other), stored!.bundle as SerializedBundle, PREDICATE_TYPES.signature);
    const cosignResult = runCosign(['verify', '--key', KEY.public, '--insecure-ignore-tlog=true', other]);
    expect(cosignResult.status).not.toBe(0);
    const ours = await verifyImage(client, parseReference(other), {
      kind: 'key',
      key: readPublicKey(readFileSync(KEY.public, 'utf8')),
    });
    expect(ours.verified).toBe(false);
    expect(ours.reasons.join()).toContain(`the signed statement names another digest, not ${other.split('@')[1]}`);
  }, 120_000);

  it('never prints the private key, its password, or their base64', () => {
    for (const secret of [KEY.password, ...KEY.private.split('\n').filter((l) => l.length > 20)]) {
      expect(visible(signed.log)).not.toContain(secret);
      expect(visible(signed.log)).not.toContain(Buffer.from(secret).toString('base64'));
      expect(signed.summary).not.toContain(secret);
      expect(JSON.stringify(signed.outputs)).not.toContain(secret);
    }
  });
});

interface PlatformOutput {
  platform: string;
  digest: string;
  packages?: number;
  sbomSpdx?: string;
  sbomCyclonedx?: string;
  findings?: Record<string, number>;
  gate?: string;
  signature?: string;
}

describe('a two-platform index (current BuildKit, QEMU): every platform described, scanned and signed', () => {
  let index: string;
  let signed: ActionRun;
  let platforms: PlatformOutput[];
  const pub = () => readPublicKey(readFileSync(KEY.public, 'utf8'));
  const at = (digest: string) => `${index.split('@')[0]}@${digest}`;

  beforeAll(async () => {
    index = pushFixture('clean', 'multi', { multiPlatform: true });
    signed = await runAction(
      'sbom-and-sign',
      {
        image: index,
        'cosign-private-key': KEY.private,
        'cosign-password': KEY.password,
        'attest-sbom': 'cyclonedx,spdx',
        ...tools,
      },
      await loadEvent('push-default-branch'),
    );
    platforms = JSON.parse(signed.outputs.platforms ?? '[]') as PlatformOutput[];
  }, 300_000);

  it('reads the index: two platforms, the attestation manifests left out with a log line each', () => {
    expect(visible(signed.log)).not.toMatch(/::error/);
    expect(signed.exitCode).toBe(0);
    expect(platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(signed.log).toMatch(
      /is an index of 2 platform\(s\): linux\/amd64 sha256:[a-f0-9]{64}, linux\/arm64 sha256:/,
    );
    expect(signed.log.match(/left out sha256:[a-f0-9]{64}: attestation manifest of sha256:/g)).toHaveLength(2);
    expect(signed.summary).toMatch(/an index of linux\/amd64, linux\/arm64 \(2 attestation manifest\(s\) left out\)/);
    expect(signed.summary).toContain('<th>Platform</th>');
  });

  it("each platform's SBOM describes that platform's packages (arm64's dpkg database is arm64's)", () => {
    for (const p of platforms) {
      const arch = p.platform.split('/')[1]!;
      expect(p.sbomCyclonedx).toContain(`-linux-${arch}.cyclonedx.json`);
      const cdx = JSON.parse(readFileSync(p.sbomCyclonedx!, 'utf8')) as {
        components?: { name: string; purl?: string }[];
      };
      const libc = (cdx.components ?? []).find((c) => c.name === 'libc6');
      expect(libc?.purl).toContain(`arch=${arch}`);
      expect(p.packages).toBeGreaterThan(50);
      expect(existsSync(p.sbomSpdx!)).toBe(true);
      expect(p.gate).toBe('passed');
    }
    // The first platform's files stay the single-file outputs.
    expect(signed.outputs['sbom-cyclonedx']).toBe(platforms[0]!.sbomCyclonedx);
    expect(signed.outputs.gate).toBe('passed');
  });

  it('signs the index and each platform manifest; the real cosign verifies all three', () => {
    expect(signed.outputs.signature).toMatch(/^sha256:[a-f0-9]{64}$/);
    for (const reference of [index, ...platforms.map((p) => at(p.digest))]) {
      const verify = runCosign(['verify', '--key', KEY.public, '--insecure-ignore-tlog=true', reference]);
      expect(`${reference}\n${verify.output}`).toContain(
        'The signatures were verified against the specified public key',
      );
      expect(verify.status).toBe(0);
    }
    expect(new Set(platforms.map((p) => p.signature)).size).toBe(2);
    expect(openUploads(`${run}/multi`)).toEqual([]);
  });

  it('what is attached to what (a cosign tree-like listing): the index carries the set, each platform its own', async () => {
    const client = new RegistryClient();
    const names: Record<string, string> = {
      [PREDICATE_TYPES.signature]: 'signature',
      [PREDICATE_TYPES.cyclonedx]: 'cyclonedx',
      [PREDICATE_TYPES.spdx]: 'spdx',
    };
    const tree = async (reference: string) =>
      (await findBundles(client, parseReference(reference)))
        .map((b) => names[b.predicateType ?? ''] ?? b.predicateType)
        .sort();
    expect(await tree(index)).toEqual(['cyclonedx', 'cyclonedx', 'signature', 'spdx', 'spdx']);
    for (const p of platforms) expect(await tree(at(p.digest))).toEqual(['cyclonedx', 'signature', 'spdx']);
    // BuildKit's provenance attestation manifests are left as they are: nothing signed them.
    const skipped = [...signed.log.matchAll(/left out (sha256:[a-f0-9]{64})/g)].map((m) => m[1]!);
    expect(skipped).toHaveLength(2);
    for (const digest of skipped) expect(await tree(at(digest))).toEqual([]);
  });

  it('the SBOM attestations of each platform verify on the platform and on the index', async () => {
    const attestations = JSON.parse(signed.outputs.attestations!) as { format: string; platform: string }[];
    expect(attestations.map((a) => `${a.platform} ${a.format}`)).toEqual([
      'linux/amd64 cyclonedx',
      'linux/amd64 spdx',
      'linux/arm64 cyclonedx',
      'linux/arm64 spdx',
    ]);
    for (const reference of [...platforms.map((p) => at(p.digest)), index]) {
      for (const type of ['cyclonedx', 'spdxjson']) {
        const verified = runCosign([
          'verify-attestation',
          '--key',
          KEY.public,
          '--insecure-ignore-tlog=true',
          '--type',
          type,
          reference,
        ]);
        expect(`${reference} ${type}\n${verified.output.slice(-2000)}`).toContain('Verification for');
        expect(verified.status).toBe(0);
      }
    }
    // The suite's own verifier agrees, on each platform and the index.
    const client = new RegistryClient();
    for (const reference of [index, ...platforms.map((p) => at(p.digest))]) {
      expect((await verifyImage(client, parseReference(reference), { kind: 'key', key: pub() })).verified).toBe(true);
    }
  });
});

describe('an index whose arm64 image alone is vulnerable', () => {
  it('fails the gate naming the platform, scans amd64 clean, and signs nothing anywhere', async () => {
    const index = pushFixture('arm64-vulnerable', 'multi-vulnerable', { multiPlatform: true });
    const result = await runAction(
      'sbom-and-sign',
      { image: index, 'cosign-private-key': KEY.private, 'cosign-password': KEY.password, ...tools },
      await loadEvent('push-default-branch'),
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs.gate).toBe('failed');
    const platforms = JSON.parse(result.outputs.platforms!) as PlatformOutput[];
    expect(platforms.map((p) => [p.platform, p.gate])).toEqual([
      ['linux/amd64', 'passed'],
      ['linux/arm64', 'failed'],
    ]);
    expect(platforms[1]!.findings).toMatchObject({ CRITICAL: 1, HIGH: 2 });
    expect(JSON.parse(result.outputs.findings!)).toMatchObject({ CRITICAL: 1, HIGH: 2, MEDIUM: 1 });
    expect(visible(result.log)).toMatch(
      /CVE-2019-10744 \(CRITICAL, lodash 4\.17\.11, on linux\/arm64\).*Nothing was signed/,
    );
    expect(result.outputs.signature).toBe('');
    const client = new RegistryClient();
    for (const reference of [index, ...platforms.map((p) => `${index.split('@')[0]}@${p.digest}`)]) {
      expect(await findBundles(client, parseReference(reference))).toEqual([]);
    }
    expect((await listTags(`${run}/multi-vulnerable`)).filter((t) => t.startsWith('sha256-'))).toEqual([]);
    expect(result.summary).toContain('<th>Platforms</th>');
    expect(result.summary).toMatch(/CVE-2019-10744.*linux\/arm64/);
  }, 300_000);
});

describe('what cosign signs, the suite verifies', () => {
  it('accepts cosign sign --key; refuses another key and another digest', async () => {
    const image = pushFixture('clean', 'by-cosign');
    const signedByCosign = runCosign(
      [
        'sign',
        '--yes',
        '--key',
        join(fixtures, 'cosign/cosign.key'),
        '--tlog-upload=false',
        '--use-signing-config=false',
        image,
      ],
      { COSIGN_PASSWORD: KEY.password },
    );
    expect(signedByCosign.status).toBe(0);
    const client = new RegistryClient();
    const policy = { kind: 'key' as const, key: readPublicKey(readFileSync(KEY.public, 'utf8')) };
    const ok = await verifyImage(client, parseReference(image), policy);
    expect(ok).toMatchObject({ verified: true, predicateType: PREDICATE_TYPES.signature });
    expect(
      (
        await verifyImage(client, parseReference(image), {
          kind: 'key',
          key: readPublicKey(readFileSync(OTHER_PUB, 'utf8')),
        })
      ).verified,
    ).toBe(false);
    // Another image (never signed): no bundle at all.
    const unsigned = pushFixture('clean', 'by-cosign');
    const none = await verifyImage(client, parseReference(unsigned), policy);
    expect(none.verified).toBe(false);
    expect(none.reasons).toEqual([`no Sigstore bundle is attached to ${unsigned.split('@')[1]}`]);
    expect(runCosign(['verify', '--key', KEY.public, '--insecure-ignore-tlog=true', unsigned]).status).not.toBe(0);
  }, 180_000);
});

/** Signs an image keyless with the action, through the doubles and the OIDC token service given. */
async function signKeyless(
  image: string,
  sigstore: { fulcioUrl: string; rekorUrl: string },
  oidc: { requestUrl: string; requestToken: string },
): Promise<ActionRun> {
  return runAction(
    'sbom-and-sign',
    {
      image,
      signing: 'keyless',
      'fulcio-url': sigstore.fulcioUrl,
      'rekor-url': sigstore.rekorUrl,
      sbom: 'false',
      'attest-sbom': 'none',
      scan: 'false',
    },
    await loadEvent('push-default-branch'),
    { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.requestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken },
  );
}

describe('keyless signing through the GitHub OIDC token (local Fulcio and Rekor doubles)', () => {
  it('gets a certificate for the workflow identity, logs the signature, and verifies by identity and issuer', async () => {
    const identity = 'https://github.com/acme/shop-api/.github/workflows/release.yml@refs/heads/trunk';
    const sigstore = await startSigstoreDoubles();
    const oidc = await startOidcTokenService({
      sub: identity,
      repository: 'acme/shop-api',
      ref: 'refs/heads/trunk',
      sha: '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
      event_name: 'push',
      workflow: 'release',
    });
    try {
      const image = pushFixture('clean', 'keyless');
      const result = await signKeyless(image, sigstore, oidc);
      expect(visible(result.log)).not.toMatch(/::error/);
      expect(result.exitCode).toBe(0);
      expect(oidc.audiences).toEqual(['sigstore']);
      expect(sigstore.requests).toEqual(['POST /api/v2/signingCert', 'POST /api/v1/log/entries']);
      expect(visible(result.log)).not.toContain(oidc.jwt);
      const client = new RegistryClient();
      const policy = { kind: 'identity' as const, identity, issuer: GITHUB_ISSUER, trustedRoot: sigstore.trustedRoot };
      const verified = await verifyImage(client, parseReference(image), policy);
      expect(verified.reasons).toEqual([]);
      expect(verified).toMatchObject({ verified: true, signer: `${identity} (issuer ${GITHUB_ISSUER})` });
      const otherIdentity = await verifyImage(client, parseReference(image), {
        ...policy,
        identity: 'https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/trunk',
      });
      expect(otherIdentity.verified).toBe(false);
      expect(otherIdentity.reasons.join()).toMatch(/untrusted signer: certificate identity .* is not /);
      const otherIssuer = await verifyImage(client, parseReference(image), {
        ...policy,
        issuer: 'https://accounts.google.com',
      });
      expect(otherIssuer.verified).toBe(false);
      // A key policy does not accept a keyless signature.
      expect(
        (
          await verifyImage(client, parseReference(image), {
            kind: 'key',
            key: readPublicKey(readFileSync(KEY.public, 'utf8')),
          })
        ).reasons.join(),
      ).toMatch(/signed keyless/);
    } finally {
      await sigstore.close();
      await oidc.close();
    }
  }, 180_000);
});

describe('keyless identity policy: the suite and the real cosign verify agree on every case', () => {
  // Signed for real by the action (mock Fulcio, CT log and Rekor), one image per signing run.
  const MAIN = 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main';
  const SHARED = 'https://github.com/acme/deploy-suite/.github/workflows/release.yml@refs/tags/v1';
  const runs: Record<string, Record<string, string>> = {
    main: { sub: MAIN, repository: 'acme/shop', ref: 'refs/heads/main', event_name: 'push' },
    attacker: { sub: `${MAIN}-attacker`, repository: 'acme/shop', ref: 'refs/heads/main-attacker' },
    maintenance: { sub: MAIN.replace('/main', '/maintenance'), repository: 'acme/shop', ref: 'refs/heads/maintenance' },
    // Two repositories calling the same reusable workflow: one subject, two repository claims.
    'shared-shop': { sub: SHARED, repository: 'acme/shop', ref: 'refs/heads/main' },
    'shared-other': { sub: SHARED, repository: 'someone/else', ref: 'refs/heads/main' },
  };
  const images: Record<string, string> = {};
  let sigstore: Awaited<ReturnType<typeof startSigstoreDoubles>>;
  let rootFile: string;

  beforeAll(async () => {
    sigstore = await startSigstoreDoubles();
    const dir = await mkdtemp(join(tmpdir(), `${run}-identity-`));
    rootFile = join(dir, 'trusted_root.json');
    await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
    for (const [name, claims] of Object.entries(runs)) {
      const oidc = await startOidcTokenService(claims);
      try {
        const image = await freshImage(`${run}/identity`, `${run}-${name}`);
        const result = await signKeyless(image, sigstore, oidc);
        if (result.exitCode !== 0) throw new Error(result.log.slice(-2000));
        images[name] = image;
      } finally {
        await oidc.close();
      }
    }
  }, 180_000);
  afterAll(() => sigstore.close());

  type Case = [string, string, { identity?: string; regexp?: string; claims?: GitHubClaims }, boolean];
  const cases: Case[] = [
    ['exact identity, its own run', 'main', { identity: MAIN }, true],
    ['exact identity, a branch that starts with main', 'attacker', { identity: MAIN }, false],
    ['exact identity, maintenance', 'maintenance', { identity: MAIN }, false],
    ['regexp, the whole identity', 'main', { regexp: 'https://github\\.com/acme/shop/.*@refs/heads/main' }, true],
    ['regexp, a longer branch', 'attacker', { regexp: 'https://github\\.com/acme/shop/.*@refs/heads/main' }, false],
    [
      'regexp alternation, a prefix of one side',
      'maintenance',
      { regexp: `.*@refs/heads/main|.*@refs/tags/v.*` },
      false,
    ],
    [
      'shared workflow, the caller named',
      'shared-shop',
      { identity: SHARED, claims: { repository: 'acme/shop' } },
      true,
    ],
    [
      'shared workflow, another caller',
      'shared-other',
      { identity: SHARED, claims: { repository: 'acme/shop' } },
      false,
    ],
    ['shared workflow, ref claim', 'shared-shop', { identity: SHARED, claims: { ref: 'refs/heads/main' } }, true],
    ['exact identity, another trigger', 'main', { identity: MAIN, claims: { trigger: 'workflow_dispatch' } }, false],
  ];

  it.each(cases)('%s', async (_name, signed, policy, accepted) => {
    const image = images[signed]!;
    const identity = policy.identity ?? new RegExp(policy.regexp!);
    const suite = await verifyImage(new RegistryClient(), parseReference(image), {
      kind: 'identity',
      identity,
      issuer: GITHUB_ISSUER,
      trustedRoot: sigstore.trustedRoot,
      ...(policy.claims ? { claims: policy.claims } : {}),
    });
    expect(suite.verified).toBe(accepted);
    if (!accepted) expect(suite.reasons.join()).toMatch(/untrusted signer/);
    // cosign's regexp is unanchored: it is given the anchored form the suite applies.
    const flags = [
      ...(policy.identity
        ? ['--certificate-identity', policy.identity]
        : ['--certificate-identity-regexp', `^(?:${policy.regexp})$`]),
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
      ...Object.entries(policy.claims ?? {}).flatMap(([claim, value]) => [
        `--${GITHUB_CLAIM_FLAGS[claim as keyof GitHubClaims]}`,
        String(value),
      ]),
    ];
    const cosignResult = runCosign(['verify', '--trusted-root', rootFile, ...flags, image]);
    expect({ accepted: cosignResult.status === 0, output: cosignResult.output.slice(0, 600) }).toMatchObject({
      accepted,
    });
  });
});

describe('the vulnerability gate on real scanner output', () => {
  let image: string;

  beforeAll(() => {
    image = pushFixture('vulnerable', 'vulnerable');
  }, 120_000);

  it('fails on critical and high findings, writes SARIF, and pushes nothing', async () => {
    const tagsBefore = await listTags(`${run}/vulnerable`);
    const result = await runAction(
      'sbom-and-sign',
      { image, 'cosign-private-key': KEY.private, 'cosign-password': KEY.password, ...tools },
      await loadEvent('push-default-branch'),
    );
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs.gate).toBe('failed');
    expect(JSON.parse(result.outputs.findings!)).toMatchObject({ CRITICAL: 1, HIGH: 2, MEDIUM: 1 });
    expect(visible(result.log)).toMatch(
      /gate: 3 finding\(s\) at CRITICAL\/HIGH in .*CVE-2019-10744 \(CRITICAL, lodash 4\.17\.11\).*Nothing was signed\. Fix: upgrade the packages/,
    );
    expect(result.outputs.signature).toBe('');
    expect(await listTags(`${run}/vulnerable`)).toEqual(tagsBefore);
    const sarif = JSON.parse(readFileSync(result.outputs.sarif!, 'utf8')) as {
      runs: { results: { ruleId: string; level: string }[] }[];
    };
    expect(sarif.runs[0]!.results.map((r) => r.ruleId).sort()).toEqual([
      'CVE-2019-10744',
      'CVE-2020-28500',
      'CVE-2021-23337',
      'GHSA-2222-3333-4444',
    ]);
    expect(result.summary).toContain('CVE-2019-10744');
    expect(result.summary).toContain('blocking');
  }, 180_000);

  it('passes when every blocking finding is ignored with a reason or has no fix (ignore-unfixed)', async () => {
    const soon = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    const dir = await mkdtemp(join(tmpdir(), `${run}-ignore-`));
    const ignoreFile = join(dir, 'ignore.yaml');
    await writeFile(
      ignoreFile,
      `ignores:\n  - id: CVE-2019-10744\n    reason: merge() never sees user input\n    expires: ${soon}\n  - id: GHSA-35jh-r3h4-6jhm\n    package: lodash\n    reason: template() is unused\n    expires: ${soon}\n`,
    );
    const result = await runAction(
      'sbom-and-sign',
      { image, 'ignore-file': ignoreFile, 'ignore-unfixed': 'true', signing: 'none', ...tools },
      await loadEvent('push-default-branch'),
    );
    expect(visible(result.log)).not.toMatch(/::error/);
    expect(result.exitCode).toBe(0);
    expect(result.outputs.gate).toBe('passed');
    expect(result.summary).toContain('merge() never sees user input');
  }, 180_000);

  it('an expired ignore entry stops ignoring and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), `${run}-expired-`));
    const ignoreFile = join(dir, 'ignore.yaml');
    await writeFile(
      ignoreFile,
      'ignores:\n  - id: CVE-2019-10744\n    reason: waiting for the upgrade\n    expires: 2020-01-31\n',
    );
    const result = await runAction(
      'sbom-and-sign',
      { image, 'ignore-file': ignoreFile, severity: 'CRITICAL', signing: 'none', ...tools },
      await loadEvent('push-default-branch'),
    );
    expect(result.exitCode).not.toBe(0);
    expect(visible(result.log)).toContain(
      'ignore entry CVE-2019-10744 expired on 2020-01-31: it no longer ignores anything',
    );
    expect(result.summary).toContain('Expired ignore entries');
  }, 180_000);
});

describe('a wrong password on a real image, without a scan', () => {
  it('cancels the upload sessions opened while the key was opening, and attaches nothing', async () => {
    const image = pushFixture('clean', 'wrong-password');
    const result = await runAction(
      'sbom-and-sign',
      {
        image,
        'cosign-private-key': KEY.private,
        'cosign-password': 'not-the-password',
        scan: 'false',
        sbom: 'false',
        'attest-sbom': 'none',
      },
      await loadEvent('push-default-branch'),
    );
    expect(result.exitCode).not.toBe(0);
    expect(visible(result.log)).toMatch(/input 'cosign-password': the password does not open this key/);
    expect(openUploads(`${run}/wrong-password`)).toEqual([]);
    expect(await listTags(`${run}/wrong-password`)).toEqual(['fixture']);
  }, 120_000);
});

describe('bad inputs fail before anything is read or pushed', () => {
  const digest = `sha256:${'0'.repeat(64)}`;
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      'a tag instead of a digest',
      { image: `${registry}/${run}/x:latest`, signing: 'none' },
      /input 'image': '.*:latest' names a tag, not a digest.*Fix: pass build-image's 'image' output/,
    ],
    [
      'a wrong password',
      { image: `${registry}/${run}/x@${digest}`, 'cosign-private-key': KEY.private, 'cosign-password': 'wrong' },
      /input 'cosign-password': the password does not open this key\. Fix: pass the password the key was generated with/,
    ],
    [
      'a malformed key',
      { image: `${registry}/${run}/x@${digest}`, 'cosign-private-key': 'BEGIN nothing', 'cosign-password': 'x' },
      /input 'cosign-private-key': no PEM block found.*Fix: pass the whole cosign.key file/,
    ],
    [
      'an unknown severity',
      { image: `${registry}/${run}/x@${digest}`, severity: 'CRITICAL,SEVERE', signing: 'none' },
      /input 'severity': 'SEVERE' is not a severity\. Fix: use any of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN/,
    ],
    [
      'an ignore entry without a reason',
      {
        image: `${registry}/${run}/x@${digest}`,
        'ignore-file': 'test/fixtures/ignores/no-reason.yaml',
        signing: 'none',
      },
      /input 'ignore-file': test\/fixtures\/ignores\/no-reason\.yaml: .*entry 1 \(CVE-2019-10744\): 'reason' is missing/,
    ],
    [
      'keyless without an OIDC token',
      { image: `${registry}/${run}/x@${digest}`, signing: 'keyless' },
      /input 'signing': is keyless but the job cannot request an OIDC token\. Fix: give the job permissions: id-token: write/,
    ],
  ];

  it.each(cases)('%s', async (_name, inputs, message) => {
    const result = await runAction('sbom-and-sign', { ...tools, ...inputs }, await loadEvent('push-default-branch'));
    expect(result.exitCode).not.toBe(0);
    expect(visible(result.log)).toMatch(message);
    expect(visible(result.log)).not.toContain('[command]');
    expect(result.outputs).toEqual({});
    expect(await listTags(`${run}/x`)).toEqual([]);
    expect(existsSync(join(result.outputs['output-dir'] ?? '/nonexistent'))).toBe(false);
  });
});

describe('installing syft and trivy releases into the tool cache', () => {
  let releases: ReleasesHost;
  let sha256: string;
  let toolCache: string;
  let image: string;

  beforeAll(async () => {
    // The platform's syft published as 1.57.1, and the same bytes under the default version's names: the
    // action's own pin for that version is the real release's, so those must be refused.
    releases = await startReleasesHost([
      { name: 'syft', version: '1.57.1', binary: tools.syft },
      { name: 'syft', version: DEFAULT_RELEASES.syft.version, binary: tools.syft },
    ]);
    sha256 = releases.sha256('syft');
    toolCache = await mkdtemp(join(tmpdir(), `${run}-toolcache-`));
    image = pushFixture('clean', 'installed');
  }, 180_000);

  afterAll(() => releases.close());

  const base = { 'attest-sbom': 'none', scan: 'false', signing: 'none' };
  const env = () => ({ PATH: '/usr/bin:/bin', RUNNER_TOOL_CACHE: toolCache });
  const inputs = (pin: string, site = 'good') => ({
    ...base,
    image,
    'syft-version': '1.57.1',
    'syft-sha256': pin,
    'tools-mirror': `${releases.url}/${site}`,
  });

  it('with no input at all the pinned default is installed and checked against the SHA-256 the action carries', async () => {
    // The stand-in serves the platform's syft under 1.52.0's names: not the published release, so refused.
    const result = await runAction(
      'sbom-and-sign',
      { ...base, image, 'tools-mirror': `${releases.url}/good` },
      await loadEvent('push-default-branch'),
      env(),
    );
    expect(result.exitCode).not.toBe(0);
    const file = `syft_${DEFAULT_RELEASES.syft.version}_linux_amd64.tar.gz`;
    expect(visible(result.log)).toContain(`${file} is checked against the SHA-256 this action carries`);
    expect(visible(result.log)).toContain(
      `has SHA-256 ${sha256}, not the pinned ${DEFAULT_RELEASES.syft.sha256.x64}; it was not unpacked or run. Fix: this is not the syft ${DEFAULT_RELEASES.syft.version} release this action pins`,
    );
    expect(releases.requests).toContain(
      `/good/anchore/syft/releases/download/v${DEFAULT_RELEASES.syft.version}/${file}`,
    );
    expect(readdirSync(toolCache)).toEqual([]);
    expect(result.runnerTemp).toEqual([]);
  }, 120_000);

  it('refuses an archive whose SHA-256 is not the pin, before unpacking or running it', async () => {
    const result = await runAction(
      'sbom-and-sign',
      inputs('0'.repeat(64)),
      await loadEvent('push-default-branch'),
      env(),
    );
    expect(result.exitCode).not.toBe(0);
    expect(visible(result.log)).toContain(
      `has SHA-256 ${sha256}, not the pinned ${'0'.repeat(64)}; it was not unpacked or run. Fix: set syft-sha256`,
    );
    expect(readdirSync(toolCache)).toEqual([]);
    expect(result.runnerTemp).toEqual([]); // the refused archive is not left behind either
    expect(result.outputs['sbom-spdx']).toBeUndefined();
  }, 120_000);

  it("a version without a SHA-256 is checked against the release's checksums file; a tampered archive is refused", async () => {
    const unpinned = { ...base, image, 'syft-version': '1.57.1' };
    const tampered = await runAction(
      'sbom-and-sign',
      { ...unpinned, 'tools-mirror': `${releases.url}/tampered` },
      await loadEvent('push-default-branch'),
      env(),
    );
    expect(tampered.exitCode).not.toBe(0);
    expect(visible(tampered.log)).toContain("checked against the release's own syft_1.57.1_checksums.txt");
    expect(visible(tampered.log)).toMatch(
      new RegExp(
        `has SHA-256 [0-9a-f]{64}, not the pinned ${sha256}; it was not unpacked or run. Fix: the release's checksums file and its archive disagree`,
      ),
    );
    expect(readdirSync(toolCache)).toEqual([]);
    expect(tampered.runnerTemp).toEqual([]);

    const listedNot = await runAction(
      'sbom-and-sign',
      { ...unpinned, 'syft-version': '1.57.2', 'tools-mirror': `${releases.url}/good` },
      await loadEvent('push-default-branch'),
      env(),
    );
    expect(listedNot.exitCode).not.toBe(0);
    expect(visible(listedNot.log)).toContain('cannot download syft 1.57.2:');
    expect(visible(listedNot.log)).toContain('syft_1.57.2_checksums.txt: Unexpected HTTP response: 404');
  }, 180_000);

  it('installs the pinned release, writes the SBOM with it, and finds it cached the next time', async () => {
    const first = await runAction('sbom-and-sign', inputs(sha256), await loadEvent('push-default-branch'), env());
    expect(visible(first.log)).not.toMatch(/::error/);
    expect(first.exitCode).toBe(0);
    expect(visible(first.log)).toContain(`syft 1.57.1 installed (sha256 ${sha256})`);
    expect(JSON.parse(readFileSync(first.outputs['sbom-cyclonedx']!, 'utf8'))).toMatchObject({
      bomFormat: 'CycloneDX',
    });
    // The cache keeps the verified archive, never a binary run as it is.
    expect(readdirSync(join(toolCache, 'syft', '1.57.1', 'x64'))).toEqual(['syft_1.57.1_linux_amd64.tar.gz']);
    // Only the SBOMs stay in RUNNER_TEMP: the run's unpacked copy is removed when it ends.
    expect(first.runnerTemp).toEqual(['sbom-and-sign']);
    const downloadsBefore = releases.requests.length;
    const second = await runAction('sbom-and-sign', inputs(sha256), await loadEvent('push-default-branch'), env());
    expect(second.exitCode).toBe(0);
    expect(visible(second.log)).toContain(`syft 1.57.1 from the tool cache (sha256 ${sha256}, checked)`);
    expect(releases.requests.length).toBe(downloadsBefore);
    expect(second.runnerTemp).toEqual(['sbom-and-sign']);

    // Unpinned, from the workflow's GitHub server (no tools-mirror): the checksums file is fetched each
    // run, the cached archive checked against it.
    const server = await runAction(
      'sbom-and-sign',
      { ...base, image, 'syft-version': '1.57.1' },
      await loadEvent('push-default-branch'),
      { ...env(), GITHUB_SERVER_URL: `${releases.url}/good` },
    );
    expect(visible(server.log)).not.toMatch(/::error/);
    expect(visible(server.log)).toContain(`syft 1.57.1 from the tool cache (sha256 ${sha256}, checked)`);
    expect(releases.requests.slice(downloadsBefore)).toEqual([
      '/good/anchore/syft/releases/download/v1.57.1/syft_1.57.1_checksums.txt',
    ]);
  }, 240_000);

  it('never runs what an earlier job planted in the cache: a swapped archive is downloaded again', async () => {
    // An earlier job on a persistent runner replaces the cached archive (and drops a binary beside it)
    // with a syft that leaves a mark when run.
    const planted = await mkdtemp(join(tmpdir(), `${run}-planted-`));
    const mark = join(planted, 'ran');
    writeFileSync(join(planted, 'syft'), `#!/bin/sh\ntouch ${mark}\nexit 1\n`, { mode: 0o755 });
    const cached = join(toolCache, 'syft', '1.57.1', 'x64');
    mkdirSync(cached, { recursive: true });
    writeFileSync(join(toolCache, 'syft', '1.57.1', 'x64.complete'), '');
    const packed = spawnSync('tar', ['-C', planted, '-czf', join(cached, 'syft_1.57.1_linux_amd64.tar.gz'), 'syft'], {
      encoding: 'utf8',
    });
    if (packed.status !== 0) throw new Error(packed.stderr);
    writeFileSync(join(cached, 'syft'), `#!/bin/sh\ntouch ${mark}\nexit 1\n`, { mode: 0o755 });
    const downloadsBefore = releases.requests.length;
    const result = await runAction('sbom-and-sign', inputs(sha256), await loadEvent('push-default-branch'), env());
    expect(visible(result.log)).not.toMatch(/::error/);
    expect(result.exitCode).toBe(0);
    expect(visible(result.log)).toMatch(
      /the cached syft_1\.57\.1_linux_amd64\.tar\.gz has SHA-256 [0-9a-f]{64}, not the pinned/,
    );
    expect(releases.requests.length).toBe(downloadsBefore + 1);
    expect(existsSync(mark)).toBe(false);
    expect(
      createHash('sha256')
        .update(readFileSync(join(cached, 'syft_1.57.1_linux_amd64.tar.gz')))
        .digest('hex'),
    ).toBe(sha256);
    expect(JSON.parse(readFileSync(result.outputs['sbom-cyclonedx']!, 'utf8'))).toMatchObject({
      bomFormat: 'CycloneDX',
    });
  }, 180_000);

  it('a releases host that does not serve the tool (a GitHub Enterprise Server without it) hands over to the next', async () => {
    const logs: string[] = [];
    const cache = await mkdtemp(join(tmpdir(), `${run}-fallback-cache-`));
    const saved = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP };
    process.env.RUNNER_TOOL_CACHE = cache;
    process.env.RUNNER_TEMP = await mkdtemp(join(tmpdir(), `${run}-fallback-temp-`));
    try {
      const tool = await installTool({
        release: resolveToolRelease('syft', '1.57.1', ''),
        releasesUrls: [`${releases.url}/missing`, `${releases.url}/good`],
        log: (m) => logs.push(m),
      });
      expect(spawnSync(tool.path, ['version'], { encoding: 'utf8' }).stdout).toMatch(/Application: +syft/);
      await tool.remove();
      expect(existsSync(tool.path)).toBe(false);
    } finally {
      process.env.RUNNER_TOOL_CACHE = saved.cache;
      process.env.RUNNER_TEMP = saved.temp;
    }
    expect(logs.join('\n')).toContain(
      `cannot download from ${releases.url}/missing (${releases.url}/missing/anchore/syft/releases/download/v1.57.1/syft_1.57.1_checksums.txt: Unexpected HTTP response: 404); trying ${releases.url}/good`,
    );
  }, 120_000);
});
