import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PhaseError, execTool, maskSecret } from '@deploy-suite/action-kit';
import { dockerConfigDir } from '@deploy-suite/oci';

export interface LoginSession {
  /** Environment for docker and buildx: DOCKER_CONFIG points at the session's own config. */
  env: NodeJS.ProcessEnv;
  configDir: string;
  /** Removes the session's config (and the credentials in it). */
  close: () => Promise<void>;
}

/**
 * Logs in to a registry in a private copy of the docker config, so the credentials live only for this
 * run and the user's own config is never written. Builders and CLI plugins stay visible through links.
 */
export async function loginSession(registry: string, username: string, password: string): Promise<LoginSession> {
  maskSecret(password);
  const source = dockerConfigDir();
  const configDir = await mkdtemp(join(tmpdir(), 'deploy-suite-docker-'));
  await mkdir(configDir, { recursive: true });
  if (existsSync(join(source, 'config.json'))) await cp(join(source, 'config.json'), join(configDir, 'config.json'));
  else await writeFile(join(configDir, 'config.json'), '{}');
  if (existsSync(source)) {
    for (const entry of await readdir(source)) {
      if (entry === 'buildx' || entry === 'cli-plugins' || entry === 'contexts')
        await symlink(join(source, entry), join(configDir, entry));
    }
  }
  // Added to the tools' passed environment (execTool): the session's credentials and nothing else.
  const env = { DOCKER_CONFIG: configDir };
  const close = () => rm(configDir, { recursive: true, force: true });
  const result = await execTool('docker', ['login', '--username', username, '--password-stdin', registry], {
    input: password,
    env,
  });
  if (result.exitCode !== 0) {
    await close();
    throw new PhaseError(
      'login',
      `docker login to ${registry} failed: ${result.stderr.trim()}`,
      "check 'username' and 'password' (a token with push rights) for this registry",
    );
  }
  return { env, configDir, close };
}
