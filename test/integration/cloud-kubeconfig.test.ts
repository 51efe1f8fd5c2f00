// Kubeconfigs as EKS, AKS and GKE logins write them, against the real API server: an exec credential
// plugin of the test's own (it prints a token of the least-privilege Role's service account, with a short
// expiry, so it runs again during the deploy), a kubeconfig split over two KUBECONFIG files with the context
// picked by input, and tls-server-name against a front whose certificate names only a DNS name. A plugin
// that fails is an input error naming the user and the command, and nothing is applied.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKubeconfig } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';
import { forwardTo } from '../support/forward.js';
import { makeTestCa } from '../support/test-ca.js';

const admin = process.env.DEPLOY_SUITE_KUBECONFIG!;
const namespace = `cloud-${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'cloud-kubeconfig-'));
const image = (n: number) => `127.0.0.1:5000/shop/api@sha256:${String(n).repeat(64)}`;
let server = '';
let apiCa = '';
let token = '';
let front: Server;
let frontPort = 0;
let ipv6: TcpServer;
let ipv6Port = 0;
const forwarded = new Set<Socket>();

function kubectl(args: string[]): string {
  const result = spawnSync('kubectl', ['--kubeconfig', admin, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** A credential plugin: a shell script that logs each run and prints what `body` prints. */
function plugin(name: string, body: string): { path: string; runs: () => number } {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho run >> '${path}.runs'\n${body}\n`);
  chmodSync(path, 0o755);
  return {
    path,
    runs: () => {
      try {
        return readFileSync(`${path}.runs`, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    },
  };
}

/** Prints an ExecCredential of the service-account token that expires `seconds` after the plugin runs. */
const tokenPlugin = (name: string, seconds: number) =>
  plugin(
    name,
    `expiry=$(date -u -d "+${seconds} seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' "$(cat '${join(dir, 'token')}')" "$expiry"`,
  );

const execUser = (command: string) =>
  `users:\n- name: cloud-user\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ${command}\n      args: [eks, get-token, --cluster-name, shop]\n      interactiveMode: Never\n`;

const b64 = (text: string) => Buffer.from(text).toString('base64');
const clusters = join(dir, 'clusters.yaml');
const users = join(dir, 'users.yaml');
let awsPlugin: ReturnType<typeof plugin>;

function singleKubeconfig(user: string, cluster = `server: ${server}\n    certificate-authority-data: ${b64(apiCa)}`) {
  return `apiVersion: v1\nkind: Config\ncurrent-context: cloud\nclusters:\n- name: cloud\n  cluster:\n    ${cluster}\ncontexts:\n- name: cloud\n  context: {cluster: cloud, user: cloud-user, namespace: ${namespace}}\n${user}`;
}

const appObjects = (app: string) =>
  kubectl(['get', 'deployments,services,configmaps,leases', '-n', namespace, '-o', 'name'])
    .split('\n')
    .filter((name) => name.includes(app));

beforeAll(async () => {
  kubectl(['create', 'namespace', namespace]);
  kubectl(['apply', '-n', namespace, '-f', join(repoRoot, 'actions/bluegreen-deploy/rbac.yaml')]);
  token = kubectl(['create', 'token', 'deploy-suite', '-n', namespace, '--duration=1h']).trim();
  writeFileSync(join(dir, 'token'), token);
  const access = parseKubeconfig(readFileSync(admin, 'utf8'));
  server = access.server;
  apiCa = ((await access.credentials()).tls.ca as Buffer).toString('utf8');

  // The front: TLS with a certificate of another CA that names only kube.deploy-suite.test, passing each
  // request on to the real API server (as a cloud load balancer in front of a private endpoint does).
  const ca = makeTestCa(dir);
  writeFileSync(join(dir, 'front-ca.crt'), ca.cert);
  const { cert, key } = ca.issue('front', { dns: ['kube.deploy-suite.test'] });
  const upstream = new URL(server);
  front = createServer({ cert, key }, forwardTo(upstream, { ca: apiCa }));
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontPort = (front.address() as AddressInfo).port;

  // The API server on an IPv6 address, as an IPv6 cluster's in-cluster address is: a TCP forwarder on [::1].
  const upstreamPort = Number(new URL(server).port);
  ipv6 = createTcpServer((socket) => {
    const to = connect(upstreamPort, '127.0.0.1');
    forwarded.add(socket).add(to);
    socket.pipe(to).pipe(socket);
    const close = () => (socket.destroy(), to.destroy());
    socket.on('error', close);
    to.on('error', close);
  });
  await new Promise<void>((resolve) => ipv6.listen(0, '::1', resolve));
  ipv6Port = (ipv6.address() as AddressInfo).port;

  // Split as `aws eks update-kubeconfig` plus a team's own file would be: clusters and contexts in one,
  // users in another; the current context points elsewhere and the context input picks the cloud one.
  awsPlugin = tokenPlugin('aws', 1);
  writeFileSync(
    clusters,
    `apiVersion: v1\nkind: Config\ncurrent-context: laptop\nclusters:\n- name: cloud\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${b64(apiCa)}\n- name: laptop\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: laptop\n  context: {cluster: laptop, user: cloud-user}\n- name: eks-shop\n  context: {cluster: cloud, user: cloud-user, namespace: ${namespace}}\n`,
  );
  writeFileSync(users, `apiVersion: v1\nkind: Config\n${execUser(awsPlugin.path)}`);
});

afterAll(async () => {
  kubectl(['delete', 'namespace', namespace, '--wait=false']);
  front.closeAllConnections();
  for (const socket of forwarded) socket.destroy();
  await new Promise((resolve) => ipv6.close(resolve));
  await new Promise((resolve) => front.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('kubeconfigs that cloud logins write', () => {
  it('an exec plugin authenticates a whole deploy, and runs again when its credential expires', async () => {
    const { runs } = awsPlugin;
    const event = await loadEvent('push-default-branch');
    const env = { KUBECONFIG: `${clusters}:${users}` };
    const first = await runAction(
      'bluegreen-deploy',
      { app: 'exec-app', image: image(1), context: 'eks-shop' },
      event,
      env,
    );
    expect(first.exitCode).toBe(0);
    expect(first.outputs['live-colour']).toBe('blue');
    // The second deploy waits (5 s at least) after its switch before it scales blue down: the 1 s credential the
    // plugin printed at its start has expired by then, and the scale-down runs the plugin again.
    const before = runs();
    const run = await runAction(
      'bluegreen-deploy',
      { app: 'exec-app', image: image(2), context: 'eks-shop', 'scale-down-delay': '2s' },
      event,
      env,
    );
    expect(run.exitCode).toBe(0);
    expect(run.outputs['live-colour']).toBe('green');
    expect(run.outputs['previous-scaled-down']).toBe('true');
    expect(runs() - before).toBeGreaterThanOrEqual(2);
    expect(run.log).toContain(`::add-mask::${token}`);
    expect(run.shown).not.toContain(token);
  });

  it('a credential the API server refuses before its expiry (revoked) makes the plugin run again, once', async () => {
    // The first run prints a token the API server does not know, valid for an hour by its own account;
    // every later run prints the service account's. kubectl runs the plugin again on the 401: so must we.
    const revoked = plugin(
      'aws-revoked',
      `expiry=$(date -u -d "+1 hour" +%Y-%m-%dT%H:%M:%SZ)
if [ "$(wc -l < '${join(dir, 'aws-revoked')}.runs')" -eq 1 ]; then value=revoked-before-its-expiry; else value="$(cat '${join(dir, 'token')}')"; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\\n' "$value" "$expiry"`,
    );
    const kubeconfigFile = join(dir, 'revoked.yaml');
    writeFileSync(kubeconfigFile, singleKubeconfig(execUser(revoked.path)));
    const run = await runAction(
      'bluegreen-deploy',
      { app: 'renewed-app', image: image(4) },
      await loadEvent('push-default-branch'),
      { KUBECONFIG: kubeconfigFile },
    );
    expect(run.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(revoked.runs()).toBe(2);

    // A plugin that only ever prints a refused token fails clearly after one renewal, having changed nothing.
    const refused = plugin(
      'aws-refused',
      `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"never-valid"}}\\n'`,
    );
    writeFileSync(kubeconfigFile, singleKubeconfig(execUser(refused.path)));
    const failed = await runAction(
      'bluegreen-deploy',
      { app: 'refused-app', image: image(5) },
      await loadEvent('push-default-branch'),
      { KUBECONFIG: kubeconfigFile },
    );
    expect(failed.exitCode).not.toBe(0);
    expect(failed.log).toMatch(/input 'kubeconfig': .*401 Unauthorized/);
    expect(refused.runs()).toBe(2);
    expect(appObjects('refused-app')).toEqual([]);
  });

  it('a context the files do not have is an input error naming the context input', async () => {
    const event = await loadEvent('push-default-branch');
    const run = await runAction('bluegreen-deploy', { app: 'exec-app', image: image(3), context: 'eks-prod' }, event, {
      KUBECONFIG: `${clusters}:${users}`,
    });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/input 'context': .*no context 'eks-prod'.*Fix: name one of: laptop, eks-shop/);
  });

  it.each([
    [
      'fails',
      'echo "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation" >&2; exit 255',
      /failed: An error occurred \(ExpiredToken\)/,
    ],
    ['prints bad JSON', 'echo "Please sign in at https://microsoft.com/devicelogin"', /not an ExecCredential/],
  ])(
    'a plugin that %s: an input error naming the user and the command, and nothing applied',
    async (name, body, message) => {
      const { path } = plugin(`broken-${name.replace(/\W/g, '-')}`, body);
      const event = await loadEvent('push-default-branch');
      const app = `broken-${name.length}`;
      const run = await runAction(
        'bluegreen-deploy',
        { kubeconfig: singleKubeconfig(execUser(path)), app, image: image(3) },
        event,
      );
      expect(run.exitCode).toBe(1);
      expect(run.log).toContain(
        `input 'kubeconfig': the 'kubeconfig' input: user 'cloud-user': the credential plugin '${path} eks get-token --cluster-name shop'`,
      );
      expect(run.log).toMatch(message);
      expect(run.log).toMatch(/Fix: run the cloud's login step first/);
      expect(appObjects(app)).toEqual([]);
    },
  );

  it('tls-server-name: the API server behind a front whose certificate names only a DNS name', async () => {
    const { path } = tokenPlugin('front-token', 600);
    const frontCa = readFileSync(join(dir, 'front-ca.crt'), 'utf8');
    const cluster = `server: https://127.0.0.1:${frontPort}\n    certificate-authority-data: ${b64(frontCa)}`;
    const event = await loadEvent('push-default-branch');
    const without = await runAction(
      'bluegreen-deploy',
      { kubeconfig: singleKubeconfig(execUser(path), cluster), app: 'front-app', image: image(4) },
      event,
    );
    expect(without.exitCode).toBe(1);
    expect(without.log).toMatch(/certificate.*(127\.0\.0\.1|altnames).*tls-server-name/is);
    expect(appObjects('front-app')).toEqual([]);
    const named = await runAction(
      'bluegreen-deploy',
      {
        kubeconfig: singleKubeconfig(execUser(path), `${cluster}\n    tls-server-name: kube.deploy-suite.test`),
        app: 'front-app',
        image: image(4),
      },
      event,
    );
    expect(named.exitCode).toBe(0);
    expect(named.outputs['live-colour']).toBe('blue');
  });

  it('an API server at an IPv6 address ([::1]): requests and the rollout watch both reach it', async () => {
    const { path } = tokenPlugin('ipv6-token', 600);
    const cluster = `server: https://[::1]:${ipv6Port}\n    certificate-authority-data: ${b64(apiCa)}\n    tls-server-name: localhost`;
    const run = await runAction(
      'bluegreen-deploy',
      { kubeconfig: singleKubeconfig(execUser(path), cluster), app: 'ipv6-app', image: image(5) },
      await loadEvent('push-default-branch'),
    );
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    // The rollout phase follows the Deployment by watch: it ended because the watch saw it ready.
    expect(run.outputs['live-colour']).toBe('blue');
    expect(Number(run.outputs['api-requests'])).toBeGreaterThan(0);
  });
});
