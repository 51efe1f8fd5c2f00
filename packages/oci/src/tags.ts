import semver from 'semver';
import type { GitContext } from './git-context.js';
import { TAG_PATTERN } from './reference.js';
import { TagRuleError, type TagRule } from './tag-rules.js';

/** metadata-action's flavor: when `latest` is added, and a prefix/suffix for every tag. */
export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  suffix: string;
  /** Whether prefix/suffix also apply to `latest`. */
  onLatest: boolean;
}

export const DEFAULT_FLAVOR: Flavor = { latest: 'auto', prefix: '', suffix: '', onLatest: false };

export interface TagComputation {
  /** Tag values (no image name), unique, highest priority first, `latest` last. */
  tags: string[];
  /** The release's version: the first tag a rule produced ('' when none did). */
  version: string;
  /** Why some rules produced nothing, for the log. */
  notes: string[];
}

export function parseFlavor(lines: string[]): Flavor {
  const flavor = { ...DEFAULT_FLAVOR };
  for (const line of lines) {
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    switch (key) {
      case 'latest':
        if (!['auto', 'true', 'false'].includes(value))
          throw new TagRuleError(
            line,
            `latest='${value}' is not auto, true or false`,
            'use latest=auto, latest=true or latest=false',
          );
        flavor.latest = value as Flavor['latest'];
        break;
      case 'prefix':
      case 'suffix': {
        // metadata-action allows `prefix=x,onlatest=true` on one line.
        const [text, ...options] = value.split(',');
        flavor[key] = text ?? '';
        for (const option of options) if (option.trim() === 'onlatest=true') flavor.onLatest = true;
        break;
      }
      default:
        throw new TagRuleError(line, `unknown flavor '${key}'`, 'use latest=, prefix= or suffix=');
    }
  }
  return flavor;
}

/** Computes the tags of a build from the rules and the git context. Pure; throws TagRuleError on a bad rule. */
export function computeTags(rules: TagRule[], context: GitContext, flavor: Flavor = DEFAULT_FLAVOR): TagComputation {
  const produced: string[] = [];
  const notes: string[] = [];
  let latest = flavor.latest === 'true';
  for (const rule of rules) {
    const enabled = render(rule.enable, rule, context);
    if (enabled !== 'true' && enabled !== 'false') {
      throw new TagRuleError(
        rule.source,
        `enable='${rule.enable}' gives '${enabled}', not true or false`,
        'use enable=true, enable=false or enable={{is_default_branch}}',
      );
    }
    if (enabled === 'false') continue;
    const result = applyRule(rule, context);
    if (result.note) notes.push(`${rule.source}: ${result.note}`);
    if (result.latest && flavor.latest === 'auto') latest = true;
    for (const value of result.values) {
      const prefix = render(rule.attrs.prefix ?? '', rule, context);
      const suffix = render(rule.attrs.suffix ?? '', rule, context);
      const raw = rule.type === 'raw' && value === 'latest' && !flavor.onLatest;
      const tag = raw ? value : `${flavor.prefix}${prefix}${value}${suffix}${flavor.suffix}`;
      produced.push(checkTag(tag, rule));
    }
  }
  const version = produced[0] ?? '';
  if (latest) produced.push(flavor.onLatest ? `${flavor.prefix}latest${flavor.suffix}` : 'latest');
  return { tags: [...new Set(produced)], version, notes };
}

interface RuleResult {
  values: string[];
  latest?: boolean;
  note?: string;
}

function applyRule(rule: TagRule, context: GitContext): RuleResult {
  const a = rule.attrs;
  switch (rule.type) {
    case 'schedule':
      return context.eventName === 'schedule'
        ? { values: [render(a.pattern ?? 'nightly', rule, context)] }
        : { values: [] };
    case 'ref':
      if (a.event === 'branch') {
        const branch = currentBranch(context);
        return branch ? { values: [sanitize(branch)] } : { values: [] };
      }
      if (a.event === 'tag') {
        const tag = currentTag(context);
        return tag ? { values: [sanitize(tag)], latest: true } : { values: [] };
      }
      return context.prNumber !== undefined ? { values: [String(context.prNumber)] } : { values: [] };
    case 'edge': {
      const branch = currentBranch(context);
      return branch && branch === (a.branch || context.defaultBranch) ? { values: ['edge'] } : { values: [] };
    }
    case 'sha':
      if (!context.sha) return { values: [], note: 'no commit sha in this context' };
      return { values: [a.format === 'long' ? context.sha : context.sha.slice(0, 7)] };
    case 'raw':
      return { values: [render(a.value ?? '', rule, context)] };
    case 'semver':
      return semverRule(rule, context);
    case 'match':
      return matchRule(rule, context);
  }
}

function semverRule(rule: TagRule, context: GitContext): RuleResult {
  const raw = rule.attrs.value ? render(rule.attrs.value, rule, context) : currentTag(context);
  if (!raw) return { values: [] };
  const parsed = semver.parse(raw, { loose: true });
  if (!parsed) return { values: [], note: `'${raw}' is not a semantic version` };
  const prerelease = parsed.prerelease.length > 0;
  let pattern = rule.attrs.pattern ?? '{{version}}';
  // A pre-release moves only its own full version, never 1.2 or 1 (those point at stable releases).
  if (prerelease && !/\{\{\s*raw\s*\}\}/.test(pattern)) pattern = '{{version}}';
  const value = pattern
    .replace(/\{\{\s*version\s*\}\}/g, parsed.version)
    .replace(/\{\{\s*major\s*\}\}/g, String(parsed.major))
    .replace(/\{\{\s*minor\s*\}\}/g, String(parsed.minor))
    .replace(/\{\{\s*patch\s*\}\}/g, String(parsed.patch))
    .replace(/\{\{\s*raw\s*\}\}/g, raw);
  return { values: [render(value, rule, context)], latest: !prerelease };
}

function matchRule(rule: TagRule, context: GitContext): RuleResult {
  const text = rule.attrs.value ? render(rule.attrs.value, rule, context) : currentTag(context);
  if (!text) return { values: [] };
  const match = new RegExp(rule.attrs.pattern ?? '').exec(text);
  const group = Number(rule.attrs.group ?? '0');
  const value = match?.[group];
  if (!value) return { values: [], note: `'${text}' does not match` };
  const parsed = semver.parse(value, { loose: true });
  return { values: [sanitize(value)], latest: !parsed || parsed.prerelease.length === 0 };
}

function isPullRequest(context: GitContext): boolean {
  return context.prNumber !== undefined || /^pull_request/.test(context.eventName);
}

/** The branch being built; none for pull requests (even pull_request_target, whose ref is the base branch). */
function currentBranch(context: GitContext): string | undefined {
  if (isPullRequest(context)) return undefined;
  return context.ref.startsWith('refs/heads/') ? context.ref.slice('refs/heads/'.length) : undefined;
}

function currentTag(context: GitContext): string | undefined {
  return context.ref.startsWith('refs/tags/') ? context.ref.slice('refs/tags/'.length) : undefined;
}

function sanitize(value: string): string {
  return value.replace(/[^a-zA-Z0-9._-]+/g, '-');
}

function checkTag(tag: string, rule: TagRule): string {
  if (!TAG_PATTERN.test(tag)) {
    throw new TagRuleError(
      rule.source,
      `gives tag '${tag}', which is not a valid tag (1-128 of A-Z a-z 0-9 _ . -, not starting with . or -)`,
      'change the value, prefix or suffix',
    );
  }
  return tag;
}

/** Expands {{branch}} {{tag}} {{sha}} {{base_ref}} {{is_default_branch}} {{date 'FORMAT'}}. */
export function render(template: string, rule: TagRule, context: GitContext): string {
  return template.replace(
    /\{\{\s*([a-z_]+)(?:\s+'([^']*)')?\s*\}\}/g,
    (whole, name: string, arg: string | undefined) => {
      switch (name) {
        case 'branch':
          return sanitize(currentBranch(context) ?? '');
        case 'tag':
          return sanitize(currentTag(context) ?? '');
        case 'sha':
          return context.sha.slice(0, 7);
        case 'base_ref':
          return sanitize(context.baseRef ?? '');
        case 'is_default_branch': {
          const branch = currentBranch(context);
          return String(branch !== undefined && branch === context.defaultBranch);
        }
        case 'date':
          return formatDate(context.now, arg ?? 'YYYYMMDD');
        case 'version':
        case 'major':
        case 'minor':
        case 'patch':
        case 'raw':
          return whole; // semver placeholders, expanded by the semver rule
        default:
          throw new TagRuleError(
            rule.source,
            `unknown expression ${whole}`,
            "use {{branch}}, {{tag}}, {{sha}}, {{base_ref}}, {{is_default_branch}} or {{date 'YYYYMMDD'}}",
          );
      }
    },
  );
}

function formatDate(date: Date, format: string): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const parts: Record<string, string> = {
    YYYY: String(date.getUTCFullYear()),
    YY: pad(date.getUTCFullYear() % 100),
    MM: pad(date.getUTCMonth() + 1),
    DD: pad(date.getUTCDate()),
    HH: pad(date.getUTCHours()),
    mm: pad(date.getUTCMinutes()),
    ss: pad(date.getUTCSeconds()),
  };
  return format.replace(/YYYY|YY|MM|DD|HH|mm|ss/g, (token) => parts[token] ?? token);
}
