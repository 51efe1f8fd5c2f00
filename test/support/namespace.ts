// A namespace of the local cluster for one test file (or describe block): created before its tests,
// deleted after them, with the admin client the tests read the cluster through.
import { afterAll, beforeAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createKubeClient, parseKubeconfig, type KubeClient } from '@deploy-suite/kube';

/** Registers the hooks; the returned function gives the client once beforeAll has run. */
export function useNamespace(namespace: string): () => KubeClient {
  let client: KubeClient | undefined;
  beforeAll(async () => {
    client = createKubeClient(parseKubeconfig(readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8')));
    await client.apply(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      { fieldManager: 'test' },
    );
  });
  afterAll(async () => {
    await client?.delete('v1', 'Namespace', undefined, namespace);
    client?.close();
  });
  return () => {
    if (!client) throw new Error('the namespace is not set up yet (use the client inside tests or hooks)');
    return client;
  };
}
