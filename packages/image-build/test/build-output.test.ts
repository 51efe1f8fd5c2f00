import { describe, expect, it } from '@jest/globals';
import { cacheUse, classifyFailure, failureExcerpt, parseMetadata } from '../src/index.js';

describe('buildx output', () => {
  it('reads the metadata file', () => {
    const m = parseMetadata(
      '{"containerimage.digest":"sha256:aa","containerimage.config.digest":"sha256:bb","buildx.build.ref":"x"}',
    );
    expect(m.digest).toBe('sha256:aa');
    expect(m.configDigest).toBe('sha256:bb');
    expect(parseMetadata('').digest).toBeUndefined();
  });

  it('counts cached work steps in plain progress (as buildx 0.29 on the docker driver prints it)', () => {
    const progress = [
      '#4 [base 1/3] FROM docker.io/deploy-suite/base:bookworm',
      '#4 DONE 0.0s',
      '#6 [base 2/3] RUN mkdir -p /app && echo "dev" > /app/version',
      '#6 CACHED',
      '#7 [base 3/3] COPY server.sh /app/server.sh',
      '#7 DONE 0.9s',
      '#8 [runtime 1/1] ADD x /x',
      '#8 CACHED',
    ].join('\n');
    expect(cacheUse(progress)).toEqual({ steps: 3, cached: 2, exportErrors: [] });
  });

  it('finds a cache export that failed under ignore-error (BuildKit v0.34 output)', () => {
    const progress = [
      '#6 exporting to image',
      '#6 DONE 0.0s',
      '#7 exporting cache to registry',
      '#7 preparing build cache for export done',
      '#7 writing layer sha256:7400 done',
      '#7 ERROR: error writing layer blob: dial tcp 127.0.0.1:1: connect: connection refused',
      '#8 [base 2/3] RUN true',
      '#8 ERROR: process did not complete',
    ].join('\n');
    expect(cacheUse(progress).exportErrors).toEqual([
      'exporting cache to registry: error writing layer blob: dial tcp 127.0.0.1:1: connect: connection refused',
    ]);
  });

  it('classifies a 503 while the docker driver pushes (buildx 0.29 output)', () => {
    const output = [
      '#8 exporting to image',
      '#8 DONE 0.0s',
      '#9 pushing 127.0.0.1:42721/r/flaky:feature-cart-v2 with docker',
      '#9 ERROR: received unexpected HTTP status: 503 Service Unavailable',
      '------',
      ' > pushing 127.0.0.1:42721/r/flaky:feature-cart-v2 with docker:',
      '------',
      'ERROR: failed to build: received unexpected HTTP status: 503 Service Unavailable',
    ].join('\n');
    expect(classifyFailure(output)).toBe('registry-transient');
  });

  it('a 503 from a RUN step (say, a package mirror) is a build failure, not retried', () => {
    const output = [
      '#6 [base 2/3] RUN apt-get update',
      '#6 ERROR: process "/bin/sh -c apt-get update" did not complete: 503 Service Unavailable',
      'ERROR: failed to solve: process "/bin/sh -c apt-get update" did not complete successfully: exit code: 100',
    ].join('\n');
    expect(classifyFailure(output)).toBe('build');
  });

  it.each([
    [
      'ERROR: failed to push 127.0.0.1:5000/a:1: received unexpected HTTP status: 503 Service Unavailable',
      'registry-transient',
    ],
    [
      'ERROR: failed to build: failed to push r/a: failed to do request: Put "https://r/v2/a/blobs/uploads/": read: connection reset by peer',
      'registry-transient',
    ],
    ['ERROR: failed to push ghcr.io/a: unexpected status: 401 Unauthorized', 'registry-auth'],
    ['ERROR: denied: permission_denied: write_package', 'registry-auth'],
    ['ERROR: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 2', 'build'],
    ['ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory', 'build'],
  ])('classifies %j', (output, kind) => {
    expect(classifyFailure(`#1 [internal] load\n${output}\n`)).toBe(kind);
  });

  it('keeps the error and the lines before it for the message', () => {
    const output = ['a', 'b', 'c', 'd', 'e', 'ERROR: boom', 'detail'].join('\n');
    expect(failureExcerpt(output)).toBe(['b', 'c', 'd', 'e', 'ERROR: boom', 'detail'].join('\n'));
  });
});
