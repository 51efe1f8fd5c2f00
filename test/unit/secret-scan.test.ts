// The secret scan must find what a careless action would show, and must not cry wolf over what the
// runner masks.
import { describe, expect, it } from '@jest/globals';
import { base64Forms, displayedLog, expandSecret, findLeaks } from '../support/secret-scan.js';

const password = 'correct-horse-battery';
const kubeconfig = [
  'apiVersion: v1',
  'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
  'users: [{name: u, user: {token: "eyJhbGciOiJSUzI1NiJ9.payload-of-the-token.signature"}}]',
].join('\n');
const run = (shown: string, unmasked = '') => [{ source: 'run', shown: [shown], unmasked: [unmasked] }];

describe('secret scan', () => {
  it('finds a secret printed in plain', () => {
    expect(findLeaks(run(`logging in with ${password}\n`), [password])).toEqual([
      expect.objectContaining({ form: 'plain' }),
    ]);
  });

  it('finds it inside a larger base64 blob, at every byte alignment', () => {
    for (const user of ['u', 'us', 'use']) {
      const auth = Buffer.from(`${user}:${password}`).toString('base64');
      expect(findLeaks(run(`{"auths":{"r":{"auth":"${auth}"}}}`), [password]).map((l) => l.form)).toContain('base64');
    }
  });

  it('finds a kubeconfig token alone, and a URL-safe encoding', () => {
    expect(
      findLeaks(run('Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload-of-the-token.signature'), [kubeconfig]),
    ).not.toEqual([]);
    const urlSafe = Buffer.from(`x${password}?>`).toString('base64url');
    expect(findLeaks(run(urlSafe), [password])).not.toEqual([]);
  });

  it('finds one line of a PEM key', () => {
    const key =
      '-----BEGIN KEY-----\nQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n-----END KEY-----\n';
    expect(expandSecret(key)).toContain('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2');
    expect(
      findLeaks(run('key line QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2'), [key]),
    ).not.toEqual([]);
  });

  it('does not flag what the runner masks, but flags it in a summary or an output', () => {
    const log = `::add-mask::${password}\nusing ${password}\n`;
    expect(displayedLog(log)).toBe('using ***\n');
    expect(findLeaks(run(log), [password])).toEqual([]);
    expect(findLeaks(run(log, `| password | ${password} |`), [password])).toEqual([
      expect.objectContaining({ form: 'plain' }),
    ]);
  });

  it('masks multi-line values line by line, as escaped by the command', () => {
    const pem = 'line-one-of-a-secret\nline-two-of-a-secret';
    expect(displayedLog(`::add-mask::line-one-of-a-secret%0Aline-two-of-a-secret\nshown: line-two-of-a-secret\n`)).toBe(
      'shown: ***\n',
    );
    expect(findLeaks(run(`::add-mask::${pem.replace('\n', '%0A')}\n${pem}\n`), [pem])).toEqual([]);
  });

  it('names a leaked secret without repeating it', () => {
    const [leak] = findLeaks(run(password), [password]);
    expect(JSON.stringify(leak)).not.toContain(password);
  });

  it('ignores values too short to mean anything', () => {
    expect(base64Forms('ab').every((f) => f.length >= 3)).toBe(true);
    expect(findLeaks(run('abc'), ['abc'])).toEqual([]);
  });
});
