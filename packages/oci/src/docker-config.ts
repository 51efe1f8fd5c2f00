import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execTool } from '@deploy-suite/action-kit';

export interface RegistryCredentials {
  username: string;
  password: string;
  /**
   * An OAuth2 refresh token (config.json's `identitytoken`, as `az acr login` writes it, or a credential
   * helper's answer with Username `<token>`): exchanged at the registry's token endpoint, never sent as Basic.
   */
  identityToken?: string;
}

/** Docker's marker: a helper answering this username hands out an identity token, not a password. */
const TOKEN_USER = '<token>';

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

/** The keys a registry host may be stored under in config.json (Docker Hub has its legacy URL). */
function configKeys(host: string): string[] {
  if (host === 'docker.io' || host === 'registry-1.docker.io' || host === 'index.docker.io') {
    return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  }
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`];
}

/**
 * Credentials for a registry, read the way the docker CLI stores them: a credential helper for the
 * host, the global credential store, or base64 `auth` in config.json. Undefined when there are none.
 */
export async function credentialsFor(
  host: string,
  configDir = dockerConfigDir(),
): Promise<RegistryCredentials | undefined> {
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as DockerConfig;
  } catch {
    return undefined;
  }
  const keys = configKeys(host);
  const helper = keys.map((k) => config.credHelpers?.[k]).find(Boolean) ?? config.credsStore;
  if (helper) {
    for (const key of keys) {
      const result = await execTool(`docker-credential-${helper}`, ['get'], { input: key, stream: false }).catch(
        () => undefined,
      );
      if (result?.exitCode === 0) {
        const parsed = JSON.parse(result.stdout) as { Username: string; Secret: string };
        if (parsed.Username === TOKEN_USER) return { username: TOKEN_USER, password: '', identityToken: parsed.Secret };
        return { username: parsed.Username, password: parsed.Secret };
      }
    }
  }
  for (const key of keys) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.identitytoken)
      return { username: entry.username || TOKEN_USER, password: '', identityToken: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

export interface PrivateDockerConfig {
  /** The folder to point DOCKER_CONFIG at. */
  dir: string;
  close: () => Promise<void>;
}

/**
 * A docker config of this run's own holding one registry's credentials, for tools that read it (syft,
 * trivy) without a docker CLI to log in with. Written 0600 in a 0700 folder; close() removes it.
 */
export async function privateDockerConfig(
  host: string,
  credentials: RegistryCredentials,
): Promise<PrivateDockerConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'deploy-suite-registry-'));
  const entry = credentials.identityToken
    ? { identitytoken: credentials.identityToken }
    : { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: entry } }), { mode: 0o600 });
  return { dir, close: () => rm(dir, { recursive: true, force: true }) };
}
