// The Pod Security Standards judged on pod templates (pure): every check of baseline and restricted, the
// admission's warning parsed, what a report does. The same templates go through the real PodSecurity
// admission in test/integration/manifests.test.ts, which the check names here must match.
import { describe, expect, it } from '@jest/globals';
import { PhaseError } from '@deploy-suite/action-kit';
import {
  admissionViolations,
  defaultDeploymentTemplate,
  namespacePodSecurity,
  podSecurityOutcome,
  podSecurityViolations,
  renderDeployment,
  violationChecks,
  type PodSecurityReport,
  type PodTemplate,
} from '../src/index.js';

/** A template that meets restricted; each case below breaks one thing. */
const good = (): PodTemplate & { spec: NonNullable<PodTemplate['spec']> } => ({
  metadata: {},
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      { name: 'app', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
    ],
    volumes: [
      { name: 'config', configMap: { name: 'x' } },
      { name: 'tmp', emptyDir: {} },
    ],
  },
});
type Edit = (t: ReturnType<typeof good>) => void;
const container = (t: ReturnType<typeof good>) => t.spec.containers![0]!;
const edited = (edit: Edit) => {
  const t = good();
  edit(t);
  return t;
};

describe('podSecurityViolations', () => {
  it('a template that sets what restricted asks meets both levels; privileged allows anything', () => {
    expect(podSecurityViolations(good(), 'restricted')).toEqual([]);
    expect(podSecurityViolations(good(), 'baseline')).toEqual([]);
    expect(
      podSecurityViolations(
        edited((t) => (t.spec.hostNetwork = true)),
        'privileged',
      ),
    ).toEqual([]);
  });

  it("the suite's own Deployment (no template given) meets restricted", () => {
    const deployment = renderDeployment(
      {
        app: 'shop',
        namespace: 'ns',
        replicas: 1,
        image: 'r/shop@sha256:' + 'a'.repeat(64),
        containerPort: 8080,
        progressDeadlineSeconds: 60,
      },
      'blue',
      1,
    );
    expect(podSecurityViolations((deployment.spec as { template: PodTemplate }).template, 'restricted')).toEqual([]);
    expect(
      podSecurityViolations(
        (defaultDeploymentTemplate('shop', 8080).spec as { template: PodTemplate }).template,
        'restricted',
      ),
    ).toEqual([]);
  });

  it.each<[string, Edit, string]>([
    ['hostProcess', (t) => (container(t).securityContext!.windowsOptions = { hostProcess: true }), 'hostProcess'],
    ['hostNetwork', (t) => (t.spec.hostNetwork = true), 'host namespaces (hostNetwork=true)'],
    [
      'hostPID and hostIPC',
      (t) => Object.assign(t.spec, { hostPID: true, hostIPC: true }),
      'host namespaces (hostPID=true, hostIPC=true)',
    ],
    [
      'privileged',
      (t) => (container(t).securityContext!.privileged = true),
      'privileged (container "app" must not set securityContext.privileged=true)',
    ],
    [
      'a non-default capability',
      (t) => (container(t).securityContext!.capabilities!.add = ['NET_ADMIN']),
      'non-default capabilities (container "app" must not include "NET_ADMIN" in securityContext.capabilities.add)',
    ],
    [
      'a hostPath volume',
      (t) => t.spec.volumes!.push({ name: 'docker', hostPath: { path: '/var/run' } }),
      'hostPath volumes (volume "docker")',
    ],
    ['a hostPort', (t) => (container(t).ports = [{ hostPort: 8080 }]), 'hostPort (container "app" uses hostPort 8080)'],
    [
      'an unconfined AppArmor annotation',
      (t) => (t.metadata!.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }),
      'forbidden AppArmor profile',
    ],
    [
      'an unconfined AppArmor profile',
      (t) => (container(t).securityContext!.appArmorProfile = { type: 'Unconfined' }),
      'forbidden AppArmor profile',
    ],
    ['an SELinux user', (t) => (container(t).securityContext!.seLinuxOptions = { user: 'root' }), 'seLinuxOptions'],
    [
      'an SELinux type of its own',
      (t) => (t.spec.securityContext!.seLinuxOptions = { type: 'spc_t' }),
      'seLinuxOptions',
    ],
    ['an unmasked /proc', (t) => (container(t).securityContext!.procMount = 'Unmasked'), 'procMount'],
    [
      'an unconfined seccomp profile',
      (t) => (t.spec.securityContext!.seccompProfile = { type: 'Unconfined' }),
      'seccompProfile (pod or containers "pod" must not set securityContext.seccompProfile.type to "Unconfined")',
    ],
    [
      'an unsafe sysctl',
      (t) => (t.spec.securityContext!.sysctls = [{ name: 'kernel.msgmax' }, { name: 'net.ipv4.tcp_syncookies' }]),
      'forbidden sysctls (kernel.msgmax)',
    ],
  ])('baseline refuses %s', (_case, edit, violation) => {
    const found = podSecurityViolations(edited(edit), 'baseline');
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(violation);
  });

  it.each<[string, Edit, string]>([
    [
      'an NFS volume',
      (t) => t.spec.volumes!.push({ name: 'share', nfs: { server: 'x', path: '/' } }),
      'restricted volume types (volume "share" uses restricted volume type "nfs")',
    ],
    [
      'privilege escalation left unset',
      (t) => delete container(t).securityContext!.allowPrivilegeEscalation,
      'allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)',
    ],
    [
      'runAsNonRoot left unset',
      (t) => delete t.spec.securityContext!.runAsNonRoot,
      'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)',
    ],
    [
      'a container that asks for root',
      (t) => (container(t).securityContext!.runAsNonRoot = false),
      'runAsNonRoot != true (container "app" must not set securityContext.runAsNonRoot=false)',
    ],
    [
      'user 0',
      (t) => (container(t).securityContext!.runAsUser = 0),
      'runAsUser=0 (container "app" must not set runAsUser=0)',
    ],
    [
      'no seccomp profile',
      (t) => delete t.spec.securityContext!.seccompProfile,
      'seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ],
    [
      'capabilities not all dropped',
      (t) => (container(t).securityContext!.capabilities = { drop: ['NET_RAW'] }),
      'unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"])',
    ],
    [
      'a capability added back',
      (t) => (container(t).securityContext!.capabilities!.add = ['CHOWN']),
      'unrestricted capabilities (container "app" must not include "CHOWN" in securityContext.capabilities.add)',
    ],
  ])('restricted refuses %s, baseline does not', (_case, edit, violation) => {
    const template = edited(edit);
    expect(podSecurityViolations(template, 'restricted')).toEqual([violation]);
    expect(podSecurityViolations(template, 'baseline')).toEqual([]);
  });

  it('NET_BIND_SERVICE may be added back under restricted; per-container settings stand in for the pod’s', () => {
    expect(
      podSecurityViolations(
        edited((t) => (container(t).securityContext!.capabilities!.add = ['NET_BIND_SERVICE'])),
        'restricted',
      ),
    ).toEqual([]);
    const perContainer = edited((t) => {
      t.spec.securityContext = {};
      Object.assign(container(t).securityContext!, { runAsNonRoot: true, seccompProfile: { type: 'Localhost' } });
    });
    expect(podSecurityViolations(perContainer, 'restricted')).toEqual([]);
  });

  it('counts init and ephemeral containers, names them, and reports a level’s overriding checks once', () => {
    const template = edited((t) => {
      t.spec.initContainers = [{ name: 'migrate', securityContext: { privileged: true } }];
      t.spec.securityContext!.seccompProfile = { type: 'Unconfined' };
    });
    const restricted = podSecurityViolations(template, 'restricted');
    expect(violationChecks(restricted)).toEqual([
      'privileged',
      'allowPrivilegeEscalation != false',
      'seccompProfile',
      'unrestricted capabilities',
    ]);
    expect(restricted.join('\n')).toContain(
      'container "migrate" must set securityContext.allowPrivilegeEscalation=false',
    );
    expect(restricted.join('\n')).toContain('pod must not set securityContext.seccompProfile.type to "Unconfined"');
  });
});

describe('the admission’s warnings and the namespace’s labels', () => {
  it('parses a PodSecurity warning into its checks, commas inside parentheses kept', () => {
    expect(
      admissionViolations([
        'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false), runAsNonRoot != true (pod or containers "a", "b" must set securityContext.runAsNonRoot=true)',
        'spec.template.spec.containers[0].ports[0]: duplicate port definition',
      ]),
    ).toEqual([
      {
        level: 'restricted',
        violations: [
          'allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)',
          'runAsNonRoot != true (pod or containers "a", "b" must set securityContext.runAsNonRoot=true)',
        ],
      },
    ]);
  });

  it('reads the enforce and warn levels a namespace sets, nothing else', () => {
    expect(
      namespacePodSecurity({
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/warn': 'restricted',
      }),
    ).toEqual({ enforce: 'baseline', warn: 'restricted' });
    expect(namespacePodSecurity({ 'pod-security.kubernetes.io/enforce': 'strict' })).toEqual({});
    expect(namespacePodSecurity(undefined)).toEqual({});
  });
});

describe('podSecurityOutcome', () => {
  const report = (extra: Partial<PodSecurityReport> = {}): PodSecurityReport => ({
    level: 'restricted',
    judge: 'suite',
    findings: [
      {
        object: 'Deployment shop-blue',
        violations: ['runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)'],
      },
    ],
    refusedByNamespace: [],
    ...extra,
  });

  it('warn: the violations as lines; enforce: a refusal listing them, nothing applied', () => {
    expect(podSecurityOutcome(report(), 'warn', 'shop').warnings).toEqual([
      'Deployment shop-blue would violate PodSecurity "restricted": runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)',
    ]);
    expect(() => podSecurityOutcome(report(), 'enforce', 'shop')).toThrow(PhaseError);
    expect(() => podSecurityOutcome(report(), 'enforce', 'shop')).toThrow(/runAsNonRoot != true .*Nothing was applied/);
    expect(podSecurityOutcome(report({ findings: [] }), 'enforce', 'shop').warnings).toEqual([]);
  });

  it("what the namespace's enforce level would refuse stops the release even under warn", () => {
    const refused = report({
      namespaceEnforce: 'baseline',
      refusedByNamespace: [
        {
          object: 'Job migrate (pre-switch hook)',
          violations: ['privileged (container "m" must not set securityContext.privileged=true)'],
        },
      ],
    });
    expect(() => podSecurityOutcome(refused, 'warn', 'shop')).toThrow(
      /namespace shop enforces the baseline Pod Security Standard, and its API server would refuse these pods: Job migrate \(pre-switch hook\) would violate/,
    );
  });
});
