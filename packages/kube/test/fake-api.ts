// An in-memory Kubernetes API for fast tests of the orchestration (deploy, rollback, the lock): objects
// with resourceVersions, server-side apply as a merge, watches that see every change, a Deployment
// controller whose rollouts finish, stall or fail as a test says, EndpointSlices that follow the ready
// pods a Service selects, and faults injected at any call. Every call is logged, for phase order.
// The real API server is test/integration's; this one answers in microseconds and can be told to fail.
import {
  KubeApiError,
  recordDiscovery,
  type KubeApi,
  type KubeObject,
  type RequestOptions,
  type WatchEventType,
} from '../src/index.js';

type Stored = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown>; data?: unknown };
type Listener = (type: WatchEventType, object: Stored) => void;

/** How the fake controller treats a Deployment: ready at once, never ready, or past its deadline. */
export type RolloutBehaviour = 'ready' | 'stalled' | 'deadline-exceeded';

const clone = <T>(value: T): T => structuredClone(value);
const key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;

function merge(target: unknown, patch: unknown): unknown {
  if (patch === null) return undefined;
  if (
    typeof patch !== 'object' ||
    Array.isArray(patch) ||
    typeof target !== 'object' ||
    target === null ||
    Array.isArray(target)
  )
    return clone(patch);
  // A merge patch: null removes a key, maps merge, anything else replaces.
  const merged = Object.entries(patch as Record<string, unknown>).map(
    ([k, v]) => [k, merge((target as Record<string, unknown>)[k], v)] as const,
  );
  const kept = Object.entries(target as Record<string, unknown>).filter(([k]) => !(k in (patch as object)));
  return Object.fromEntries([...kept, ...merged.filter(([, v]) => v !== undefined)]);
}

export class FakeKubeApi implements KubeApi {
  /** Every call, in order: `apply Deployment/shop-blue`, `mergePatch Service/shop`, … */
  readonly calls: string[] = [];
  private readonly objects = new Map<string, Stored>();
  private readonly listeners = new Set<Listener>();
  private version = 100;
  private readonly rollouts = new Map<string, RolloutBehaviour>();
  private readonly faults: { match: RegExp; error: () => Error; once: boolean }[] = [];

  /** The next calls matching `match` (against the call log's line) throw. */
  failOn(
    match: RegExp,
    error: () => Error = () => new KubeApiError(500, 'InternalError', 'injected'),
    once = true,
  ): void {
    this.faults.push({ match, error, once });
  }

  rollout(name: string, behaviour: RolloutBehaviour): void {
    this.rollouts.set(name, behaviour);
  }

  /** An object as stored (a copy), for assertions and for seeding. */
  peek<T extends KubeObject = Stored>(kind: string, namespace: string, name: string): T | undefined {
    const found = this.objects.get(key(kind, namespace, name));
    return found ? (clone(found) as unknown as T) : undefined;
  }

  seed(object: KubeObject): void {
    this.store(clone(object) as Stored, 'ADDED');
  }

  private log(line: string): void {
    this.calls.push(line);
    const fault = this.faults.find((f) => f.match.test(line));
    if (fault) {
      if (fault.once) this.faults.splice(this.faults.indexOf(fault), 1);
      throw fault.error();
    }
  }

  private store(object: Stored, type: WatchEventType): Stored {
    const k = key(object.kind, object.metadata.namespace, object.metadata.name);
    const before = this.objects.get(k);
    object.metadata.resourceVersion = String(++this.version);
    if (object.kind === 'Deployment') {
      const changedSpec = JSON.stringify(before?.spec) !== JSON.stringify(object.spec);
      object.metadata.generation = (before?.metadata.generation ?? 0) + (changedSpec || !before ? 1 : 0);
    }
    this.objects.set(k, object);
    this.emit(type, object);
    if (object.kind === 'Deployment' && type !== 'DELETED') queueMicrotask(() => this.control(k));
    if (object.kind === 'Job' && type === 'ADDED') queueMicrotask(() => this.finishJob(k));
    if (object.kind === 'Deployment' || object.kind === 'Service') queueMicrotask(() => this.emitSlices());
    return object;
  }

  private emit(type: WatchEventType, object: Stored): void {
    for (const listener of [...this.listeners]) listener(type, clone(object));
  }

  /** The Deployment controller: status as the behaviour says, once per generation. */
  private control(k: string): void {
    const d = this.objects.get(k);
    if (!d) return;
    const behaviour = this.rollouts.get(d.metadata.name) ?? 'ready';
    const replicas = (d.spec?.replicas as number | undefined) ?? 1;
    const generation = d.metadata.generation ?? 1;
    const status =
      behaviour === 'ready'
        ? {
            observedGeneration: generation,
            replicas,
            updatedReplicas: replicas,
            readyReplicas: replicas,
            availableReplicas: replicas,
          }
        : behaviour === 'stalled'
          ? { observedGeneration: generation, replicas, updatedReplicas: 0, availableReplicas: 0 }
          : {
              observedGeneration: generation,
              replicas,
              updatedReplicas: 0,
              conditions: [
                { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'stuck' },
              ],
            };
    if (JSON.stringify(d.status) === JSON.stringify(status)) return;
    const next = { ...d, status };
    next.metadata = { ...d.metadata, resourceVersion: String(++this.version) };
    this.objects.set(k, next);
    this.emit('MODIFIED', next);
    this.emitSlices();
  }

  /** The Job controller: a Job completes at once, fails when its pods carry deploy-suite.test/fail, or never ends (hold-not-ready). */
  private finishJob(k: string): void {
    const job = this.objects.get(k);
    if (!job) return;
    const labels =
      (job.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels ?? {};
    if (labels['deploy-suite.test/hold-not-ready']) return;
    const failed = labels['deploy-suite.test/fail'] === 'true';
    const next = {
      ...job,
      status: {
        conditions: [
          failed
            ? {
                type: 'Failed',
                status: 'True',
                reason: 'BackoffLimitExceeded',
                message: 'Job has reached the specified backoff limit',
              }
            : { type: 'Complete', status: 'True' },
        ],
      },
    };
    next.metadata = { ...job.metadata, resourceVersion: String(++this.version) };
    this.objects.set(k, next);
    this.emit('MODIFIED', next);
  }

  /** Ready endpoints behind a Service: the ready replicas of the Deployments whose pods it selects. */
  readyBehind(namespace: string, service: string): number {
    const svc = this.objects.get(key('Service', namespace, service));
    const selector = (svc?.spec?.selector ?? {}) as Record<string, string>;
    if (!svc || Object.keys(selector).length === 0) return 0;
    let ready = 0;
    for (const o of this.objects.values()) {
      if (o.kind !== 'Deployment' || o.metadata.namespace !== namespace) continue;
      const labels = ((o.spec?.template as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata
        ?.labels ?? {}) as Record<string, string>;
      if (Object.entries(selector).every(([k, v]) => labels[k] === v))
        ready += (o.status?.readyReplicas as number | undefined) ?? 0;
    }
    return ready;
  }

  private slice(namespace: string, service: string): Stored {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${service}-slice`, namespace, labels: { 'kubernetes.io/service-name': service } },
      endpoints: Array.from({ length: this.readyBehind(namespace, service) }, () => ({ conditions: { ready: true } })),
    } as Stored;
  }

  private emitSlices(): void {
    for (const o of [...this.objects.values()]) {
      if (o.kind === 'Service') this.emit('MODIFIED', this.slice(o.metadata.namespace!, o.metadata.name));
    }
  }

  /** Kinds the fake serves beyond the client's own table, as an API server's discovery would name them. */
  async discover(kinds: { apiVersion: string; kind: string }[]): Promise<void> {
    this.log(`discover ${kinds.map((k) => k.kind).join(',')}`);
    for (const { apiVersion, kind } of kinds)
      recordDiscovery(apiVersion, [{ name: `${kind.toLowerCase()}s`, kind, namespaced: true }]);
  }

  async get<T extends KubeObject>(
    _apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    this.log(`get ${kind}/${name}`);
    return this.peek<T>(kind, namespace ?? '', name);
  }

  async apply<T extends KubeObject>(
    object: KubeObject,
    options: { fieldManager: string; dryRun?: boolean },
  ): Promise<T> {
    this.log(`apply${options.dryRun ? ' (dry run)' : ''} ${object.kind}/${object.metadata.name}`);
    const k = key(object.kind, object.metadata.namespace, object.metadata.name);
    const before = this.objects.get(k);
    const merged = merge(before ?? {}, clone(object)) as Stored;
    // As the API server: an immutable ConfigMap or Secret keeps its data.
    const dataOf = (o: Stored | undefined) =>
      JSON.stringify([o?.data, (o as { binaryData?: unknown } | undefined)?.binaryData]);
    if ((before as { immutable?: boolean } | undefined)?.immutable && dataOf(before) !== dataOf(merged))
      throw new KubeApiError(
        422,
        'Invalid',
        `${object.kind} "${object.metadata.name}" is invalid: data: Forbidden: field is immutable when \`immutable\` is set`,
      );
    if (options.dryRun) return clone(merged) as unknown as T;
    return clone(this.store(merged, before ? 'MODIFIED' : 'ADDED')) as unknown as T;
  }

  async mergePatch<T extends KubeObject>(
    _apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
  ): Promise<T> {
    this.log(`mergePatch ${kind}/${name}`);
    const k = key(kind, namespace, name);
    const before = this.objects.get(k);
    if (!before) throw new KubeApiError(404, 'NotFound', `${kind} ${name} not found`);
    return clone(this.store(merge(before, patch) as Stored, 'MODIFIED')) as unknown as T;
  }

  async delete(
    _apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    resourceVersion?: string,
  ): Promise<void> {
    this.log(`delete ${kind}/${name}`);
    const k = key(kind, namespace, name);
    const before = this.objects.get(k);
    if (!before) return;
    if (resourceVersion && before.metadata.resourceVersion !== resourceVersion)
      throw new KubeApiError(409, 'Conflict', `${kind} ${name} changed since ${resourceVersion}`);
    this.objects.delete(k);
    this.emit('DELETED', before);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const lease = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/?]+))?$/.exec(path);
    const slices = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices\?labelSelector=(.+)$/.exec(
      path,
    );
    if (lease) {
      const [, namespace, name] = lease;
      const body = clone(options.body) as Stored;
      const target = name ?? body.metadata.name;
      this.log(`${method} Lease/${target}`);
      const k = key('Lease', namespace, target);
      const before = this.objects.get(k);
      if (method === 'POST') {
        if (before) throw new KubeApiError(409, 'AlreadyExists', `lease ${target} exists`);
        return clone(this.store({ ...body, kind: 'Lease', metadata: { ...body.metadata, namespace } }, 'ADDED')) as T;
      }
      if (method === 'PUT') {
        if (!before) throw new KubeApiError(404, 'NotFound', `lease ${target} not found`);
        if (body.metadata.resourceVersion !== before.metadata.resourceVersion)
          throw new KubeApiError(409, 'Conflict', `lease ${target} changed`);
        return clone(this.store({ ...body, kind: 'Lease' }, 'MODIFIED')) as T;
      }
    }
    const listed = /^\/api\/v1\/namespaces\/([^/]+)\/(configmaps|secrets)$/.exec(path);
    if (listed && method === 'GET') {
      const [, namespace, plural] = listed;
      const kind = plural === 'configmaps' ? 'ConfigMap' : 'Secret';
      this.log(`list ${kind}`);
      const terms = String(options.query?.labelSelector ?? '')
        .split(',')
        .filter(Boolean)
        .map((t) => t.split('='));
      const items = [...this.objects.values()].filter(
        (o) =>
          o.kind === kind &&
          o.metadata.namespace === namespace &&
          terms.every(([k, v]) => (v === undefined ? k! in (o.metadata.labels ?? {}) : o.metadata.labels?.[k!] === v)),
      );
      return { items: items.map(clone) } as T;
    }
    if (slices && method === 'GET') {
      const [, namespace, selector] = slices;
      const service = decodeURIComponent(selector!).replace('kubernetes.io/service-name=', '');
      this.log(`list EndpointSlice/${service}`);
      return { metadata: { resourceVersion: String(this.version) }, items: [this.slice(namespace!, service)] } as T;
    }
    const job = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/?]+)$/.exec(path);
    if (job && method === 'DELETE') {
      await this.delete('batch/v1', 'Job', job[1], job[2]!);
      return {} as T;
    }
    throw new Error(`the fake API does not serve ${method} ${path}`);
  }

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

  watch<T extends KubeObject>(
    _apiVersion: string,
    kind: string,
    namespace: string | undefined,
    selector: { name?: string; labelSelector?: string },
    _resourceVersion: string | undefined,
    onEvent: (type: WatchEventType, object: T) => boolean,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<boolean> {
    this.log(`watch ${kind}/${selector.name ?? selector.labelSelector}`);
    const [labelKey, labelValue] = (selector.labelSelector ?? '').split('=');
    const matches = (o: Stored) =>
      o.kind === kind &&
      o.metadata.namespace === namespace &&
      (selector.name === undefined || o.metadata.name === selector.name) &&
      (labelKey === '' || o.metadata.labels?.[labelKey!] === labelValue);
    return new Promise((resolve) => {
      const finish = (result: boolean) => {
        this.listeners.delete(listener);
        clearTimeout(timer);
        resolve(result);
      };
      const listener: Listener = (type, object) => {
        if (matches(object) && onEvent(type, object as unknown as T)) finish(true);
      };
      const timer = setTimeout(() => finish(false), options.timeoutMs);
      this.listeners.add(listener);
      // The current state, as a watch from a list's version would deliver what changed since.
      for (const o of [...this.objects.values()]) if (matches(o)) listener('MODIFIED', clone(o));
      if (kind === 'EndpointSlice' && labelValue) listener('MODIFIED', this.slice(namespace ?? '', labelValue));
    });
  }
}
