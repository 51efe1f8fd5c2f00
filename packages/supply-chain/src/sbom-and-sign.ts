import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PhaseError, errorMessage, type Phases } from '@deploy-suite/action-kit';
import {
  RegistryError,
  formatReference,
  type Descriptor,
  type ImageReference,
  type RegistryApi,
} from '@deploy-suite/oci';
import { evaluateGate, type GateDecision, type GatePolicy } from './gate.js';
import { ReferrerWriter, type AttachedBundle } from './referrers.js';
import { toSarif } from './sarif.js';
import { signStatement, type SigningMethod } from './sign.js';
import { PREDICATE_TYPES, imageStatement } from './statement.js';
import { imageTargets, unionFindings, type ImageTarget, type PlatformFinding } from './image-targets.js';
import { generateSboms, type SbomFiles } from './syft.js';
import { scanImage, type ScanResult } from './trivy.js';
import { verifyBundle, type SignaturePolicy } from './verify.js';

export interface SbomAndSignRequest {
  client: RegistryApi;
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
  /** The platform it describes ('' for a single manifest). */
  platform: string;
  attached: AttachedBundle;
}

/** One platform image of an index (or the single manifest): what was found in it and what it got. */
export interface PlatformResult extends ImageTarget {
  sboms?: SbomFiles;
  scan?: ScanResult & { decision: GateDecision };
  /** The signature on this platform's own manifest (for a single manifest: the image's). */
  signature?: AttachedBundle;
}

export interface SbomAndSignResult {
  /** registry/repository@sha256:… */
  image: string;
  /** File stem unique per image: <repository slug>-<first 12 hex of the digest>. */
  stem: string;
  /** The digest names an index: each platform was described, scanned and signed. */
  index: boolean;
  platforms: PlatformResult[];
  /** Index entries left out (attestation manifests), with why. */
  skipped: { digest: string; why: string }[];
  /** The gate over every platform's findings together; the SARIF file holds them all. */
  scan?: {
    findings: PlatformFinding[];
    decision: GateDecision<PlatformFinding>;
    sarifPath: string;
    databaseUpdatedAt?: string;
  };
  /** The signature on the digest given (the index, for an index). */
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
 * What sbom-and-sign does, in order: check the digest is in the registry and read what it names (an
 * index: each platform image); SBOMs and the scan of every platform (together, they only read); the gate
 * over all platforms' findings; then — only when the gate passes — the signatures (the digest given and,
 * for an index, each platform manifest, as `cosign sign --recursive`; each checked with the suite's
 * verifier before it is pushed) and the SBOM attestations (per platform, naming the platform and the
 * index, attached to both). A failed gate pushes nothing.
 */
export async function sbomAndSign(request: SbomAndSignRequest, phases: Phases): Promise<SbomAndSignResult> {
  const { client, image } = request;
  const digest = image.digest;
  if (!digest) throw new PhaseError('resolve', `${image.repository} has no digest`, 'pass name@sha256:…');
  const reference = formatReference({ ...image, tag: undefined });
  const stem = artifactStem(image);

  // Reading the signing setup (for a key: scrypt in a worker) runs while the registry answers.
  request.signing?.catch(() => undefined);
  const read = await phases
    .run('resolve', async () => {
      try {
        return imageTargets(await client.getManifest(image, digest), stem);
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
  if (read.index && read.targets.length === 0) {
    await request.signing; // an input error (a wrong password) is the one to report first
    throw new PhaseError(
      'resolve',
      `${reference} is an index without platform images (${read.skipped.length} other entries)`,
      'pass the digest of the image build-image pushed (its digest output), not of an attestation or artifact index',
    );
  }
  const result: SbomAndSignResult = {
    image: reference,
    stem,
    index: read.index,
    platforms: read.targets.map((t) => ({ ...t })),
    skipped: read.skipped,
    attestations: [],
  };
  request.log(
    read.index
      ? `${reference} is an index of ${read.targets.length} platform(s): ${read.targets.map((t) => `${t.platform} ${t.digest}`).join(', ')}`
      : `${reference} is in the registry`,
  );
  for (const entry of read.skipped) request.log(`left out ${entry.digest}: ${entry.why}`);

  // One writer per signed manifest: the digest given, and each platform of an index.
  const attestCount = request.sbom?.attest.length ?? 0;
  // Upload sessions per writer: a signature each, and an index also carries every platform's attestations.
  const openings = new Map<string, { subject?: Descriptor; uploads: number }>([
    [digest, { subject: read.subject, uploads: 1 + attestCount * (read.index ? read.targets.length : 1) }],
    ...(read.index ? read.targets.map((t) => [t.digest, { uploads: 1 + attestCount }] as const) : []),
  ]);
  const writers = new Map<string, Promise<ReferrerWriter>>();
  const writer = (forDigest: string) => {
    let opening = writers.get(forDigest);
    if (!opening) {
      opening = ReferrerWriter.open(client, { ...image, digest: forDigest }, openings.get(forDigest));
      opening.catch(() => undefined);
      writers.set(forDigest, opening);
    }
    return opening;
  };
  // Without a scan, only the key can still stop the signing: the writers' reads and upload sessions run
  // now, while scrypt opens the key (and syft runs). With a scan, nothing is opened before the gate passes.
  if (request.signing && !request.scan) for (const forDigest of openings.keys()) void writer(forDigest);
  try {
    const signing = await request.signing;

    mkdirSync(request.outputDir, { recursive: true }); // synchronous: a thread-pool round trip after the key costs ~2 ms
    const toolsFor = (target: ImageTarget) => ({
      image: formatReference({ ...image, tag: undefined, digest: target.digest }),
      outDir: request.outputDir,
      stem: target.stem,
      ...(target.platform ? { platform: target.platform } : {}),
      plainHttp: request.plainHttp,
      ...(request.dockerConfig ? { dockerConfig: request.dockerConfig } : {}),
    });
    const sbomRun = request.sbom
      ? phases.run('sbom', () =>
          Promise.all(result.platforms.map((p) => generateSboms({ ...toolsFor(p), syft: request.sbom!.syft }))),
        )
      : undefined;
    const scanRun = request.scan
      ? phases.run('scan', () =>
          Promise.all(
            result.platforms.map((p) =>
              scanImage({
                ...toolsFor(p),
                trivy: request.scan!.trivy,
                offline: request.scan!.offline,
                ...(request.scan!.cacheDir ? { cacheDir: request.scan!.cacheDir } : {}),
              }),
            ),
          ),
        )
      : undefined;
    // All only read the image; running them side by side saves all but the longest one's time.
    const [sboms, scanned] = await Promise.all([sbomRun, scanRun]);
    sboms?.forEach((files, i) => {
      const p = result.platforms[i]!;
      p.sboms = files;
      request.log(
        `SBOM${p.platform ? ` of ${p.platform}` : ''}: ${files.packages} packages (SPDX ${files.spdxVersion}, CycloneDX ${files.cyclonedxVersion})`,
      );
    });
    if (scanned && request.scan) {
      const policy = { ...request.scan.policy, now: request.now ?? new Date() };
      scanned.forEach((s, i) => (result.platforms[i]!.scan = { ...s, decision: evaluateGate(s.findings, policy) }));
      const findings = unionFindings(
        result.platforms.map((p) => ({ platform: p.platform, findings: p.scan!.findings })),
      );
      const decision = evaluateGate(findings, policy);
      const sarifPath = join(request.outputDir, `${stem}.sarif`);
      await writeFile(sarifPath, JSON.stringify(toSarif(findings, { toolName: 'trivy', image: reference }), null, 2));
      const databaseUpdatedAt = scanned[0]?.databaseUpdatedAt;
      result.scan = { findings, decision, sarifPath, ...(databaseUpdatedAt ? { databaseUpdatedAt } : {}) };
      for (const entry of decision.expired)
        request.log(`ignore entry ${entry.id} expired on ${entry.expires}: it no longer ignores anything`);
      if (!decision.passed) return result;
    }

    if (signing) {
      const { method, policy } = signing;
      const signOne = async (forDigest: string, what: string): Promise<AttachedBundle> => {
        const bundle = await signStatement(imageStatement(forDigest, PREDICATE_TYPES.signature, {}), method);
        // Checked before it is pushed: a bundle the suite's own verifier refuses never reaches the registry.
        if (policy) {
          try {
            const signer = verifyBundle(bundle, forDigest, policy, PREDICATE_TYPES.signature).signer;
            if (forDigest === digest) result.signer = signer;
          } catch (error) {
            throw new PhaseError(
              'sign',
              `the new signature of ${what} does not verify: ${(error as Error).message}; nothing more was pushed`,
              'report this as a bug with the log',
            );
          }
        }
        try {
          return await (await writer(forDigest)).attach(bundle, PREDICATE_TYPES.signature);
        } catch (error) {
          throw pushFailure('sign', `the signature of ${what}`, reference, error);
        }
      };
      await phases.run('sign', async () => {
        // The platforms first, the digest given last: a reader that finds the index signed finds all of it signed.
        if (result.index) {
          for (const p of result.platforms) {
            p.signature = await signOne(p.digest, p.platform);
            request.log(`signature of ${p.platform} ${p.signature.manifestDigest}`);
          }
        }
        result.signature = await signOne(digest, result.index ? 'the index' : 'the image');
        if (!result.index) result.platforms[0]!.signature = result.signature;
      });
      const signature = result.signature!;
      request.log(`signature ${signature.manifestDigest} (${method.describe}), found through the ${signature.via}`);
      if (request.sbom?.attest.length && result.platforms.every((p) => p.sboms)) {
        await phases.run('attest', async () => {
          for (const p of result.platforms) {
            for (const format of request.sbom!.attest) {
              const path = format === 'cyclonedx' ? p.sboms!.cyclonedx : p.sboms!.spdx;
              const predicateType = PREDICATE_TYPES[format];
              const predicate = JSON.parse(await readFile(path, 'utf8')) as unknown;
              const bundle = await signStatement(
                imageStatement(
                  p.digest,
                  predicateType,
                  predicate,
                  `${image.registry}/${image.repository}`,
                  result.index ? [digest] : [],
                ),
                method,
              );
              const what = `the ${format} attestation${p.platform ? ` of ${p.platform}` : ''}`;
              const attachTo = async (forDigest: string) =>
                (await writer(forDigest)).attach(bundle, predicateType).catch((error: unknown) => {
                  throw pushFailure('attest', what, reference, error);
                });
              // On the platform manifest (what `cosign verify-attestation name@<platform digest>` reads) and,
              // for an index, on the index too (what a verifier given the index reads).
              const attached = await attachTo(p.digest);
              if (result.index) await attachTo(digest);
              result.attestations.push({ format, predicateType, platform: p.platform, attached });
              request.log(`${what} ${attached.manifestDigest}`);
            }
          }
        });
      }
    }
    return result;
  } finally {
    await Promise.all(
      [...writers.values()].map((opening) =>
        opening.then(
          (opened) => opened.close(),
          () => undefined,
        ),
      ),
    );
  }
}
