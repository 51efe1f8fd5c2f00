import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/** How to reach and authenticate to one cluster: what a kubeconfig's current context resolves to. */
export interface ClusterAccess {
  server: string;
  /** PEM; undefined means the system's trust store. */
  ca?: string;
  insecureSkipTlsVerify?: boolean;
  clientCert?: string;
  clientKey?: string;
  token?: string;
  username?: string;
  password?: string;
  /** The context's namespace, if it names one. */
  namespace?: string;
  /** Where it came from, for messages (never the content). */
  source: string;
}

export class KubeconfigError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
  clusters?: {
    name: string;
    cluster?: {
      server?: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }[];
  users?: {
    name: string;
    user?: {
      'client-certificate-data'?: string;
      'client-key-data'?: string;
      'client-certificate'?: string;
      'client-key'?: string;
      token?: string;
      tokenFile?: string;
      username?: string;
      password?: string;
      exec?: unknown;
      'auth-provider'?: unknown;
    };
  }[];
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/**
 * Parses a kubeconfig given as YAML or as base64 of YAML (as secrets often hold it), resolving its
 * current context (or the one named). Files it names are read relative to `baseDir`.
 */
export function parseKubeconfig(
  text: string,
  options: { context?: string; baseDir?: string; source?: string } = {},
): ClusterAccess {
  const source = options.source ?? 'kubeconfig';
  let body = text.trim();
  if (body !== '' && !/^(apiVersion|kind|clusters|contexts|current-context|users|preferences|\{|#|---)/m.test(body)) {
    const decoded = decode(body.replace(/\s+/g, ''));
    if (/^(apiVersion|clusters|contexts|current-context|users)\s*:/m.test(decoded)) body = decoded;
  }
  let config: KubeconfigFile;
  try {
    config = parse(body) as KubeconfigFile;
  } catch (error) {
    throw new KubeconfigError(
      `${source} is not valid YAML (${(error as Error).message.split('\n')[0]})`,
      'pass the kubeconfig file content, raw or base64-encoded',
    );
  }
  if (!config || typeof config !== 'object' || !Array.isArray(config.clusters)) {
    throw new KubeconfigError(
      `${source} has no clusters`,
      'pass a kubeconfig (kubectl config view --raw --minify) rather than a token or a certificate',
    );
  }
  const contextName = options.context || config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName);
  if (!context?.context) {
    throw new KubeconfigError(
      `${source} has no context '${contextName ?? ''}'`,
      `set current-context, or name one of: ${(config.contexts ?? []).map((c) => c.name).join(', ') || '(none)'}`,
    );
  }
  const cluster = config.clusters.find((c) => c.name === context.context?.cluster)?.cluster;
  if (!cluster?.server)
    throw new KubeconfigError(
      `${source}: cluster '${context.context.cluster}' has no server`,
      'add the API server URL (https://…) to the cluster',
    );
  if (!/^https?:\/\//.test(cluster.server))
    throw new KubeconfigError(`${source}: server '${cluster.server}' is not an http(s) URL`, 'use https://host:port');
  const user = config.users?.find((u) => u.name === context.context?.user)?.user ?? {};
  if (user.exec || user['auth-provider']) {
    throw new KubeconfigError(
      `${source}: user '${context.context.user}' authenticates through an exec plugin or auth provider, which an action cannot run`,
      'use a service-account token or client certificate (for clouds, run their login action first and pass its KUBECONFIG)',
    );
  }
  const file = (path: string) =>
    readFileSync(options.baseDir && !path.startsWith('/') ? join(options.baseDir, path) : path, 'utf8');
  const access: ClusterAccess = { server: cluster.server.replace(/\/$/, ''), source };
  if (cluster['certificate-authority-data']) access.ca = decode(cluster['certificate-authority-data']);
  else if (cluster['certificate-authority']) access.ca = file(cluster['certificate-authority']);
  if (cluster['insecure-skip-tls-verify']) access.insecureSkipTlsVerify = true;
  if (user['client-certificate-data']) access.clientCert = decode(user['client-certificate-data']);
  else if (user['client-certificate']) access.clientCert = file(user['client-certificate']);
  if (user['client-key-data']) access.clientKey = decode(user['client-key-data']);
  else if (user['client-key']) access.clientKey = file(user['client-key']);
  if (user.token) access.token = user.token;
  else if (user.tokenFile) access.token = file(user.tokenFile).trim();
  if (user.username) access.username = user.username;
  if (user.password) access.password = user.password;
  if (context.context.namespace) access.namespace = context.context.namespace;
  if (!!access.clientCert !== !!access.clientKey)
    throw new KubeconfigError(
      `${source}: user '${context.context.user}' has a client certificate without its key (or the reverse)`,
      'include both client-certificate-data and client-key-data',
    );
  return access;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Cluster access in the order a user expects: the kubeconfig input (raw or base64), else the file
 * KUBECONFIG names (as cloud login actions set it), else ~/.kube/config, else in-cluster.
 */
export function loadClusterAccess(input: string, env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  if (input.trim()) return parseKubeconfig(input, { source: "the 'kubeconfig' input" });
  const path = env.KUBECONFIG?.split(':').find((p) => p && existsSync(p));
  if (path)
    return parseKubeconfig(readFileSync(path, 'utf8'), { source: `KUBECONFIG (${path})`, baseDir: join(path, '..') });
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return parseKubeconfig(readFileSync(home, 'utf8'), { source: home, baseDir: join(home, '..') });
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT, 'token'))) {
    return {
      server: `https://${env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST}:${env.KUBERNETES_SERVICE_PORT ?? '443'}`,
      ca: readFileSync(join(SERVICE_ACCOUNT, 'ca.crt'), 'utf8'),
      token: readFileSync(join(SERVICE_ACCOUNT, 'token'), 'utf8').trim(),
      namespace: readFileSync(join(SERVICE_ACCOUNT, 'namespace'), 'utf8').trim(),
      source: 'in-cluster service account',
    };
  }
  throw new KubeconfigError(
    'no cluster access: the kubeconfig input is empty, KUBECONFIG names no file, there is no ~/.kube/config and this is not a pod',
    'pass kubeconfig: ${{ secrets.KUBECONFIG }}, or log in to the cluster in an earlier step',
  );
}
