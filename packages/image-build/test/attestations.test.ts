import { describe, expect, it } from '@jest/globals';
import {
  AttestationInputError,
  attestationAttributeProblem,
  resolveAttestations,
  type AttestationContext,
} from '../src/index.js';
import { CLASSIC, CURRENT } from './builders.js';

const current = CURRENT;
const classic = CLASSIC;
const url = 'https://github.com/acme/api/actions/runs/7/attempts/1';
const ctx = (over: Partial<AttestationContext> = {}): AttestationContext => ({
  builder: current,
  load: false,
  privateRepository: false,
  runUrl: url,
  ...over,
});

describe("the default provenance (docker/build-push-action's)", () => {
  it('a public repository: mode=max with the run as builder id', () => {
    expect(resolveAttestations({ provenance: '', sbom: 'false' }, ctx())).toEqual({
      provenance: `mode=max,builder-id=${url}`,
      notes: [],
    });
  });
  it('a private repository, and one of unknown visibility: mode=min, inline only', () => {
    for (const privateRepository of [true, undefined])
      expect(resolveAttestations({ provenance: '', sbom: '' }, ctx({ privateRepository })).provenance).toBe(
        `mode=min,inline-only=true,builder-id=${url}`,
      );
  });
  it("load: buildx's own default turned off, and said why", () => {
    const r = resolveAttestations({ provenance: '', sbom: '' }, ctx({ load: true }));
    expect(r.provenance).toBe('false');
    expect(r.notes).toEqual([expect.stringContaining('load: true')]);
  });
  it('the classic docker driver: nothing passed, a note naming why', () => {
    const r = resolveAttestations({ provenance: '', sbom: 'false' }, ctx({ builder: classic }));
    expect(r.provenance).toBeUndefined();
    expect(r.notes).toEqual([expect.stringMatching(/^no provenance attestation: the docker driver/)]);
  });
  it('no run URL: no builder id', () => {
    expect(resolveAttestations({ provenance: '', sbom: '' }, ctx({ runUrl: '' })).provenance).toBe('mode=max');
  });
});

describe('provenance and sbom asked for', () => {
  it("false turns buildx's default off on a capable builder, and passes nothing where there is none", () => {
    expect(resolveAttestations({ provenance: 'false', sbom: '' }, ctx()).provenance).toBe('false');
    expect(
      resolveAttestations({ provenance: 'false', sbom: '' }, ctx({ builder: classic })).provenance,
    ).toBeUndefined();
  });
  it('true is mode=min; attributes are kept, a builder id added unless given', () => {
    expect(resolveAttestations({ provenance: 'true', sbom: '' }, ctx()).provenance).toBe(`mode=min,builder-id=${url}`);
    expect(resolveAttestations({ provenance: 'mode=max,builder-id=me', sbom: '' }, ctx()).provenance).toBe(
      'mode=max,builder-id=me',
    );
    expect(resolveAttestations({ provenance: '', sbom: 'true' }, ctx()).sbom).toBe('true');
    expect(resolveAttestations({ provenance: '', sbom: 'generator=r/s:1' }, ctx()).sbom).toBe('generator=r/s:1');
  });
  it('asked of a builder that cannot: an error for that input, naming what it needs', () => {
    const call = (provenance: string, sbom: string) => () =>
      resolveAttestations({ provenance, sbom }, ctx({ builder: classic }));
    expect(call('mode=max', '')).toThrow(AttestationInputError);
    expect(call('true', '')).toThrow(/the docker driver \(without the containerd image store\) cannot make provenance/);
    try {
      call('', 'true')();
    } catch (error) {
      expect((error as AttestationInputError).input).toBe('sbom');
    }
    expect.assertions(3);
  });
});

describe('attestation attributes', () => {
  it.each([
    ['provenance', 'mode=max', ''],
    ['provenance', 'mode=min,builder-id=x,reproducible=true', ''],
    ['provenance', 'mode=full', "mode must be min or max, not 'full'"],
    ['provenance', 'max', "'max' is not key=value"],
    ['provenance', 'generator=x', "'generator' is not a provenance attribute"],
    ['sbom', 'generator=r/s:1,scan-stage=true', ''],
    ['sbom', 'mode=max', "'mode' is not a sbom attribute"],
  ] as const)('%s %s', (kind, text, problem) => {
    const found = attestationAttributeProblem(kind, text);
    if (problem) expect(found).toContain(problem);
    else expect(found).toBe('');
  });
});
