// Held promotion: the hold record and the promote verdict (pure, every reason), and the deploy → hold →
// promote / abort / expire flows against the in-memory API. The same flows run on the real control plane
// in test/integration/bluegreen-deploy.test.ts.
import { describe, expect, it } from '@jest/globals';
import { Phases } from '@deploy-suite/action-kit';
import {
  HELD_ANNOTATION,
  HoldRecordError,
  abortHeld,
  bluegreenDeploy,
  judgePromotion,
  promoteHeld,
  promotedState,
  readHeld,
  readHistory,
  rollback,
  templateHash,
  withHeld,
  type HeldRelease,
  type KubeObject,
  type PromoteOptions,
} from '../src/index.js';
import { FakeKubeApi } from './fake-api.js';
import { NS, digest, failure, image, lock, selectorOf, spec, stateOf } from './app-fixtures.js';

const hour = () => new Date(Date.now() + 3_600_000);
const promoteOptions = (extra: Partial<PromoteOptions> = {}): PromoteOptions => ({
  ...lock,
  readyTimeoutMs: 1000,
  ...extra,
});

type Deployment = KubeObject & { spec: { replicas: number } };
const heldOf = (api: FakeKubeApi) => readHeld(api.peek('Service', NS, 'shop-preview'));

/** Revision 1 live on blue, revision 2 held on green. */
async function held(expiresAt = hour()): Promise<FakeKubeApi> {
  const api = new FakeKubeApi();
  await bluegreenDeploy(api, spec(1), lock, new Phases());
  await bluegreenDeploy(api, spec(2), { ...lock, hold: { expiresAt, githubDeployment: 42 } }, new Phases());
  api.calls.length = 0;
  return api;
}

const record: HeldRelease = {
  colour: 'green',
  revision: 2,
  digest: digest(2),
  config: 'abcdef0123',
  template: '0123456789abcdef',
  basedOn: 1,
  heldAt: '2026-12-01T10:00:00.000Z',
  expiresAt: '2026-12-01T12:00:00.000Z',
};
const live = { liveColour: 'blue' as const, liveDigest: digest(1), revision: 1 };
const observed = {
  live,
  previewColour: 'green',
  deployment: { revision: 2, digest: digest(2), config: 'abcdef0123', template: '0123456789abcdef' },
};
const before = new Date('2026-12-01T11:00:00.000Z');

describe('the hold record', () => {
  const service = (annotations: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'shop-preview', annotations },
  });

  it('round-trips through the preview Service', () => {
    expect(readHeld(withHeld(service({ keep: 'me' }), record))).toEqual(record);
    expect(withHeld(service({ keep: 'me' }), record).metadata.annotations?.keep).toBe('me');
    expect(readHeld(service({}))).toBeUndefined();
    expect(readHeld(undefined)).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['a colour the suite never writes', JSON.stringify({ ...record, colour: 'red' }), /colour/],
    ['a revision that is not a positive integer', JSON.stringify({ ...record, revision: 0 }), /revision/],
    ['a tag instead of a digest', JSON.stringify({ ...record, digest: 'latest' }), /digest/],
    ['a configuration of another form', JSON.stringify({ ...record, config: '../etc' }), /config/],
    ['a template hash of another form', JSON.stringify({ ...record, template: 'x' }), /template/],
    ['no live revision it was checked against', JSON.stringify({ ...record, basedOn: undefined }), /basedOn/],
    ['an expiry that is not a time', JSON.stringify({ ...record, expiresAt: 'soon' }), /expiresAt/],
    [
      'a GitHub deployment that is not a number',
      JSON.stringify({ ...record, githubDeployment: '7' }),
      /githubDeployment/,
    ],
  ])('edited by hand (%s): refused, not trusted', (_case, text, field) => {
    expect(() => readHeld(service({ [HELD_ANNOTATION]: text }))).toThrow(HoldRecordError);
    expect(() => readHeld(service({ [HELD_ANNOTATION]: text }))).toThrow(field);
  });

  it('the template hash follows every change of the pod template, and only of it', () => {
    const d = (template: unknown, replicas = 2): KubeObject =>
      ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: { replicas, template },
      }) as KubeObject;
    const t = { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    expect(templateHash(d(t))).toBe(templateHash(d(structuredClone(t), 5)));
    expect(templateHash(d(t))).not.toBe(
      templateHash(d({ ...t, metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } })),
    );
    expect(templateHash(d(t))).toMatch(/^[a-f0-9]{16}$/);
  });
});

describe('judgePromotion', () => {
  it('promotes what is still exactly what was held, before it expires', () => {
    expect(judgePromotion(record, observed, before)).toEqual({ kind: 'promote' });
    expect(judgePromotion(record, observed, before, { digest: digest(2) })).toEqual({ kind: 'promote' });
  });

  it('an expired hold is aborted, not promoted', () => {
    expect(judgePromotion(record, observed, new Date(record.expiresAt))).toEqual({ kind: 'expired' });
  });

  it.each([
    ['a deploy or rollback moved live on', { ...observed, live: { ...live, revision: 3 } }, /live traffic moved on/],
    ['nothing is live', { ...observed, live: undefined }, /nothing is live/],
    [
      'the held colour is live',
      { ...observed, live: { ...live, liveColour: 'green' as const } },
      /green is the live colour/,
    ],
    ['the preview was pointed elsewhere', { ...observed, previewColour: 'blue' }, /the preview selects blue/],
    ['the preview is parked', { ...observed, previewColour: undefined }, /selects no colour/],
    ['the Deployment is gone', { ...observed, deployment: undefined }, /Deployment is gone/],
    ['another image', { ...observed, deployment: { ...observed.deployment, digest: digest(3) } }, /runs sha256:3/],
    [
      'another configuration',
      { ...observed, deployment: { ...observed.deployment, config: 'ffffffffff' } },
      /configuration ffffffffff/,
    ],
    [
      'another revision',
      { ...observed, deployment: { ...observed.deployment, revision: 3 } },
      /revision 3, not the held 2/,
    ],
    [
      'an edited pod template',
      { ...observed, deployment: { ...observed.deployment, template: 'ffffffffffffffff' } },
      /pod template of green changed/,
    ],
  ])('refuses when %s', (_case, what, reason) => {
    const verdict = judgePromotion(record, what, before);
    expect(verdict.kind).toBe('refused');
    expect(verdict.kind === 'refused' && verdict.reasons.join('; ')).toMatch(reason);
  });

  it('refuses another image than the one the person pressing promote named, and lists every reason', () => {
    const verdict = judgePromotion(record, { ...observed, previewColour: 'blue' }, new Date(record.expiresAt), {
      digest: digest(3),
    });
    expect(verdict).toEqual({
      kind: 'refused',
      reasons: [
        'the preview selects blue, not green',
        `the held release is ${digest(2)}, not the image given (${digest(3)})`,
      ],
    });
  });

  it('the promoted state keeps the live colour as the previous one', () => {
    expect(promotedState(record, { ...live, liveConfig: '1111111111' })).toEqual({
      liveColour: 'green',
      liveDigest: digest(2),
      revision: 2,
      liveConfig: 'abcdef0123',
      previousColour: 'blue',
      previousDigest: digest(1),
      previousConfig: '1111111111',
    });
  });
});

describe('deploy with a hold, then promote', () => {
  it('stops after the preview checks and hooks: the new colour warm behind the preview, live and history untouched', async () => {
    const api = new FakeKubeApi();
    await bluegreenDeploy(api, spec(1), lock, new Phases());
    const phases = new Phases();
    let checked = 0;
    const result = await bluegreenDeploy(
      api,
      spec(2),
      { ...lock, hold: { expiresAt: hour() }, previewCheck: async () => void checked++ },
      phases,
    );
    expect(phases.timings.map((t) => t.name)).toEqual(['lock', 'read', 'apply', 'rollout', 'preview', 'hold']);
    expect(checked).toBe(1);
    expect(result).toMatchObject({
      noop: false,
      liveColour: 'blue',
      revision: 1,
      held: { colour: 'green', revision: 2 },
    });
    expect(selectorOf(api)).toBe('blue');
    expect(selectorOf(api, 'shop-preview')).toBe('green');
    expect(stateOf(api)).toMatchObject({ liveDigest: digest(1), revision: 1 });
    expect((await readHistory(api, NS, 'shop')).map((h) => h.revision)).toEqual([1]);
    expect(heldOf(api)).toMatchObject({ colour: 'green', revision: 2, digest: digest(2), basedOn: 1 });
    expect(api.peek<Deployment>('Deployment', NS, 'shop-green')?.spec.replicas).toBe(2);
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
  });

  it('a first deploy cannot be held (nothing live to hold back from): refused before anything is applied', async () => {
    const api = new FakeKubeApi();
    const error = await failure(bluegreenDeploy(api, spec(1), { ...lock, hold: { expiresAt: hour() } }, new Phases()));
    expect(error.phase).toBe('read');
    expect(error.fix).toMatch(/first deploy with promote: true/);
    expect(api.calls.filter((c) => c.startsWith('apply'))).toEqual([]);
  });

  it('promote: checks the hold under the lock, the pods ready, the checks again, then switches and records', async () => {
    const api = await held();
    const phases = new Phases();
    let checked = 0;
    const verified: string[][] = [];
    const result = await promoteHeld(
      api,
      { namespace: NS, app: 'shop' },
      promoteOptions({
        runUrl: 'https://github.com/acme/shop/actions/runs/9',
        expectDigest: digest(2),
        previewCheck: async () => void checked++,
        verifyImages: async (images) => void verified.push(images),
      }),
      phases,
    );
    expect(phases.timings.map((t) => t.name)).toEqual(['lock', 'read', 'verify', 'preview', 'switch', 'record']);
    expect(result).toMatchObject({ liveColour: 'green', previousColour: 'blue', held: { githubDeployment: 42 } });
    expect(checked).toBe(1);
    expect(verified).toEqual([[image(2)]]);
    expect(selectorOf(api)).toBe('green');
    expect(selectorOf(api, 'shop-preview')).toBe('blue');
    expect(heldOf(api)).toBeUndefined();
    expect(stateOf(api)).toMatchObject({
      liveColour: 'green',
      liveDigest: digest(2),
      revision: 2,
      previousDigest: digest(1),
    });
    const history = await readHistory(api, NS, 'shop');
    expect(history[0]).toMatchObject({
      revision: 2,
      digest: digest(2),
      action: 'deploy',
      runUrl: expect.stringContaining('/runs/9'),
    });
    // A promote is a deploy like another: the rollback after it is a switch back to the warm colour.
    const back = await rollback(
      api,
      { namespace: NS, app: 'shop' },
      { kind: 'previous' },
      { ...lock, readyTimeoutMs: 1000 },
      new Phases(),
    );
    expect(back).toMatchObject({ how: 'switch', liveColour: 'blue', liveDigest: digest(1) });
  });

  it('promote with nothing held: refused, saying what is live', async () => {
    const api = new FakeKubeApi();
    await bluegreenDeploy(api, spec(1), lock, new Phases());
    const error = await failure(promoteHeld(api, { namespace: NS, app: 'shop' }, promoteOptions(), new Phases()));
    expect(error.message).toMatch(/nothing is held for promotion in shop-ns\/shop \(revision 1 is live on blue\)/);
  });

  it('promote after the held colour was edited: refused, nothing switched, the hold kept for an abort', async () => {
    const api = await held();
    const green = api.peek<Deployment & { spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(
      'Deployment',
      NS,
      'shop-green',
    )!;
    green.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': '2026-12-01T11:00:00Z' };
    await api.apply(green, { fieldManager: 'kubectl' });
    const error = await failure(promoteHeld(api, { namespace: NS, app: 'shop' }, promoteOptions(), new Phases()));
    expect(error.message).toMatch(
      /no longer the release held for promotion .*pod template of green changed.*Nothing was promoted; live traffic stays on blue/,
    );
    expect(selectorOf(api)).toBe('blue');
    expect(heldOf(api)).toBeDefined();
  });

  it('promote after a newer deploy replaced what was on the preview: refused', async () => {
    const api = await held();
    await bluegreenDeploy(api, spec(3), { ...lock, hold: { expiresAt: hour() } }, new Phases());
    const error = await failure(
      promoteHeld(api, { namespace: NS, app: 'shop' }, promoteOptions({ expectDigest: digest(2) }), new Phases()),
    );
    expect(error.message).toMatch(new RegExp(`the held release is ${digest(3)}, not the image given`));
    expect(selectorOf(api)).toBe('blue');
  });

  it('promote after a rollback moved live on: refused', async () => {
    const api = new FakeKubeApi();
    await bluegreenDeploy(api, spec(1), lock, new Phases());
    await bluegreenDeploy(api, spec(2), lock, new Phases());
    await bluegreenDeploy(api, spec(3), { ...lock, hold: { expiresAt: hour() } }, new Phases());
    // The rollback takes the held colour for revision 1 again; the record on the preview is left behind.
    await rollback(
      api,
      { namespace: NS, app: 'shop' },
      { kind: 'previous' },
      { ...lock, readyTimeoutMs: 1000 },
      new Phases(),
    );
    const error = await failure(promoteHeld(api, { namespace: NS, app: 'shop' }, promoteOptions(), new Phases()));
    expect(error.message).toMatch(/live traffic moved on since the hold/);
    expect(stateOf(api)).toMatchObject({ liveDigest: digest(1) });
  });

  it('promote when the held pods are no longer ready: refused in the preview phase, live untouched', async () => {
    const api = await held();
    api.rollout('shop-green', 'stalled');
    await api.mergePatch('apps/v1', 'Deployment', NS, 'shop-green', { spec: { minReadySeconds: 1 } });
    // An edit of the spec outside the template is no refusal of the hold, but unready pods are.
    const error = await failure(
      promoteHeld(api, { namespace: NS, app: 'shop' }, promoteOptions({ readyTimeoutMs: 200 }), new Phases()),
    );
    expect(error.phase).toBe('preview');
    expect(error.message).toMatch(/does not serve 2 ready pods behind shop-preview/);
    expect(selectorOf(api)).toBe('blue');
  });

  it('a preview check that fails at promote time: nothing switched', async () => {
    const api = await held();
    const error = await failure(
      promoteHeld(
        api,
        { namespace: NS, app: 'shop' },
        promoteOptions({ previewCheck: () => Promise.reject(new Error('503 from /healthz')) }),
        new Phases(),
      ),
    );
    expect(error.message).toMatch(
      /held green failed its check through shop-preview: 503 from \/healthz; nothing was promoted/,
    );
    expect(selectorOf(api)).toBe('blue');
    expect(heldOf(api)).toBeDefined();
  });

  it('promote after the hold expired: aborted (the held colour scaled down, live untouched) and the run fails', async () => {
    const api = await held(new Date(Date.now() - 1000));
    const error = await failure(promoteHeld(api, { namespace: NS, app: 'shop' }, promoteOptions(), new Phases()));
    expect(error.phase).toBe('promote');
    expect(error.message).toMatch(/expired at .* it was aborted, green scaled down to 0; live traffic stays on blue/);
    expect(api.peek<Deployment>('Deployment', NS, 'shop-green')?.spec.replicas).toBe(0);
    expect(heldOf(api)).toBeUndefined();
    expect(selectorOf(api)).toBe('blue');
  });
});

describe('abort and expire', () => {
  it('abort: the held colour scaled down, the hold ended, live untouched', async () => {
    const api = await held();
    const result = await abortHeld(api, { namespace: NS, app: 'shop' }, { ...lock, onlyExpired: false }, new Phases());
    expect(result.aborted).toMatchObject({ colour: 'green', revision: 2, githubDeployment: 42 });
    expect(api.peek<Deployment>('Deployment', NS, 'shop-green')?.spec.replicas).toBe(0);
    expect(heldOf(api)).toBeUndefined();
    expect(stateOf(api)).toMatchObject({ liveColour: 'blue', liveDigest: digest(1), revision: 1 });
    // The next deploy takes the idle colour as always.
    const next = await bluegreenDeploy(api, spec(3), lock, new Phases());
    expect(next).toMatchObject({ liveColour: 'green', revision: 2, digest: digest(3) });
  });

  it('expire: a hold not yet expired is kept; an expired one is aborted; no hold is nothing to do', async () => {
    const api = await held();
    const kept = await abortHeld(api, { namespace: NS, app: 'shop' }, { ...lock, onlyExpired: true }, new Phases());
    expect(kept.kept).toMatchObject({ revision: 2 });
    expect(api.peek<Deployment>('Deployment', NS, 'shop-green')?.spec.replicas).toBe(2);
    const later = new Date(Date.now() + 7_200_000);
    const aborted = await abortHeld(
      api,
      { namespace: NS, app: 'shop' },
      { ...lock, onlyExpired: true, now: () => later },
      new Phases(),
    );
    expect(aborted.aborted).toMatchObject({ revision: 2 });
    expect(api.peek<Deployment>('Deployment', NS, 'shop-green')?.spec.replicas).toBe(0);
    expect(await abortHeld(api, { namespace: NS, app: 'shop' }, { ...lock, onlyExpired: true }, new Phases())).toEqual(
      {},
    );
  });

  it('a stale hold whose colour is live is never scaled down', async () => {
    const api = await held();
    const preview = api.peek('Service', NS, 'shop-preview')!;
    await api.mergePatch('v1', 'Service', NS, 'shop', {
      metadata: { annotations: { 'deploy-suite.dev/live-colour': 'green' } },
    });
    const error = await failure(
      abortHeld(api, { namespace: NS, app: 'shop' }, { ...lock, onlyExpired: false }, new Phases()),
    );
    expect(error.message).toMatch(/green is live now, so the hold on shop-preview is stale/);
    expect(api.peek<Deployment>('Deployment', NS, 'shop-green')?.spec.replicas).toBe(2);
    expect(preview).toBeDefined();
  });
});
