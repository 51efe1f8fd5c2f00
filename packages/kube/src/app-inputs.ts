import { maskSecret, type InputReader } from '@deploy-suite/action-kit';
import { KubeconfigError, loadClusterAccess, type ClusterAccess } from './kubeconfig.js';

export interface AppTarget {
  access?: ClusterAccess;
  namespace: string;
  app: string;
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The inputs every action that changes an app shares: `kubeconfig` (masked before anything can print
 * it, with the token, key and password inside it), `context` (default: the current one), `namespace`
 * (default: the context's) and `app`.
 */
export function readAppTarget(reader: InputReader, env: NodeJS.ProcessEnv = process.env): AppTarget {
  const kubeconfig = reader.raw('kubeconfig');
  maskSecret(kubeconfig);
  const context = reader.string('context');
  let access: ClusterAccess | undefined;
  try {
    access = loadClusterAccess(kubeconfig, env, { context });
    for (const secret of access.secrets) maskSecret(secret);
  } catch (error) {
    if (!(error instanceof KubeconfigError)) throw error;
    reader.problem(
      context && /has no context/.test(error.message) ? 'context' : 'kubeconfig',
      error.message,
      error.fix,
    );
  }
  const namespace = reader.string('namespace') || access?.namespace || 'default';
  if (!DNS_LABEL.test(namespace) || namespace.length > 63)
    reader.problem(
      'namespace',
      `'${namespace}' is not a valid namespace name`,
      'use lowercase letters, digits and -, at most 63 characters',
    );
  const app = reader.string('app', { required: true });
  if (app && (!DNS_LABEL.test(app) || app.length > 40))
    reader.problem(
      'app',
      `'${app}' is not a DNS label of at most 40 characters`,
      'use lowercase letters, digits and -, starting with a letter (the names <app>-preview and <app>-deploy-history derive from it)',
    );
  return { ...(access ? { access } : {}), namespace, app };
}
