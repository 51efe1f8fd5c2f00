import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { parse } from 'yaml';
// The config module alone: the package's index also loads the generated API client (~300 KB) the suite never uses.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { newClusters, newContexts, newUsers, type User } from '@kubernetes/client-node/dist/config_types.js';
import { InputError, maskSecret, type TlsOptions } from '@deploy-suite/action-kit';

/** What one request to the cluster carries: its authorization headers and the TLS options of its connection. */
export interface Credentials {
  headers: Record<string, string>;
  tls: TlsOptions;
}

/**
 * How to reach and authenticate to one cluster: a kubeconfig's context resolved by @kubernetes/client-node,
 * which loads, merges and authenticates as kubectl does (exec plugins, token files, OIDC, client certificates).
 */
export interface ClusterAccess {
  server: string;
  /** The context's namespace, if it names one. */
  namespace?: string;
  /** Where it came from, for messages (never the content). */
  source: string;
  context: string;
  user: string;
  /** The cluster's proxy-url: overrides HTTPS_PROXY for the API server, as in kubectl. */
  proxyUrl?: string;
  /** The secrets the kubeconfig itself holds (token, client key, password), for masking before anything prints. */
  secrets: string[];
  /** The credentials of the next request; an exec plugin runs again once its credential has expired. */
  credentials(): Promise<Credentials>;
  /**
   * The API server refused the credentials (401) before their expiry (revoked, rotated): forgets an exec
   * plugin's cached credential so the next request runs the plugin again, as kubectl does. False when
   * there is nothing to renew (a token or certificate written in the kubeconfig).
   */
  renewCredentials(): boolean;
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

type Raw = Record<string, unknown>;
interface RawNamed {
  name?: string;
  [key: string]: unknown;
}
interface RawConfig {
  'current-context'?: string;
  clusters?: RawNamed[];
  contexts?: RawNamed[];
  users?: RawNamed[];
}

const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** How long a credential plugin may take: a plugin waiting for a browser or device login would hang the job. */
const PLUGIN_TIMEOUT_MS = 120_000;

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** The YAML of a kubeconfig given raw or as base64 (as secrets often hold it). */
function kubeconfigText(text: string): string {
  const body = text.trim();
  if (body !== '' && !/^(apiVersion|kind|clusters|contexts|current-context|users|preferences|\{|#|---)/m.test(body)) {
    const decoded = decode(body.replace(/\s+/g, ''));
    if (/^(apiVersion|clusters|contexts|current-context|users)\s*:/m.test(decoded)) return decoded;
  }
  return body;
}

function parseRaw(text: string, source: string, oneOfSeveral = false): RawConfig {
  let config: unknown;
  try {
    config = parse(kubeconfigText(text));
  } catch (error) {
    throw new KubeconfigError(
      `${source} is not valid YAML (${(error as Error).message.split('\n')[0]})`,
      'pass the kubeconfig file content, raw or base64-encoded',
    );
  }
  // One of several KUBECONFIG files may hold only users or contexts; the merge must have clusters.
  if (!config || typeof config !== 'object' || (!oneOfSeveral && !Array.isArray((config as RawConfig).clusters))) {
    throw new KubeconfigError(
      `${source} has no clusters`,
      'pass a kubeconfig (kubectl config view --raw --minify) rather than a token or a certificate',
    );
  }
  return config as RawConfig;
}

/**
 * What kubectl does to a file before merging it, and @kubernetes/client-node does not: file paths made
 * absolute against the file's folder (an exec command too, when it has a slash), `tokenFile` (kubectl's
 * key) read through the library's token-file provider so it is read again as it rotates, and
 * KUBERNETES_EXEC_INFO given to exec plugins (some read it to know they may not prompt).
 */
function normalise(config: RawConfig, baseDir: string | undefined): RawConfig {
  const absolute = (path: unknown) =>
    typeof path === 'string' && baseDir && path !== '' && !isAbsolute(path) ? join(baseDir, path) : path;
  for (const entry of config.clusters ?? []) {
    const cluster = entry.cluster as Raw | undefined;
    if (cluster?.['certificate-authority'])
      cluster['certificate-authority'] = absolute(cluster['certificate-authority']);
  }
  for (const entry of config.users ?? []) {
    const user = entry.user as Raw | undefined;
    if (!user) continue;
    for (const key of ['client-certificate', 'client-key', 'tokenFile']) if (user[key]) user[key] = absolute(user[key]);
    if (typeof user.tokenFile === 'string' && !user.token && !user['auth-provider']) {
      user['auth-provider'] = { name: 'tokenFile', config: { tokenFile: user.tokenFile } };
    }
    const exec = user.exec as Raw | undefined;
    if (exec && typeof exec === 'object') {
      if (typeof exec.command === 'string' && exec.command.includes('/')) exec.command = absolute(exec.command);
      const env = Array.isArray(exec.env) ? (exec.env as { name: string; value: string }[]) : [];
      const info = { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } };
      exec.env = [...env, { name: 'KUBERNETES_EXEC_INFO', value: JSON.stringify(info) }];
    }
  }
  return config;
}

/** kubectl's merge of several files: the first file to name a cluster, user or context wins, and the first current-context. */
function merge(configs: RawConfig[]): RawConfig {
  const merged: RawConfig = { clusters: [], contexts: [], users: [] };
  for (const config of configs) {
    if (!merged['current-context'] && config['current-context']) merged['current-context'] = config['current-context'];
    for (const key of ['clusters', 'contexts', 'users'] as const) {
      for (const entry of config[key] ?? []) {
        if (!merged[key]!.some((seen) => seen.name === entry.name)) merged[key]!.push(entry);
      }
    }
  }
  return merged;
}

function commandOf(user: User): string {
  const exec = user.exec as { command?: string; args?: string[] };
  return [exec.command, ...(exec.args ?? [])].join(' ');
}

/** Whether `command` would start: a path that is executable, or a name found on PATH. */
function commandExists(command: string, env: NodeJS.ProcessEnv): boolean {
  const candidates = command.includes('/')
    ? [command]
    : (env.PATH ?? '').split(delimiter).map((dir) => join(dir || '.', command));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function checkUser(user: User, source: string, env: NodeJS.ProcessEnv): void {
  const at = `${source}: user '${user.name}'`;
  if (user.exec) {
    const exec = user.exec as { command?: string; apiVersion?: string; interactiveMode?: string; installHint?: string };
    if (!exec.command)
      throw new KubeconfigError(`${at} has an exec plugin without a command`, 'set users[].user.exec.command');
    if (!EXEC_API_VERSIONS.includes(exec.apiVersion ?? ''))
      throw new KubeconfigError(
        `${at}: exec apiVersion '${exec.apiVersion ?? ''}' is not one the suite (or kubectl) speaks`,
        `use ${EXEC_API_VERSIONS.join(' or ')} (regenerate the kubeconfig with the cloud CLI of today)`,
      );
    if (exec.interactiveMode === 'Always')
      throw new KubeconfigError(
        `${at}: the exec plugin '${commandOf(user)}' needs a terminal (interactiveMode: Always), and an action has none`,
        'use a non-interactive login (a workload identity or service principal) and interactiveMode: Never',
      );
    if (!commandExists(exec.command, env))
      throw new KubeconfigError(
        `${at}: the exec plugin command '${exec.command}' is not on PATH`,
        exec.installHint?.trim() ||
          `install ${exec.command} on the runner (or run the cloud's setup action) before this step`,
      );
  }
  const provider = (user.authProvider as { name?: string } | undefined)?.name;
  if (provider && provider !== 'oidc' && provider !== 'tokenFile') {
    throw new KubeconfigError(
      `${at} uses the '${provider}' auth provider, which Kubernetes removed`,
      provider === 'gcp'
        ? 'use gke-gcloud-auth-plugin (an exec plugin): gcloud container clusters get-credentials writes it'
        : provider === 'azure'
          ? 'convert the kubeconfig to an exec plugin: kubelogin convert-kubeconfig -l azurecli (or workloadidentity)'
          : 'use an exec plugin, a token or a client certificate',
    );
  }
  if (!!(user.certData || user.certFile) !== !!(user.keyData || user.keyFile))
    throw new KubeconfigError(
      `${at} has a client certificate without its key (or the reverse)`,
      'include both client-certificate-data and client-key-data',
    );
}

const credentialError = (problem: string, fix: string) => new InputError([{ input: 'kubeconfig', problem, fix }]);

/** Why a plugin failed, in one line: its stderr, Node's spawn code, or the JSON error. */
function pluginFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  if (code) return `it could not start (${code})`;
  if (error instanceof SyntaxError) return `it printed something that is not an ExecCredential (${message})`;
  if (error instanceof TypeError)
    return 'it printed JSON without a status (an ExecCredential has status.token or a client certificate)';
  const stderr = message.trim().split('\n').slice(-3).join(' | ');
  return stderr ? `it failed: ${stderr}` : 'it exited with an error and printed nothing on stderr';
}

function resolveAccess(kc: KubeConfig, source: string, contextName: string | undefined, env: NodeJS.ProcessEnv) {
  const name = contextName || kc.getCurrentContext();
  const context = name ? kc.getContextObject(name) : null;
  if (!context) {
    const names = kc.getContexts().map((c) => c.name);
    throw new KubeconfigError(
      `${source} has no context '${name ?? ''}'`,
      contextName
        ? `name one of: ${names.join(', ') || '(none)'}`
        : `set current-context, or pass the context input (one of: ${names.join(', ') || '(none)'})`,
    );
  }
  kc.setCurrentContext(context.name);
  const cluster = kc.getCluster(context.cluster);
  if (!cluster)
    throw new KubeconfigError(
      `${source}: context '${context.name}' names no cluster '${context.cluster}'`,
      'add the cluster to the kubeconfig',
    );
  if (!/^https?:\/\/[^/]/.test(cluster.server))
    throw new KubeconfigError(`${source}: server '${cluster.server}' is not an http(s) URL`, 'use https://host:port');
  if (cluster.proxyUrl && !/^(https?|socks5h?):\/\/[^/]/.test(cluster.proxyUrl))
    throw new KubeconfigError(
      `${source}: cluster '${cluster.name}' has proxy-url '${cluster.proxyUrl}', which is not a proxy URL`,
      'use http://host:port, https://host:port or socks5://host:port',
    );
  if (cluster.proxyUrl?.startsWith('socks'))
    throw new KubeconfigError(
      `${source}: cluster '${cluster.name}' has a SOCKS proxy-url, which the suite does not speak yet`,
      'use an HTTP CONNECT proxy (http://host:port), or HTTPS_PROXY in the job',
    );
  const user = context.user ? kc.getUser(context.user) : null;
  if (user) checkUser(user, source, env);
  return { context, cluster, user };
}

/** Builds one ClusterAccess from a loaded KubeConfig: validates the context, then authenticates request by request. */
function accessOf(
  kc: KubeConfig,
  source: string,
  contextName: string | undefined,
  env: NodeJS.ProcessEnv,
): ClusterAccess {
  const { context, cluster, user } = resolveAccess(kc, source, contextName, env);
  // applyOptions is what applyToHTTPSOptions does without building the library's own agent (no keep-alive,
  // and it refuses http:// servers); the suite's agents (action-kit agents.ts) carry the connection.
  const apply = (kc as unknown as { applyOptions(options: RequestOptions): Promise<void> }).applyOptions.bind(kc);
  const secrets = [user?.token, user?.keyData ? decode(user.keyData) : undefined, user?.password].filter(
    (value): value is string => !!value,
  );
  // What a request's credentials carry is masked once, when first seen: a rotated token or a plugin's new
  // certificate key, not the same key again on every request.
  const masked = new Set(secrets);
  const mask = (secret: string) => {
    if (masked.has(secret)) return;
    maskSecret(secret);
    masked.add(secret);
  };
  const describe = user?.exec ? `${source}: user '${user.name}': the credential plugin '${commandOf(user)}'` : '';
  return {
    server: cluster.server,
    ...(context.namespace ? { namespace: context.namespace } : {}),
    source,
    context: context.name,
    user: user?.name ?? '',
    ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}),
    secrets,
    renewCredentials() {
      if (!user?.exec) return false;
      // The library's exec authenticator caches a credential by user name until its expirationTimestamp.
      const authenticators = (kc as unknown as { authenticators: { tokenCache?: Record<string, unknown> }[] })
        .authenticators;
      const exec = authenticators.find((authenticator) => authenticator.tokenCache !== undefined);
      if (!exec?.tokenCache) return false;
      exec.tokenCache[user.name] = null;
      return true;
    },
    async credentials() {
      const options: RequestOptions & { headers: Record<string, string> } = { headers: {} };
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          apply(options),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${PLUGIN_TIMEOUT_MS / 1000} s`)),
              PLUGIN_TIMEOUT_MS,
            );
            timer.unref();
          }),
        ]);
      } catch (error) {
        // An input error (the kubeconfig's user), raised at the first request: before anything is changed.
        if (!describe)
          throw credentialError(
            `${source}: user '${user?.name}': ${(error as Error).message}`,
            'check the kubeconfig user',
          );
        throw credentialError(
          `${describe}: ${pluginFailure(error)}`,
          "run the cloud's login step first in the same job (aws-actions/configure-aws-credentials, azure/login, google-github-actions/auth) and check the plugin's own message",
        );
      } finally {
        clearTimeout(timer);
      }
      const headers: Record<string, string> = {};
      const authorization = options.headers.Authorization?.trim();
      if (authorization) headers.authorization = authorization;
      else if (user?.username)
        headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      if (options.headers['Impersonate-User']) headers['impersonate-user'] = options.headers['Impersonate-User'];
      if (describe && !authorization && !options.cert)
        throw credentialError(
          `${describe}: it printed an ExecCredential without status.token or status.clientCertificateData`,
          "check that the cloud's login step ran first in the same job, and the plugin: it must print a credential for this cluster",
        );
      const token = authorization?.replace(/^Bearer\s+/i, '');
      if (token) mask(token);
      if (options.key) mask(options.key.toString());
      return {
        headers,
        tls: {
          ...(options.ca ? { ca: options.ca as Buffer } : {}),
          ...(options.cert ? { cert: options.cert as Buffer } : {}),
          ...(options.key ? { key: options.key as Buffer } : {}),
          ...(options.servername ? { servername: options.servername } : {}),
          ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
        },
      };
    },
  };
}

function loadRaw(config: RawConfig, source: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    // The library's own readers of each list, on the object already parsed (loadFromString would parse
    // the text again with js-yaml).
    kc.loadFromOptions({
      clusters: newClusters(config.clusters),
      users: newUsers(config.users),
      contexts: newContexts(config.contexts),
      currentContext: config['current-context'],
    });
  } catch (error) {
    throw new KubeconfigError(
      `${source}: ${(error as Error).message}`,
      'fix the kubeconfig entry named (kubectl config view shows it)',
    );
  }
  return kc;
}

export interface KubeconfigOptions {
  /** A context other than the current one (the `context` input). */
  context?: string;
  /** The folder relative file paths are read from. */
  baseDir?: string;
  source?: string;
  env?: NodeJS.ProcessEnv;
}

/** Parses one kubeconfig given as YAML or as base64 of YAML, resolving its current context (or the one named). */
export function parseKubeconfig(text: string, options: KubeconfigOptions = {}): ClusterAccess {
  const source = options.source ?? 'kubeconfig';
  const config = normalise(parseRaw(text, source), options.baseDir);
  return accessOf(loadRaw(config, source), source, options.context, options.env ?? process.env);
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Cluster access in the order kubectl takes it: the kubeconfig input (raw or base64), else every file
 * KUBECONFIG names (merged as kubectl merges them: first wins), else ~/.kube/config, else in-cluster
 * (the pod's service account, its token read again as it rotates).
 */
export function loadClusterAccess(
  input: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { context?: string } = {},
): ClusterAccess {
  if (input.trim()) return parseKubeconfig(input, { source: "the 'kubeconfig' input", env, ...options });
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((path) => path !== '');
  const files = listed.filter((path) => existsSync(path));
  if (listed.length > 0 && files.length === 0)
    throw new KubeconfigError(
      `KUBECONFIG names ${listed.join(delimiter)}, and none of these files exists`,
      'run the cloud login step that writes it first, or pass the kubeconfig input',
    );
  const home = join(homedir(), '.kube', 'config');
  if (files.length === 0 && existsSync(home)) files.push(home);
  if (files.length > 0) {
    const source = listed.length > 0 ? `KUBECONFIG (${files.join(delimiter)})` : home;
    const configs = files.map((path) =>
      normalise(parseRaw(readFileSync(path, 'utf8'), path, files.length > 1), dirname(path)),
    );
    const merged = merge(configs);
    if (merged.clusters!.length === 0)
      throw new KubeconfigError(`${source} has no clusters`, 'name a kubeconfig file with the cluster in KUBECONFIG');
    return accessOf(loadRaw(merged, source), source, options.context, env);
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT, 'token'))) {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return accessOf(kc, 'in-cluster service account', undefined, env);
  }
  throw new KubeconfigError(
    'no cluster access: the kubeconfig input is empty, KUBECONFIG names no file, there is no ~/.kube/config and this is not a pod',
    'pass kubeconfig: ${{ secrets.KUBECONFIG }}, or log in to the cluster in an earlier step',
  );
}
