import { describe, expect, it } from '@jest/globals';
import { MergeError, composeIndex, type MergePart } from '../src/index.js';

const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** A push-by-digest job's index with default provenance: the image and its attestation manifest. */
function jobIndex(digest: string, image: string, attestation: string, architecture: string): MergePart {
  const json = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: OCI_MANIFEST, digest: image, size: 100, platform: { os: 'linux', architecture } },
      {
        mediaType: OCI_MANIFEST,
        digest: attestation,
        size: 50,
        platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.digest': image, 'vnd.docker.reference.type': 'attestation-manifest' },
      },
    ],
  };
  const bytes = Buffer.from(JSON.stringify(json));
  return { digest, manifest: { digest, mediaType: json.mediaType, bytes, json } };
}

function single(digest: string, architecture: string, variant?: string): MergePart {
  const json = { mediaType: OCI_MANIFEST, config: { mediaType: 'c', digest: d(9), size: 1 }, layers: [] };
  const bytes = Buffer.from(JSON.stringify(json));
  return {
    digest,
    manifest: { digest, mediaType: OCI_MANIFEST, bytes, json },
    config: { os: 'linux', architecture, ...(variant ? { variant } : {}) } as never,
  };
}

const parse = (b: Buffer) =>
  JSON.parse(b.toString('utf8')) as {
    manifests: { digest: string; platform?: unknown; annotations?: unknown }[];
    annotations?: Record<string, string>;
    mediaType: string;
  };

describe('composing the index of per-arch jobs', () => {
  it("flattens each job's index: platform manifests and their attestation manifests, in order", () => {
    const index = parse(
      composeIndex([jobIndex(d(1), d(2), d(3), 'amd64'), jobIndex(d(4), d(5), d(6), 'arm64')], new Map()),
    );
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.digest)).toEqual([d(2), d(3), d(5), d(6)]);
    expect(index.manifests[1]!.annotations).toEqual({
      'vnd.docker.reference.digest': d(2),
      'vnd.docker.reference.type': 'attestation-manifest',
    });
    expect(index.annotations).toBeUndefined();
  });

  it('a plain manifest (provenance off) gets its platform from its config, variant included', () => {
    const index = parse(composeIndex([single(d(1), 'amd64'), single(d(2), 'arm', 'v7')], new Map()));
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
  });

  it('annotations: those without a level and index: ones go on the index; manifest levels stay with the jobs', () => {
    const index = parse(
      composeIndex(
        [single(d(1), 'amd64')],
        new Map([
          ['org.opencontainers.image.source', 's'],
          ['index:org.opencontainers.image.description', 'x'],
          ['manifest:only.manifest', 'm'],
          ['manifest[linux/amd64]:k', 'v'],
        ]),
      ),
    );
    expect(index.annotations).toEqual({
      'org.opencontainers.image.source': 's',
      'org.opencontainers.image.description': 'x',
    });
  });

  it('two parts of one platform are refused, naming both digests', () => {
    expect(() => composeIndex([single(d(1), 'amd64'), jobIndex(d(4), d(5), d(6), 'amd64')], new Map())).toThrow(
      new MergeError(`${d(1)} and ${d(4)} both hold linux/amd64`, 'x'),
    );
  });

  it('an image whose config has no platform is refused', () => {
    const part = single(d(1), '');
    expect(() => composeIndex([part], new Map())).toThrow(/without os\/architecture/);
  });

  it('the same bytes for the same parts: the merge is repeatable (a rerun gives the same digest)', () => {
    const parts = [jobIndex(d(1), d(2), d(3), 'amd64'), single(d(7), 'arm64')];
    expect(composeIndex(parts, new Map([['a', 'b']])).equals(composeIndex(parts, new Map([['a', 'b']])))).toBe(true);
  });
});
