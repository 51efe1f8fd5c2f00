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
  type IgnoreEntry,
  type SealedKey,
  type Severity,
  type SigningKey,
} from '@deploy-suite/supply-chain/inputs';

export type SigningMode = 'key' | 'keyless' | 'none';
export type ToolSource =
  { path: string } | { install: { version: string; sha256: string; releasesUrl: string } } | { none: true };
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
  /** A binary's path, or a pinned release to install into the tool cache first. */
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
 * Where a tool comes from: the path given, a pinned release (version and the archive's SHA-256) to install,
 * or PATH. A needed tool found nowhere is a problem naming the three ways.
 */
function readToolSource(
  reader: InputReader,
  name: 'syft' | 'trivy',
  needed: boolean,
  releasesUrl: string,
  env: NodeJS.ProcessEnv,
  fix: string,
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
  if (version && !/^[0-9a-f]{64}$/.test(sha256)) {
    reader.problem(
      `${name}-sha256`,
      sha256 ? `'${sha256}' is not a SHA-256 (64 hex digits)` : `is empty while ${name}-version is set`,
      `copy the checksum of the linux amd64 archive from the release's checksums file: nothing is run without it`,
    );
  }
  if (sha256 && !version)
    reader.problem(
      `${name}-version`,
      `is empty while ${name}-sha256 is set`,
      `name the release the checksum belongs to`,
    );
  if (path) {
    if (!existsSync(path))
      reader.problem(name, `'${path}' does not exist`, 'give the path of the binary, or leave it empty to use PATH');
    return { path };
  }
  if (version) return { install: { version, sha256, releasesUrl } };
  const found = findTool(name, '', env);
  if (found) return { path: found };
  if (needed) reader.problem(name, `${name} is not on PATH`, fix);
  return { none: true };
}

/** A tool given by path, or found on PATH; '' when neither. */
export function findTool(name: string, given: string, env: NodeJS.ProcessEnv): string {
  if (given) return given;
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

  const releasesUrl = reader.string('tools-mirror', { default: 'https://github.com' });
  if (!/^https?:\/\/\S+$/.test(releasesUrl))
    reader.problem(
      'tools-mirror',
      `'${releasesUrl}' is not an http(s) URL`,
      'give the base URL that serves <owner>/<repo>/releases/download/…, e.g. https://github.com',
    );
  const syft = readToolSource(
    reader,
    'syft',
    sbom,
    releasesUrl,
    env,
    'install it in an earlier step (anchore/sbom-action/download-syft), give its path, or pin a release with syft-version and syft-sha256',
  );
  const trivy = readToolSource(
    reader,
    'trivy',
    scan,
    releasesUrl,
    env,
    'install it in an earlier step (aquasecurity/setup-trivy), give its path, or pin a release with trivy-version and trivy-sha256',
  );
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
