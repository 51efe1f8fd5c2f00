import { InputError, type RunnerNeeds } from '@deploy-suite/action-kit';
import { KubeApiError, type KubeClient, type KubeObject } from './client.js';

/**
 * The runners the deploy actions serve: Linux and macOS. Windows is refused up front rather than half
 * served: kubeconfig exec plugins (aws, kubelogin, gke-gcloud-auth-plugin) are found on PATH and started
 * as a POSIX shell does, without PATHEXT, and nothing here is proven on Windows.
 */
export const DEPLOY_RUNNERS: RunnerNeeds = {
  platforms: ['linux', 'darwin'],
  arches: ['x64', 'arm64'],
  because: 'its kubeconfig exec plugins are looked up and started the POSIX way',
};

/** One right a run needs in the app's namespace: a verb on a resource of an API group ('' is the core group). */
export interface AccessNeed {
  group: string;
  resource: string;
  verbs: string[];
}

/**
 * What a deploy or a rollback does in the namespace: the rules of actions/bluegreen-deploy/rbac.yaml,
 * which a unit test keeps equal to this list.
 */
export const APP_ACCESS: AccessNeed[] = [
  { group: 'apps', resource: 'deployments', verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { group: '', resource: 'services', verbs: ['get', 'create', 'patch'] },
  { group: '', resource: 'configmaps', verbs: ['get', 'create', 'patch'] },
  { group: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['get', 'list', 'watch'] },
  {
    group: 'coordination.k8s.io',
    resource: 'leases',
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
];

/**
 * Rights rbac.yaml also grants that no run requires: listing the new colour's pods and their events, so
 * a rollout that fails says why (ImagePullBackOff and the pull error, a crash and its last log lines, a
 * failing readiness probe). A Role without them still deploys; a failure is then reported without them.
 */
export const DIAGNOSIS_ACCESS: AccessNeed[] = [
  { group: '', resource: 'pods', verbs: ['list'] },
  { group: '', resource: 'events', verbs: ['list'] },
];

/**
 * What an app shipped as manifests adds, the rules of actions/bluegreen-deploy/rbac-manifests.yaml: the
 * kinds such apps carry (Secrets, HPAs, PDBs, ServiceAccounts, Ingresses, Gateway API routes), with list
 * and delete of Secrets so old revisions' versioned ones are pruned. A run checks only what its manifests
 * hold (manifestAccess), so a Role may grant less.
 */
export const MANIFEST_ACCESS: AccessNeed[] = [
  { group: '', resource: 'secrets', verbs: ['get', 'list', 'create', 'patch', 'delete'] },
  { group: '', resource: 'serviceaccounts', verbs: ['get', 'create', 'patch'] },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', verbs: ['get', 'create', 'patch'] },
  { group: 'policy', resource: 'poddisruptionbudgets', verbs: ['get', 'create', 'patch'] },
  { group: 'networking.k8s.io', resource: 'ingresses', verbs: ['get', 'create', 'patch'] },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', verbs: ['get', 'create', 'patch'] },
  { group: 'batch', resource: 'jobs', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  // A hook's last log lines, for the summary (not required: without it the summary says so).
  { group: '', resource: 'pods/log', verbs: ['get'] },
];

/**
 * Rights rbac.yaml grants that no run requires: list and delete of ConfigMaps, so the snapshots and
 * versioned ConfigMaps of configurations no kept revision uses are pruned. A Role without them (one
 * applied before the suite kept configurations) still deploys; the deploy says what it did not prune.
 */
export const PRUNE_ACCESS: AccessNeed[] = [{ group: '', resource: 'configmaps', verbs: ['list', 'delete'] }];

/** What reading an app's state takes (an analysis that may not roll back). */
export const READ_ACCESS: AccessNeed[] = APP_ACCESS.map((need) => ({
  ...need,
  verbs: need.verbs.filter((verb) => ['get', 'list', 'watch'].includes(verb)),
}));

interface AccessReview {
  status?: { allowed?: boolean };
}

const resourceName = ({ group, resource }: AccessNeed) => (group ? `${resource}.${group}` : resource);

/** The rights `needs` names that the reviews did not allow, as `verb resource.group`. */
export function missingRights(needs: AccessNeed[], allowed: (need: AccessNeed, verb: string) => boolean): string[] {
  return needs.flatMap((need) =>
    need.verbs.filter((verb) => !allowed(need, verb)).map((verb) => `${verb} ${resourceName(need)}`),
  );
}

/**
 * Checks, before anything changes, what would otherwise fail half-way: the kubeconfig's credential (an exec
 * plugin runs here; the cluster accepts it), the namespace exists, and the identity may do each verb the
 * run needs (deniedRights). Each failure is an input error naming the input and the fix. A cluster that
 * does not answer reviews (403 on the review itself) is not refused here: the run finds out at the request.
 */
export async function preflight(
  client: KubeClient,
  namespace: string,
  needs: AccessNeed[] | (() => Promise<AccessNeed[]>),
  options: { rbacFile: string } = { rbacFile: 'actions/bluegreen-deploy/rbac.yaml' },
): Promise<Preflight> {
  const { access } = client;
  await access.credentials();
  const who = `user '${access.user || '(none)'}' of context '${access.context}'`;
  try {
    const found = await readNamespace(client, namespace);
    if (!found)
      throw new InputError([
        {
          input: 'namespace',
          problem: `namespace '${namespace}' does not exist in the cluster of context '${access.context}'`,
          fix: `create it (kubectl create namespace ${namespace}) and apply ${options.rbacFile} in it, or set namespace to the app's namespace`,
        },
      ]);
    // Needs that depend on the cluster (the kinds of an app's manifests, by discovery) are known only now.
    const list = typeof needs === 'function' ? await needs() : needs;
    const denied = await deniedRights(client, namespace, list);
    const all = list.reduce((sum, need) => sum + need.verbs.length, 0);
    if (denied.length > 0)
      throw new InputError([
        {
          input: 'kubeconfig',
          problem:
            denied.length === all
              ? `${who} may do nothing the run needs in namespace '${namespace}' (an identity with rights in one namespace sees a namespace that does not exist the same way); nothing was changed`
              : `${who} may not ${denied.join(', ')} in namespace '${namespace}'; nothing was changed`,
          fix: `apply the suite's Role there and bind it to this identity: kubectl apply -n ${namespace} -f ${options.rbacFile} (it names the service account deploy-suite)`,
        },
      ]);
    return found === true ? {} : { namespaceLabels: found.metadata.labels ?? {} };
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 401)
      throw new InputError([
        {
          input: 'kubeconfig',
          problem: `the cluster refused the credential of ${who} (401 Unauthorized): it has expired, was revoked, or is for another cluster`,
          fix: 'give a fresh token (kubectl create token deploy-suite -n <namespace>), or run the cloud login step again before this one',
        },
      ]);
    // The server's certificate (name or CA) is the kubeconfig's to fix: its message says which field.
    if (error instanceof KubeApiError && error.status === -1)
      throw new InputError([
        { input: 'kubeconfig', problem: error.problem, fix: error.fix ?? 'fix the cluster entry of the kubeconfig' },
      ]);
    throw error;
  }
}

/** A rule of a SelfSubjectRulesReview, as the API server returns it. */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/**
 * Whether a rule grants a verb on every object of a resource: rules restricted to named objects grant
 * less than a run needs (it creates objects). '*' matches anything, as RBAC reads it.
 */
export function ruleGrants(rule: ResourceRule, need: AccessNeed, verb: string): boolean {
  const has = (list: string[] | undefined, value: string) => !!list && (list.includes('*') || list.includes(value));
  return (
    has(rule.verbs, verb) &&
    has(rule.apiGroups, need.group) &&
    has(rule.resources, need.resource) &&
    !(rule.resourceNames && rule.resourceNames.length > 0)
  );
}

interface RulesReview {
  status?: { resourceRules?: ResourceRule[]; incomplete?: boolean };
}

/**
 * The rights a run needs that the identity lacks. One SelfSubjectRulesReview lists what RBAC grants in the
 * namespace (one request, not twenty); a right the rules do not show is asked again by a
 * SelfSubjectAccessReview when the list is incomplete (a webhook authorizer, as on EKS or AKS, may grant
 * what RBAC does not list), and is missing when the list is complete. None when the cluster answers
 * neither review (403/404 on them): the requests themselves will tell.
 */
async function deniedRights(client: KubeClient, namespace: string, needs: AccessNeed[]): Promise<string[]> {
  let rules: ResourceRule[] = [];
  let incomplete = true;
  try {
    const review = await client.request<RulesReview>('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace } },
    });
    rules = review?.status?.resourceRules ?? [];
    incomplete = review?.status?.incomplete !== false;
  } catch (error) {
    if (!(error instanceof KubeApiError && (error.status === 403 || error.status === 404))) throw error;
  }
  const byRules = (need: AccessNeed, verb: string) => rules.some((rule) => ruleGrants(rule, need, verb));
  const unseen = needs.flatMap((need) =>
    need.verbs.filter((verb) => !byRules(need, verb)).map((verb) => ({ need, verb })),
  );
  if (unseen.length === 0 || !incomplete) return missingRights(needs, byRules);
  try {
    const reviews = await Promise.all(
      unseen.map(async ({ need, verb }) => {
        const review = await client.request<AccessReview>(
          'POST',
          '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          {
            body: {
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SelfSubjectAccessReview',
              spec: { resourceAttributes: { namespace, verb, group: need.group, resource: need.resource } },
            },
          },
        );
        return { need, verb, allowed: review?.status?.allowed === true };
      }),
    );
    return missingRights(
      needs,
      (need, verb) => byRules(need, verb) || reviews.some((r) => r.need === need && r.verb === verb && r.allowed),
    );
  } catch (error) {
    if (error instanceof KubeApiError && (error.status === 403 || error.status === 404)) return [];
    throw error;
  }
}

/** What the preflight read on the way: the namespace's labels, when the identity may read the namespace. */
export interface Preflight {
  namespaceLabels?: Record<string, string>;
}

/**
 * The namespace (false: it does not exist; true: it exists, unread), asked in a way a namespaced Role can
 * answer: a GET of the namespace needs a cluster-wide right, so on 403 a dry-run create of a ConfigMap
 * tells (404 names the missing namespace).
 */
async function readNamespace(client: KubeClient, namespace: string): Promise<KubeObject | boolean> {
  try {
    return await client.request<KubeObject>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}`);
  } catch (error) {
    if (!(error instanceof KubeApiError)) throw error;
    if (error.status === 404) return false;
    if (error.status !== 403) throw error;
  }
  try {
    await client.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'deploy-suite-preflight-' } },
      query: { dryRun: 'All' },
    });
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return false;
    // 403: no right to create ConfigMaps, which the access review reports with the fix.
    if (error instanceof KubeApiError && error.status === 403) return true;
    throw error;
  }
}
