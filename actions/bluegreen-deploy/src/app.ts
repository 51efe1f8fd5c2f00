/**
 * What the run deploys, from the inputs: the templates, or the manifests rendered and split, with the
 * app-secrets Secret added; and the rights that takes. Errors in the manifests are input errors of
 * `manifests` (or `app-secrets`), raised before anything changes.
 */
import * as core from '@actions/core';
import { InputError } from '@deploy-suite/action-kit';
import {
  APP_ACCESS,
  KubeApiError,
  ManifestError,
  addAppSecret,
  defaultDeploymentTemplate,
  loadAppManifests,
  manifestAccess,
  type AccessNeed,
  type AppManifests,
  type AppSpec,
  type KubeApi,
} from '@deploy-suite/kube';
import type { BluegreenInputs } from './inputs.js';

export interface PreparedApp {
  spec: AppSpec;
  /** The manifests' parts, when the app came as manifests (for the summary). */
  manifests?: AppManifests;
  /** The namespace's labels, as the preflight read them (its pod-security levels). */
  namespaceLabels?: Record<string, string>;
}

const SECRET_ACCESS: AccessNeed = { group: '', resource: 'secrets', verbs: ['get', 'create', 'patch'] };

/** Renders what needs rendering (in a log group) and says what rights applying it takes. */
export async function prepareApp(
  client: Pick<KubeApi, 'discover' | 'get'>,
  inputs: BluegreenInputs,
): Promise<{ app: PreparedApp; needs: AccessNeed[] }> {
  const base = {
    app: inputs.app,
    namespace: inputs.namespace,
    replicas: inputs.replicas,
    image: inputs.image,
    containerPort: inputs.containerPort,
    progressDeadlineSeconds: inputs.progressDeadlineSeconds,
  };
  if (inputs.manifests) {
    const manifests = await core.group('render the manifests', () =>
      asInputError('manifests', () =>
        loadAppManifests(client, inputs.manifests!, {
          app: inputs.app,
          ...(inputs.manifestsDeployment ? { deployment: inputs.manifestsDeployment } : {}),
          ...(inputs.appSecret ? { appSecret: inputs.appSecret } : {}),
        }),
      ),
    );
    const spec: AppSpec = {
      ...base,
      // The manifests' Deployment says how many replicas, when it does.
      replicas: (manifests.deployment.spec as { replicas?: number } | undefined)?.replicas ?? inputs.replicas,
      deploymentTemplate: manifests.deployment,
      ...(manifests.service ? { serviceTemplate: manifests.service } : {}),
      config: manifests.config,
      ...(manifests.hpa ? { hpa: manifests.hpa } : {}),
      pdbs: manifests.pdbs,
      shared: manifests.shared,
      hooks: manifests.hooks,
    };
    for (const skipped of manifests.skippedHooks) core.info(`not run (a Helm hook the suite does not run): ${skipped}`);
    return { app: { spec, manifests }, needs: [...APP_ACCESS, ...manifestAccess(manifests)] };
  }
  const spec: AppSpec = {
    ...base,
    ...(inputs.deploymentTemplate ? { deploymentTemplate: inputs.deploymentTemplate } : {}),
    ...(inputs.serviceTemplate ? { serviceTemplate: inputs.serviceTemplate } : {}),
  };
  if (!inputs.appSecret) return { app: { spec }, needs: APP_ACCESS };
  const added = await asInputError('app-secrets', async () =>
    addAppSecret(
      {
        deployment: inputs.deploymentTemplate ?? defaultDeploymentTemplate(inputs.app, inputs.containerPort),
        config: [],
        external: [],
      },
      inputs.appSecret!,
      { app: inputs.app, namespace: inputs.namespace },
    ),
  );
  return {
    app: { spec: { ...spec, deploymentTemplate: added.deployment, config: added.config } },
    needs: [...APP_ACCESS, SECRET_ACCESS],
  };
}

async function asInputError<T>(input: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ManifestError) throw new InputError([{ input, problem: error.problem, fix: error.fix }]);
    if (error instanceof KubeApiError && error.reason === 'UnknownKind')
      throw new InputError([{ input, problem: error.problem, fix: error.fix ?? '' }]);
    throw error;
  }
}
