// Malformed inputs across the four actions, run as the runner runs them (bundled, INPUT_* variables):
// each must fail with an error that names the input and gives the fix, and must change nothing — the
// registry and the cluster (where an app is live) are compared before and after every run.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createKubeClient, parseKubeconfig, type KubeClient } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction, type EventFixture } from '../support/action-runner.js';
import { freshImage, listTags, registryHost } from '../support/registry-api.js';
import { makeTestCa } from '../support/test-ca.js';

const stamp = Date.now().toString(36);
const namespace = `bad-inputs-${stamp}`;
const app = 'shop';
const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const cosignKey = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8');
const cosignPub = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.pub'), 'utf8');
// Files in the workspace (the repository root) that some rows point at.
const scratch = join(repoRoot, '.tmp/bad-inputs');
const scratchPath = (name: string) => join('.tmp/bad-inputs', name);
let client: KubeClient;
let event: EventFixture;
let digestRef = '';
const signRepository = `bad-inputs/sign-${stamp}`;

type Action = 'build-image' | 'sbom-and-sign' | 'bluegreen-deploy' | 'verify-rollback';
interface Row {
  action: Action;
  what: string;
  inputs: Record<string, string>;
  /** The input the error must name… */
  input: string;
  /** … or, for what is not an input (the runner's environment), the words it must name instead. */
  names?: string;
  env?: Record<string, string>;
}

const base = (action: Action, row: number): Record<string, string> => {
  switch (action) {
    case 'build-image':
      return { image: `${registryHost()}/bad-inputs/build-${stamp}-${row}`, context: 'test/fixtures/app' };
    case 'sbom-and-sign':
      return {
        image: digestRef,
        'cosign-private-key': cosignKey,
        'cosign-password': 'fixture-password',
        syft: process.env.DEPLOY_SUITE_SYFT!,
        trivy: process.env.DEPLOY_SUITE_TRIVY!,
        'trivy-cache-dir': process.env.DEPLOY_SUITE_TRIVY_CACHE!,
        offline: 'true',
        'output-dir': scratchPath(`out-${row}`),
      };
    case 'bluegreen-deploy':
      return { kubeconfig, namespace, app, image: digestRef, replicas: '2' };
    case 'verify-rollback':
      return { kubeconfig, namespace, app, 'http-url': 'http://127.0.0.1:9/healthz' };
  }
};

const digestLike = () => digestRef.split('@')[0]!;

// Kubeconfig variants: the admin one with another user or more cluster fields, and credential plugins.
const withUser = (user: string) =>
  kubeconfig.replace(/users:\n- name: user\n {2}user:\n( {4}.*\n)+/, `users:\n- name: user\n  user:\n${user}`);
const withCluster = (extra: string) => kubeconfig.replace(/( {4}server: .*\n)/, `$1${extra}`);
const execUser = (command: string) =>
  `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${command}\n      interactiveMode: Never\n`;
const plugins = mkdtempSync(join(tmpdir(), 'bad-inputs-plugins-'));
function plugin(name: string, body: string): string {
  const path = join(plugins, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
const otherCa = makeTestCa(mkdtempSync(join(tmpdir(), 'bad-inputs-ca-')), 'not the cluster CA');
const rows: Row[] = [
  // build-image: names, tag rules, build settings, credentials
  { action: 'build-image', what: 'an image name in capitals', inputs: { image: 'Ghcr.io/Acme/Shop' }, input: 'image' },
  { action: 'build-image', what: 'no image at all', inputs: { image: '' }, input: 'image' },
  {
    action: 'build-image',
    what: 'an image name with a space',
    inputs: { image: 'ghcr.io/acme/my shop' },
    input: 'image',
  },
  { action: 'build-image', what: 'an unknown tag rule type', inputs: { tags: 'type=nightly,value=x' }, input: 'tags' },
  { action: 'build-image', what: 'a semver rule without a pattern', inputs: { tags: 'type=semver' }, input: 'tags' },
  {
    action: 'build-image',
    what: 'a flavor that is not true/false/auto',
    inputs: { flavor: 'latest=maybe' },
    input: 'flavor',
  },
  {
    action: 'build-image',
    what: 'a context that does not exist',
    inputs: { context: 'no/such/dir' },
    input: 'context',
  },
  {
    action: 'build-image',
    what: 'a Dockerfile that does not exist',
    inputs: { file: 'test/fixtures/app/Nope.Dockerfile' },
    input: 'file',
  },
  { action: 'build-image', what: 'a stage the Dockerfile lacks', inputs: { target: 'missing-stage' }, input: 'target' },
  {
    action: 'build-image',
    what: 'a build-arg name starting with a digit',
    inputs: { 'build-args': '1VERSION=2' },
    input: 'build-args',
  },
  {
    action: 'build-image',
    what: 'a platform without an architecture',
    inputs: { platforms: 'linux' },
    input: 'platforms',
  },
  {
    action: 'build-image',
    what: 'an unknown cache type',
    inputs: { 'cache-from': 'type=floppy,ref=x' },
    input: 'cache-from',
  },
  { action: 'build-image', what: 'cache-to without type=', inputs: { 'cache-to': 'mode=max' }, input: 'cache-to' },
  { action: 'build-image', what: 'a username without a password', inputs: { username: 'ci-bot' }, input: 'password' },
  { action: 'build-image', what: 'push that is not a boolean', inputs: { push: 'maybe' }, input: 'push' },
  {
    action: 'build-image',
    what: 'a secret file that does not exist',
    inputs: { 'secret-files': 'npmrc=missing/.npmrc' },
    input: 'secret-files',
  },
  {
    action: 'build-image',
    what: 'a secret from an unset variable',
    inputs: { 'secret-envs': 'token=DEPLOY_SUITE_UNSET_VARIABLE' },
    input: 'secret-envs',
  },
  // sbom-and-sign: digests, keys, passwords, gate settings, tools
  {
    action: 'sbom-and-sign',
    what: 'a tag instead of a digest',
    inputs: { image: `${registryHost()}/bad-inputs/app:v1` },
    input: 'image',
  },
  {
    action: 'sbom-and-sign',
    what: 'a digest of 3 hex digits',
    inputs: { image: `${registryHost()}/bad-inputs/app@sha256:abc` },
    input: 'image',
  },
  {
    action: 'sbom-and-sign',
    what: 'a wrong key password',
    inputs: { 'cosign-password': 'not-the-password' },
    input: 'cosign-password',
  },
  {
    action: 'sbom-and-sign',
    what: 'a private key that is not a key',
    inputs: { 'cosign-private-key': 'just some text' },
    input: 'cosign-private-key',
  },
  {
    action: 'sbom-and-sign',
    what: 'the public key where the private key goes',
    inputs: { 'cosign-private-key': cosignPub },
    input: 'cosign-private-key',
  },
  {
    action: 'sbom-and-sign',
    what: 'a severity that does not exist',
    inputs: { severity: 'CRITICAL,SEVERE' },
    input: 'severity',
  },
  {
    action: 'sbom-and-sign',
    what: 'an SBOM format that does not exist',
    inputs: { 'attest-sbom': 'xml' },
    input: 'attest-sbom',
  },
  {
    action: 'sbom-and-sign',
    what: 'an attestation without an SBOM',
    inputs: { sbom: 'false', 'attest-sbom': 'cyclonedx' },
    input: 'attest-sbom',
  },
  {
    action: 'sbom-and-sign',
    what: 'an ignore file that does not exist',
    inputs: { 'ignore-file': 'missing-ignores.yaml' },
    input: 'ignore-file',
  },
  {
    action: 'sbom-and-sign',
    what: 'an ignore entry without a reason or expiry',
    inputs: { 'ignore-file': scratchPath('ignores.yaml') },
    input: 'ignore-file',
  },
  {
    action: 'sbom-and-sign',
    what: 'an ignore entry that never expires (9999-12-31)',
    inputs: { 'ignore-file': scratchPath('forever.yaml') },
    input: 'ignore-file',
  },
  {
    action: 'sbom-and-sign',
    what: 'an ignore horizon that is not a number of days',
    inputs: { 'ignore-max-days': 'a year' },
    input: 'ignore-max-days',
  },
  {
    action: 'sbom-and-sign',
    what: 'a syft version that is not x.y.z',
    inputs: { syft: '', 'syft-version': '1.2' },
    input: 'syft-version',
  },
  {
    action: 'sbom-and-sign',
    what: 'a trivy checksum that is not a SHA-256',
    inputs: { trivy: '', 'trivy-version': '0.58.0', 'trivy-sha256': 'sha256:abc' },
    input: 'trivy-sha256',
  },
  {
    action: 'sbom-and-sign',
    what: 'a syft command that is not on PATH',
    inputs: { syft: 'syft-nightly' },
    input: 'syft',
  },
  {
    action: 'sbom-and-sign',
    what: 'offline without a database folder',
    inputs: { 'trivy-cache-dir': '' },
    input: 'trivy-cache-dir',
  },
  {
    action: 'sbom-and-sign',
    what: 'a database folder without a database',
    inputs: { 'trivy-cache-dir': scratchPath('empty') },
    input: 'trivy-cache-dir',
  },
  {
    action: 'sbom-and-sign',
    what: 'keyless without an OIDC token',
    inputs: { 'cosign-private-key': '', 'cosign-password': '', signing: 'keyless' },
    input: 'signing',
  },
  {
    action: 'sbom-and-sign',
    what: 'a Rekor URL that is not http(s)',
    inputs: { 'rekor-url': 'ftp://rekor.example' },
    input: 'rekor-url',
  },
  {
    action: 'sbom-and-sign',
    what: 'a registry username without a password',
    inputs: { 'registry-username': 'ci-bot' },
    input: 'registry-password',
  },
  { action: 'sbom-and-sign', what: 'scan that is not a boolean', inputs: { scan: 'yes please' }, input: 'scan' },
  // bluegreen-deploy: digests, kubeconfigs, names, numbers, durations, policy, checks, manifests
  {
    action: 'bluegreen-deploy',
    what: 'verify-platforms without a signature policy',
    inputs: { 'verify-platforms': 'true' },
    input: 'verify-platforms',
  },
  {
    action: 'verify-rollback',
    what: 'verify-platforms that is not a boolean',
    inputs: { 'verify-platforms': 'recursive' },
    input: 'verify-platforms',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a tag instead of a digest',
    inputs: { image: `${registryHost()}/bad-inputs/app:latest` },
    input: 'image',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a kubeconfig that is not YAML',
    inputs: { kubeconfig: 'clusters: [unclosed' },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a kubeconfig without a current context',
    inputs: { kubeconfig: 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n' },
    input: 'kubeconfig',
  },
  // kubeconfigs as cloud logins write them, and what goes wrong with them (each refused before any phase)
  {
    action: 'bluegreen-deploy',
    what: 'an exec plugin that fails (an expired cloud login)',
    inputs: {
      kubeconfig: withUser(
        execUser(plugin('expired-login', 'echo "error: token expired: run aws sso login" >&2; exit 1')),
      ),
    },
    input: 'kubeconfig',
  },
  {
    action: 'verify-rollback',
    what: 'an exec plugin that prints a device-login prompt instead of JSON',
    inputs: {
      kubeconfig: withUser(
        execUser(plugin('device-login', 'echo "To sign in, open https://microsoft.com/devicelogin"')),
      ),
    },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an exec plugin that prints a credential without a token',
    inputs: {
      kubeconfig: withUser(
        execUser(
          plugin(
            'no-token',
            `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'`,
          ),
        ),
      ),
    },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an exec plugin command that is not installed',
    inputs: { kubeconfig: withUser(execUser('gke-gcloud-auth-plugin-not-installed')) },
    input: 'kubeconfig',
  },
  {
    action: 'verify-rollback',
    what: 'an exec plugin of a removed apiVersion (v1alpha1)',
    inputs: { kubeconfig: withUser(execUser('sh').replace('/v1\n', '/v1alpha1\n')) },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an exec plugin that needs a terminal (interactiveMode: Always)',
    inputs: { kubeconfig: withUser(execUser('sh').replace('Never', 'Always')) },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'the removed gcp auth provider',
    inputs: { kubeconfig: withUser('    auth-provider: {name: gcp, config: {cmd-path: gcloud}}\n') },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a token the cluster refuses (expired or revoked)',
    inputs: { kubeconfig: withUser('    token: eyJhbGciOiJSUzI1NiJ9.expired.signature\n') },
    input: 'kubeconfig',
  },
  {
    action: 'verify-rollback',
    what: 'a context the kubeconfig does not have',
    inputs: { context: 'eks-prod' },
    input: 'context',
  },
  {
    action: 'bluegreen-deploy',
    what: 'KUBECONFIG naming only files that do not exist',
    inputs: { kubeconfig: '' },
    env: { KUBECONFIG: '/nonexistent/eks.yaml:/nonexistent/aks.yaml' },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a proxy-url that is not a URL',
    inputs: { kubeconfig: withCluster('    proxy-url: "proxy corp 3128"\n') },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a SOCKS proxy-url',
    inputs: { kubeconfig: withCluster('    proxy-url: socks5://127.0.0.1:1080\n') },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an API server certificate from a CA the kubeconfig does not trust',
    inputs: {
      kubeconfig: kubeconfig.replace(
        /certificate-authority-data: .*/,
        `certificate-authority-data: ${Buffer.from(otherCa.cert).toString('base64')}`,
      ),
    },
    input: 'kubeconfig',
  },
  {
    action: 'verify-rollback',
    what: 'a tls-server-name the API server certificate does not carry',
    inputs: { kubeconfig: withCluster('    tls-server-name: kube.example.internal\n') },
    input: 'kubeconfig',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a namespace that does not exist in the cluster',
    inputs: { namespace: `${namespace}-absent` },
    input: 'namespace',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a namespace with capitals and _',
    inputs: { namespace: 'Shop_Prod' },
    input: 'namespace',
  },
  { action: 'bluegreen-deploy', what: 'an app name with !', inputs: { app: 'shop!' }, input: 'app' },
  {
    action: 'bluegreen-deploy',
    what: 'replicas that are not a number',
    inputs: { replicas: 'many' },
    input: 'replicas',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a port above 65535',
    inputs: { 'container-port': '70000' },
    input: 'container-port',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a deadline in words',
    inputs: { 'progress-deadline': 'five minutes' },
    input: 'progress-deadline',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a verify key that is not a key',
    inputs: { 'verify-key': 'not-a-key' },
    input: 'verify-key',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a key and a certificate identity together',
    inputs: {
      'verify-key': cosignPub,
      'certificate-identity': 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main',
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
    },
    input: 'verify-key',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an identity pattern that does not compile',
    inputs: {
      'certificate-identity-regexp': '^https://github.com/(acme',
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      'trusted-root': 'missing-root.json',
    },
    input: 'certificate-identity-regexp',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a signing repository that is not owner/name',
    inputs: {
      'certificate-identity': 'https://github.com/acme/deploy-suite/.github/workflows/release.yml@refs/tags/v1',
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      'certificate-github-workflow-repository': 'https://github.com/acme/shop',
      'trusted-root': 'missing-root.json',
    },
    input: 'certificate-github-workflow-repository',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a signing ref that is not a full ref',
    inputs: {
      'certificate-identity': 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main',
      'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
      'certificate-github-workflow-ref': 'main',
      'trusted-root': 'missing-root.json',
    },
    input: 'certificate-github-workflow-ref',
  },
  {
    action: 'bluegreen-deploy',
    what: 'force that is not a boolean',
    inputs: { force: 'please' },
    input: 'force',
  },
  {
    action: 'verify-rollback',
    what: 'a rollback policy key that is not a key',
    inputs: { 'rollback-to': 'previous', 'verify-key': 'not-a-key' },
    input: 'verify-key',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a preview URL that is not a URL',
    inputs: { 'preview-url': 'preview.shop' },
    input: 'preview-url',
  },
  {
    action: 'bluegreen-deploy',
    what: 'expected statuses that are not codes',
    inputs: { 'preview-url': 'http://127.0.0.1:9/', 'preview-expect-status': '2xx' },
    input: 'preview-expect-status',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a failure limit that lets every check fail',
    inputs: { 'preview-url': 'http://127.0.0.1:9/', 'preview-checks': '3', 'preview-failure-limit': '3' },
    input: 'preview-failure-limit',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an environment URL that is not http(s)',
    inputs: { environment: 'production', 'environment-url': 'ftp://shop.example' },
    input: 'environment-url',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a scale-down delay in words',
    inputs: { 'scale-down-delay': 'soon' },
    input: 'scale-down-delay',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a service template that does not exist',
    inputs: { 'service-template': 'k8s/missing-service.yaml' },
    input: 'service-template',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a deployment template holding a Service',
    inputs: { 'deployment-template': scratchPath('service.yaml') },
    input: 'deployment-template',
  },
  // verify-rollback: targets, thresholds, PromQL, windows, schedules
  {
    action: 'verify-rollback',
    what: 'a rollback target in words',
    inputs: { 'rollback-to': 'yesterday' },
    input: 'rollback-to',
  },
  {
    action: 'verify-rollback',
    what: 'an expected digest that is not one',
    inputs: { 'expect-digest': 'sha256:xyz' },
    input: 'expect-digest',
  },
  {
    action: 'verify-rollback',
    what: 'a Prometheus URL without a scheme',
    inputs: { 'prometheus-url': 'prometheus:9090', 'error-rate-max': '0.01' },
    input: 'prometheus-url',
  },
  {
    action: 'verify-rollback',
    what: 'an error rate above 1',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', 'error-rate-max': '5' },
    input: 'error-rate-max',
  },
  {
    action: 'verify-rollback',
    what: 'an error rate in words',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', 'error-rate-max': 'low' },
    input: 'error-rate-max',
  },
  {
    action: 'verify-rollback',
    what: 'a metrics selector that is not PromQL label matchers',
    inputs: {
      'prometheus-url': 'http://127.0.0.1:9090',
      'error-rate-max': '0.01',
      'metrics-selector': 'namespace=prod',
    },
    input: 'metrics-selector',
  },
  {
    action: 'verify-rollback',
    what: 'a metrics selector on the colour the built-in queries set',
    inputs: {
      'prometheus-url': 'http://127.0.0.1:9090',
      'error-rate-max': '0.01',
      'metrics-selector': 'colour="blue"',
    },
    input: 'metrics-selector',
  },
  {
    action: 'verify-rollback',
    what: 'a p95 that is not a latency',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', 'p95-max': 'fast' },
    input: 'p95-max',
  },
  {
    action: 'verify-rollback',
    what: 'a query line without a comparison',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', queries: 'queue: max(queue_depth)' },
    input: 'queries',
  },
  {
    action: 'verify-rollback',
    what: 'a query whose brackets do not close',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', queries: 'queue: max(rate(queue_depth[1m]) < 100' },
    input: 'queries',
  },
  {
    action: 'verify-rollback',
    what: 'a query named like a built-in check',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', 'error-rate-max': '0.01', queries: 'error-rate: max(up) < 2' },
    input: 'queries',
  },
  {
    action: 'verify-rollback',
    what: 'a window that is not a duration',
    inputs: { 'prometheus-url': 'http://127.0.0.1:9090', 'error-rate-max': '0.01', 'metrics-window': '5 minutes' },
    input: 'metrics-window',
  },
  {
    action: 'verify-rollback',
    what: 'a metrics provider the suite does not know',
    inputs: { 'metrics-provider': 'dynatrace', 'error-rate-max': '0.01' },
    input: 'metrics-provider',
  },
  {
    action: 'verify-rollback',
    what: 'the datadog provider without its application key',
    inputs: { 'metrics-provider': 'datadog', 'datadog-api-key': 'dd-bad-inputs-key', 'error-rate-max': '0.01' },
    input: 'datadog-application-key',
  },
  {
    action: 'verify-rollback',
    what: 'a Datadog site that does not exist',
    inputs: {
      'metrics-provider': 'datadog',
      'datadog-api-key': 'dd-bad-inputs-key',
      'datadog-application-key': 'dd-bad-inputs-app',
      'datadog-site': 'datadoghq.moon',
      'error-rate-max': '0.01',
    },
    input: 'datadog-site',
  },
  {
    action: 'verify-rollback',
    what: 'the newrelic provider without an account id',
    inputs: { 'metrics-provider': 'newrelic', 'newrelic-api-key': 'NRAK-BADINPUTS', 'p95-max': '300ms' },
    input: 'newrelic-account-id',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a notify-webhook without its scheme (the URL masked, never shown in the error)',
    inputs: { 'notify-webhook': 'hooks.slack.com/services/T000/B000/badinputs0secret' },
    input: 'notify-webhook',
  },
  {
    action: 'verify-rollback',
    what: 'a notify-on event that is not one',
    inputs: {
      'notify-webhook': 'http://127.0.0.1:9/hook',
      'notify-on': 'deployed, exploded',
      'rollback-to': 'previous',
    },
    input: 'notify-on',
  },
  {
    action: 'verify-rollback',
    what: 'a notify-format the suite does not write',
    inputs: { 'notify-webhook': 'http://127.0.0.1:9/hook', 'notify-format': 'discord', 'rollback-to': 'previous' },
    input: 'notify-format',
  },
  {
    action: 'verify-rollback',
    what: 'the cloudwatch provider with a region that is not one',
    inputs: {
      'metrics-provider': 'cloudwatch',
      'cloudwatch-region': 'europe-central',
      queries: 'errors: SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) < 5',
    },
    input: 'cloudwatch-region',
  },
  {
    action: 'verify-rollback',
    what: 'the cloudwatch provider with no region anywhere',
    inputs: { 'metrics-provider': 'cloudwatch', queries: 'errors: SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) < 5' },
    input: 'cloudwatch-region',
  },
  {
    action: 'verify-rollback',
    what: 'built-in checks asked of CloudWatch, whose request metrics carry no colour',
    inputs: { 'metrics-provider': 'cloudwatch', 'cloudwatch-region': 'us-east-1', 'p95-max': '300ms' },
    input: 'p95-max',
  },
  {
    action: 'verify-rollback',
    what: 'a web check whose JSONPath does not close',
    inputs: { 'metrics-provider': 'web', queries: 'errors: http://127.0.0.1:9/stats $.data[0 < 0.01' },
    input: 'queries',
  },
  {
    action: 'verify-rollback',
    what: 'built-in checks asked of the web provider',
    inputs: { 'metrics-provider': 'web', 'error-rate-max': '0.01' },
    input: 'error-rate-max',
  },
  {
    action: 'verify-rollback',
    what: 'a metrics failure limit that lets every check fail',
    inputs: {
      'prometheus-url': 'http://127.0.0.1:9090',
      'error-rate-max': '0.01',
      'metrics-checks': '5',
      'metrics-failure-limit': '5',
    },
    input: 'metrics-failure-limit',
  },
  {
    action: 'verify-rollback',
    what: 'metric checks without Prometheus',
    inputs: { 'error-rate-max': '0.01' },
    input: 'prometheus-url',
  },
  {
    action: 'verify-rollback',
    what: 'nothing to check and nothing to roll back to',
    inputs: { 'http-url': '' },
    input: 'http-url',
  },
  {
    action: 'verify-rollback',
    what: 'an inconclusive policy that is neither fail nor pass',
    inputs: { inconclusive: 'maybe' },
    input: 'inconclusive',
  },
  {
    action: 'verify-rollback',
    what: 'a negative lock timeout',
    inputs: { 'lock-timeout': '-5s' },
    input: 'lock-timeout',
  },
  {
    action: 'verify-rollback',
    what: 'an HTTP status of 999',
    inputs: { 'http-expect-status': '999' },
    input: 'http-expect-status',
  },
  {
    action: 'verify-rollback',
    what: 'a base64 kubeconfig that decodes to nothing useful',
    inputs: { kubeconfig: Buffer.from('hello: world').toString('base64') },
    input: 'kubeconfig',
  },
  {
    action: 'build-image',
    what: 'an insecure registry given as a URL',
    inputs: { 'insecure-registries': 'http://harbor.lab:8080' },
    input: 'insecure-registries',
  },
  // bluegreen-deploy's manifests: rendered and split before anything changes
  {
    action: 'bluegreen-deploy',
    what: 'manifests that do not exist',
    inputs: { manifests: 'deploy/k8s' },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'manifests and a deployment template at once',
    inputs: { manifests: scratchPath('apps/plain'), 'deployment-template': scratchPath('apps/plain/app.yaml') },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'manifests-deployment without manifests',
    inputs: { 'manifests-deployment': 'shop' },
    input: 'manifests-deployment',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a helm-set line that is not key=value',
    inputs: { manifests: 'test/fixtures/apps/chart', 'helm-set': 'replicas 3' },
    input: 'helm-set',
  },
  {
    action: 'bluegreen-deploy',
    what: 'helm-values for manifests that are no chart',
    inputs: { manifests: scratchPath('apps/plain'), 'helm-values': scratchPath('apps/plain/app.yaml') },
    input: 'helm-values',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a helm-values file that does not exist',
    inputs: { manifests: 'test/fixtures/apps/chart', 'helm-values': 'values-prod.yaml' },
    input: 'helm-values',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a chart that does not render',
    inputs: { manifests: 'test/fixtures/apps/broken-chart' },
    input: 'manifests',
    // helm from the platform, on PATH as on the runners
    env: { PATH: `${dirname(process.env.DEPLOY_SUITE_HELM!)}:${process.env.PATH}` },
  },
  {
    action: 'bluegreen-deploy',
    what: 'two Deployments and none named',
    inputs: { manifests: scratchPath('apps/two-deployments') },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'manifests-deployment naming none of them',
    inputs: { manifests: scratchPath('apps/two-deployments'), 'manifests-deployment': 'web' },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a Secret reference to nothing',
    inputs: { manifests: scratchPath('apps/missing-secret.yaml') },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an HPA for another Deployment',
    inputs: { manifests: `${scratchPath('apps/plain')}\n${scratchPath('apps/hpa-elsewhere.yaml')}` },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an object in another namespace',
    inputs: { manifests: `${scratchPath('apps/plain')},${scratchPath('apps/other-namespace.yaml')}` },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'the app Service named unlike the app',
    inputs: { manifests: scratchPath('apps/plain'), app: 'store' },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a manifests folder with no YAML in it',
    inputs: { manifests: scratchPath('empty') },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'manifests that are not YAML',
    inputs: { manifests: scratchPath('apps/broken.yaml') },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a kind the cluster does not serve',
    inputs: { manifests: `${scratchPath('apps/plain')},${scratchPath('apps/widget.yaml')}` },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a document without a kind',
    inputs: { manifests: `${scratchPath('apps/plain')},${scratchPath('apps/no-kind.yaml')}` },
    input: 'manifests',
  },
  {
    action: 'bluegreen-deploy',
    what: 'an app-secrets line that is not KEY=value',
    inputs: { 'app-secrets': 'API_KEY=sk-1\nthe-password-alone' },
    input: 'app-secrets',
  },
  {
    action: 'bluegreen-deploy',
    what: 'app-secrets-name without app-secrets',
    inputs: { 'app-secrets-name': 'shop-env' },
    input: 'app-secrets-name',
  },
  {
    action: 'bluegreen-deploy',
    what: 'app-secrets named like a Secret of the manifests',
    inputs: {
      manifests: scratchPath('apps/with-secret.yaml'),
      'app-secrets': 'API_KEY=sk-1',
      'app-secrets-name': 'shop-db',
    },
    input: 'manifests',
  },
  // Held promotion and pod security.
  { action: 'bluegreen-deploy', what: 'a mode that does not exist', inputs: { mode: 'release' }, input: 'mode' },
  {
    action: 'bluegreen-deploy',
    what: 'promote: false with mode promote',
    inputs: { mode: 'promote', promote: 'false' },
    input: 'promote',
  },
  {
    action: 'bluegreen-deploy',
    what: 'promote: false with a dry run',
    inputs: { promote: 'false', 'dry-run': 'true' },
    input: 'promote',
  },
  { action: 'bluegreen-deploy', what: 'promote not a boolean', inputs: { promote: 'later' }, input: 'promote' },
  {
    action: 'bluegreen-deploy',
    what: 'a hold-timeout without a unit it knows',
    inputs: { 'hold-timeout': '2d' },
    input: 'hold-timeout',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a promote of a tag',
    inputs: { mode: 'promote', image: `${digestLike()}:latest` },
    input: 'image',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a Pod Security Standard that does not exist',
    inputs: { 'pod-security': 'strict' },
    input: 'pod-security',
  },
  {
    action: 'bluegreen-deploy',
    what: 'pod-security-action enforce with pod-security off',
    inputs: { 'pod-security': 'off', 'pod-security-action': 'enforce' },
    input: 'pod-security-action',
  },
  {
    action: 'bluegreen-deploy',
    what: 'a pod-security-action that does not exist',
    inputs: { 'pod-security-action': 'audit' },
    input: 'pod-security-action',
  },
  // The runner's proxy variables: read as @actions/http-client reads them, refused before any work.
  {
    action: 'build-image',
    what: 'HTTPS_PROXY without its scheme',
    inputs: {},
    input: '',
    names: "environment variable HTTPS_PROXY ('proxy.corp:3128') reads as a URL of scheme 'proxy.corp:'",
    env: { HTTPS_PROXY: 'proxy.corp:3128' },
  },
  {
    action: 'sbom-and-sign',
    what: 'a SOCKS https_proxy',
    inputs: {},
    input: '',
    names: "environment variable https_proxy ('socks5://127.0.0.1:1080') names a SOCKS proxy",
    env: { https_proxy: 'socks5://127.0.0.1:1080' },
  },
  {
    action: 'bluegreen-deploy',
    what: 'an HTTP_PROXY that is not a URL',
    inputs: {},
    input: '',
    names: "environment variable HTTP_PROXY ('http://proxy corp') is not a URL",
    env: { HTTP_PROXY: 'http://proxy corp' },
  },
];

/** What could change: the app's objects in the namespace (with versions) and the registry's tags. */
async function state(row: number): Promise<string> {
  const kinds = [
    ['apis/apps/v1', 'deployments'],
    ['api/v1', 'services'],
    ['api/v1', 'configmaps'],
    ['apis/coordination.k8s.io/v1', 'leases'],
  ] as const;
  const objects: string[] = [];
  for (const [group, plural] of kinds) {
    const list = await client.request<{
      items: { metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> } }[];
    }>('GET', `/${group}/namespaces/${namespace}/${plural}`);
    for (const item of list.items) objects.push(`${plural}/${item.metadata.name}@${item.metadata.resourceVersion}`);
  }
  const tags = [...(await listTags(signRepository)), ...(await listTags(`bad-inputs/build-${stamp}-${row}`))];
  return [...objects.sort(), ...tags.sort()].join('\n');
}

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(kubeconfig));
  event = await loadEvent('push-default-branch');
  mkdirSync(join(scratch, 'empty'), { recursive: true });
  writeFileSync(join(scratch, 'ignores.yaml'), 'ignore:\n  - id: CVE-2024-0001\n');
  writeFileSync(
    join(scratch, 'forever.yaml'),
    'ignores:\n  - id: CVE-2024-0001\n    reason: r\n    expires: 9999-12-31\n',
  );
  writeFileSync(
    join(scratch, 'service.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80}]}\n',
  );
  // Apps shipped as manifests, each wrong in one way (the plain one is right: the others add to it).
  const apps = join(scratch, 'apps');
  mkdirSync(join(apps, 'plain'), { recursive: true });
  mkdirSync(join(apps, 'two-deployments'), { recursive: true });
  const deployment = (name: string, extra = '') =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  selector: {matchLabels: {app: ${name}}}\n  template:\n    metadata: {labels: {app: ${name}}}\n    spec:\n      containers: [{name: web, image: x${extra}}]\n`;
  const appService =
    'apiVersion: v1\nkind: Service\nmetadata: {name: shop}\nspec: {selector: {app: shop}, ports: [{port: 80}]}\n';
  writeFileSync(join(apps, 'plain/app.yaml'), `${deployment('shop')}---\n${appService}`);
  writeFileSync(join(apps, 'two-deployments/app.yaml'), `${deployment('shop')}---\n${deployment('worker')}`);
  writeFileSync(
    join(apps, 'missing-secret.yaml'),
    deployment('shop', ', env: [{name: DB, valueFrom: {secretKeyRef: {name: shop-db-missing, key: url}}}]'),
  );
  writeFileSync(
    join(apps, 'hpa-elsewhere.yaml'),
    'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, maxReplicas: 3}\n',
  );
  writeFileSync(
    join(apps, 'other-namespace.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: kube-system}\ndata: {a: b}\n',
  );
  writeFileSync(join(apps, 'broken.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [shop\n');
  writeFileSync(join(apps, 'widget.yaml'), 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
  writeFileSync(
    join(apps, 'with-secret.yaml'),
    `${deployment('shop', ', envFrom: [{secretRef: {name: shop-db}}]')}---\napiVersion: v1\nkind: Secret\nmetadata: {name: shop-db}\nstringData: {url: x}\n`,
  );
  writeFileSync(join(apps, 'no-kind.yaml'), 'apiVersion: v1\nmetadata: {name: nameless}\n');
  digestRef = await freshImage(signRepository, stamp);
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: 'test' });
  // An app live in the namespace: what a bad run must leave as it found it.
  const deployed = await runAction('bluegreen-deploy', base('bluegreen-deploy', 0), event);
  expect(deployed.exitCode).toBe(0);
}, 240_000);

afterAll(async () => {
  await client.delete('v1', 'Namespace', undefined, namespace);
  client.close();
});

describe('bad input fails before any change, naming the input and the fix', () => {
  it(`covers at least 40 cases across the four actions (${rows.length})`, () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
    expect(new Set(rows.map((r) => r.action)).size).toBe(4);
    expect(digestLike()).toContain(signRepository);
  });

  it.each(rows.map((row, index) => [row.action, row.what, index, row] as const))(
    '%s: %s',
    async (action, _what, index, row) => {
      const before = await state(index);
      const run = await runAction(action, { ...base(action, index), ...row.inputs }, event, row.env ?? {});
      const errors = run.log
        .split('\n')
        .filter((line) => line.startsWith('::error'))
        .map((line) => line.replace(/%0A/g, '\n').replace(/%25/g, '%'));
      const named = row.names ?? `input '${row.input}'`;
      expect({ exit: run.exitCode, error: errors.join('\n') }).toEqual({
        exit: 1,
        error: expect.stringContaining(named),
      });
      // The fix comes with the problem, on the line that names the input.
      const line = errors
        .join('\n')
        .split('\n')
        .find((l) => l.includes(named))!;
      expect(line).toMatch(/\. Fix: \S/);
      // Nothing ran past the inputs but reads (sbom-and-sign resolves the digest while scrypt opens the key):
      // no other phase started, nothing in the cluster or the registry changed.
      const phases = [...run.log.matchAll(/^::group::(.*)$/gm)].map((m) => m[1]);
      expect(phases.filter((phase) => phase !== 'resolve' && phase !== 'render the manifests')).toEqual([]);
      expect(await state(index)).toBe(before);
    },
  );
});
