import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { TlsOptions } from '@deploy-suite/action-kit';

// What docker, syft and trivy in the same job trust for a registry, so the suite's registry client trusts
// it too: docker's per-registry folder (/etc/docker/certs.d/<host>/, or rootless docker's
// ~/.config/docker/certs.d/<host>/: *.crt are CAs, client.cert + client.key a client certificate), the
// Go tools' SSL_CERT_FILE and SSL_CERT_DIR, and Node's NODE_EXTRA_CA_CERTS. Added to Node's own roots.

/** Where docker looks for a registry's certificates. */
export function certsDirs(host: string, env: NodeJS.ProcessEnv): string[] {
  const rootless = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'docker', 'certs.d');
  const dirs = [join('/etc/docker/certs.d', host), join(rootless, host)];
  // docker names a folder for the default port both ways.
  if (!host.includes(':')) dirs.push(join('/etc/docker/certs.d', `${host}:443`), join(rootless, `${host}:443`));
  return dirs.filter((dir) => existsSync(dir));
}

const PEM_FILE = /\.(pem|crt|cer)$|^[0-9a-f]{8}\.[0-9]+$/i;

function readPems(dir: string, pattern: RegExp): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => pattern.test(name) && statSync(join(dir, name)).isFile())
      .sort()
      .map((name) => readFileSync(join(dir, name), 'utf8'));
  } catch {
    return [];
  }
}

function readFile(path: string | undefined): string[] {
  if (!path) return [];
  try {
    return [readFileSync(path, 'utf8')];
  } catch {
    return [];
  }
}

export interface RegistryTrust {
  tls?: TlsOptions;
  /** Where the added trust came from, for messages. */
  sources: string[];
}

const cache = new Map<string, RegistryTrust>();

/** The trust for one registry host; undefined TLS options when nothing is added to Node's roots. */
export function registryTrust(host: string, env: NodeJS.ProcessEnv = process.env): RegistryTrust {
  const key = `${host}\0${env.SSL_CERT_FILE ?? ''}\0${env.SSL_CERT_DIR ?? ''}\0${env.NODE_EXTRA_CA_CERTS ?? ''}\0${env.HOME ?? ''}\0${env.XDG_CONFIG_HOME ?? ''}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const extra: string[] = [];
  const sources: string[] = [];
  let cert: string | undefined;
  let keyPem: string | undefined;
  for (const dir of certsDirs(host, env)) {
    const cas = readPems(dir, /\.crt$/i);
    if (cas.length) {
      extra.push(...cas);
      sources.push(`${dir}/*.crt`);
    }
    const pair = readdirSync(dir).find((name) => name.endsWith('.cert'));
    if (pair && existsSync(join(dir, pair.replace(/\.cert$/, '.key')))) {
      cert = readFileSync(join(dir, pair), 'utf8');
      keyPem = readFileSync(join(dir, pair.replace(/\.cert$/, '.key')), 'utf8');
      sources.push(`${dir}/${pair}`);
    }
  }
  const file = readFile(env.SSL_CERT_FILE);
  if (file.length) {
    extra.push(...file);
    sources.push(`SSL_CERT_FILE (${env.SSL_CERT_FILE})`);
  }
  for (const dir of (env.SSL_CERT_DIR ?? '').split(delimiter).filter(Boolean)) {
    const pems = readPems(dir, PEM_FILE);
    if (pems.length) {
      extra.push(...pems);
      sources.push(`SSL_CERT_DIR (${dir})`);
    }
  }
  // Node reads NODE_EXTRA_CA_CERTS into its default store at start, which a `ca` option replaces: read here
  // again, so it holds with the other sources, and for an environment given to the client.
  const nodeExtra = readFile(env.NODE_EXTRA_CA_CERTS);
  if (nodeExtra.length) {
    extra.push(...nodeExtra);
    sources.push(`NODE_EXTRA_CA_CERTS (${env.NODE_EXTRA_CA_CERTS})`);
  }
  const trust: RegistryTrust = {
    sources,
    ...(extra.length || cert
      ? {
          tls: {
            ...(extra.length ? { ca: [...rootCertificates, ...extra] } : {}),
            ...(cert && keyPem ? { cert, key: keyPem } : {}),
          },
        }
      : {}),
  };
  cache.set(key, trust);
  return trust;
}

export function registryTls(host: string, env: NodeJS.ProcessEnv = process.env): TlsOptions | undefined {
  return registryTrust(host, env).tls;
}
