import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { httpRequest, isTransientStatus, retry } from '@deploy-suite/action-kit';
import type { ClusterAccess } from './kubeconfig.js';

// node:http imported as an ES module costs ~20 ms of every run: the namespace Node builds for it reads its
// lazy WebSocket exports, which load the whole fetch stack (undici). The plain module does not.
const { request: plainRequest } = process.getBuiltinModule('node:http');

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
    message: string,
  ) {
    super(message);
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
};

/** The REST path of a kind (and, given, one object of it). */
export function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string): string {
  const plural = RESOURCES[kind];
  if (!plural)
    throw new KubeApiError(
      0,
      'UnsupportedKind',
      `kind ${kind} is not one the suite manages (${Object.keys(RESOURCES).join(', ')})`,
    );
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace && kind !== 'Namespace' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | number | boolean | undefined>;
}

/**
 * The suite's one Kubernetes client: the REST API over node:https with keep-alive, TLS client
 * certificates or bearer tokens from a kubeconfig, retries on throttling, server errors and a
 * restarting API server, and a count of requests (the benchmarks report it).
 */
/**
 * The Kubernetes API as the orchestration uses it: what deploy, rollback, the lock and the history take.
 * KubeClient is the real one; tests of phase order and failure paths pass an in-memory one.
 */
export type KubeApi = Pick<KubeClient, 'request' | 'get' | 'apply' | 'mergePatch' | 'delete' | 'watch' | 'watchObject'>;

export class KubeClient {
  requestCount = 0;
  private readonly agent: Agent;
  private readonly url: URL;
  /** The server URL's path (a proxy may serve the API under one), without its trailing slash. */
  private readonly basePath: string;

  constructor(readonly access: ClusterAccess) {
    this.url = new URL(access.server);
    this.basePath = this.url.pathname.replace(/\/$/, '');
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 16,
      ...(access.ca ? { ca: access.ca } : {}),
      ...(access.clientCert ? { cert: access.clientCert, key: access.clientKey } : {}),
      rejectUnauthorized: !access.insecureSkipTlsVerify,
    });
  }

  close(): void {
    this.agent.destroy();
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return retry(() => this.once<T>(method, path, options), {
      attempts: 6,
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

  /** Server-side apply with one field manager; `dryRun` asks the server to validate and answer without persisting. */
  async apply<T extends KubeObject>(
    object: KubeObject,
    options: { fieldManager: string; force?: boolean; dryRun?: boolean },
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

  private async once<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const query = Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined);
    const fullPath = query.length
      ? `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(query.map(([k, v]): [string, string] => [k, String(v)]))}`
      : path;
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    this.requestCount++;
    // The API server ends a request at 60 s itself (--request-timeout); watches go through stream().
    const response = await httpRequest(`${this.url.origin}${this.basePath}${fullPath}`, {
      method,
      headers: this.headers(body, options.contentType),
      body,
      maxRedirects: 0,
      timeoutMs: 60_000,
      ...(this.url.protocol === 'https:' ? { agent: this.agent } : {}),
    }).catch((error: unknown) => {
      throw new KubeApiError(0, 'ConnectionFailed', `${method} ${this.url.origin}${path}: ${(error as Error).message}`);
    });
    const text = response.text();
    if (response.status >= 400) throw statusError(response.status, text, method, path);
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new KubeApiError(response.status, 'BadResponse', `${method} ${path}: the answer was not JSON`);
    }
  }

  private stream(path: string, onLine: (line: string) => boolean, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.requestCount++;
      const req = this.watchRequest(path, (res) => {
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
        reject(new KubeApiError(0, 'ConnectionFailed', `watch ${path}: ${error.message}`));
      });
      req.on('close', () => signal?.removeEventListener('abort', abort));
      req.end();
    });
  }

  /** Headers of every request: JSON, and the kubeconfig's token or basic credentials (content-length is the transport's). */
  private headers(body: Buffer | undefined, contentType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'deploy-suite' };
    if (body) headers['content-type'] = contentType ?? 'application/json';
    if (this.access.token) headers.authorization = `Bearer ${this.access.token}`;
    else if (this.access.username)
      headers.authorization = `Basic ${Buffer.from(`${this.access.username}:${this.access.password ?? ''}`).toString('base64')}`;
    return headers;
  }

  /** The GET of a watch, streamed (read line by line in stream()); every other request is once()'s httpRequest. */
  private watchRequest(path: string, onResponse: (res: IncomingMessage) => void) {
    const secure = this.url.protocol === 'https:';
    const requestOptions = {
      host: this.url.hostname,
      port: this.url.port || (secure ? 443 : 80),
      path: `${this.basePath}${path}`,
      method: 'GET',
      headers: this.headers(undefined, undefined),
    };
    return secure
      ? httpsRequest({ ...requestOptions, agent: this.agent }, onResponse)
      : plainRequest(requestOptions, onResponse);
  }
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
