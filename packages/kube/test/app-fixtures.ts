// What the orchestration tests share: one app (shop in shop-ns), its releases by number, a lock holder,
// and readers of what the fake API holds.
import { expect } from '@jest/globals';
import { PhaseError } from '@deploy-suite/action-kit';
import { readLiveState, type AppSpec, type KubeObject } from '../src/index.js';
import type { FakeKubeApi } from './fake-api.js';

export const NS = 'shop-ns';
export const digest = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
export const image = (n: number) => `registry.example/shop@${digest(n)}`;
export const spec = (n: number, extra: Partial<AppSpec> = {}): AppSpec => ({
  app: 'shop',
  namespace: NS,
  replicas: 2,
  image: image(n),
  containerPort: 8080,
  progressDeadlineSeconds: 5,
  ...extra,
});
export const lock = { holder: 'acme/shop/actions/runs/1', lockWaitMs: 200, leaseSeconds: 30, log: () => undefined };

type Service = KubeObject & { spec: { selector: Record<string, string> } };
/** The colour a Service of the app selects. */
export const selectorOf = (api: FakeKubeApi, name = 'shop') =>
  api.peek<Service>('Service', NS, name)?.spec.selector['deploy-suite.dev/colour'];
export const stateOf = (api: FakeKubeApi) => readLiveState(api.peek('Service', NS, 'shop'));

/** The PhaseError a run fails with (the test fails if it succeeds or fails otherwise). */
export async function failure(work: Promise<unknown>): Promise<PhaseError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhaseError);
  return error as PhaseError;
}
