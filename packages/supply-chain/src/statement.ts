import { DIGEST_PATTERN } from '@deploy-suite/oci';

/** The predicate types cosign 3 writes and `cosign verify-attestation --type` selects. */
export const PREDICATE_TYPES = {
  /** What `cosign sign` signs: the image itself, no claims. */
  signature: 'https://sigstore.dev/cosign/sign/v1',
  cyclonedx: 'https://cyclonedx.org/bom',
  spdx: 'https://spdx.dev/Document',
} as const;

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

export interface StatementSubject {
  name?: string;
  digest: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface InTotoStatement {
  _type: string;
  subject: StatementSubject[];
  predicateType: string;
  predicate: unknown;
}

function digestHex(digest: string): string {
  if (!DIGEST_PATTERN.test(digest) || !digest.startsWith('sha256:'))
    throw new Error(`'${digest}' is not a sha256 digest`);
  return digest.slice('sha256:'.length);
}

/**
 * An in-toto Statement v1 about one image digest. The signature statement mirrors `cosign sign`
 * byte for byte in shape (no subject name, empty annotations, empty predicate) so both tools read it.
 * `alsoAbout` adds subjects of the same name: a platform's SBOM also names the index that holds the
 * platform, so a verifier reading the index finds it.
 */
export function imageStatement(
  digest: string,
  predicateType: string,
  predicate: unknown,
  subjectName?: string,
  alsoAbout: string[] = [],
): InTotoStatement {
  const subject: StatementSubject[] = subjectName
    ? [digest, ...alsoAbout].map((d) => ({ name: subjectName, digest: { sha256: digestHex(d) } }))
    : [{ digest: { sha256: digestHex(digest) }, annotations: {} }];
  return { _type: STATEMENT_TYPES[0]!, subject, predicateType, predicate };
}

/** Reads a DSSE payload as an in-toto statement; undefined when it is not one. */
export function parseStatement(payload: Buffer): InTotoStatement | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  const s = value as Partial<InTotoStatement>;
  if (
    !s ||
    typeof s !== 'object' ||
    !STATEMENT_TYPES.includes(s._type ?? '') ||
    !Array.isArray(s.subject) ||
    typeof s.predicateType !== 'string'
  ) {
    return undefined;
  }
  return s as InTotoStatement;
}

/** Whether a statement's subjects name this digest. */
export function statementCovers(statement: InTotoStatement, digest: string): boolean {
  const hex = digestHex(digest);
  return statement.subject.some((subject) => subject.digest?.sha256?.toLowerCase() === hex);
}
