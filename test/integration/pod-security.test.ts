// The pod-security check against the real PodSecurity admission of the platform's API server: the
// suite's judge of the standards names the same checks as the admission for every way a template can
// break them; bluegreen-deploy asks the admission itself in a namespace labelled warn=<level>, refuses
// what a namespace's enforce label would refuse before anything is applied, and its own Deployment is
// admitted by a namespace enforcing restricted.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  admissionViolations,
  createKubeClient,
  parseKubeconfig,
  podSecurityViolations,
  violationChecks,
  type KubeClient,
  type KubeObject,
  type PodTemplate,
} from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';

const suffix = randomBytes(3).toString('hex');
const warnRestricted = `psa-warn-${suffix}`;
const enforceRestricted = `psa-enforce-${suffix}`;
const warnBaseline = `psa-baseline-${suffix}`;
const kubeconfigText = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const kubeconfig = Buffer.from(kubeconfigText).toString('base64');
const digest = (n: number) => `127.0.0.1:5000/shop/api@sha256:${String(n).repeat(64)}`;
let client: KubeClient;
let work: string;

const namespaceWith = (name: string, labels: Record<string, string>) =>
  client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }, { fieldManager: 'test' });

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(kubeconfigText));
  await namespaceWith(warnRestricted, { 'pod-security.kubernetes.io/warn': 'restricted' });
  await namespaceWith(enforceRestricted, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  await namespaceWith(warnBaseline, { 'pod-security.kubernetes.io/warn': 'baseline' });
  work = mkdtempSync(join(repoRoot, '.tmp', 'psa-'));
});

afterAll(async () => {
  for (const name of [warnRestricted, enforceRestricted, warnBaseline])
    await client.delete('v1', 'Namespace', undefined, name).catch(() => undefined);
  client.close();
});

/** Templates that break the standards, one way each (and one that breaks many at once). */
type Loose = {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown> & { containers: Record<string, unknown>[] };
};
const base = (): Loose => ({
  metadata: { labels: { app: 'x' } },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'app',
        image: 'x',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
  },
});
const cases: [string, (t: ReturnType<typeof base>) => void][] = [
  ['meets restricted', () => undefined],
  ['hostNetwork and hostPID', (t) => Object.assign(t.spec, { hostNetwork: true, hostPID: true })],
  // The API server refuses privileged with allowPrivilegeEscalation: false as invalid.
  [
    'privileged',
    (t) => (t.spec.containers[0]!.securityContext = { privileged: true, capabilities: { drop: ['ALL'] } }),
  ],
  [
    'NET_ADMIN added',
    (t) =>
      Object.assign(t.spec.containers[0]!.securityContext as object, {
        capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
      }),
  ],
  ['a hostPath volume', (t) => (t.spec.volumes = [{ name: 'host', hostPath: { path: '/tmp' } }])],
  ['a hostPort', (t) => (t.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080 }])],
  // procMount: Unmasked is not here: it needs a user namespace (hostUsers: false), a feature gate this
  // control plane leaves off, so the API server refuses the template as invalid before admission.
  [
    'an unsafe sysctl',
    (t) => Object.assign(t.spec.securityContext as object, { sysctls: [{ name: 'kernel.msgmax', value: '1' }] }),
  ],
  ['an SELinux type', (t) => Object.assign(t.spec.securityContext as object, { seLinuxOptions: { type: 'spc_t' } })],
  [
    'an unconfined seccomp profile',
    (t) => Object.assign(t.spec.securityContext as object, { seccompProfile: { type: 'Unconfined' } }),
  ],
  ['an NFS volume', (t) => (t.spec.volumes = [{ name: 'share', nfs: { server: '10.0.0.1', path: '/' } }])],
  ['privilege escalation unset', (t) => (t.spec.containers[0]!.securityContext = { capabilities: { drop: ['ALL'] } })],
  ['runAsNonRoot unset', (t) => (t.spec.securityContext = { seccompProfile: { type: 'RuntimeDefault' } })],
  ['user 0', (t) => Object.assign(t.spec.securityContext as object, { runAsUser: 0 })],
  ['no seccomp profile', (t) => (t.spec.securityContext = { runAsNonRoot: true })],
  [
    'CHOWN added back',
    (t) =>
      Object.assign(t.spec.containers[0]!.securityContext as object, {
        capabilities: { drop: ['ALL'], add: ['CHOWN'] },
      }),
  ],
  [
    'nothing set, an init container too',
    (t) => {
      t.spec.securityContext = {};
      t.spec.containers[0]!.securityContext = {};
      t.spec.initContainers = [{ name: 'init', image: 'x' }];
    },
  ],
];

describe("the suite's judge against the PodSecurity admission", () => {
  const judgedBoth = async (template: Loose, level: 'restricted' | 'baseline', namespace: string) => {
    const warnings: string[] = [];
    await client.apply(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'judge', namespace },
        spec: { selector: { matchLabels: { app: 'x' } }, template },
      } as KubeObject,
      { fieldManager: 'test', dryRun: true, warnings },
    );
    const admission = admissionViolations(warnings).flatMap((w) => w.violations);
    // The same checks; the order the admission lists them in is its own.
    return [
      violationChecks(podSecurityViolations(template as PodTemplate, level)).sort(),
      violationChecks(admission).sort(),
    ];
  };

  it.each(cases)('%s: the same checks at restricted', async (_case, edit) => {
    const template = base();
    edit(template);
    const [ours, admission] = await judgedBoth(template, 'restricted', warnRestricted);
    expect(ours).toEqual(admission);
  });

  it.each(cases)('%s: the same checks at baseline', async (_case, edit) => {
    const template = base();
    edit(template);
    const [ours, admission] = await judgedBoth(template, 'baseline', warnBaseline);
    expect(ours).toEqual(admission);
  });
});

describe('bluegreen-deploy pod-security', () => {
  const template = (name: string, securityContext: Record<string, unknown>) => {
    const path = join(work, `${name}.yaml`);
    writeFileSync(
      path,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: ${name}\n        securityContext: ${JSON.stringify(securityContext)}\n`,
    );
    return relative(repoRoot, path);
  };
  const deploy = async (namespace: string, inputs: Record<string, string>) =>
    runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, replicas: '1', ...inputs },
      await loadEvent('push-default-branch'),
    );

  it("warn (the default): the namespace's admission judges, each violation a warning in the log and summary, and the deploy goes on", async () => {
    const run = await deploy(warnRestricted, {
      app: 'loose',
      image: digest(1),
      'deployment-template': template('loose', { allowPrivilegeEscalation: true }),
    });
    expect(run.exitCode).toBe(0);
    expect(run.log).toMatch(
      /::warning::Deployment loose-blue would violate PodSecurity "restricted": allowPrivilegeEscalation != false \(container "loose" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities/,
    );
    expect(run.summary).toMatch(/Pod security.*restricted, judged by the namespace's PodSecurity admission/s);
    expect(run.outputs['live-colour']).toBe('blue');
  });

  it('enforce: the violations listed and nothing applied', async () => {
    const run = await deploy(warnRestricted, {
      app: 'strict',
      image: digest(2),
      'deployment-template': template('strict', { privileged: true }),
      'pod-security-action': 'enforce',
    });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(
      /::error.*pod-security: Deployment strict-blue would violate PodSecurity "restricted": .*privileged \(container "strict" must not set securityContext.privileged=true\).*Nothing was applied/,
    );
    expect(await client.get('apps/v1', 'Deployment', warnRestricted, 'strict-blue')).toBeUndefined();
    expect(await client.get('v1', 'Service', warnRestricted, 'strict')).toBeUndefined();
  });

  it("a namespace enforcing restricted: the suite's own Deployment is admitted and serves; a template it would refuse stops before the apply, even with warn", async () => {
    const ok = await deploy(enforceRestricted, { app: 'plain', image: digest(3) });
    expect(ok.log).not.toMatch(/::warning::.*PodSecurity/);
    expect(ok.exitCode).toBe(0);
    expect(ok.outputs['live-colour']).toBe('blue');
    const refused = await deploy(enforceRestricted, {
      app: 'rooted',
      image: digest(4),
      'deployment-template': template('rooted', { runAsUser: 0 }),
      'pod-security': 'baseline',
    });
    expect(refused.exitCode).toBe(1);
    expect(refused.log).toMatch(
      /namespace psa-enforce-\w+ enforces the restricted Pod Security Standard, and its API server would refuse these pods: Deployment rooted-blue would violate PodSecurity "restricted": .*runAsUser=0/,
    );
    expect(await client.get('apps/v1', 'Deployment', enforceRestricted, 'rooted-blue')).toBeUndefined();
  });
});
