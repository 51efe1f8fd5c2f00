// The local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler from their
// Go modules, kwok for nodes and pods) behaves as a cluster: Deployments roll out, Services get
// ready endpoints, and pods can be held not-ready for the deadline tests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const kubeconfig = process.env.DEPLOY_SUITE_KUBECONFIG;
const namespace = `smoke-${randomBytes(3).toString('hex')}`;
const image = `127.0.0.1:5000/smoke/app@sha256:${'1'.repeat(64)}`;

function kubectl(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  if (!kubeconfig) throw new Error('DEPLOY_SUITE_KUBECONFIG is not set: start the platform with test/platform/up.sh');
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    timeout: 240_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function deployment(name: string, replicas: number, labels: Record<string, string> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, ...labels } }, spec: { containers: [{ name: 'app', image }] } },
    },
  });
}

beforeAll(() => {
  expect(kubectl(['create', 'namespace', namespace]).status).toBe(0);
});

afterAll(() => {
  kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

describe('local control plane', () => {
  it('reports the Kubernetes version it was built as, three Ready kwok nodes and the Ready real node', () => {
    const version = JSON.parse(kubectl(['version', '-o', 'json']).stdout) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    const ready = kubectl([
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{" "}{end}',
    ]).stdout.trim();
    expect(ready.split(' ').sort()).toEqual([
      'kwok-node-0=True',
      'kwok-node-1=True',
      'kwok-node-2=True',
      `${process.env.DEPLOY_SUITE_REAL_NODE}=True`,
    ]);
    // Only pods that ask for it land on the real node: kwok keeps the scale tests.
    const taints = kubectl([
      'get',
      'node',
      process.env.DEPLOY_SUITE_REAL_NODE!,
      '-o',
      'jsonpath={.spec.taints[*].key}',
    ]);
    expect(taints.stdout).toContain('deploy-suite.dev/real-node');
  });

  it('a 3-replica Deployment becomes Available and its Service has 3 ready endpoints', () => {
    expect(kubectl(['apply', '-f', '-'], deployment('web', 3)).status).toBe(0);
    const rollout = kubectl(['rollout', 'status', '-n', namespace, 'deployment/web', '--timeout=120s']);
    expect(rollout.stdout).toContain('successfully rolled out');
    expect(kubectl(['expose', '-n', namespace, 'deployment/web', '--port=80']).status).toBe(0);
    let ready: string[] = [];
    for (let i = 0; i < 50 && ready.length < 3; i++) {
      const slices = kubectl([
        'get',
        'endpointslices',
        '-n',
        namespace,
        '-l',
        'kubernetes.io/service-name=web',
        '-o',
        'jsonpath={.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}',
      ]);
      ready = slices.stdout.split(' ').filter(Boolean);
      if (ready.length < 3) spawnSync('sleep', ['0.2']);
    }
    expect(ready).toHaveLength(3);
  });

  it('a 1,000-replica Deployment becomes Available', () => {
    expect(kubectl(['apply', '-f', '-'], deployment('wide', 1000)).status).toBe(0);
    const rollout = kubectl(['rollout', 'status', '-n', namespace, 'deployment/wide', '--timeout=200s']);
    expect(rollout.stdout).toContain('successfully rolled out');
    const available = kubectl([
      'get',
      'deployment',
      '-n',
      namespace,
      'wide',
      '-o',
      'jsonpath={.status.availableReplicas}',
    ]).stdout;
    expect(Number(available)).toBe(1000);
    kubectl(['delete', 'deployment', '-n', namespace, 'wide', '--wait=false']);
  }, 240_000);

  it('pods labelled deploy-suite.test/hold-not-ready stay not ready', () => {
    expect(
      kubectl(['apply', '-f', '-'], deployment('held', 2, { 'deploy-suite.test/hold-not-ready': 'true' })).status,
    ).toBe(0);
    const rollout = kubectl(['rollout', 'status', '-n', namespace, 'deployment/held', '--timeout=5s']);
    expect(rollout.status).not.toBe(0);
    const ready = kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      'app=held',
      '-o',
      'jsonpath={.items[*].status.phase}',
    ]).stdout.split(' ');
    expect(ready).toEqual(['Pending', 'Pending']);
    const scheduled = kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      'app=held',
      '-o',
      'jsonpath={.items[*].spec.nodeName}',
    ]).stdout.split(' ');
    expect(scheduled.every((n) => n.startsWith('kwok-node-'))).toBe(true);
  });
});
