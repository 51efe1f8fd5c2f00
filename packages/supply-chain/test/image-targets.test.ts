import { describe, expect, it } from '@jest/globals';
import {
  MEDIA_TYPES,
  sha256Digest,
  type FetchedManifest,
  type ImageIndex,
  type ImageManifest,
} from '@deploy-suite/oci';
import { imageTargets, platformSlug, unionFindings, type Finding } from '../src/index.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
function fetched(json: ImageManifest | ImageIndex): FetchedManifest {
  const bytes = Buffer.from(JSON.stringify(json));
  return { digest: sha256Digest(bytes), mediaType: json.mediaType ?? '', bytes, json };
}
const image = (digest: string, os: string, architecture: string, variant?: string) => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest,
  size: 500,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});
const attestation = (digest: string, of: string) => ({
  mediaType: MEDIA_TYPES.ociManifest,
  digest,
  size: 300,
  platform: { os: 'unknown', architecture: 'unknown' },
  annotations: { 'vnd.docker.reference.digest': of, 'vnd.docker.reference.type': 'attestation-manifest' },
});

describe('what sbom-and-sign describes and signs under a digest', () => {
  it('a single manifest is itself, under the image stem', () => {
    const m = fetched({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('c'), size: 10 },
      layers: [],
    });
    const t = imageTargets(m, 'acme-api-0123456789ab');
    expect(t).toEqual({
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: m.digest, size: m.bytes.length },
      index: false,
      targets: [{ platform: '', digest: m.digest, stem: 'acme-api-0123456789ab' }],
      skipped: [],
    });
  });

  it("an index is each platform image (buildx's attestation manifests left out, saying of what)", () => {
    const m = fetched({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [
        image(d('1'), 'linux', 'amd64'),
        image(d('2'), 'linux', 'arm64', 'v8'),
        attestation(d('3'), d('1')),
        attestation(d('4'), d('2')),
      ],
    });
    const t = imageTargets(m, 'acme-api-0123456789ab');
    expect(t.index).toBe(true);
    expect(t.subject).toEqual({ mediaType: MEDIA_TYPES.ociIndex, digest: m.digest, size: m.bytes.length });
    expect(t.targets).toEqual([
      { platform: 'linux/amd64', digest: d('1'), stem: 'acme-api-0123456789ab-linux-amd64' },
      { platform: 'linux/arm64/v8', digest: d('2'), stem: 'acme-api-0123456789ab-linux-arm64-v8' },
    ]);
    expect(t.skipped).toEqual([
      { digest: d('3'), why: `attestation manifest of ${d('1')}` },
      { digest: d('4'), why: `attestation manifest of ${d('2')}` },
    ]);
  });

  it('a docker manifest list; an entry without a platform or unknown/unknown without annotations is left out', () => {
    const m = fetched({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerList,
      manifests: [
        { ...image(d('1'), 'linux', 'arm', 'v7'), mediaType: MEDIA_TYPES.dockerManifest },
        { mediaType: MEDIA_TYPES.ociManifest, digest: d('5'), size: 1 },
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: d('6'),
          size: 1,
          platform: { os: 'unknown', architecture: 'unknown' },
        },
      ],
    });
    const t = imageTargets(m, 's');
    expect(t.targets).toEqual([{ platform: 'linux/arm/v7', digest: d('1'), stem: 's-linux-arm-v7' }]);
    expect(t.skipped).toEqual([
      { digest: d('5'), why: 'an entry without a platform' },
      { digest: d('6'), why: 'attestation manifest' },
    ]);
  });

  it('an index of attestations only has no targets (sbom-and-sign refuses it)', () => {
    const m = fetched({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [attestation(d('3'), d('1'))] });
    expect(imageTargets(m, 's').targets).toEqual([]);
  });

  it('platform slugs are file-name safe', () => {
    expect(platformSlug('linux/arm64/v8')).toBe('linux-arm64-v8');
    expect(platformSlug('windows/amd64:10.0.17763')).toBe('windows-amd64-10.0.17763');
  });
});

describe("the gate's findings over every platform", () => {
  const f = (id: string, pkg: string, installed: string, over: Partial<Finding> = {}): Finding => ({
    id,
    aliases: [],
    package: pkg,
    installed,
    fixed: '2.0.0',
    severity: 'HIGH',
    title: id,
    url: '',
    target: 'Node.js',
    ...over,
  });

  it('the same vulnerability of the same package version on two platforms is one finding naming both', () => {
    const union = unionFindings([
      {
        platform: 'linux/amd64',
        findings: [f('CVE-1', 'lodash', '4.17.11'), f('CVE-2', 'libc6', '2.36-9', { target: 'x (debian 12.5)' })],
      },
      {
        platform: 'linux/arm64',
        findings: [f('CVE-1', 'lodash', '4.17.11', { target: 'other' }), f('CVE-3', 'openssl', '3.0.1')],
      },
    ]);
    expect(union.map((u) => [u.id, u.platforms])).toEqual([
      ['CVE-1', ['linux/amd64', 'linux/arm64']],
      ['CVE-2', ['linux/amd64']],
      ['CVE-3', ['linux/arm64']],
    ]);
    // The first platform's record is kept (its target and path).
    expect(union[0]!.target).toBe('Node.js');
  });

  it('another installed version is another finding; a platform found twice is named once', () => {
    const union = unionFindings([
      {
        platform: 'linux/amd64',
        findings: [f('CVE-1', 'lodash', '4.17.11'), f('CVE-1', 'lodash', '4.17.11', { path: 'b' })],
      },
      { platform: 'linux/arm64', findings: [f('CVE-1', 'lodash', '4.17.10')] },
    ]);
    expect(union.map((u) => [u.installed, u.platforms])).toEqual([
      ['4.17.11', ['linux/amd64']],
      ['4.17.10', ['linux/arm64']],
    ]);
  });

  it('a single manifest (no platform) names no platform; no findings is none', () => {
    expect(unionFindings([{ platform: '', findings: [f('CVE-1', 'a', '1')] }])[0]!.platforms).toEqual([]);
    expect(unionFindings([])).toEqual([]);
  });
});
