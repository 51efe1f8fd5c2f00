import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import {
  InputError,
  InputReader,
  maskSecret,
  readInsecureRegistries,
  readRegistryCredentials,
} from '@deploy-suite/action-kit';
import { ReferenceError, parseReference, type ImageReference } from '@deploy-suite/oci';
import {
  DEFAULT_IGNORE_MAX_DAYS,
  KeyError,
  SEVERITIES,
  parseIgnoreFile,
  readCosignPrivateKey,
  releaseSources,
  resolveToolRelease,
  DEFAULT_RELEASES,
  type IgnoreEntry,
  type ToolName,
  type ToolRelease,
  type SealedKey,
  type Severity,
  type SigningKey,
} from '@deploy-suite/supply-chain/inputs';

export type SigningMode = 'key' | 'keyless' | 'none';
export type ToolSource =
  { path: string } | { install: { release: ToolRelease; releasesUrls: string[] } } | { none: true };
export type SbomAttestation = 'cyclonedx' | 'spdx';

export interface SbomAndSignInputs {
  image: ImageReference;
  imageText: string;
  sbom: boolean;
  attest: SbomAttestation[];
  scan: boolean;
  failOn: Severity[];
  ignoreUnfixed: boolean;
  ignores: IgnoreEntry[];
  signing: SigningMode;
  /** The private key, read and checked but not yet opened (see openSigningKey). */
  sealedKey?: SealedKey;
  cosignPassword: string;
  fulcioUrl: string;
  rekorUrl: string;
  outputDir: string;
  /** A binary's path, or a release to install into the tool cache and check first. */
  syft: ToolSource;
  trivy: ToolSource;
  trivyCacheDir: string;
  offline: boolean;
  registryCredentials?: { username: string; password: string };
  /** Registries spoken to over plain HTTP (insecure-registries). */
  insecureRegistries: string[];
}

const KEY_FIX = 'pass the whole cosign.key file written by cosign generate-key-pair, PEM lines included';

/**
 * Opens the private key (scrypt, ~0.15 s off the main thread); a wrong password is an input error like
 * the others, raised before anything is read from or pushed to the registry.
 */
export async function openSigningKey(inputs: SbomAndSignInputs): Promise<SigningKey | undefined> {
  if (!inputs.sealedKey) return undefined;
  try {
    return await inputs.sealedKey.open(inputs.cosignPassword);
  } catch (error) {
    if (!(error instanceof KeyError)) throw error;
    throw new InputError([
      error.reason === 'password'
        ? {
            input: 'cosign-password',
            problem: error.message,
            fix: 'pass the password the key was generated with (COSIGN_PASSWORD), from a secret',
          }
        : { input: 'cosign-private-key', problem: error.message, fix: KEY_FIX },
    ]);
  }
}

/**
 * Where a tool comes from: the path given (a bare name is looked up on PATH), else a release installed
 * into the tool cache and checked before it runs (the action's pinned default, or the version given).
 */
function readToolSource(
  reader: InputReader,
  name: ToolName,
  needed: boolean,
  releasesUrls: string[],
  env: NodeJS.ProcessEnv,
): ToolSource {
  const path = reader.string(name);
  const version = reader.string(`${name}-version`);
  const sha256 = reader.string(`${name}-sha256`).toLowerCase();
  if (path && version)
    reader.problem(
      `${name}-version`,
      `is set together with ${name}`,
      `give either the path of an installed ${name} or a release to install, not both`,
    );
  if (version && !/^v?[0-9]+\.[0-9]+\.[0-9]+$/.test(version))
    reader.problem(`${name}-version`, `'${version}' is not a release version`, 'use the form 1.2.3');
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256))
    reader.problem(
      `${name}-sha256`,
      `'${sha256}' is not a SHA-256 (64 hex digits)`,
      `copy the checksum of this runner's archive (linux amd64 or arm64) from the release's checksums file`,
    );
  if (sha256 && !version)
    reader.problem(
      `${name}-version`,
      `is empty while ${name}-sha256 is set`,
      `name the release the checksum belongs to (empty: the action's own pinned ${name} ${DEFAULT_RELEASES[name].version}, whose checksum it carries)`,
    );
  if (path) {
    const found = path.includes('/') ? (existsSync(path) ? path : '') : findOnPath(path, env);
    if (!found)
      reader.problem(
        name,
        path.includes('/') ? `'${path}' does not exist` : `'${path}' is not on PATH`,
        `give the path of the binary (or ${name} to use the one on PATH), or leave it empty to install the pinned release`,
      );
    return needed ? { path: found } : { none: true };
  }
  if (!needed) return { none: true };
  return { install: { release: resolveToolRelease(name, version, sha256), releasesUrls } };
}

/** A command found on PATH; '' when none. */
function findOnPath(name: string, env: NodeJS.ProcessEnv): string {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return '';
}

/**
 * Reads and checks every input before anything is scanned, signed or pushed. Secrets are masked first;
 * the private key is opened here, so a wrong password fails before any work is done.
 */
export function readSbomAndSignInputs(
  reader: InputReader,
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
): SbomAndSignInputs {
  const privateKeyText = reader.raw('cosign-private-key');
  const password = reader.raw('cosign-password');
  maskSecret(privateKeyText);
  maskSecret(password);
  const registryCredentials = readRegistryCredentials(reader);
  const insecureRegistries = readInsecureRegistries(reader);

  const imageText = reader.string('image', { required: true });
  let image: ImageReference | undefined;
  if (imageText) {
    try {
      image = parseReference(imageText);
      if (!image.digest) {
        reader.problem(
          'image',
          `'${imageText}' names a tag, not a digest; a tag can move after it is signed, so only a digest is signed`,
          "pass build-image's 'image' output (name@sha256:…)",
        );
      }
    } catch (error) {
      reader.problem(
        'image',
        error instanceof ReferenceError ? error.message : String(error),
        'pass name@sha256:<64 hex digits>',
      );
    }
  }

  const sbom = reader.boolean('sbom', true);
  const attest: SbomAttestation[] = [];
  for (const item of reader.raw('attest-sbom') ? reader.list('attest-sbom') : ['cyclonedx']) {
    const value = item.toLowerCase();
    if (value === 'none') continue;
    if (value === 'cyclonedx' || value === 'spdx') {
      if (!attest.includes(value)) attest.push(value);
    } else
      reader.problem(
        'attest-sbom',
        `'${item}' is not an SBOM format`,
        'use cyclonedx, spdx, both separated by a comma, or none',
      );
  }
  if (attest.length && !sbom)
    reader.problem(
      'attest-sbom',
      `asks for ${attest.join(' and ')} attestations while sbom is false`,
      'set sbom: true, or attest-sbom: none',
    );

  const scan = reader.boolean('scan', true);
  const failOn: Severity[] = [];
  for (const item of reader.raw('severity') ? reader.list('severity') : ['CRITICAL', 'HIGH']) {
    const value = item.toUpperCase();
    if ((SEVERITIES as readonly string[]).includes(value)) failOn.push(value as Severity);
    else
      reader.problem('severity', `'${item}' is not a severity`, `use any of ${SEVERITIES.join(', ')}, comma-separated`);
  }
  const ignoreUnfixed = reader.boolean('ignore-unfixed', false);
  let ignores: IgnoreEntry[] = [];
  const ignorePath = reader.string('ignore-file');
  const ignoreMaxDays = reader.positiveInt('ignore-max-days', DEFAULT_IGNORE_MAX_DAYS);
  if (ignorePath) {
    const full = resolve(workspace, ignorePath);
    if (!existsSync(full))
      reader.problem(
        'ignore-file',
        `file '${ignorePath}' does not exist`,
        'give a path relative to the workspace, or leave it empty',
      );
    else {
      const parsed = parseIgnoreFile(readFileSync(full, 'utf8'), { now: new Date(), maxDays: ignoreMaxDays });
      for (const p of parsed.problems)
        reader.problem(
          'ignore-file',
          `${ignorePath}: ${p}`,
          'each entry needs id, reason and expires (YYYY-MM-DD); see the action docs',
        );
      ignores = parsed.entries;
    }
  }

  let signing = reader.oneOf('signing', ['auto', 'key', 'keyless', 'none'] as const, 'auto') as SigningMode | 'auto';
  if (signing === 'auto') signing = privateKeyText ? 'key' : env.ACTIONS_ID_TOKEN_REQUEST_URL ? 'keyless' : 'none';
  let sealedKey: SealedKey | undefined;
  if (signing === 'key') {
    if (!privateKeyText)
      reader.problem(
        'cosign-private-key',
        'is empty while signing is key',
        'pass the content of cosign.key from a secret: ${{ secrets.COSIGN_PRIVATE_KEY }}',
      );
    else {
      try {
        sealedKey = readCosignPrivateKey(privateKeyText);
      } catch (error) {
        if (!(error instanceof KeyError)) throw error;
        reader.problem('cosign-private-key', error.message, KEY_FIX);
      }
    }
  } else if (privateKeyText && signing !== 'none') {
    reader.problem('cosign-private-key', `is set while signing is ${signing}`, 'remove it, or set signing: key');
  }
  if (signing === 'keyless' && !env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    reader.problem(
      'signing',
      'is keyless but the job cannot request an OIDC token',
      'give the job permissions: id-token: write',
    );
  }
  const fulcioUrl = reader.string('fulcio-url', { default: 'https://fulcio.sigstore.dev' });
  const rekorUrl = reader.string('rekor-url', { default: 'https://rekor.sigstore.dev' });
  for (const [name, url] of [
    ['fulcio-url', fulcioUrl],
    ['rekor-url', rekorUrl],
  ] as const) {
    if (!/^https?:\/\/[^\s/]+/.test(url)) reader.problem(name, `'${url}' is not an http(s) URL`, 'use https://…');
  }

  const mirror = reader.string('tools-mirror');
  if (mirror && !/^https?:\/\/\S+$/.test(mirror))
    reader.problem(
      'tools-mirror',
      `'${mirror}' is not an http(s) URL`,
      'give the base URL that serves <owner>/<repo>/releases/download/…, e.g. https://github.com',
    );
  const releasesUrls = releaseSources(mirror, env.GITHUB_SERVER_URL);
  const syft = readToolSource(reader, 'syft', sbom, releasesUrls, env);
  const trivy = readToolSource(reader, 'trivy', scan, releasesUrls, env);
  const trivyCacheDir = reader.string('trivy-cache-dir');
  const offline = reader.boolean('offline', false);
  if (offline && scan && !trivyCacheDir)
    reader.problem(
      'trivy-cache-dir',
      'is empty while offline is true',
      "give the folder holding trivy's database (db/trivy.db)",
    );
  if (offline && trivyCacheDir && !existsSync(join(resolve(workspace, trivyCacheDir), 'db', 'trivy.db'))) {
    reader.problem(
      'trivy-cache-dir',
      `'${trivyCacheDir}' holds no db/trivy.db`,
      'run trivy once with network access, or set offline: false',
    );
  }

  const outputDir = resolve(
    workspace,
    reader.string('output-dir', { default: join(env.RUNNER_TEMP || workspace, 'sbom-and-sign') }),
  );
  reader.done();
  return {
    image: image!,
    imageText,
    sbom,
    attest,
    scan,
    failOn,
    ignoreUnfixed,
    ignores,
    signing,
    ...(sealedKey ? { sealedKey } : {}),
    cosignPassword: password,
    fulcioUrl,
    rekorUrl,
    outputDir,
    syft,
    trivy,
    trivyCacheDir: trivyCacheDir ? resolve(workspace, trivyCacheDir) : '',
    offline,
    ...(registryCredentials ? { registryCredentials } : {}),
    insecureRegistries,
  };
}
