import { describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, InputReader } from '@deploy-suite/action-kit';
import { inputProblems } from '../../../test/support/input-problems.js';
import { DEFAULT_RELEASES, resolveToolRelease } from '@deploy-suite/supply-chain/inputs';
import { openSigningKey, readSbomAndSignInputs } from '../src/inputs.js';

const fixtures = new URL('../../../test/fixtures/cosign/', import.meta.url);
const KEY = readFileSync(new URL('cosign.key', fixtures), 'utf8');
const IMAGE = `reg.example/acme/app@sha256:${'a'.repeat(64)}`;
const dir = mkdtempSync(join(tmpdir(), 'sas-inputs-'));
const bin = join(dir, 'bin');
mkdirSync(bin);
for (const tool of ['syft', 'trivy']) {
  writeFileSync(join(bin, tool), '#!/bin/sh\n');
  chmodSync(join(bin, tool), 0o755);
}
mkdirSync(join(dir, 'trivy-cache', 'db'), { recursive: true });
writeFileSync(join(dir, 'trivy-cache', 'db', 'trivy.db'), '');
writeFileSync(join(dir, 'ignore.yaml'), 'ignores:\n  - id: CVE-1\n    reason: unreachable\n    expires: 2030-01-01\n');
writeFileSync(join(dir, 'bad-ignore.yaml'), 'ignores:\n  - id: CVE-1\n    expires: 2030-01-01\n');
const env = { PATH: bin, RUNNER_TEMP: '/runner/tmp' };

function read(values: Record<string, string>, environment: NodeJS.ProcessEnv = env) {
  return readSbomAndSignInputs(new InputReader((name) => ({ image: IMAGE, ...values })[name]), dir, environment);
}
const problems = (values: Record<string, string>, environment?: NodeJS.ProcessEnv) =>
  inputProblems(() => read(values, environment));

describe('sbom-and-sign inputs', () => {
  it('defaults: SBOM with a CycloneDX attestation, scan failing on critical and high, no signing without key or OIDC', () => {
    const inputs = read({});
    expect(inputs).toMatchObject({
      sbom: true,
      attest: ['cyclonedx'],
      scan: true,
      failOn: ['CRITICAL', 'HIGH'],
      ignoreUnfixed: false,
      signing: 'none',
      // Nothing on PATH is taken unasked: the action's pinned releases, checked against the SHA-256 it carries.
      syft: {
        install: {
          release: resolveToolRelease('syft', '', ''),
          releasesUrls: ['https://github.com'],
        },
      },
      trivy: { install: { release: { name: 'trivy', version: DEFAULT_RELEASES.trivy.version } } },
      outputDir: '/runner/tmp/sbom-and-sign',
      offline: false,
    });
    expect(inputs.image.digest).toBe(`sha256:${'a'.repeat(64)}`);
  });

  it('auto picks key signing when a key is given, keyless when the job can get an OIDC token', async () => {
    const keyed = read({ 'cosign-private-key': KEY, 'cosign-password': 'fixture-password' });
    expect(keyed.signing).toBe('key');
    expect((await openSigningKey(keyed))?.hint).toHaveLength(44);
    expect(read({}, { ...env, ACTIONS_ID_TOKEN_REQUEST_URL: 'http://x' }).signing).toBe('keyless');
  });

  it('lists, ignore file, registry credentials, offline database', () => {
    const inputs = read({
      'attest-sbom': 'spdx, cyclonedx, spdx',
      severity: 'critical',
      'ignore-file': 'ignore.yaml',
      'ignore-max-days': '3650',
      'registry-username': 'bot',
      'registry-password': 'pw',
      offline: 'true',
      'trivy-cache-dir': 'trivy-cache',
    });
    expect(inputs.attest).toEqual(['spdx', 'cyclonedx']);
    expect(inputs.failOn).toEqual(['CRITICAL']);
    expect(inputs.ignores).toEqual([{ id: 'CVE-1', reason: 'unreachable', expires: '2030-01-01' }]);
    expect(inputs.registryCredentials).toEqual({ username: 'bot', password: 'pw' });
    expect(inputs.trivyCacheDir).toBe(join(dir, 'trivy-cache'));
    expect(read({ 'attest-sbom': 'none' }).attest).toEqual([]);
  });

  it.each([
    [{ image: 'reg.example/acme/app:1.0' }, 'image', /names a tag, not a digest/],
    [{ image: 'reg.example/acme/app@sha256:abc' }, 'image', /digest/],
    [{ image: '' }, 'image', /is required but empty/],
    [{ 'attest-sbom': 'syft-json' }, 'attest-sbom', /'syft-json' is not an SBOM format/],
    [{ sbom: 'false' }, 'attest-sbom', /asks for cyclonedx attestations while sbom is false/],
    [{ severity: 'HIGH,SEVERE' }, 'severity', /'SEVERE' is not a severity/],
    [{ 'ignore-file': 'missing.yaml' }, 'ignore-file', /file 'missing.yaml' does not exist/],
    [{ 'ignore-file': 'bad-ignore.yaml' }, 'ignore-file', /entry 1 \(CVE-1\): 'reason' is missing/],
    [{ 'ignore-file': 'ignore.yaml' }, 'ignore-file', /'expires' is 2030-01-01, more than 365 days ahead/],
    [{ 'ignore-file': 'ignore.yaml', 'ignore-max-days': '0' }, 'ignore-max-days', /./],
    [{ signing: 'sometimes' }, 'signing', /'sometimes' is not one of auto, key, keyless, none/],
    [{ signing: 'key' }, 'cosign-private-key', /is empty while signing is key/],
    [
      { 'cosign-private-key': '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', 'cosign-password': 'x' },
      'cosign-private-key',
      /'PUBLIC KEY' is not a private key/,
    ],
    [{ 'cosign-private-key': KEY, signing: 'keyless' }, 'cosign-private-key', /is set while signing is keyless/],
    [{ signing: 'keyless' }, 'signing', /cannot request an OIDC token/],
    [{ 'fulcio-url': 'fulcio.example' }, 'fulcio-url', /not an http\(s\) URL/],
    [{ syft: '/nope/syft' }, 'syft', /'\/nope\/syft' does not exist/],
    [{ trivy: 'trivy-nightly' }, 'trivy', /'trivy-nightly' is not on PATH/],
    [{ offline: 'true' }, 'trivy-cache-dir', /is empty while offline is true/],
    [{ offline: 'true', 'trivy-cache-dir': 'ignore.yaml' }, 'trivy-cache-dir', /holds no db\/trivy.db/],
    [{ 'registry-username': 'bot' }, 'registry-password', /is empty while registry-username is set/],
    [{ 'registry-password': 'pw' }, 'registry-username', /is empty while registry-password is set/],
    [{ 'ignore-unfixed': 'maybe' }, 'ignore-unfixed', /'maybe' is not a boolean/],
    [{ 'syft-version': '1.57.1', 'syft-sha256': 'abc' }, 'syft-sha256', /'abc' is not a SHA-256/],
    [
      { 'trivy-version': 'latest', 'trivy-sha256': 'a'.repeat(64) },
      'trivy-version',
      /'latest' is not a release version/,
    ],
    [{ 'trivy-sha256': 'a'.repeat(64) }, 'trivy-version', /is empty while trivy-sha256 is set/],
    [
      { syft: join(bin, 'syft'), 'syft-version': '1.0.0', 'syft-sha256': 'a'.repeat(64) },
      'syft-version',
      /is set together with syft/,
    ],
    [{ 'tools-mirror': 'mirror.local' }, 'tools-mirror', /not an http\(s\) URL/],
  ])('%j is refused naming %s', (values, input, message) => {
    const found = problems(values);
    expect(found.map((p) => p.input)).toContain(input);
    expect(found.find((p) => p.input === input)!.problem).toMatch(message);
    expect(found.find((p) => p.input === input)!.fix.length).toBeGreaterThan(5);
  });

  it('a wrong password is an input error naming cosign-password, raised when the key is opened', async () => {
    const inputs = read({ 'cosign-private-key': KEY, 'cosign-password': 'nope' });
    const error = await openSigningKey(inputs).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).problems).toEqual([
      {
        input: 'cosign-password',
        problem: 'the password does not open this key',
        fix: expect.stringContaining('COSIGN_PASSWORD'),
      },
    ]);
    expect(await openSigningKey(read({}))).toBeUndefined();
  });

  it('a release given by version and SHA-256 is installed from the mirror given', () => {
    const inputs = read({
      'syft-version': 'v1.57.1',
      'syft-sha256': 'A'.repeat(64),
      'tools-mirror': 'http://127.0.0.1:1/',
      trivy: 'trivy',
    });
    expect(inputs.syft).toEqual({
      install: {
        release: { name: 'syft', version: '1.57.1', pin: { sha256: 'a'.repeat(64), from: 'input' } },
        releasesUrls: ['http://127.0.0.1:1'],
      },
    });
    // A bare name is the command on PATH (what an earlier setup step installed).
    expect(inputs.trivy).toEqual({ path: join(bin, 'trivy') });
  });

  it("a version without a SHA-256 is checked against its release's checksums file", () => {
    expect(read({ 'syft-version': '1.60.0' }).syft).toMatchObject({
      install: { release: { version: '1.60.0', pin: { checksumsFile: 'syft_1.60.0_checksums.txt' } } },
    });
  });

  it("the releases come from the workflow's GitHub server first, then github.com", () => {
    expect(read({}, { ...env, GITHUB_SERVER_URL: 'https://ghe.example' }).syft).toMatchObject({
      install: { releasesUrls: ['https://ghe.example', 'https://github.com'] },
    });
  });

  it('a tool not needed is neither installed nor looked for', () => {
    const inputs = read({ sbom: 'false', 'attest-sbom': 'none', scan: 'false' }, { PATH: '/nonexistent' });
    expect(inputs.syft).toEqual({ none: true });
    expect(inputs.trivy).toEqual({ none: true });
  });
});
