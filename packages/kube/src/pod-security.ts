/**
 * The Pod Security Standards (baseline and restricted, "latest"), judged on a pod template as the API
 * server's PodSecurity admission judges a pod: the same checks, named as its warnings name them
 * ("allowPrivilegeEscalation != false (container "shop" must set …)"), so a violation reads the same
 * whether the admission or this found it. Pure; the integration tests hold the two side by side.
 */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  windowsOptions?: { hostProcess?: boolean };
  sysctls?: { name: string }[];
}

interface Container {
  name?: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}

export interface PodTemplate {
  metadata?: { annotations?: Record<string, string> };
  spec?: {
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    securityContext?: SecurityContext;
    containers?: Container[];
    initContainers?: Container[];
    ephemeralContainers?: Container[];
    volumes?: (Record<string, unknown> & { name?: string })[];
  };
}

/** Capabilities a baseline container may add: the container runtimes' defaults. */
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');
const containers = (names: string[]) => `${names.length === 1 ? 'container' : 'containers'} ${quoted(names)}`;

/**
 * The checks a pod template fails at a level, in the admission's order and words; empty: it meets it.
 * `privileged` allows everything.
 */
export function podSecurityViolations(template: PodTemplate, level: PodSecurityLevel): string[] {
  if (level === 'privileged') return [];
  const spec = template.spec ?? {};
  const pod = spec.securityContext ?? {};
  const all = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].map(
    (c, i) => ({ ...c, name: c.name ?? `#${i}` }),
  );
  const failing = (test: (c: Container & { name: string }) => boolean) => all.filter(test).map((c) => c.name);
  const found: string[] = [];
  const add = (check: string, details: string[]) => {
    if (details.length) found.push(`${check} (${details.join('; ')})`);
  };

  // Baseline.
  const hostProcess = [
    ...(pod.windowsOptions?.hostProcess ? ['pod'] : []),
    ...failing((c) => c.securityContext?.windowsOptions?.hostProcess === true),
  ];
  add(
    'hostProcess',
    hostProcess.length
      ? [`pod or containers ${quoted(hostProcess)} must not set securityContext.windowsOptions.hostProcess=true`]
      : [],
  );
  const namespaces = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => spec[f] === true);
  add('host namespaces', namespaces.length ? [namespaces.map((f) => `${f}=true`).join(', ')] : []);
  const privileged = failing((c) => c.securityContext?.privileged === true);
  add(
    'privileged',
    privileged.length ? [`${containers(privileged)} must not set securityContext.privileged=true`] : [],
  );
  // At restricted, its own capabilities, seccomp and volume checks replace baseline's (as the admission's do).
  const restricted = level === 'restricted';
  add(
    'non-default capabilities',
    all.flatMap((c) => {
      if (restricted) return [];
      const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
      return extra.length
        ? [`container "${c.name}" must not include ${quoted(extra)} in securityContext.capabilities.add`]
        : [];
    }),
  );
  // At restricted, hostPath is one of the restricted volume types (reported there, as the admission does).
  const hostPaths = restricted
    ? []
    : (spec.volumes ?? []).filter((v) => v.hostPath !== undefined).map((v) => v.name ?? '');
  add(
    'hostPath volumes',
    hostPaths.length ? [`${hostPaths.length === 1 ? 'volume' : 'volumes'} ${quoted(hostPaths)}`] : [],
  );
  add(
    'hostPort',
    all.flatMap((c) => {
      const ports = (c.ports ?? []).map((p) => p.hostPort ?? 0).filter((p) => p !== 0);
      return ports.length
        ? [`container "${c.name}" uses ${ports.length === 1 ? 'hostPort' : 'hostPorts'} ${ports.join(', ')}`]
        : [];
    }),
  );
  const appArmorAnnotations = Object.entries(template.metadata?.annotations ?? {}).filter(
    ([k, v]) =>
      k.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
      v !== 'runtime/default' &&
      !v.startsWith('localhost/'),
  );
  const appArmorFields = [
    ...(pod.appArmorProfile?.type === 'Unconfined' ? ['pod'] : []),
    ...failing((c) => c.securityContext?.appArmorProfile?.type === 'Unconfined'),
  ];
  add('forbidden AppArmor profile', [
    ...appArmorAnnotations.map(([k, v]) => `${k}="${v}"`),
    ...(appArmorFields.length
      ? [`pod or containers ${quoted(appArmorFields)} must not set appArmorProfile.type to "Unconfined"`]
      : []),
  ]);
  const badSelinux = (o?: SecurityContext['seLinuxOptions']) =>
    o !== undefined && (!SELINUX_TYPES.has(o.type ?? '') || Boolean(o.user) || Boolean(o.role));
  const selinux = [
    ...(badSelinux(pod.seLinuxOptions) ? ['pod'] : []),
    ...failing((c) => badSelinux(c.securityContext?.seLinuxOptions)),
  ];
  add(
    'seLinuxOptions',
    selinux.length ? [`pod or containers ${quoted(selinux)} set forbidden securityContext.seLinuxOptions`] : [],
  );
  const procMount = failing((c) => (c.securityContext?.procMount ?? 'Default') !== 'Default');
  add(
    'procMount',
    procMount.length
      ? [`${containers(procMount)} must not set securityContext.procMount to a value other than "Default"`]
      : [],
  );
  const unconfined = restricted
    ? []
    : [
        ...(pod.seccompProfile?.type === 'Unconfined' ? ['pod'] : []),
        ...failing((c) => c.securityContext?.seccompProfile?.type === 'Unconfined'),
      ];
  add(
    'seccompProfile',
    unconfined.length
      ? [`pod or containers ${quoted(unconfined)} must not set securityContext.seccompProfile.type to "Unconfined"`]
      : [],
  );
  const sysctls = (pod.sysctls ?? []).map((s) => s.name).filter((name) => !SAFE_SYSCTLS.has(name));
  add('forbidden sysctls', sysctls.length ? [sysctls.join(', ')] : []);
  if (level === 'baseline') return found;

  // Restricted.
  add(
    'restricted volume types',
    (spec.volumes ?? []).flatMap((v) => {
      const type = Object.keys(v).find((k) => k !== 'name');
      return type && !RESTRICTED_VOLUMES.has(type)
        ? [`volume "${v.name ?? ''}" uses restricted volume type "${type}"`]
        : [];
    }),
  );
  const escalation = failing((c) => c.securityContext?.allowPrivilegeEscalation !== false);
  add(
    'allowPrivilegeEscalation != false',
    escalation.length ? [`${containers(escalation)} must set securityContext.allowPrivilegeEscalation=false`] : [],
  );
  // runAsNonRoot: the pod's setting holds for containers that do not set their own.
  const explicitRoot = failing((c) => c.securityContext?.runAsNonRoot === false);
  const unsetNonRoot = pod.runAsNonRoot === true ? [] : failing((c) => c.securityContext?.runAsNonRoot === undefined);
  add('runAsNonRoot != true', [
    ...(pod.runAsNonRoot === false ? ['pod must not set securityContext.runAsNonRoot=false'] : []),
    ...(explicitRoot.length ? [`${containers(explicitRoot)} must not set securityContext.runAsNonRoot=false`] : []),
    ...(unsetNonRoot.length && pod.runAsNonRoot !== false
      ? [`pod or ${containers(unsetNonRoot)} must set securityContext.runAsNonRoot=true`]
      : []),
  ]);
  const rootUser = failing((c) => c.securityContext?.runAsUser === 0);
  add('runAsUser=0', [
    ...(pod.runAsUser === 0 ? ['pod must not set runAsUser=0'] : []),
    ...(rootUser.length ? [`${containers(rootUser)} must not set runAsUser=0`] : []),
  ]);
  // seccomp: RuntimeDefault or Localhost, on the pod or on every container.
  const confined = (type?: string) => type === 'RuntimeDefault' || type === 'Localhost';
  const podType = pod.seccompProfile?.type;
  const seccompContainers = failing((c) => {
    const type = c.securityContext?.seccompProfile?.type;
    return type === undefined ? !confined(podType) : !confined(type);
  });
  add('seccompProfile', [
    ...(podType !== undefined && !confined(podType)
      ? [`pod must not set securityContext.seccompProfile.type to "${podType}"`]
      : []),
    ...(seccompContainers.length
      ? [
          `pod or ${containers(seccompContainers)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
        ]
      : []),
  ]);
  const noDropAll = failing((c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL'));
  add('unrestricted capabilities', [
    ...(noDropAll.length ? [`${containers(noDropAll)} must set securityContext.capabilities.drop=["ALL"]`] : []),
    ...all.flatMap((c) => {
      const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
      return extra.length
        ? [`container "${c.name}" must not include ${quoted(extra)} in securityContext.capabilities.add`]
        : [];
    }),
  ]);
  return found;
}

/** The check names of violations ("allowPrivilegeEscalation != false", …), for comparing two judges. */
export function violationChecks(violations: string[]): string[] {
  return violations.map((v) => v.replace(/ \(.*$/s, ''));
}

/**
 * The violations of PodSecurity admission warnings on an answer (the API server's Warning headers):
 * `would violate PodSecurity "restricted:latest": a (…), b (…)`. Other warnings are not its.
 */
export function admissionViolations(warnings: string[]): { level: PodSecurityLevel; violations: string[] }[] {
  return warnings.flatMap((warning) => {
    const match = /would violate PodSecurity "(baseline|restricted):[^"]*": (.*)$/s.exec(warning);
    if (!match) return [];
    // Checks are separated by ", " outside their parentheses.
    const violations: string[] = [];
    let depth = 0;
    let current = '';
    for (const ch of match[2]!) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      if (ch === ',' && depth === 0) {
        violations.push(current.trim());
        current = '';
        continue;
      }
      current += ch;
    }
    if (current.trim()) violations.push(current.trim());
    return [{ level: match[1] as PodSecurityLevel, violations }];
  });
}

/** The levels a namespace's pod-security.kubernetes.io labels set (undefined: none). */
export function namespacePodSecurity(labels: Record<string, string> | undefined): {
  enforce?: PodSecurityLevel;
  warn?: PodSecurityLevel;
} {
  const level = (mode: string): PodSecurityLevel | undefined => {
    const value = labels?.[`pod-security.kubernetes.io/${mode}`];
    return value === 'privileged' || value === 'baseline' || value === 'restricted' ? value : undefined;
  };
  const enforce = level('enforce');
  const warn = level('warn');
  return { ...(enforce ? { enforce } : {}), ...(warn ? { warn } : {}) };
}
