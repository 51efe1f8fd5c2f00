import { missingFeature, type BuilderInfo } from './builder.js';

/** What the `provenance` and `sbom` inputs ask for, before the builder is known. */
export interface AttestationRequest {
  /** '' (the anchors' default), 'false', 'true', or BuildKit's attributes (mode=max,…). */
  provenance: string;
  /** '' or 'false' (none), 'true', or attributes (generator=<scanner image>,…). */
  sbom: string;
}

export interface AttestationContext {
  builder: BuilderInfo;
  /** load: true exports to the docker engine, where a classic store drops attestations. */
  load: boolean;
  /** The repository's visibility from the event payload; undefined when unknown. */
  privateRepository: boolean | undefined;
  /** The run's URL: the provenance's builder id, as docker/build-push-action sets it. */
  runUrl: string;
}

export interface ResolvedAttestations {
  /** The value of buildx's --provenance ('false' turns buildx's own default off); absent: pass nothing. */
  provenance?: string;
  sbom?: string;
  /** Why the default provenance was left off, for an info line. */
  notes: string[];
}

export class AttestationInputError extends Error {
  constructor(
    readonly input: 'provenance' | 'sbom',
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'AttestationInputError';
  }
}

const PROVENANCE_KEYS = ['mode', 'builder-id', 'reproducible', 'inline-only', 'version', 'filename'];
const SBOM_KEYS = ['generator', 'scan-context', 'scan-stage', 'filename'];

/** Checks the attributes' keys (and mode's value): what BuildKit would refuse only after the build. */
export function attestationAttributeProblem(kind: 'provenance' | 'sbom', text: string): string {
  const allowed = kind === 'provenance' ? PROVENANCE_KEYS : SBOM_KEYS;
  for (const part of text.split(',')) {
    const [key, value] = [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)];
    if (!part.includes('=') || key === '') return `'${part}' is not key=value`;
    if (!allowed.includes(key)) return `'${key}' is not a ${kind} attribute (known: ${allowed.join(', ')})`;
    if (kind === 'provenance' && key === 'mode' && value !== 'min' && value !== 'max')
      return `mode must be min or max, not '${value}'`;
  }
  return '';
}

function withBuilderId(attributes: string, runUrl: string): string {
  return /(^|,)builder-id=/.test(attributes) || !runUrl ? attributes : `${attributes},builder-id=${runUrl}`;
}

/**
 * The attestations a build makes. The default is docker/build-push-action's: provenance when the builder
 * can (BuildKit ≥ 0.11, not loading into the engine), mode=max for a public repository and mode=min for a
 * private one — and mode=min when the visibility is unknown, where the anchor assumes public. An explicit
 * request the builder cannot honour is an error naming what it needs, never a silent drop.
 */
export function resolveAttestations(request: AttestationRequest, context: AttestationContext): ResolvedAttestations {
  const notes: string[] = [];
  const provenance = request.provenance.trim();
  const sbom = request.sbom.trim();
  const missing = missingFeature(context.builder, 'attestations');
  const out: ResolvedAttestations = { notes };

  if (provenance === 'false') {
    // buildx adds mode=min itself on a capable builder: only an explicit false turns it off.
    if (!missing) out.provenance = 'false';
  } else if (provenance === '') {
    if (missing) notes.push(`no provenance attestation: ${missing}`);
    else if (context.load) {
      out.provenance = 'false';
      notes.push('no provenance attestation: load: true exports to the docker engine, which would drop it');
    } else {
      const mode = context.privateRepository === false ? 'mode=max' : 'mode=min,inline-only=true';
      out.provenance = withBuilderId(mode, context.runUrl);
    }
  } else {
    if (missing)
      throw new AttestationInputError(
        'provenance',
        `is '${provenance}', but ${missing}`,
        "set provenance: false, or build on a current builder (docker/setup-buildx-action's docker-container driver)",
      );
    out.provenance = withBuilderId(provenance === 'true' ? 'mode=min' : provenance, context.runUrl);
  }

  if (sbom !== '' && sbom !== 'false') {
    if (missing)
      throw new AttestationInputError(
        'sbom',
        `is '${sbom}', but ${missing}`,
        'set sbom: false (sbom-and-sign attaches SBOMs to any image), or build on a current builder',
      );
    out.sbom = sbom;
  }
  return out;
}
