// An in-memory registry with the RegistryApi sbom-and-sign and the verifier use: manifests by digest and
// tag, blobs, upload sessions, the OCI referrers API (or none, for the tag-index fallback), and pushes
// refused with a status. Every write is recorded in order, for the tests of what was pushed and when.
import {
  MEDIA_TYPES,
  RegistryClient,
  RegistryError,
  sha256Digest,
  type Descriptor,
  type FetchedManifest,
  type ImageIndex,
  type ImageManifest,
  type ImageReference,
  type RegistryApi,
} from '@deploy-suite/oci';

export interface RegistryWrite {
  kind: 'upload' | 'blob' | 'manifest' | 'cancel';
  repository: string;
  /** A manifest's digest, with its tag when pushed by tag; a blob's digest. */
  digest?: string;
  tag?: string;
  subject?: string;
}

export class FakeRegistry implements RegistryApi {
  readonly manifests = new Map<string, { bytes: Buffer; mediaType: string }>();
  readonly tags = new Map<string, string>();
  readonly blobs = new Map<string, Buffer>();
  readonly openUploads = new Set<string>();
  readonly writes: RegistryWrite[] = [];
  /** Whether the registry offers GET /v2/<name>/referrers/<digest> (OCI 1.1). */
  referrersApi = true;
  /** A status every write is refused with (401, 403, 500…), when set. */
  refuseWrites: number | undefined;
  private uploads = 0;

  /** Seeds a manifest (or index) the way a build pushed it; returns its digest. */
  seedManifest(repository: string, json: ImageManifest | ImageIndex, tag?: string): string {
    const bytes = Buffer.from(JSON.stringify(json));
    const digest = sha256Digest(bytes);
    this.manifests.set(`${repository}@${digest}`, { bytes, mediaType: json.mediaType ?? MEDIA_TYPES.ociManifest });
    if (tag) this.tags.set(`${repository}:${tag}`, digest);
    return digest;
  }

  seedBlob(repository: string, bytes: Buffer, mediaType: string): Descriptor {
    const digest = sha256Digest(bytes);
    this.blobs.set(`${repository}@${digest}`, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  private refuse(): void {
    if (this.refuseWrites) throw new RegistryError(this.refuseWrites, `the registry answered ${this.refuseWrites}`);
  }

  getManifest(ref: ImageReference, reference = ref.digest ?? ref.tag ?? 'latest'): Promise<FetchedManifest> {
    const digest = reference.startsWith('sha256:') ? reference : this.tags.get(`${ref.repository}:${reference}`);
    const stored = digest ? this.manifests.get(`${ref.repository}@${digest}`) : undefined;
    if (!digest || !stored) return Promise.reject(new RegistryError(404, `manifest ${reference} unknown`));
    const json = JSON.parse(stored.bytes.toString('utf8')) as ImageManifest | ImageIndex;
    return Promise.resolve({ digest, mediaType: stored.mediaType, bytes: stored.bytes, json });
  }

  // The real client's logic over the primitives below: only the wire is faked.
  describeManifest = RegistryClient.prototype.describeManifest;
  putBlob = RegistryClient.prototype.putBlob;

  getBlob(ref: ImageReference, digest: string): Promise<Buffer> {
    const bytes = this.blobs.get(`${ref.repository}@${digest}`);
    return bytes ? Promise.resolve(bytes) : Promise.reject(new RegistryError(404, `blob ${digest} unknown`));
  }

  hasBlob(ref: ImageReference, digest: string): Promise<boolean> {
    return Promise.resolve(this.blobs.has(`${ref.repository}@${digest}`));
  }

  startUpload(ref: ImageReference): Promise<string> {
    try {
      this.refuse();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const url = `https://fake.registry/v2/${ref.repository}/blobs/uploads/${++this.uploads}`;
    this.openUploads.add(url);
    this.writes.push({ kind: 'upload', repository: ref.repository });
    return Promise.resolve(url);
  }

  finishUpload(
    ref: ImageReference,
    uploadUrl: string,
    bytes: Buffer,
    mediaType: string,
    digest = sha256Digest(bytes),
  ): Promise<Descriptor> {
    try {
      this.refuse();
      if (!this.openUploads.delete(uploadUrl)) throw new RegistryError(404, `upload ${uploadUrl} unknown`);
      if (sha256Digest(bytes) !== digest) throw new RegistryError(400, 'DIGEST_INVALID');
    } catch (error) {
      return Promise.reject(error as Error);
    }
    this.blobs.set(`${ref.repository}@${digest}`, bytes);
    this.writes.push({ kind: 'blob', repository: ref.repository, digest });
    return Promise.resolve({ mediaType, digest, size: bytes.length });
  }

  cancelUpload(ref: ImageReference, uploadUrl: string): Promise<void> {
    this.openUploads.delete(uploadUrl);
    this.writes.push({ kind: 'cancel', repository: ref.repository });
    return Promise.resolve();
  }

  putManifest(
    ref: ImageReference,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subjectAccepted: boolean }> {
    try {
      this.refuse();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const digest = sha256Digest(bytes);
    const json = JSON.parse(bytes.toString('utf8')) as ImageManifest & { subject?: Descriptor };
    // A manifest names only blobs the repository holds (the registry's MANIFEST_BLOB_UNKNOWN).
    for (const blob of [json.config, ...(json.layers ?? [])].filter(Boolean))
      if (!this.blobs.has(`${ref.repository}@${blob!.digest}`))
        return Promise.reject(new RegistryError(400, `MANIFEST_BLOB_UNKNOWN ${blob!.digest}`));
    this.manifests.set(`${ref.repository}@${digest}`, { bytes, mediaType });
    const tag = reference.startsWith('sha256:') ? undefined : reference;
    if (tag) this.tags.set(`${ref.repository}:${tag}`, digest);
    this.writes.push({
      kind: 'manifest',
      repository: ref.repository,
      digest,
      ...(tag ? { tag } : {}),
      ...(json.subject ? { subject: json.subject.digest } : {}),
    });
    return Promise.resolve({ digest, subjectAccepted: this.referrersApi && Boolean(json.subject) });
  }

  getReferrers(ref: ImageReference, digest: string, artifactType?: string): Promise<Descriptor[] | undefined> {
    if (!this.referrersApi) return Promise.resolve(undefined);
    const referrers: Descriptor[] = [];
    for (const [key, stored] of this.manifests) {
      if (!key.startsWith(`${ref.repository}@`)) continue;
      const json = JSON.parse(stored.bytes.toString('utf8')) as ImageManifest & {
        subject?: Descriptor;
        artifactType?: string;
      };
      if (json.subject?.digest !== digest) continue;
      const type = json.artifactType ?? json.config.mediaType;
      if (artifactType && type !== artifactType) continue;
      referrers.push({
        mediaType: stored.mediaType,
        digest: key.slice(key.indexOf('@') + 1),
        size: stored.bytes.length,
        artifactType: type,
        ...(json.annotations ? { annotations: json.annotations } : {}),
      });
    }
    return Promise.resolve(referrers);
  }

  /** What is attached to a digest (its referrers' subjects), in the order pushed. */
  attachedTo(digest: string): RegistryWrite[] {
    return this.writes.filter((w) => w.kind === 'manifest' && w.subject === digest);
  }
}
