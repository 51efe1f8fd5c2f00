import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PhaseError, errorMessage, type Phases } from '@deploy-suite/action-kit';
import { RegistryError, formatReference, type ImageReference, type RegistryClient } from '@deploy-suite/oci';
import { evaluateGate, type GateDecision, type GatePolicy } from './gate.js';
import { ReferrerWriter, type AttachedBundle } from './referrers.js';
import { toSarif } from './sarif.js';
import { signStatement, type SigningMethod } from './sign.js';
import { PREDICATE_TYPES, imageStatement } from './statement.js';
import { generateSboms, type SbomFiles } from './syft.js';
import { scanImage, type ScanResult } from './trivy.js';
import { verifyBundle, type SignaturePolicy } from './verify.js';

export interface SbomAndSignRequest {
  client: RegistryClient;
  /** The image with its digest. */
  image: ImageReference;
  outputDir: string;
  plainHttp: boolean;
  dockerConfig?: string;
  sbom?: { syft: string; attest: ('cyclonedx' | 'spdx')[] };
  scan?: { trivy: string; cacheDir: string; offline: boolean; policy: Omit<GatePolicy, 'now'> };
  /**
   * How to sign, once ready: started before the work and awaited right after `resolve`, so opening the
   * key (scrypt) overlaps the registry check, and a wrong password stops the run before the SBOM and scan.
   */
  signing?: Promise<{ method: SigningMethod; policy: SignaturePolicy | undefined }>;
  log: (message: string) => void;
  now?: Date;
}

export interface Attestation {
  format: 'cyclonedx' | 'spdx';
  predicateType: string;
  attached: AttachedBundle;
}

export interface SbomAndSignResult {
  /** registry/repository@sha256:… */
  image: string;
  /** File stem unique per image: <repository slug>-<first 12 hex of the digest>. */
  stem: string;
  sboms?: SbomFiles;
  scan?: ScanResult & { decision: GateDecision; sarifPath: string };
  signature?: AttachedBundle;
  attestations: Attestation[];
  /** Who signed, as the suite's verifier reads the signature bundle just made. */
  signer?: string;
}

/** `ghcr.io/acme/api` + digest → `acme-api-<12 hex>`: artifact and file names that matrix jobs cannot share. */
export function artifactStem(image: ImageReference): string {
  const slug = image.repository.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${slug}-${(image.digest ?? '').replace('sha256:', '').slice(0, 12)}`;
}

/** A push the registry kept refusing (the client retried transient failures already), with the fix. */
function pushFailure(phase: string, what: string, reference: string, error: unknown): PhaseError {
  const status = error instanceof RegistryError ? error.status : 0;
  const fix =
    status === 401 || status === 403
      ? 'give registry-username and registry-password that may push to the repository (for ghcr.io: the job needs packages: write)'
      : 'check that the registry is reachable and accepts OCI artifacts, then re-run: signing again is safe (the verifier accepts any valid signature)';
  return new PhaseError(phase, `pushing ${what} of ${reference} failed: ${errorMessage(error)}`, fix);
}

/**
 * What sbom-and-sign does, in order: check the digest is in the registry; SBOMs and the scan (together,
 * they only read); the gate; then — only when the gate passes — the signature (checked with the suite's
 * verifier before it is pushed) and the SBOM attestations. A failed gate pushes nothing.
 */
export async function sbomAndSign(request: SbomAndSignRequest, phases: Phases): Promise<SbomAndSignResult> {
  const { client, image } = request;
  const digest = image.digest;
  if (!digest) throw new PhaseError('resolve', `${image.repository} has no digest`, 'pass name@sha256:…');
  const reference = formatReference({ ...image, tag: undefined });
  const stem = artifactStem(image);
  const result: SbomAndSignResult = { image: reference, stem, attestations: [] };

  // Reading the signing setup (for a key: scrypt in a worker) runs while the registry answers.
  request.signing?.catch(() => undefined);
  const subject = await phases
    .run('resolve', async () => {
      try {
        return await client.describeManifest(image, digest);
      } catch (error) {
        if (error instanceof RegistryError && error.status === 404) {
          throw new PhaseError(
            'resolve',
            `${reference} is not in the registry`,
            "pass the digest build-image pushed (its 'image' output)",
          );
        }
        throw new PhaseError(
          'resolve',
          `cannot read ${reference}: ${(error as Error).message}`,
          'check the registry credentials (registry-username/registry-password) and that the registry is reachable',
        );
      }
    })
    .catch(async (error: unknown) => {
      await request.signing; // an input error (a wrong password) is the one to report first
      throw error;
    });
  request.log(`${reference} is in the registry`);
  // Without a scan, only the key can still stop the signing: the writer's reads and upload sessions run now,
  // while scrypt opens the key (and syft runs). With a scan, nothing is opened before the gate passes.
  const uploads = 1 + (request.sbom?.attest.length ?? 0);
  let writerOpening: Promise<ReferrerWriter> | undefined =
    request.signing && !request.scan ? ReferrerWriter.open(client, image, { subject, uploads }) : undefined;
  writerOpening?.catch(() => undefined);
  const writer = () => (writerOpening ??= ReferrerWriter.open(client, image, { subject, uploads }));
  try {
    const signing = await request.signing;

    mkdirSync(request.outputDir, { recursive: true }); // synchronous: a thread-pool round trip after the key costs ~2 ms
    const tools = {
      image: reference,
      outDir: request.outputDir,
      stem,
      plainHttp: request.plainHttp,
      ...(request.dockerConfig ? { dockerConfig: request.dockerConfig } : {}),
    };
    const sbomRun = request.sbom
      ? phases.run('sbom', () => generateSboms({ ...tools, syft: request.sbom!.syft }))
      : undefined;
    const scanRun = request.scan
      ? phases.run('scan', () =>
          scanImage({
            ...tools,
            trivy: request.scan!.trivy,
            offline: request.scan!.offline,
            ...(request.scan!.cacheDir ? { cacheDir: request.scan!.cacheDir } : {}),
          }),
        )
      : undefined;
    // Both only read the image; running them side by side saves the shorter one's time.
    const [sboms, scanned] = await Promise.all([sbomRun, scanRun]);
    if (sboms) {
      result.sboms = sboms;
      request.log(`SBOM: ${sboms.packages} packages (SPDX ${sboms.spdxVersion}, CycloneDX ${sboms.cyclonedxVersion})`);
    }
    if (scanned && request.scan) {
      const decision = evaluateGate(scanned.findings, { ...request.scan.policy, now: request.now ?? new Date() });
      const sarifPath = join(request.outputDir, `${stem}.sarif`);
      await writeFile(
        sarifPath,
        JSON.stringify(toSarif(scanned.findings, { toolName: 'trivy', image: reference }), null, 2),
      );
      result.scan = { ...scanned, decision, sarifPath };
      for (const entry of decision.expired)
        request.log(`ignore entry ${entry.id} expired on ${entry.expires}: it no longer ignores anything`);
      if (!decision.passed) return result;
    }

    if (signing) {
      const { method, policy } = signing;
      const signature = await phases.run('sign', async () => {
        const bundle = await signStatement(imageStatement(digest, PREDICATE_TYPES.signature, {}), method);
        // Checked before it is pushed: a bundle the suite's own verifier refuses never reaches the registry.
        if (policy) {
          try {
            result.signer = verifyBundle(bundle, digest, policy, PREDICATE_TYPES.signature).signer;
          } catch (error) {
            throw new PhaseError(
              'sign',
              `the new signature does not verify: ${(error as Error).message}; nothing was pushed`,
              'report this as a bug with the log',
            );
          }
        }
        try {
          return await (await writer()).attach(bundle, PREDICATE_TYPES.signature);
        } catch (error) {
          throw pushFailure('sign', 'the signature', reference, error);
        }
      });
      result.signature = signature;
      request.log(`signature ${signature.manifestDigest} (${method.describe}), found through the ${signature.via}`);
      if (result.sboms && request.sbom?.attest.length) {
        await phases.run('attest', async () => {
          for (const format of request.sbom!.attest) {
            const path = format === 'cyclonedx' ? result.sboms!.cyclonedx : result.sboms!.spdx;
            const predicateType = PREDICATE_TYPES[format];
            const predicate = JSON.parse(await readFile(path, 'utf8')) as unknown;
            const bundle = await signStatement(
              imageStatement(digest, predicateType, predicate, `${image.registry}/${image.repository}`),
              method,
            );
            const attached = await (await writer()).attach(bundle, predicateType).catch((error: unknown) => {
              throw pushFailure('attest', `the ${format} attestation`, reference, error);
            });
            result.attestations.push({ format, predicateType, attached });
            request.log(`${format} attestation ${attached.manifestDigest}`);
          }
        });
      }
    }
    return result;
  } finally {
    await writerOpening?.then(
      (opened) => opened.close(),
      () => undefined,
    );
  }
}
