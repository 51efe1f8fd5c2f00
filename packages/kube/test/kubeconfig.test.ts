import { describe, expect, it } from '@jest/globals';
import { KubeconfigError, loadClusterAccess, parseKubeconfig } from '../src/index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
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

describe('parseKubeconfig', () => {
  it('reads server, CA, token and namespace of the current context', () => {
    const access = parseKubeconfig(config('    token: sa-token-123'));
    expect(access).toMatchObject({ server: 'https://10.1.2.3:6443', ca: CA, token: 'sa-token-123', namespace: 'shop' });
  });

  it('accepts the same kubeconfig base64-encoded, as secrets often hold it', () => {
    expect(parseKubeconfig(b64(config('    token: t'))).token).toBe('t');
  });

  it('reads client certificates, and a named context', () => {
    const access = parseKubeconfig(
      config(`    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`),
      { context: 'other' },
    );
    expect(access.clientCert).toBe('CERT');
    expect(access.clientKey).toBe('KEY');
    expect(access.namespace).toBeUndefined();
  });

  it.each([
    ['not: [yaml', /not valid YAML|no clusters/],
    ['just-a-token-string', /no clusters|not valid YAML/],
    [config('    token: t').replace('current-context: ci', 'current-context: nope'), /no context 'nope'.*/],
    [config('    exec: {command: aws}'), /exec plugin/],
    [config(`    client-certificate-data: ${b64('CERT')}`), /without its key/],
    [config('    token: t').replace('https://10.1.2.3:6443/', 'ftp://x'), /not an http\(s\) URL/],
  ])('rejects %#', (text, message) => {
    expect(() => parseKubeconfig(text)).toThrow(KubeconfigError);
    expect(() => parseKubeconfig(text)).toThrow(message);
  });

  it('an error never repeats the kubeconfig content', () => {
    try {
      parseKubeconfig(config('    exec: {command: aws}\n    token: secret-token-xyz'));
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-token-xyz');
      expect((error as KubeconfigError).fix).toMatch(/service-account token/);
    }
  });

  it('with no input, no KUBECONFIG and no pod, says what to pass', () => {
    expect(() => loadClusterAccess('', { KUBECONFIG: '/nonexistent/config', HOME: '/nonexistent' })).toThrow(
      /no cluster access/,
    );
  });
});
