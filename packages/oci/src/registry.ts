import { createHash } from 'node:crypto';
import {
  errorMessage,
  httpRequest,
  isTransientStatus,
  retry,
  tlsFailure,
  type HttpResponse,
  type TlsOptions,
} from '@deploy-suite/action-kit';
import { credentialsFor, type RegistryCredentials } from './docker-config.js';
import { registryTls, registryTrust } from './registry-trust.js';
import { DIGEST_PATTERN, DOCKER_HUB, type ImageReference } from './reference.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;
const MANIFEST_ACCEPT = Object.values(MEDIA_TYPES).join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion?: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion?: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: { User?: string; Labels?: Record<string, string> | null; Env?: string[] };
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
  json: ImageManifest | ImageIndex;
}

export class RegistryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/** Loopback registries speak plain HTTP, as docker assumes; other hosts only when listed as insecure. */
export function speaksPlainHttp(host: string, insecureHosts: string[] = []): boolean {
  return /^(localhost|127\.[0-9.]+|\[::1\])(:[0-9]+)?$/.test(host) || insecureHosts.includes(host);
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isIndex(m: ImageManifest | ImageIndex): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests);
}

export interface RegistryClientOptions {
  /** Credentials per registry host; by default read from the docker config. */
  credentials?: (host: string) => Promise<RegistryCredentials | undefined>;
  attempts?: number;
  /** Hosts spoken to over plain HTTP. Loopback always is, as docker does. */
  insecureHosts?: string[];
  /** Where trust is read from (SSL_CERT_FILE, …): the process's environment by default. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The one registry client of the suite: OCI distribution API over action-kit's httpRequest, with
 * Docker's token auth (Bearer challenge, Basic fallback), credentials from the docker config, and retries
 * on transient failures.
 */
/**
 * A registry as signing, verifying and attaching use it. RegistryClient is the real one; the fast tests of
 * sbom-and-sign's phase order and failure paths pass an in-memory one.
 */
export type RegistryApi = Pick<
  RegistryClient,
  | 'getManifest'
  | 'describeManifest'
  | 'getBlob'
  | 'hasBlob'
  | 'putBlob'
  | 'startUpload'
  | 'finishUpload'
  | 'cancelUpload'
  | 'putManifest'
  | 'getReferrers'
>;

export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly credentials: (host: string) => Promise<RegistryCredentials | undefined>;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.credentials = options.credentials ?? ((host) => credentialsFor(host));
  }

  async getManifest(ref: ImageReference, reference = ref.digest ?? ref.tag ?? 'latest'): Promise<FetchedManifest> {
    const response = await this.request(ref, 'GET', `manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    const bytes = response.body;
    const digest = response.headers.get('docker-content-digest') ?? sha256Digest(bytes);
    const json = JSON.parse(bytes.toString('utf8')) as ImageManifest | ImageIndex;
    const mediaType = json.mediaType ?? response.headers.get('content-type') ?? '';
    if (DIGEST_PATTERN.test(reference) && sha256Digest(bytes) !== reference) {
      throw new RegistryError(0, `manifest ${reference} from ${ref.registry} does not match its digest`);
    }
    return { digest, mediaType, bytes, json };
  }

  /**
   * GET /v2/: checks the registry answers (and the credentials, when it asks). Called while a build runs,
   * it also takes the first connection off the critical path.
   */
  async ping(ref: ImageReference): Promise<void> {
    const url = this.baseUrl(ref).replace(/\/v2\/.*$/, '/v2/');
    await this.send(url, 'GET', {}, undefined);
  }

  /** The digest a tag points at now, or undefined when the tag does not exist. */
  async resolveDigest(ref: ImageReference, tag: string): Promise<string | undefined> {
    try {
      const response = await this.request(ref, 'HEAD', `manifests/${tag}`, { accept: MANIFEST_ACCEPT });
      return response.headers.get('docker-content-digest') ?? undefined;
    } catch (error) {
      if (error instanceof RegistryError && error.status === 404) return undefined;
      throw error;
    }
  }

  async getBlob(ref: ImageReference, digest: string): Promise<Buffer> {
    const bytes = (await this.request(ref, 'GET', `blobs/${digest}`, {})).body;
    if (sha256Digest(bytes) !== digest) {
      throw new RegistryError(0, `blob ${digest} from ${ref.registry} does not match its digest`);
    }
    return bytes;
  }

  async getJsonBlob<T>(ref: ImageReference, digest: string): Promise<T> {
    return JSON.parse((await this.getBlob(ref, digest)).toString('utf8')) as T;
  }

  /** Whether the repository holds the blob (HEAD). */
  async hasBlob(ref: ImageReference, digest: string): Promise<boolean> {
    try {
      await this.request(ref, 'HEAD', `blobs/${digest}`, {});
      return true;
    } catch (error) {
      if (error instanceof RegistryError && error.status === 404) return false;
      throw error;
    }
  }

  /**
   * Uploads a blob (monolithic: POST then PUT), unless the registry already has it. `unique` content
   * (a fresh signature) cannot be there yet: the existence check is skipped.
   */
  async putBlob(
    ref: ImageReference,
    bytes: Buffer,
    mediaType: string,
    options: { unique?: boolean } = {},
  ): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    if (!options.unique && (await this.hasBlob(ref, digest))) return { mediaType, digest, size: bytes.length };
    return this.finishUpload(ref, await this.startUpload(ref), bytes, mediaType, digest);
  }

  /**
   * Opens a blob upload session (POST) and returns its URL. Opened ahead of time, the blob itself is
   * one PUT later, when its bytes exist: a round trip off the critical path.
   */
  async startUpload(ref: ImageReference): Promise<string> {
    const started = await this.request(ref, 'POST', 'blobs/uploads/', {});
    const location = started.headers.get('location');
    if (!location) throw new RegistryError(0, `the registry ${ref.registry} started an upload without a Location`);
    return new URL(location, this.baseUrl(ref)).href;
  }

  /** Completes an upload session with the whole blob (PUT …?digest=); `digest`, when the caller has it. */
  async finishUpload(
    ref: ImageReference,
    uploadUrl: string,
    bytes: Buffer,
    mediaType: string,
    digest = sha256Digest(bytes),
  ): Promise<Descriptor> {
    const url = new URL(uploadUrl);
    url.searchParams.set('digest', digest);
    await this.request(ref, 'PUT', url.href, { 'content-type': 'application/octet-stream' }, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** Cancels an upload session that was not used (DELETE), so the registry need not wait to expire it. */
  async cancelUpload(ref: ImageReference, uploadUrl: string): Promise<void> {
    await this.request(ref, 'DELETE', uploadUrl, {});
  }

  /**
   * PUTs a manifest. `subjectAccepted` is true when the registry says (OCI-Subject header) that it indexed
   * the manifest's subject for the referrers API; registries without that API leave it false.
   */
  async putManifest(
    ref: ImageReference,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subjectAccepted: boolean }> {
    const response = await this.request(ref, 'PUT', `manifests/${reference}`, { 'content-type': mediaType }, bytes);
    return {
      digest: response.headers.get('docker-content-digest') ?? sha256Digest(bytes),
      subjectAccepted: response.headers.has('oci-subject'),
    };
  }

  /**
   * The referrers of a digest through the OCI 1.1 referrers API, or undefined when the registry does not
   * offer it (404), in which case the `sha256-<hex>` tag index is the fallback.
   */
  async getReferrers(ref: ImageReference, digest: string, artifactType?: string): Promise<Descriptor[] | undefined> {
    try {
      const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
      const response = await this.request(ref, 'GET', `referrers/${digest}${query}`, { accept: MEDIA_TYPES.ociIndex });
      const type = response.headers.get('content-type') ?? '';
      const body = response.json<ImageIndex>();
      if (!type.includes(MEDIA_TYPES.ociIndex) || !Array.isArray(body.manifests)) return undefined;
      return artifactType ? body.manifests.filter((m) => m.artifactType === artifactType) : body.manifests;
    } catch (error) {
      if (error instanceof RegistryError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** The image config of a single-platform manifest. */
  async getImageConfig(ref: ImageReference, manifest: ImageManifest): Promise<ImageConfig> {
    return this.getJsonBlob<ImageConfig>(ref, manifest.config.digest);
  }

  /** Digest, media type and size of a manifest: what a referrer's `subject` names. */
  async describeManifest(ref: ImageReference, digest: string): Promise<Descriptor> {
    const manifest = await this.getManifest(ref, digest);
    return { mediaType: manifest.mediaType, digest, size: manifest.bytes.length };
  }

  /** The trust for one host: docker's certs.d for it, SSL_CERT_FILE/SSL_CERT_DIR, NODE_EXTRA_CA_CERTS. */
  private tlsFor(host: string): { tls?: TlsOptions } {
    const tls = registryTls(host, this.options.env);
    return tls ? { tls } : {};
  }

  private baseUrl(ref: ImageReference): string {
    const host = ref.registry === DOCKER_HUB ? 'registry-1.docker.io' : ref.registry;
    const plain = speaksPlainHttp(host, this.options.insecureHosts);
    return `${plain ? 'http' : 'https'}://${host}/v2/${ref.repository}/`;
  }

  private async request(
    ref: ImageReference,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<HttpResponse> {
    // path is relative to the repository, or an absolute upload URL the registry handed out.
    const url = /^https?:\/\//.test(path) ? path : this.baseUrl(ref) + path;
    const scope = `repository:${ref.repository}:${method === 'PUT' || method === 'POST' || method === 'DELETE' ? 'pull,push' : 'pull'}`;
    return retry(
      async () => {
        let response = await this.send(url, method, headers, body, this.tokens.get(`${ref.registry} ${scope}`));
        if (response.status === 401) {
          const authorization = await this.authorize(
            ref.registry,
            scope,
            response.headers.get('www-authenticate') ?? '',
          );
          if (authorization) {
            this.tokens.set(`${ref.registry} ${scope}`, authorization);
            response = await this.send(url, method, headers, body, authorization);
          }
        }
        if (!response.ok) {
          const text = response.text().slice(0, 300);
          throw new RegistryError(
            response.status,
            `${method} ${url} answered ${response.status}${text ? `: ${text}` : ''}`,
          );
        }
        return response;
      },
      {
        attempts: this.options.attempts ?? 4,
        baseDelayMs: 300,
        isTransient: (error) =>
          error instanceof RegistryError && (error.status === 0 || isTransientStatus(error.status)),
      },
    );
  }

  private async send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    authorization?: string,
  ): Promise<HttpResponse> {
    try {
      return await httpRequest(url, {
        method,
        headers: { ...headers, ...(authorization ? { authorization } : {}) },
        body,
        timeoutMs: 60_000,
        ...this.tlsFor(new URL(url).host),
      });
    } catch (error) {
      throw registryConnectionError(error, `${method} ${url}`, new URL(url).host, this.options.env);
    }
  }

  /** Answers a 401 challenge: a Bearer token from the realm (with Basic credentials when we have them), or Basic. */
  private async authorize(host: string, scope: string, challenge: string): Promise<string | undefined> {
    const creds = await this.credentials(host);
    const basic =
      creds && !creds.identityToken
        ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`
        : undefined;
    if (/^basic/i.test(challenge)) return basic;
    if (!/^bearer/i.test(challenge)) return undefined;
    const params = Object.fromEntries(
      [...challenge.matchAll(/([a-z_]+)="([^"]*)"/gi)].map((m) => [m[1]!.toLowerCase(), m[2]!]),
    );
    if (!params.realm) return undefined;
    const tokenUrl = new URL(params.realm);
    // An identity token is an OAuth2 refresh token: POSTed to the realm as docker does (the registry token
    // spec's OAuth2 flow). Otherwise a GET with Basic credentials, or anonymous.
    const oauth = creds?.identityToken
      ? Buffer.from(
          new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: creds.identityToken,
            client_id: 'deploy-suite',
            scope,
            ...(params.service ? { service: params.service } : {}),
          }).toString(),
        )
      : undefined;
    if (!oauth) {
      if (params.service) tokenUrl.searchParams.set('service', params.service);
      tokenUrl.searchParams.set('scope', scope);
    }
    const response = await httpRequest(tokenUrl, {
      method: oauth ? 'POST' : 'GET',
      headers: oauth ? { 'content-type': 'application/x-www-form-urlencoded' } : basic ? { authorization: basic } : {},
      ...(oauth ? { body: oauth } : {}),
      timeoutMs: 30_000,
      ...this.tlsFor(tokenUrl.host),
    }).catch((error: unknown) => {
      throw new RegistryError(0, `token request to ${tokenUrl.origin} failed: ${errorMessage(error)}`);
    });
    if (!response.ok)
      throw new RegistryError(
        response.status,
        `token request to ${tokenUrl.origin} answered ${response.status}; check the registry credentials`,
      );
    const json = response.json<{ token?: string; access_token?: string }>();
    const token = json.token ?? json.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}

/** A request to a registry that got no answer; a certificate this runner does not trust says where trust comes from. */
function registryConnectionError(
  error: unknown,
  what: string,
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): RegistryError {
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  const tls = tlsFailure(error);
  if (tls === 'untrusted') {
    const { sources } = registryTrust(host, env);
    return new RegistryError(
      -1,
      `${what} failed: the registry's certificate is not signed by a CA this runner trusts (${code}; trusted beyond Node's roots: ${sources.join(', ') || 'nothing'}). Fix: put the registry's CA in /etc/docker/certs.d/${host}/ca.crt (where docker reads it), or name it in SSL_CERT_FILE, SSL_CERT_DIR or NODE_EXTRA_CA_CERTS`,
    );
  }
  if (tls === 'name')
    return new RegistryError(-1, `${what} failed: the registry's certificate does not name ${host} (${message})`);
  if (code === 'EPROTO' && /wrong version number|packet length too long/i.test(message))
    return new RegistryError(
      -1,
      `${what} failed: ${host} does not speak TLS (${code}). Fix: if it is a lab registry on plain HTTP, name it in insecure-registries`,
    );
  return new RegistryError(0, `${what} failed: ${message}`);
}
