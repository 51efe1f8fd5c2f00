import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { InputReader, maskSecret, readNotifier, type Notifier } from '@deploy-suite/action-kit';
import {
  DIGEST_PATTERN,
  appSecretObject,
  readAppTarget,
  sourceKind,
  type ClusterAccess,
  type KubeObject,
  type ManifestSource,
} from '@deploy-suite/kube';
import { ReferenceError, parseReference } from '@deploy-suite/oci';
import { readImagePolicy, type ImagePolicy } from '@deploy-suite/supply-chain/inputs';
import { readHttpCheck, type HttpCheck } from '@deploy-suite/checks';

export const MODES = ['deploy', 'promote', 'abort', 'expire'] as const;
export type Mode = (typeof MODES)[number];

export interface BluegreenInputs {
  /** deploy (the default), or end a held release: promote it, abort it, abort it only if it expired. */
  mode: Mode;
  /** false: hold the release after its checks, for a later promote run. */
  promote: boolean;
  /** How long a held release may wait for its promote before it is aborted. */
  holdTimeoutSeconds: number;
  access?: ClusterAccess;
  namespace: string;
  app: string;
  image: string;
  replicas: number;
  containerPort: number;
  deploymentTemplate?: KubeObject;
  serviceTemplate?: KubeObject;
  /** The app as users ship it: files, folders, a Kustomize overlay or a Helm chart, rendered in the run. */
  manifests?: ManifestSource;
  /** The Deployment of the manifests that is the app, when they hold several. */
  manifestsDeployment?: string;
  /** The Secret app-secrets makes (values masked), versioned with the revision. */
  appSecret?: KubeObject;
  progressDeadlineSeconds: number;
  /** How long each pre-switch hook Job may run. */
  hookTimeoutSeconds: number;
  lockTimeoutSeconds: number;
  dryRun: boolean;
  /** A first deploy takes over objects other field managers wrote. */
  force: boolean;
  environment: string;
  environmentUrl: string;
  /** Who hears of the release (notify-webhook); a silent one without. */
  notifier: Notifier;
  githubToken: string;
  /** How long the previous colour stays warm after the switch; undefined: kept (for a rollback in seconds). */
  scaleDownDelayMs?: number;
  /** HTTP checks of the new colour through its preview route, before the switch. */
  previewCheck?: HttpCheck;
  /** Who must have signed the images, and which images. */
  imagePolicy: ImagePolicy;
  /** The Pod Security Standard the pod templates are checked against (off: not checked), and what a violation does. */
  podSecurity: 'restricted' | 'baseline' | 'off';
  podSecurityAction: 'warn' | 'enforce';
}

/**
 * A user's manifest file used as a template: the first document of `kind` in it, checked by `check`
 * (which returns [problem, fix] when it is unusable).
 */
function readTemplate(
  reader: InputReader,
  input: string,
  kind: string,
  workspace: string,
  check: (object: KubeObject) => [string, string] | undefined,
): KubeObject | undefined {
  const path = reader.string(input);
  if (!path) return undefined;
  const full = resolve(workspace, path);
  if (!existsSync(full)) {
    reader.problem(input, `file '${path}' does not exist`, 'give a path relative to the workspace');
    return undefined;
  }
  const docs = parseAllDocuments(readFileSync(full, 'utf8'));
  const errors = docs.flatMap((d) => d.errors);
  if (errors.length) {
    reader.problem(input, `'${path}' is not valid YAML: ${errors[0]!.message.split('\n')[0]}`, 'fix the YAML');
    return undefined;
  }
  const object = docs.map((d) => d.toJS() as KubeObject | null).find((o): o is KubeObject => o?.kind === kind);
  if (!object) {
    reader.problem(input, `'${path}' holds no ${kind}`, `give a file with a kind: ${kind} document`);
    return undefined;
  }
  const unusable = check(object);
  if (unusable) {
    reader.problem(input, `the ${kind} in '${path}' ${unusable[0]}`, unusable[1]);
    return undefined;
  }
  return object;
}

/** Reads and checks every input before anything touches the cluster; the kubeconfig is masked first. */
export function readBluegreenInputs(
  reader: InputReader,
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
): BluegreenInputs {
  const { access, namespace, app } = readAppTarget(reader, env);
  const mode = reader.oneOf('mode', MODES, 'deploy');
  const promote = reader.boolean('promote', true);
  const holdTimeoutSeconds = reader.durationSeconds('hold-timeout', 86_400);
  if (!promote && mode !== 'deploy')
    reader.problem(
      'promote',
      `is false with mode ${mode}: promote: false holds a deploy`,
      `drop promote (mode ${mode} ends the held release)`,
    );
  if (!promote && reader.boolean('dry-run', false))
    reader.problem('promote', 'is false with dry-run: true, which changes nothing to hold', 'drop one of them');

  // Ending a hold needs no image: given, it must be the held one (what the person pressing promote checked).
  const imageText = reader.string('image', { required: mode === 'deploy' });
  // Ending a hold, the digest alone says which release (what a person pastes into a dispatch form).
  if (imageText && !(mode !== 'deploy' && DIGEST_PATTERN.test(imageText))) {
    try {
      const ref = parseReference(imageText);
      if (!ref.digest)
        reader.problem(
          'image',
          `'${imageText}' names a tag, not a digest; a tag can move, so a deploy of it cannot be verified or rolled back exactly`,
          "pass the digest: build-image's 'image' output, or name@sha256:…",
        );
    } catch (error) {
      reader.problem(
        'image',
        error instanceof ReferenceError ? error.message : String(error),
        'pass name@sha256:<64 hex digits>',
      );
    }
  }
  const replicas = reader.positiveInt('replicas', 2);
  const containerPort = reader.positiveInt('container-port', 8080);
  if (containerPort > 65535) reader.problem('container-port', `${containerPort} is not a port`, 'use 1-65535');

  const deploymentTemplate = readTemplate(reader, 'deployment-template', 'Deployment', workspace, (deployment) =>
    (deployment.spec as { template?: { spec?: { containers?: unknown[] } } } | undefined)?.template?.spec?.containers
      ?.length
      ? undefined
      : ['has no containers', 'add spec.template.spec.containers'],
  );
  const serviceTemplate = readTemplate(reader, 'service-template', 'Service', workspace, (service) => {
    const ports = (service.spec as { ports?: { port?: unknown }[] } | undefined)?.ports;
    if (ports !== undefined && (!Array.isArray(ports) || ports.some((p) => typeof p?.port !== 'number')))
      return ['has ports without a numeric port', 'give each entry of spec.ports a port number'];
    return undefined;
  });
  const manifests = readManifestSource(reader, workspace, namespace, app);
  if (manifests && (deploymentTemplate || serviceTemplate))
    reader.problem(
      'manifests',
      `is set with ${deploymentTemplate ? 'deployment-template' : 'service-template'}: the manifests hold the app's Deployment and Service`,
      'give the manifests alone (their Deployment and Service are the templates), or the templates without manifests',
    );
  const manifestsDeployment = reader.string('manifests-deployment');
  if (manifestsDeployment && !manifests)
    reader.problem('manifests-deployment', 'is set without manifests', 'set manifests, or drop manifests-deployment');
  const appSecret = readAppSecret(reader, app);
  const progressDeadlineSeconds = reader.durationSeconds('progress-deadline', 300);
  const lockTimeoutSeconds = reader.durationSeconds('lock-timeout', 300);
  const hookTimeoutSeconds = reader.durationSeconds('hook-timeout', 300);
  const dryRun = reader.boolean('dry-run', false);
  const force = reader.boolean('force', false);
  const githubToken = reader.raw('github-token');
  maskSecret(githubToken);
  const environment = reader.string('environment');
  const environmentUrl = reader.string('environment-url');
  if (environmentUrl && !/^https?:\/\/\S+$/.test(environmentUrl))
    reader.problem('environment-url', `'${environmentUrl}' is not an http(s) URL`, 'use https://…');
  // A promote sets the URL on the GitHub deployment its hold created, in the environment named then.
  if (environmentUrl && !environment && mode === 'deploy')
    reader.problem(
      'environment',
      'is empty while environment-url is set',
      'name the GitHub environment, e.g. production',
    );
  const previewCheck = readHttpCheck(reader, 'preview');
  const keep = /^(keep|never|)$/i.test(reader.raw('scale-down-delay'));
  const scaleDownDelayMs = keep
    ? undefined
    : /^0+(ms|s|m|h)?$/.test(reader.raw('scale-down-delay'))
      ? 0
      : reader.durationMs('scale-down-delay', 0);
  const imagePolicy = readImagePolicy(reader, workspace);
  const podSecurity = reader.oneOf('pod-security', ['restricted', 'baseline', 'off'] as const, 'restricted');
  const podSecurityAction = reader.oneOf('pod-security-action', ['warn', 'enforce'] as const, 'warn');
  if (podSecurity === 'off' && reader.raw('pod-security-action') === 'enforce')
    reader.problem(
      'pod-security-action',
      'is enforce while pod-security is off: nothing is checked to enforce',
      'set pod-security to restricted or baseline, or drop pod-security-action',
    );
  const notifier = readNotifier(reader);
  reader.done();
  return {
    notifier,
    mode,
    promote,
    holdTimeoutSeconds,
    podSecurity,
    podSecurityAction,
    imagePolicy,
    ...(previewCheck ? { previewCheck } : {}),
    ...(scaleDownDelayMs !== undefined ? { scaleDownDelayMs } : {}),
    ...(access ? { access } : {}),
    namespace,
    app,
    image: imageText,
    replicas,
    containerPort,
    ...(deploymentTemplate ? { deploymentTemplate } : {}),
    ...(serviceTemplate ? { serviceTemplate } : {}),
    ...(manifests ? { manifests } : {}),
    ...(manifestsDeployment ? { manifestsDeployment } : {}),
    ...(appSecret ? { appSecret } : {}),
    progressDeadlineSeconds,
    hookTimeoutSeconds,
    lockTimeoutSeconds,
    dryRun,
    force,
    environment,
    environmentUrl,
    githubToken,
  };
}

/**
 * `manifests` (paths, one a line or comma-separated: files, folders, Kustomize overlays, Helm charts)
 * with `helm-values` and `helm-set` for a chart. Checked here; rendered by the run.
 */
function readManifestSource(
  reader: InputReader,
  workspace: string,
  namespace: string,
  app: string,
): ManifestSource | undefined {
  const paths = reader.list('manifests', { separators: 'newline-or-comma' });
  const valuesFiles = reader.list('helm-values', { separators: 'newline-or-comma' });
  const set = reader.list('helm-set', { separators: 'newline' });
  const existing = (input: string, list: string[]) =>
    list.flatMap((path) => {
      const full = resolve(workspace, path);
      if (existsSync(full)) return [full];
      reader.problem(
        input,
        `'${path}' does not exist`,
        'give a path relative to the workspace (check out the repository first)',
      );
      return [];
    });
  const resolved = existing('manifests', paths);
  const values = existing('helm-values', valuesFiles);
  for (const setting of set)
    if (!/^[^=\s][^=]*=/.test(setting))
      reader.problem(
        'helm-set',
        `'${setting}' is not key=value`,
        'give one helm --set value a line, e.g. image.pullPolicy=Always',
      );
  const charts = resolved.filter((path) => sourceKind(path) === 'helm');
  if ((valuesFiles.length || set.length) && paths.length && !charts.length)
    reader.problem(
      valuesFiles.length ? 'helm-values' : 'helm-set',
      `is set, but no path of manifests is a Helm chart (a folder with Chart.yaml, or a .tgz)`,
      'point manifests at the chart, or drop the helm inputs',
    );
  if ((valuesFiles.length || set.length) && !paths.length)
    reader.problem(
      valuesFiles.length ? 'helm-values' : 'helm-set',
      'is set without manifests',
      'set manifests to the chart',
    );
  if (!paths.length) return undefined;
  return { paths: resolved, workspace, namespace, helm: { release: app, valuesFiles: values, set } };
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * `app-secrets` (KEY=value or dotenv lines from repository secrets, every value masked at once) as the
 * Secret `app-secrets-name` (default <app>-secrets) of the revision.
 */
function readAppSecret(reader: InputReader, app: string): KubeObject | undefined {
  const values = reader.dotenv('app-secrets');
  const given = reader.string('app-secrets-name');
  if (given && values.size === 0)
    reader.problem('app-secrets-name', 'is set without app-secrets', 'set app-secrets, or drop app-secrets-name');
  const name = given || `${app}-secrets`;
  // The versioned copy adds -<10 hex>: 253 characters at most in all.
  if (given && (!DNS_SUBDOMAIN.test(name) || name.length > 242))
    reader.problem(
      'app-secrets-name',
      `'${name}' is not a Secret name`,
      'use lowercase letters, digits, - and ., at most 242 characters',
    );
  return values.size ? appSecretObject(name, values) : undefined;
}
