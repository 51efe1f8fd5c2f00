import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  computeOciLabels,
  computeTags,
  gitContextFrom,
  parseFlavor,
  parseTagRules,
  repositoryFromPayload,
  TagRuleError,
  type GitContext,
} from '../src/index.js';

const NOW = new Date('2026-11-27T03:04:05Z');

function fixture(name: string): { eventName: string; ref: string; sha: string; payload: Record<string, unknown> } {
  return JSON.parse(readFileSync(new URL(`../../../test/fixtures/events/${name}.json`, import.meta.url), 'utf8'));
}

function contextOf(name: string): GitContext {
  const event = fixture(name);
  const repo = repositoryFromPayload(event.payload);
  return gitContextFrom(event, repo?.defaultBranch ?? '', NOW);
}

function tagsFor(name: string, rules: string[] = [], flavor: string[] = []) {
  return computeTags(parseTagRules(rules), contextOf(name), parseFlavor(flavor));
}

describe('default tag rules on each event', () => {
  it.each([
    ['push-default-branch', ['trunk', 'latest', 'sha-8f3c2a1'], 'trunk'],
    ['push-feature-branch', ['feature-cart-v2', 'sha-8f3c2a1'], 'feature-cart-v2'],
    ['push-tag', ['1.2.3', '1.2', 'sha-8f3c2a1', 'latest'], '1.2.3'],
    ['push-prerelease-tag', ['2.0.0-rc.1', 'sha-8f3c2a1'], '2.0.0-rc.1'],
    ['pull-request', ['pr-42', 'sha-1a2b3c4'], 'pr-42'],
    ['pull-request-target', ['pr-43', 'sha-1a2b3c4'], 'pr-43'],
    ['schedule', ['trunk', 'latest', 'sha-8f3c2a1'], 'trunk'],
    ['workflow-dispatch', ['release-2026-11', 'sha-8f3c2a1'], 'release-2026-11'],
  ])('%s gives %j', (name, tags, version) => {
    const result = tagsFor(name);
    expect(result.tags).toEqual(tags);
    expect(result.version).toBe(version);
  });

  it.each(['v2.0.0-rc1', 'v2.0.0-beta', 'v2.0.0-0', 'v2.0.0-alpha.3+build.7'])(
    'a pre-release tag %s is no release: no latest, no major.minor',
    (tag) => {
      const context = { ...contextOf('push-prerelease-tag'), ref: `refs/tags/${tag}` };
      const result = computeTags(parseTagRules([]), context);
      const version = tag.slice(1).replace(/\+.*$/, '');
      expect(result.tags).toEqual([version, 'sha-8f3c2a1']);
      expect(result.tags).not.toContain('latest');
      expect(result.tags).not.toContain('2.0');
    },
  );

  it('uses the default branch the repository declares, not main', () => {
    const context = { ...contextOf('push-default-branch'), ref: 'refs/heads/main' };
    expect(computeTags(parseTagRules([]), context).tags).not.toContain('latest');
  });

  it('tags a pull request with its head commit, not the merge commit', () => {
    const context = contextOf('pull-request');
    expect(context.sha).toBe('1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d');
    expect(context.baseRef).toBe('trunk');
  });

  it('never treats pull_request_target (whose ref is the base branch) as the default branch', () => {
    expect(
      tagsFor('pull-request-target', ['type=raw,value=latest,enable={{is_default_branch}}', 'type=ref,event=branch'])
        .tags,
    ).toEqual([]);
  });
});

describe('rules in metadata-action syntax', () => {
  it('type=schedule with a date pattern only on schedule events', () => {
    expect(tagsFor('schedule', ["type=schedule,pattern=nightly-{{date 'YYYYMMDD'}}"]).tags).toEqual([
      'nightly-20261127',
    ]);
    expect(tagsFor('push-default-branch', ['type=schedule']).tags).toEqual([]);
    expect(tagsFor('schedule', ['type=schedule']).tags).toEqual(['nightly']);
  });

  it('semver patterns, with a value override and {{raw}}', () => {
    expect(
      tagsFor('push-tag', [
        'type=semver,pattern={{major}}',
        'type=semver,pattern=v{{major}}.{{minor}}.{{patch}}',
        'type=semver,pattern={{raw}}',
      ]).tags,
    ).toEqual(['1', 'v1.2.3', 'latest']);
    expect(tagsFor('push-default-branch', ['type=semver,pattern={{version}},value=v3.4.5']).tags).toEqual([
      '3.4.5',
      'latest',
    ]);
    expect(tagsFor('push-prerelease-tag', ['type=semver,pattern={{raw}}']).tags).toEqual(['v2.0.0-rc.1']);
  });

  it('a tag that is not semver gives no semver tag, and says why', () => {
    const context = { ...contextOf('push-tag'), ref: 'refs/tags/release-candidate' };
    const result = computeTags(parseTagRules(['type=semver,pattern={{version}}', 'type=ref,event=tag']), context);
    expect(result.tags).toEqual(['release-candidate', 'latest']);
    expect(result.notes.join()).toMatch(/not a semantic version/);
  });

  it('type=match with a group', () => {
    const context = { ...contextOf('push-tag'), ref: 'refs/tags/api-v4.1.0' };
    expect(computeTags(parseTagRules(['type=match,pattern=api-v(\\d+\\.\\d+),group=1']), context).tags).toEqual([
      '4.1',
      'latest',
    ]);
    expect(computeTags(parseTagRules(['type=match,pattern=web-(.*),group=1']), context).tags).toEqual([]);
  });

  it('type=edge on the default branch (or a named one)', () => {
    expect(tagsFor('push-default-branch', ['type=edge']).tags).toEqual(['edge']);
    expect(tagsFor('push-feature-branch', ['type=edge']).tags).toEqual([]);
    expect(tagsFor('push-feature-branch', ['type=edge,branch=feature/cart-v2']).tags).toEqual(['edge']);
  });

  it('type=sha long, prefixes and suffixes, bare raw values, enable=false', () => {
    expect(
      tagsFor('push-default-branch', [
        'type=sha,format=long,prefix=',
        'type=ref,event=branch,suffix=-amd64',
        'stable',
        'type=raw,value=off,enable=false',
      ]).tags,
    ).toEqual(['trunk-amd64', 'stable', '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a']);
  });

  it('priority orders tags and picks the version', () => {
    const result = tagsFor('push-default-branch', ['type=sha', 'type=raw,value=first,priority=2000']);
    expect(result.tags).toEqual(['first', 'sha-8f3c2a1']);
    expect(result.version).toBe('first');
  });

  it('expressions in raw values', () => {
    expect(tagsFor('push-feature-branch', ['type=raw,value={{branch}}-{{sha}}']).tags).toEqual([
      'feature-cart-v2-8f3c2a1',
    ]);
    expect(tagsFor('pull-request', ['type=raw,value=to-{{base_ref}}']).tags).toEqual(['to-trunk']);
  });

  it('flavor: latest=false, latest=true, prefix and suffix', () => {
    expect(tagsFor('push-tag', ['type=semver,pattern={{version}}'], ['latest=false']).tags).toEqual(['1.2.3']);
    expect(tagsFor('push-feature-branch', ['type=ref,event=branch'], ['latest=true']).tags).toEqual([
      'feature-cart-v2',
      'latest',
    ]);
    expect(tagsFor('push-tag', ['type=semver,pattern={{version}}'], ['prefix=app-', 'suffix=-slim']).tags).toEqual([
      'app-1.2.3-slim',
      'latest',
    ]);
    expect(tagsFor('push-tag', ['type=semver,pattern={{version}}'], ['prefix=app-,onlatest=true']).tags).toEqual([
      'app-1.2.3',
      'app-latest',
    ]);
  });

  it('duplicates collapse', () => {
    expect(tagsFor('push-default-branch', ['type=raw,value=trunk', 'type=ref,event=branch']).tags).toEqual(['trunk']);
  });
});

describe('bad rules fail with the rule and the fix', () => {
  it.each([
    ['type=semver', /needs a pattern/],
    ['type=semver,pattern=v1', /uses none of/],
    ['type=ref', /needs an event/],
    ['type=ref,event=commit', /not branch, tag or pr/],
    ['type=sha,format=medium', /not short or long/],
    ['type=raw', /needs a value/],
    ['type=nightly', /unknown type/],
    ['type=match,pattern=(', /not a valid regular expression/],
    ['type=match,pattern=x,group=one', /not a number/],
    ['type=raw,value=x,priority=high', /not a number/],
    ['type=sha,event=branch', /has no attribute 'event'/],
    ['type=raw,value="unclosed', /not closed/],
  ])('%s', (rule, message) => {
    let error: unknown;
    try {
      parseTagRules([rule]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TagRuleError);
    expect((error as TagRuleError).message).toMatch(message);
    expect((error as TagRuleError).fix.length).toBeGreaterThan(5);
  });

  it.each([
    [['type=raw,value=a/b'], /not a valid tag/],
    [['type=raw,value=-x'], /not a valid tag/],
    [['type=raw,value={{nope}}'], /unknown expression/],
    [['type=raw,value=x,enable=maybe'], /not true or false/],
  ])('computing %j', (rules, message) => {
    expect(() => tagsFor('push-default-branch', rules)).toThrow(message);
  });

  it.each([['latest=sometimes'], ['colour=blue']])('flavor %s', (line) => {
    expect(() => parseFlavor([line])).toThrow(TagRuleError);
  });
});

describe('OCI labels', () => {
  it('as metadata-action sets them, from the repository and the build', () => {
    const event = fixture('push-tag');
    const repo = repositoryFromPayload(event.payload)!;
    const labels = computeOciLabels(repo, gitContextFrom(event, repo.defaultBranch, NOW), '1.2.3');
    expect(Object.fromEntries(labels)).toEqual({
      'org.opencontainers.image.title': 'shop-api',
      'org.opencontainers.image.description': "The shop's API service",
      'org.opencontainers.image.url': 'https://github.com/acme/shop-api',
      'org.opencontainers.image.source': 'https://github.com/acme/shop-api',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.created': '2026-11-27T03:04:05.000Z',
      'org.opencontainers.image.revision': '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
      'org.opencontainers.image.licenses': 'Apache-2.0',
    });
  });

  it('the revision of a pull request is its head commit', () => {
    const event = fixture('pull-request');
    const repo = repositoryFromPayload(event.payload)!;
    const labels = computeOciLabels(repo, gitContextFrom(event, repo.defaultBranch, NOW), 'pr-42');
    expect(labels.get('org.opencontainers.image.revision')).toBe('1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d');
  });

  it('no repository in the payload: no metadata from it', () => {
    expect(repositoryFromPayload(fixture('workflow-dispatch-no-repository').payload)).toBeUndefined();
  });
});
