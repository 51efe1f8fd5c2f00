// Kubeconfigs as cloud logins and kubectl write them, loaded by @kubernetes/client-node with kubectl's
// rules where the library differs (several files, tokenFile, relative paths), and every way one can be
// wrong refused with the entry named and the fix. Exec plugins here are small scripts of the test's own.
import { afterAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '@deploy-suite/action-kit';
import { KubeconfigError, loadClusterAccess, parseKubeconfig } from '../src/index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = (user: string, extra = '') => `apiVersion: v1
kind: Config
current-context: ci
clusters:
- name: prod
  cluster:
    server: https://10.1.2.3:6443/
    certificate-authority-data: ${b64(CA)}
contexts:
- name: ci
  context: {cluster: prod, user: deployer, namespace: shop}
- name: other
  context: {cluster: prod, user: deployer}
users:
- name: deployer
  user:
${user}
${extra}`;

function refusal(load: () => unknown): KubeconfigError {
  try {
    load();
  } catch (error) {
    if (error instanceof KubeconfigError) return error;
    throw error;
  }
  throw new Error('not refused');
}

/** An exec plugin: prints `output` (or fails) and counts its runs in a file. */
function plugin(name: string, body: string): { path: string; runs: () => number } {
  const path = join(dir, name);
  const counter = `${path}.runs`;
  writeFileSync(path, `#!/bin/sh\necho run >> '${counter}'\n${body}\n`);
  chmodSync(path, 0o755);
  return { path, runs: () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
}

const execUser = (command: string, extra = '') =>
  `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${command}\n      interactiveMode: Never\n${extra}`;

const credential = (token: string, expiresInSeconds?: number) =>
  JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: {
      token,
      ...(expiresInSeconds !== undefined
        ? { expirationTimestamp: new Date(Date.now() + expiresInSeconds * 1000).toISOString() }
        : {}),
    },
  });

describe('parseKubeconfig', () => {
  it('reads server, CA, token and namespace of the current context', async () => {
    const access = parseKubeconfig(config('    token: sa-token-123'));
    expect(access).toMatchObject({
      server: 'https://10.1.2.3:6443',
      namespace: 'shop',
      context: 'ci',
      user: 'deployer',
    });
    expect(access.secrets).toEqual(['sa-token-123']);
    const { headers, tls } = await access.credentials();
    expect(headers).toEqual({ authorization: 'Bearer sa-token-123' });
    expect(tls.ca?.toString()).toBe(CA);
  });

  it('accepts the same kubeconfig base64-encoded, as secrets often hold it', async () => {
    expect((await parseKubeconfig(b64(config('    token: t'))).credentials()).headers.authorization).toBe('Bearer t');
  });

  it('reads client certificates, and a named context', async () => {
    const access = parseKubeconfig(
      config(`    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`),
      { context: 'other' },
    );
    const { tls, headers } = await access.credentials();
    expect(tls.cert?.toString()).toBe('CERT');
    expect(tls.key?.toString()).toBe('KEY');
    expect(headers).toEqual({});
    expect(access.secrets).toEqual(['KEY']);
    expect(access.namespace).toBeUndefined();
  });

  it('takes tls-server-name, insecure-skip-tls-verify and proxy-url of the cluster', async () => {
    const text = config('    token: t')
      .replace(
        '    server: https://10.1.2.3:6443/',
        '    server: https://10.1.2.3:6443/\n    tls-server-name: api.internal\n    proxy-url: http://proxy.corp:3128',
      )
      .replace(`    certificate-authority-data: ${b64(CA)}`, '    insecure-skip-tls-verify: true');
    const access = parseKubeconfig(text);
    expect(access.proxyUrl).toBe('http://proxy.corp:3128');
    expect((await access.credentials()).tls).toEqual({ servername: 'api.internal', rejectUnauthorized: false });
  });

  it('reads files relative to the kubeconfig, and a tokenFile again as it rotates (kubectl key, not the library)', async () => {
    writeFileSync(join(dir, 'ca.crt'), CA);
    writeFileSync(join(dir, 'token'), 'first-token\n');
    const text = config('    tokenFile: token').replace(
      `certificate-authority-data: ${b64(CA)}`,
      'certificate-authority: ca.crt',
    );
    const access = parseKubeconfig(text, { baseDir: dir });
    const first = await access.credentials();
    expect(first.headers.authorization).toBe('Bearer first-token');
    expect(first.tls.ca?.toString()).toBe(CA);
  });

  it.each([
    ['not: [yaml', /not valid YAML|no clusters/],
    ['just-a-token-string', /no clusters|not valid YAML/],
    [config('    token: t').replace('current-context: ci', 'current-context: nope'), /no context 'nope'.*/],
    [config(`    client-certificate-data: ${b64('CERT')}`), /without its key/],
    [config('    token: t').replace('https://10.1.2.3:6443/', 'ftp://x'), /not an http\(s\) URL/],
    [config('    token: t').replace('    server: https://10.1.2.3:6443/', ''), /server is missing/],
    [config(execUser('aws').replace('/v1', '/v1alpha1')), /exec apiVersion .*v1alpha1/],
    [config(execUser('sh').replace('Never', 'Always')), /needs a terminal/],
    [config(execUser('no-such-plugin-xyz')), /'no-such-plugin-xyz' is not on PATH/],
    [config('    auth-provider: {name: gcp}'), /'gcp' auth provider/],
    [
      config('    token: t').replace(
        'server: https://10.1.2.3:6443/',
        'server: https://10.1.2.3:6443/\n    proxy-url: "::bad"',
      ),
      /not a proxy URL/,
    ],
  ])('rejects %#', (text, message) => {
    expect(() => parseKubeconfig(text)).toThrow(KubeconfigError);
    expect(() => parseKubeconfig(text)).toThrow(message);
  });

  it("says the plugin's installHint when its command is missing", () => {
    const text = config(execUser('kubelogin-missing', '      installHint: brew install Azure/kubelogin/kubelogin'));
    expect(refusal(() => parseKubeconfig(text)).fix).toBe('brew install Azure/kubelogin/kubelogin');
  });

  it('an error never repeats the kubeconfig content', () => {
    try {
      parseKubeconfig(config('    auth-provider: {name: azure}\n    token: secret-token-xyz'));
      throw new Error('not refused');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-token-xyz');
      expect((error as KubeconfigError).fix).toMatch(/kubelogin convert-kubeconfig/);
    }
  });

  it('names the contexts there are when the context input names none of them', () => {
    expect(refusal(() => parseKubeconfig(config('    token: t'), { context: 'prod-eu' })).fix).toBe(
      'name one of: ci, other',
    );
  });
});

describe('exec credential plugins', () => {
  it('runs the plugin once while its credential lasts, and again after it expires; passes KUBERNETES_EXEC_INFO', async () => {
    const info = join(dir, 'exec-info');
    const { path, runs } = plugin(
      'short-lived',
      `printf '%s' "$KUBERNETES_EXEC_INFO" > '${info}'\necho '${credential('token-a', 1)}'`,
    );
    const access = parseKubeconfig(config(execUser(path)));
    expect((await access.credentials()).headers.authorization).toBe('Bearer token-a');
    await access.credentials();
    expect(runs()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await access.credentials();
    expect(runs()).toBe(2);
    expect(JSON.parse(readFileSync(info, 'utf8'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: { interactive: false },
    });
  });

  it('renewCredentials forgets a cached credential so the plugin runs again; a kubeconfig token has none to renew', async () => {
    const { path, runs } = plugin('long-lived', `echo '${credential('token-b', 3600)}'`);
    const access = parseKubeconfig(config(execUser(path)));
    await access.credentials();
    await access.credentials();
    expect(runs()).toBe(1);
    expect(access.renewCredentials()).toBe(true);
    await access.credentials();
    expect(runs()).toBe(2);
    expect(parseKubeconfig(config('    token: t')).renewCredentials()).toBe(false);
  });

  it('passes the env and args the kubeconfig gives it', async () => {
    const { path } = plugin(
      'with-env',
      `echo "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$CLUSTER_NAME-$1\\"}}"`,
    );
    const access = parseKubeconfig(
      config(execUser(path, '      args: [eu-1]\n      env: [{name: CLUSTER_NAME, value: shop}]')),
    );
    expect((await access.credentials()).headers.authorization).toBe('Bearer shop-eu-1');
  });

  it.each([
    [
      'fails',
      'echo "error: no credentials: run aws configure" >&2; exit 1',
      /failed: error: no credentials: run aws configure/,
    ],
    ['prints bad JSON', 'echo "this is not json"', /not an ExecCredential/],
    [
      'prints no status',
      `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}'`,
      /without a status/,
    ],
    [
      'prints no token',
      `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}}'`,
      /without status.token/,
    ],
  ])('a plugin that %s is an input error naming the user and the command', async (name, body, message) => {
    const { path } = plugin(`plugin-${name.replace(/\W/g, '-')}`, body);
    const error = await parseKubeconfig(config(execUser(path)))
      .credentials()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    const problem = (error as InputError).problems[0]!;
    expect(problem.input).toBe('kubeconfig');
    expect(problem.problem).toContain(`user 'deployer': the credential plugin '${path}'`);
    expect(problem.problem).toMatch(message);
    expect(problem.fix).toMatch(/login step/);
  });
});

describe('loadClusterAccess', () => {
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('merges every file KUBECONFIG names as kubectl does: first name wins, first current-context', async () => {
    const clusters = file(
      'clusters.yaml',
      `apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: https://first.example:6443}\n`,
    );
    const users = file(
      'users.yaml',
      `apiVersion: v1\nkind: Config\ncurrent-context: deploy\nclusters:\n- name: prod\n  cluster: {server: https://second.example:6443}\ncontexts:\n- name: deploy\n  context: {cluster: prod, user: ci, namespace: shop}\nusers:\n- name: ci\n  user: {token: from-second-file}\n`,
    );
    const access = loadClusterAccess('', {
      KUBECONFIG: `${clusters}:${join(dir, 'missing.yaml')}:${users}`,
      HOME: '/nonexistent',
    });
    expect(access.server).toBe('https://first.example:6443');
    expect(access).toMatchObject({ context: 'deploy', namespace: 'shop' });
    expect((await access.credentials()).headers.authorization).toBe('Bearer from-second-file');
    expect(access.source).toContain(clusters);
  });

  it('a context input picks another context of the merged files', () => {
    const path = file('two-contexts.yaml', config('    token: t'));
    expect(loadClusterAccess('', { KUBECONFIG: path, HOME: '/nonexistent' }, { context: 'other' }).context).toBe(
      'other',
    );
  });

  it('with no input, no KUBECONFIG and no pod, says what to pass', () => {
    expect(() => loadClusterAccess('', { HOME: '/nonexistent' })).toThrow(/no cluster access/);
  });

  it('a KUBECONFIG naming only missing files says so', () => {
    expect(() => loadClusterAccess('', { KUBECONFIG: '/nonexistent/config', HOME: '/nonexistent' })).toThrow(
      /none of these files exists/,
    );
  });
});
