import type { IncomingMessage } from 'node:http';
import { agentFor, httpRequest, isTransientStatus, retry, tlsFailure } from '@deploy-suite/action-kit';
import type { ClusterAccess, Credentials } from './kubeconfig.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    /** What went wrong, without the fix. */
    readonly problem: string,
    /** What to change, when the suite knows it (a TLS failure names the kubeconfig field). */
    readonly fix?: string,
  ) {
    super(fix ? `${problem}. Fix: ${fix}` : problem);
    this.name = 'KubeApiError';
  }
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

// Plural resource names of the kinds the suite manages; anything else is a clear error, not a guess.
const RESOURCES: Record<string, string> = {
  Deployment: 'deployments',
  ReplicaSet: 'replicasets',
  Service: 'services',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  Pod: 'pods',
  ServiceAccount: 'serviceaccounts',
  Namespace: 'namespaces',
  Lease: 'leases',
  Endpoints: 'endpoints',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  EndpointSlice: 'endpointslices',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  PodDisruptionBudget: 'poddisruptionbudgets',
  Job: 'jobs',
};

/** Kinds the API server's discovery named (a user's manifests hold any kind: Ingress, CRDs, …). */
const DISCOVERED = new Map<string, { plural: string; namespaced: boolean }>();
const CLUSTER_KINDS = new Set(['Namespace']);

/** The REST path of a kind (and, given, one object of it). */
export function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string): string {
  const discovered = DISCOVERED.get(`${apiVersion}/${kind}`);
  const plural = resourceName(apiVersion, kind);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const namespaced = discovered ? discovered.namespaced : !CLUSTER_KINDS.has(kind);
  const ns = namespace && namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** The answer as text, not JSON (a pod's log). */
  text?: boolean;
  /** One try: for what is only nice to have (a pod's log, whose kubelet may not answer at all). */
  once?: boolean;
  /** Collects the answer's Warning headers (admission warnings: PodSecurity, deprecated APIs), their text. */
  warnings?: string[];
}

/**
 * The Kubernetes API as the orchestration uses it: what deploy, rollback, the lock and the history take.
 * KubeClient is the real one; tests of phase order and failure paths pass an in-memory one.
 */
export type KubeApi = Pick<
  KubeClient,
  'request' | 'get' | 'apply' | 'mergePatch' | 'delete' | 'watch' | 'watchObject' | 'discover'
>;

/** The REST name of a kind (deployments, ingresses, …), from the suite's table or discovery. */
export function resourceName(apiVersion: string, kind: string): string {
  const plural = RESOURCES[kind] ?? DISCOVERED.get(`${apiVersion}/${kind}`)?.plural;
  if (!plural)
    throw new KubeApiError(
      0,
      'UnsupportedKind',
      `kind ${kind} is not one the suite manages (${Object.keys(RESOURCES).join(', ')}) and discovery has not named it`,
    );
  return plural;
}

/** Whether a kind is namespaced, once discover() has looked it up (undefined: not known). */
export function isNamespaced(apiVersion: string, kind: string): boolean | undefined {
  if (RESOURCES[kind]) return !CLUSTER_KINDS.has(kind);
  return DISCOVERED.get(`${apiVersion}/${kind}`)?.namespaced;
}

/** Records what discovery said of a group-version's kinds (the fake API of the tests calls it too). */
export function recordDiscovery(
  apiVersion: string,
  resources: { name: string; kind: string; namespaced: boolean }[],
): void {
  // Subresources (deployments/scale) share their parent's kind: only top-level names count.
  for (const r of resources)
    if (!r.name.includes('/')) DISCOVERED.set(`${apiVersion}/${r.kind}`, { plural: r.name, namespaced: r.namespaced });
}

/**
 * The suite's one Kubernetes client: the REST API over the suite's HTTP transport (keep-alive, the
 * runner's proxy rules or the cluster's proxy-url), authenticated by @kubernetes/client-node from the
 * kubeconfig request by request (an exec plugin's credential renewed when it expires), retries on
 * throttling, server errors and a restarting API server, and a count of requests (the benchmarks report it).
 */
export class KubeClient {
  requestCount = 0;
  private readonly url: URL;
  /** The server URL's path (a proxy may serve the API under one), without its trailing slash. */
  private readonly basePath: string;

  constructor(readonly access: ClusterAccess) {
    this.url = new URL(access.server);
    this.basePath = this.url.pathname.replace(/\/$/, '');
  }

  /** Kept for callers that end a client: connections belong to the shared agents (action-kit closeAgents). */
  close(): void {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return retry(() => this.once<T>(method, path, options), {
      attempts: options.once ? 1 : 6,
      baseDelayMs: 250,
      maxDelayMs: 4_000,
      isTransient: (error) => error instanceof KubeApiError && (error.status === 0 || isTransientStatus(error.status)),
    });
  }

  async get<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.request<T>('GET', resourcePath(apiVersion, kind, namespace, name));
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Looks up, once per group-version, the REST names of the kinds given (the API server's discovery), so
   * any kind of a user's manifests can be applied. A kind the server does not serve is an error naming it
   * (a CRD not installed, a misspelt apiVersion).
   */
  async discover(kinds: { apiVersion: string; kind: string }[]): Promise<void> {
    const unknown = kinds.filter((k) => !RESOURCES[k.kind] && !DISCOVERED.has(`${k.apiVersion}/${k.kind}`));
    const versions = [...new Set(unknown.map((k) => k.apiVersion))];
    await Promise.all(
      versions.map(async (apiVersion) => {
        const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        const list = await this.request<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(
          'GET',
          path,
        ).catch((error: unknown) => {
          if (error instanceof KubeApiError && error.status === 404) return { resources: [] };
          throw error;
        });
        recordDiscovery(apiVersion, list.resources ?? []);
      }),
    );
    const missing = unknown.filter((k) => !DISCOVERED.has(`${k.apiVersion}/${k.kind}`));
    if (missing.length)
      throw new KubeApiError(
        404,
        'UnknownKind',
        `the API server serves no ${[...new Set(missing.map((k) => `${k.kind} (${k.apiVersion})`))].join(', ')}`,
        'install the CRD that defines it first, or fix the apiVersion (kubectl api-resources lists what the cluster serves)',
      );
  }

  /** Server-side apply with one field manager; `dryRun` asks the server to validate and answer without persisting. */
  async apply<T extends KubeObject>(
    object: KubeObject,
    options: { fieldManager: string; force?: boolean; dryRun?: boolean; warnings?: string[] },
  ): Promise<T> {
    return this.request<T>(
      'PATCH',
      resourcePath(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name),
      {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: {
          fieldManager: options.fieldManager,
          force: options.force ?? true,
          dryRun: options.dryRun ? 'All' : undefined,
        },
        ...(options.warnings ? { warnings: options.warnings } : {}),
      },
    );
  }

  async mergePatch<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options: { fieldManager?: string; resourceVersion?: string } = {},
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(apiVersion, kind, namespace, name), {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: options.fieldManager },
    });
  }

  /** Deletes an object; with `resourceVersion`, only if nobody changed it since (a 409 otherwise). */
  async delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    resourceVersion?: string,
  ): Promise<void> {
    try {
      await this.request(
        'DELETE',
        resourcePath(apiVersion, kind, namespace, name),
        resourceVersion
          ? { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion } } }
          : {},
      );
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    }
  }

  /** Watches one object by name: see watch(). */
  watchObject<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    resourceVersion: string | undefined,
    onEvent: (type: WatchEventType, object: T) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<boolean> {
    return this.watch(apiVersion, kind, namespace, { name }, resourceVersion, onEvent, options);
  }

  /**
   * Watches objects (one by name, or by label selector) from a resourceVersion until `onEvent` returns
   * true (then true), the timeout passes or the signal aborts (then false). A watch the server
   * closes early is resumed from the last version seen.
   */
  async watch<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    selector: { name?: string; labelSelector?: string },
    resourceVersion: string | undefined,
    onEvent: (type: WatchEventType, object: T) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<boolean> {
    const what = selector.name ?? selector.labelSelector ?? '';
    const deadline = Date.now() + options.timeoutMs;
    let version = resourceVersion;
    while (Date.now() < deadline && !options.signal?.aborted) {
      const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      const path = `${resourcePath(apiVersion, kind, namespace)}?${new URLSearchParams({
        watch: '1',
        ...(selector.name ? { fieldSelector: `metadata.name=${selector.name}` } : {}),
        ...(selector.labelSelector ? { labelSelector: selector.labelSelector } : {}),
        timeoutSeconds: String(seconds),
        allowWatchBookmarks: 'true',
        ...(version ? { resourceVersion: version } : {}),
      })}`;
      let done = false;
      try {
        await this.stream(
          path,
          (line) => {
            const event = JSON.parse(line) as { type: WatchEventType; object: T & { code?: number; reason?: string } };
            if (event.type === 'ERROR') {
              // 410 Gone: our version is too old; start again from the current state.
              if (event.object.code === 410) version = undefined;
              throw new KubeApiError(
                event.object.code ?? 500,
                event.object.reason ?? 'WatchError',
                `watch of ${kind} ${what}: ${JSON.stringify(event.object)}`,
              );
            }
            if (event.object.metadata?.resourceVersion) version = event.object.metadata.resourceVersion;
            if (event.type !== 'BOOKMARK' && onEvent(event.type, event.object)) {
              done = true;
              return true;
            }
            return false;
          },
          options.signal,
        );
      } catch (error) {
        if (
          !(error instanceof KubeApiError) ||
          !(error.status === 0 || error.status === 410 || isTransientStatus(error.status))
        )
          throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (done) return true;
    }
    return false;
  }

  private async once<T>(method: string, path: string, options: RequestOptions, renewed = false): Promise<T> {
    const query = Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined);
    const fullPath = query.length
      ? `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)]))}`
      : path;
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const credentials = await this.access.credentials();
    this.requestCount++;
    // The API server ends a request at 60 s itself (--request-timeout); watches go through stream().
    const response = await httpRequest(`${this.url.origin}${this.basePath}${fullPath}`, {
      method,
      headers: this.headers(credentials, body, options.contentType),
      body,
      maxRedirects: 0,
      timeoutMs: 60_000,
      tls: credentials.tls,
      ...(this.access.proxyUrl ? { proxy: this.access.proxyUrl } : {}),
    }).catch((error: unknown) => {
      throw connectionError(error, `${method} ${this.url.origin}${path}`);
    });
    const text = response.text();
    // A 401 is decided before the request does anything, so sending it again with a plugin's new
    // credential is safe for every verb; once, so a plugin that keeps printing a refused token still fails.
    if (response.status === 401 && !renewed && this.access.renewCredentials())
      return this.once<T>(method, path, options, true);
    if (response.status >= 400) throw statusError(response.status, text, method, path);
    // RFC 7234 form, as the API server writes it: 299 - "text" (quotes inside escaped).
    for (const warning of options.warnings ? response.headers.all('warning') : [])
      options.warnings!.push(/^\d{3} \S+ "(.*)"$/s.exec(warning)?.[1]?.replace(/\\(.)/g, '$1') ?? warning);
    if (options.text) return text as T;
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new KubeApiError(response.status, 'BadResponse', `${method} ${path}: the answer was not JSON`);
    }
  }

  private async stream(path: string, onLine: (line: string) => boolean, signal?: AbortSignal): Promise<void> {
    const credentials = await this.access.credentials();
    return new Promise<void>((resolve, reject) => {
      this.requestCount++;
      const req = this.watchRequest(path, credentials, (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => reject(statusError(res.statusCode ?? 500, text, 'GET', path)));
          return;
        }
        let partial = '';
        res.on('data', (chunk: Buffer) => {
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          try {
            for (const line of lines) {
              if (line.trim() && onLine(line)) {
                req.destroy();
                resolve();
                return;
              }
            }
          } catch (error) {
            req.destroy();
            reject(error);
          }
        });
        res.on('end', () => resolve());
        res.on('error', (error) => reject(new KubeApiError(0, 'ConnectionFailed', error.message)));
      });
      const abort = () => {
        req.destroy();
        resolve();
      };
      signal?.addEventListener('abort', abort, { once: true });
      req.on('error', (error) => {
        if (signal?.aborted) return;
        reject(connectionError(error, `watch ${this.url.origin}${path}`));
      });
      req.on('close', () => signal?.removeEventListener('abort', abort));
      req.end();
    });
  }

  /** Headers of every request: JSON, and the kubeconfig user's credentials (content-length is the transport's). */
  private headers(credentials: Credentials, body: Buffer | undefined, contentType: string | undefined) {
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'deploy-suite',
      ...credentials.headers,
    };
    if (body) headers['content-type'] = contentType ?? 'application/json';
    return headers;
  }

  /** The GET of a watch, streamed (read line by line in stream()); every other request is once()'s httpRequest. */
  private watchRequest(path: string, credentials: Credentials, onResponse: (res: IncomingMessage) => void) {
    // A URL rather than host and port: an IPv6 server ([::1]) keeps its brackets out of the host name.
    const target = new URL(`${this.url.origin}${this.basePath}${path}`);
    const agent = agentFor(target, credentials.tls, this.access.proxyUrl);
    const transport = process.getBuiltinModule(target.protocol === 'https:' ? 'node:https' : 'node:http');
    return transport.request(
      target,
      { method: 'GET', headers: this.headers(credentials, undefined, undefined), ...(agent ? { agent } : {}) },
      onResponse,
    );
  }
}

/**
 * A request that never got an answer. TLS failures are not transient (status -1, no retry) and say which
 * kubeconfig field fixes them; others (refused, reset) are status 0, retried.
 */
function connectionError(error: unknown, what: string): KubeApiError {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message;
  const tls = tlsFailure(error);
  if (tls === 'name')
    return new KubeApiError(
      -1,
      'TlsNameMismatch',
      `${what}: the API server's certificate does not name this host (${message})`,
      "set the cluster's tls-server-name in the kubeconfig to a name the certificate carries, or use that name in server",
    );
  if (tls === 'untrusted')
    return new KubeApiError(
      -1,
      'TlsUntrusted',
      `${what}: the API server's certificate is not signed by a CA the kubeconfig trusts (${code})`,
      "put the cluster's CA in certificate-authority-data (kubectl config view --raw shows the one that works)",
    );
  if (tls === 'expired')
    return new KubeApiError(-1, 'TlsExpired', `${what}: the API server's certificate has expired (${code})`);
  return new KubeApiError(0, 'ConnectionFailed', `${what}: ${message}`);
}

function statusError(status: number, text: string, method: string, path: string): KubeApiError {
  let reason = 'Unknown';
  let message = text.slice(0, 300);
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason ?? reason;
    message = parsed.message ?? message;
  } catch {
    // not a Status object
  }
  return new KubeApiError(status, reason, `${method} ${path} answered ${status} ${reason}: ${message}`);
}

/** The one factory: a client for the cluster a kubeconfig (or the environment) names. */
export function createKubeClient(access: ClusterAccess): KubeClient {
  return new KubeClient(access);
}
