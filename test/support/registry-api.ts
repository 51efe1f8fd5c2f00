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
  if (!host) throw new Error('DEPLOY_SUITE_REGISTRY is not set: start the platform with test/platform/up.sh (npm test does)');
  return host;
}

export async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${registryHost()}/v2/${repository}/manifests/${tag}`, { method: 'HEAD', headers: { accept: ACCEPT } });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`HEAD ${repository}:${tag} answered ${response.status}`);
  return response.headers.get('docker-content-digest') ?? undefined;
}

export async function imageConfig(repository: string, digest: string): Promise<{ config: { User?: string; Labels?: Record<string, string> } }> {
  const manifest = (await (await fetch(`http://${registryHost()}/v2/${repository}/manifests/${digest}`, { headers: { accept: ACCEPT } })).json()) as { config: { digest: string } };
  return (await (await fetch(`http://${registryHost()}/v2/${repository}/blobs/${manifest.config.digest}`)).json()) as { config: { User?: string; Labels?: Record<string, string> } };
}

export async function listTags(repository: string): Promise<string[]> {
  const response = await fetch(`http://${registryHost()}/v2/${repository}/tags/list`);
  if (response.status === 404) return [];
  return ((await response.json()) as { tags: string[] | null }).tags ?? [];
}
