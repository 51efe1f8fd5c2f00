// A certificate authority of the test's own (openssl), and server certificates it signs for exactly the
// names given: what a private CA, an API server behind a load balancer or a lab registry looks like.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  cert: string;
  /** A server certificate (and key) naming only these DNS names and IP addresses. */
  issue(name: string, names: { dns?: string[]; ip?: string[] }): { cert: string; key: string };
}

const openssl = (args: string[], cwd: string) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

export function makeTestCa(dir: string, commonName = 'deploy-suite test CA'): TestCa {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
    ],
    dir,
  );
  return {
    dir,
    cert: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    issue(name, { dns = [], ip = [] }) {
      const alt = [...dns.map((d) => `DNS:${d}`), ...ip.map((i) => `IP:${i}`)].join(',');
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${alt}\nextendedKeyUsage=serverAuth\n`);
      openssl(
        [
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/CN=${name}`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.crt`,
          '-days',
          '2',
          '-extfile',
          `${name}.ext`,
        ],
        dir,
      );
      return {
        cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
        key: readFileSync(join(dir, `${name}.key`), 'utf8'),
      };
    },
  };
}
