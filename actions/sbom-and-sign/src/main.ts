import * as core from '@actions/core';
import { InputReader, Phases, PhaseError, requireRunner } from '@deploy-suite/action-kit';
import { RegistryClient, privateDockerConfig, speaksPlainHttp } from '@deploy-suite/oci';
import type { InstalledTool, SbomAndSignResult, SigningKey, SigningMethod } from '@deploy-suite/supply-chain';
import { openSigningKey, readSbomAndSignInputs, type SbomAndSignInputs, type ToolSource } from './inputs.js';
import { onPlatforms, report } from './report.js';

type Library = typeof import('@deploy-suite/supply-chain');

async function signingMethod(
  library: Library,
  inputs: SbomAndSignInputs,
  key: SigningKey | undefined,
): Promise<SigningMethod | undefined> {
  if (inputs.signing === 'key') return library.keySigning(key!);
  if (inputs.signing === 'keyless') {
    return library.keylessSigning({
      fulcioUrl: inputs.fulcioUrl,
      rekorUrl: inputs.rekorUrl,
      // GitHub's workflow identity token, audience "sigstore" as Fulcio expects; core masks it.
      identityProvider: { getToken: () => core.getIDToken('sigstore') },
    });
  }
  return undefined;
}

/** The tool's path; a release is checked against its SHA-256 and unpacked for this run first. */
async function toolPath(
  library: Library,
  phases: Phases,
  name: 'syft' | 'trivy',
  source: ToolSource,
  installed: InstalledTool[],
): Promise<string> {
  if ('path' in source) return source.path;
  if ('none' in source) return '';
  const tool = await phases.run(`install ${name}`, () =>
    library.installTool({ ...source.install, log: (m) => core.info(m) }),
  );
  installed.push(tool);
  return tool.path;
}

/** The action, as the runner starts it (src/index.ts): inputs from the environment, outputs and summary to it. */
export async function run(): Promise<void> {
  requireRunner('sbom-and-sign', {
    platforms: ['linux'],
    arches: ['x64', 'arm64'],
    because: 'it runs syft and trivy release binaries',
  });
  const inputs = readSbomAndSignInputs(new InputReader(), process.env.GITHUB_WORKSPACE || process.cwd());
  // scrypt opens the key in a worker while sigstore-js (a megabyte) loads and the registry answers.
  const keyOpening = openSigningKey(inputs);
  keyOpening.catch(() => undefined);
  const library = await import('@deploy-suite/supply-chain');
  const phases = new Phases();
  const installed: InstalledTool[] = [];
  try {
    await describeScanSign(inputs, library, keyOpening, phases, installed);
  } finally {
    await Promise.all(installed.map((tool) => tool.remove()));
  }
}

/** The SBOMs, the scan and its gate, the signatures and attestations; then the outputs and the summary. */
async function describeScanSign(
  inputs: SbomAndSignInputs,
  library: Library,
  keyOpening: ReturnType<typeof openSigningKey>,
  phases: Phases,
  installed: InstalledTool[],
): Promise<void> {
  const syft = await toolPath(library, phases, 'syft', inputs.syft, installed);
  const trivy = await toolPath(library, phases, 'trivy', inputs.trivy, installed);
  const credentials = inputs.registryCredentials;
  const dockerConfig = credentials ? await privateDockerConfig(inputs.image.registry, credentials) : undefined;
  const client = new RegistryClient({
    ...(credentials
      ? { credentials: async (host: string) => (host === inputs.image.registry ? credentials : undefined) }
      : {}),
    insecureHosts: inputs.insecureRegistries,
  });
  let method: SigningMethod | undefined;
  let result: SbomAndSignResult;
  try {
    result = await library.sbomAndSign(
      {
        client,
        image: inputs.image,
        outputDir: inputs.outputDir,
        plainHttp: speaksPlainHttp(inputs.image.registry, inputs.insecureRegistries),
        ...(dockerConfig ? { dockerConfig: dockerConfig.dir } : {}),
        ...(inputs.sbom ? { sbom: { syft, attest: inputs.attest } } : {}),
        ...(inputs.scan
          ? {
              scan: {
                trivy,
                cacheDir: inputs.trivyCacheDir,
                offline: inputs.offline,
                policy: { failOn: inputs.failOn, ignoreUnfixed: inputs.ignoreUnfixed, ignores: inputs.ignores },
              },
            }
          : {}),
        ...(inputs.signing !== 'none'
          ? {
              signing: keyOpening.then(async (key) => {
                method = await signingMethod(library, inputs, key);
                return { method: method!, policy: key ? { kind: 'key' as const, key } : undefined };
              }),
            }
          : {}),
        log: (m) => core.info(m),
      },
      phases,
    );
  } finally {
    await dockerConfig?.close();
  }

  const decision = result.scan?.decision;
  await report(inputs, result, method, phases);

  if (decision && !decision.passed) {
    const ids = decision.blocking
      .slice(0, 10)
      .map((f) => `${f.id} (${f.severity}, ${f.package} ${f.installed}${onPlatforms(result, f)})`);
    throw new PhaseError(
      'gate',
      `${decision.blocking.length} finding(s) at ${inputs.failOn.join('/')} in ${result.image}: ${ids.join(', ')}${decision.blocking.length > 10 ? ', …' : ''}. Nothing was signed`,
      'upgrade the packages to the fixed versions, or accept a risk in the ignore-file with a reason and an expiry date',
    );
  }
}
