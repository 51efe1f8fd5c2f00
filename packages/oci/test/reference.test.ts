import { describe, expect, it } from '@jest/globals';
import { formatReference, parseImageName, parseReference, ReferenceError } from '../src/index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['acme/api:1.0', { registry: 'docker.io', repository: 'acme/api', tag: '1.0' }],
    ['ghcr.io/acme/shop-api', { registry: 'ghcr.io', repository: 'acme/shop-api' }],
    ['127.0.0.1:5000/demo/app:v1', { registry: '127.0.0.1:5000', repository: 'demo/app', tag: 'v1' }],
    ['localhost/app', { registry: 'localhost', repository: 'app' }],
    [
      `registry.example.com:443/a/b/c@${DIGEST}`,
      { registry: 'registry.example.com:443', repository: 'a/b/c', digest: DIGEST },
    ],
    [`app:1@${DIGEST}`, { registry: 'docker.io', repository: 'library/app', tag: '1', digest: DIGEST }],
    ['a__b/c-d.e_f', { registry: 'docker.io', repository: 'a__b/c-d.e_f' }],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
  });

  it.each([
    ['', /empty/],
    ['Acme/App', /lowercase/],
    ['ghcr.io/acme/App', /lowercase/],
    ['ghcr.io//app', /empty part/],
    ['app:-bad', /tag/],
    ['app@sha256:abc', /digest/],
    ['ghcr.io/a b', /whitespace/],
    ['app/', /empty part/],
    ['my_-app', /lowercase/],
    [`ghcr.io/${'a'.repeat(260)}`, /255/],
  ])('rejects %j', (text, reason) => {
    expect(() => parseReference(text)).toThrow(ReferenceError);
    expect(() => parseReference(text)).toThrow(reason);
  });

  it('an image name to build has no tag or digest', () => {
    expect(() => parseImageName('ghcr.io/acme/api:latest')).toThrow(/without a tag/);
    expect(formatReference(parseImageName('nginx'))).toBe('nginx');
    expect(formatReference({ ...parseImageName('ghcr.io/acme/api'), digest: DIGEST })).toBe(
      `ghcr.io/acme/api@${DIGEST}`,
    );
  });
});
