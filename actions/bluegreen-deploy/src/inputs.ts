import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { InputReader, maskSecret } from '@deploy-suite/action-kit';
import { KubeconfigError, loadClusterAccess, type ClusterAccess, type KubeObject } from '@deploy-suite/kube';
import { ReferenceError, parseReference } from '@deploy-suite/oci';
import { readSignaturePolicy } from '@deploy-suite/supply-chain/inputs';
import type { SignaturePolicy } from '@deploy-suite/supply-chain';
import { readHttpCheck, type HttpCheck } from '@deploy-suite/checks';

export interface BluegreenInputs {
  access?: ClusterAccess;
  namespace: string;
  app: string;
  image: string;
  replicas: number;
  containerPort: number;
  deploymentTemplate?: KubeObject;
  progressDeadlineSeconds: number;
  lockTimeoutSeconds: number;
  dryRun: boolean;
  environment: string;
  environmentUrl: string;
  githubToken: string;
  /** How long the previous colour stays warm after the switch; undefined: kept (for a rollback in seconds). */
  scaleDownDelayMs?: number;
  /** HTTP checks of the new colour through its preview route, before the switch. */
  previewCheck?: HttpCheck;
  /** Who must have signed the image; undefined: signatures are not checked. */
  signaturePolicy?: SignaturePolicy;
  registryCredentials?: { username: string; password: string };
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Reads and checks every input before anything touches the cluster; the kubeconfig is masked first. */
export function readBluegreenInputs(reader: InputReader, workspace: string, env: NodeJS.ProcessEnv = process.env): BluegreenInputs {
  const kubeconfig = reader.raw('kubeconfig');
  maskSecret(kubeconfig);
  let access: ClusterAccess | undefined;
  try {
    access = loadClusterAccess(kubeconfig, env);
    maskSecret(access.token);
    maskSecret(access.clientKey);
    maskSecret(access.password);
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    reader.problem('kubeconfig', error.message, error.fix);
  }

  const namespace = reader.string('namespace') || access?.namespace || 'default';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) reader.problem('namespace', `'${namespace}' is not a valid namespace name`, 'use lowercase letters, digits and -, at most 63 characters');
  const app = reader.string('app', { required: true });
  if (app && (!DNS_LABEL.test(app) || app.length > 40)) reader.problem('app', `'${app}' is not a DNS label of at most 40 characters`, 'use lowercase letters, digits and -, starting with a letter (the names <app>-preview and <app>-deploy-history derive from it)');

  const imageText = reader.string('image', { required: true });
  if (imageText) {
    try {
      const ref = parseReference(imageText);
      if (!ref.digest) reader.problem('image', `'${imageText}' names a tag, not a digest; a tag can move, so a deploy of it cannot be verified or rolled back exactly`, "pass the digest: build-image's 'image' output, or name@sha256:…");
    } catch (error) {
      reader.problem('image', error instanceof ReferenceError ? error.message : String(error), 'pass name@sha256:<64 hex digits>');
    }
  }
  const replicas = reader.positiveInt('replicas', 2);
  const containerPort = reader.positiveInt('container-port', 8080);
  if (containerPort > 65535) reader.problem('container-port', `${containerPort} is not a port`, 'use 1-65535');

  let deploymentTemplate: KubeObject | undefined;
  const templatePath = reader.string('deployment-template');
  if (templatePath) {
    const full = resolve(workspace, templatePath);
    if (!existsSync(full)) {
      reader.problem('deployment-template', `file '${templatePath}' does not exist`, 'give a path relative to the workspace');
    } else {
      const docs = parseAllDocuments(readFileSync(full, 'utf8'));
      const errors = docs.flatMap((d) => d.errors);
      const objects = docs.map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => !!o);
      const deployment = objects.find((o) => o.kind === 'Deployment');
      if (errors.length) reader.problem('deployment-template', `'${templatePath}' is not valid YAML: ${errors[0]!.message.split('\n')[0]}`, 'fix the YAML');
      else if (!deployment) reader.problem('deployment-template', `'${templatePath}' holds no Deployment`, 'give a file with a kind: Deployment document');
      else if (!(deployment.spec as { template?: { spec?: { containers?: unknown[] } } } | undefined)?.template?.spec?.containers?.length) reader.problem('deployment-template', `the Deployment in '${templatePath}' has no containers`, 'add spec.template.spec.containers');
      else deploymentTemplate = deployment;
    }
  }
  const progressDeadlineSeconds = reader.durationSeconds('progress-deadline', 300);
  const lockTimeoutSeconds = reader.durationSeconds('lock-timeout', 300);
  const dryRun = reader.boolean('dry-run', false);
  const githubToken = reader.raw('github-token');
  maskSecret(githubToken);
  const environment = reader.string('environment');
  const environmentUrl = reader.string('environment-url');
  if (environmentUrl && !/^https?:\/\/\S+$/.test(environmentUrl)) reader.problem('environment-url', `'${environmentUrl}' is not an http(s) URL`, 'use https://…');
  if (environmentUrl && !environment) reader.problem('environment', 'is empty while environment-url is set', 'name the GitHub environment, e.g. production');
  const previewCheck = readHttpCheck(reader, 'preview');
  const keep = /^(keep|never|)$/i.test(reader.raw('scale-down-delay'));
  const scaleDownDelayMs = keep ? undefined : /^0+$/.test(reader.raw('scale-down-delay')) ? 0 : reader.durationMs('scale-down-delay', 0);
  const signaturePolicy = readSignaturePolicy(reader, workspace);
  const registryPassword = reader.raw('registry-password');
  maskSecret(registryPassword);
  const registryUsername = reader.string('registry-username');
  if (registryUsername && !registryPassword) reader.problem('registry-password', 'is empty while registry-username is set', 'pass the registry password or token from a secret');
  if (registryPassword && !registryUsername) reader.problem('registry-username', 'is empty while registry-password is set', 'give the registry username');
  reader.done();
  return {
    ...(signaturePolicy ? { signaturePolicy } : {}),
    ...(previewCheck ? { previewCheck } : {}),
    ...(scaleDownDelayMs !== undefined ? { scaleDownDelayMs } : {}),
    ...(registryUsername ? { registryCredentials: { username: registryUsername, password: registryPassword } } : {}),
    ...(access ? { access } : {}),
    namespace,
    app,
    image: imageText,
    replicas,
    containerPort,
    ...(deploymentTemplate ? { deploymentTemplate } : {}),
    progressDeadlineSeconds,
    lockTimeoutSeconds,
    dryRun,
    environment,
    environmentUrl,
    githubToken,
  };
}
