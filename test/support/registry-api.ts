import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
// Reads the registry's HTTP API directly (not through the suite's client), so tests check what the
// registry really holds.
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export function registryHost(): string {
  const host = process.env.DEPLOY_SUITE_REGISTRY;
  if (!host)
    throw new Error('DEPLOY_SUITE_REGISTRY is not set: start the platform with test/platform/up.sh (npm test does)');
  return host;
}

export async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${registryHost()}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: ACCEPT },
  });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`HEAD ${repository}:${tag} answered ${response.status}`);
  return response.headers.get('docker-content-digest') ?? undefined;
}

export async function imageConfig(
  repository: string,
  digest: string,
): Promise<{ config: { User?: string; Labels?: Record<string, string> } }> {
  const manifest = (await (
    await fetch(`http://${registryHost()}/v2/${repository}/manifests/${digest}`, { headers: { accept: ACCEPT } })
  ).json()) as { config: { digest: string } };
  return (await (await fetch(`http://${registryHost()}/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as {
    config: { User?: string; Labels?: Record<string, string> };
  };
}

export async function listTags(repository: string): Promise<string[]> {
  const response = await fetch(`http://${registryHost()}/v2/${repository}/tags/list`);
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function putBlob(repository: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`http://${registryHost()}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location')!, `http://${registryHost()}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (!put.ok) throw new Error(`blob upload answered ${put.status}`);
  return digest;
}

/**
 * A new image digest in `repository` without building: the platform's base image layers (mounted from
 * base/debian) under a config of its own with a nonce label. Returns registry/repository@sha256:…
 */
export async function freshImage(repository: string, nonce: string): Promise<string> {
  const registry = registryHost();
  const base = (await (
    await fetch(`http://${registry}/v2/base/debian/manifests/bookworm`, { headers: { accept: ACCEPT } })
  ).json()) as { mediaType: string; config: { digest: string }; layers: { digest: string }[] };
  for (const layer of base.layers) {
    await fetch(`http://${registry}/v2/${repository}/blobs/uploads/?mount=${layer.digest}&from=base/debian`, {
      method: 'POST',
    });
  }
  const config = (await (await fetch(`http://${registry}/v2/base/debian/blobs/${base.config.digest}`)).json()) as {
    config: { Labels?: Record<string, string> | null };
  };
  config.config.Labels = { ...config.config.Labels, 'dev.deploy-suite.test.nonce': nonce };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = await putBlob(repository, configBytes);
  const manifest = Buffer.from(
    JSON.stringify({ ...base, config: { ...base.config, digest: configDigest, size: configBytes.length } }),
  );
  const put = await fetch(`http://${registry}/v2/${repository}/manifests/${sha256(manifest)}`, {
    method: 'PUT',
    body: new Uint8Array(manifest),
    headers: { 'content-type': base.mediaType },
  });
  if (!put.ok) throw new Error(`manifest upload answered ${put.status}: ${await put.text()}`);
  return `${registry}/${repository}@${sha256(manifest)}`;
}

/**
 * An OCI index of two fresh images (declared linux/amd64 and linux/arm64), as a multi-platform push
 * leaves it: the index and its platform manifests by digest.
 */
export async function freshIndex(
  repository: string,
  nonce: string,
): Promise<{ index: string; platforms: { platform: string; image: string }[] }> {
  const registry = registryHost();
  const platforms = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64' },
  ];
  const children = [];
  for (const platform of platforms) {
    const image = await freshImage(repository, `${nonce}-${platform.architecture}`);
    const digest = image.slice(image.indexOf('@') + 1);
    const response = await fetch(`http://${registry}/v2/${repository}/manifests/${digest}`, {
      headers: { accept: ACCEPT },
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType: string }).mediaType;
    children.push({ image, descriptor: { mediaType, digest, size: bytes.length, platform } });
  }
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: children.map((c) => c.descriptor),
    }),
  );
  const put = await fetch(`http://${registry}/v2/${repository}/manifests/${sha256(index)}`, {
    method: 'PUT',
    body: new Uint8Array(index),
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
  });
  if (!put.ok) throw new Error(`index upload answered ${put.status}: ${await put.text()}`);
  return {
    index: `${registry}/${repository}@${sha256(index)}`,
    platforms: children.map((c) => ({ platform: `linux/${c.descriptor.platform.architecture}`, image: c.image })),
  };
}

/**
 * The blob upload sessions the local registry holds open for a repository (read from its storage: the
 * distribution API does not list them). A session lives while its `startedat` file does: a finished one
 * leaves nothing, a cancelled one (DELETE) only an empty hashstates folder (distribution 2.8).
 */
export function openUploads(repository: string): string[] {
  const cache = process.env.DEPLOY_SUITE_CACHE;
  if (!cache) throw new Error('DEPLOY_SUITE_CACHE is not set: start the platform with test/platform/up.sh');
  const uploads = join(cache, 'registry/docker/registry/v2/repositories', repository, '_uploads');
  if (!existsSync(uploads)) return [];
  return readdirSync(uploads)
    .filter((uuid) => existsSync(join(uploads, uuid, 'startedat')))
    .sort();
}

/** A manifest or index as the registry holds it, with the media type it answers. */
export async function manifestJson<T = Record<string, unknown>>(repository: string, reference: string): Promise<T> {
  const response = await fetch(`http://${registryHost()}/v2/${repository}/manifests/${reference}`, {
    headers: { accept: ACCEPT },
  });
  if (!response.ok) throw new Error(`GET ${repository} manifest ${reference} answered ${response.status}`);
  return (await response.json()) as T;
}

export async function blobJson<T = Record<string, unknown>>(repository: string, digest: string): Promise<T> {
  const response = await fetch(`http://${registryHost()}/v2/${repository}/blobs/${digest}`);
  if (!response.ok) throw new Error(`GET ${repository} blob ${digest} answered ${response.status}`);
  return (await response.json()) as T;
}
