/**
 * Tag rules in docker/metadata-action's syntax, one per line:
 *   type=ref,event=branch | type=ref,event=tag | type=ref,event=pr
 *   type=semver,pattern={{version}}[,value=v1.2.3]   type=match,pattern=<regex>[,group=N]
 *   type=sha[,format=short|long][,prefix=sha-]        type=raw,value=<text> (or just <text>)
 *   type=schedule[,pattern=nightly]                   type=edge[,branch=main]
 * with common attributes enable=, priority=, prefix=, suffix=.
 * Parsing is separate from computing so a malformed rule fails before anything is built.
 */
export type RuleType = 'schedule' | 'semver' | 'match' | 'edge' | 'ref' | 'raw' | 'sha';
const TYPES: readonly RuleType[] = ['schedule', 'semver', 'match', 'edge', 'ref', 'raw', 'sha'];

export const DEFAULT_PRIORITY: Record<RuleType, number> = {
  schedule: 1000,
  semver: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};

const KNOWN_ATTRIBUTES: Record<RuleType, readonly string[]> = {
  schedule: ['pattern'],
  semver: ['pattern', 'value'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format'],
};
const COMMON = ['enable', 'priority', 'prefix', 'suffix'];

export interface TagRule {
  type: RuleType;
  attrs: Record<string, string>;
  enable: string;
  priority: number;
  /** The line as written, for messages. */
  source: string;
}

export class TagRuleError extends Error {
  constructor(
    readonly rule: string,
    readonly reason: string,
    readonly fix: string,
  ) {
    super(`rule '${rule}': ${reason}`);
    this.name = 'TagRuleError';
  }
}

/** Our defaults when `tags` is empty: branch, PR, semver on tags, sha, and latest on the default branch. */
export const DEFAULT_TAG_RULES = [
  'type=ref,event=branch',
  'type=ref,event=pr',
  'type=semver,pattern={{version}}',
  'type=semver,pattern={{major}}.{{minor}}',
  'type=sha',
  'type=raw,value=latest,enable={{is_default_branch}}',
];

export function parseTagRule(line: string): TagRule {
  const source = line.trim();
  const attrs: Record<string, string> = {};
  let type: RuleType | undefined;
  for (const field of splitFields(source)) {
    const eq = field.indexOf('=');
    if (eq < 0) {
      attrs.value = field;
      continue;
    }
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1).trim();
    if (key === 'type') {
      if (!(TYPES as readonly string[]).includes(value)) {
        throw new TagRuleError(source, `unknown type '${value}'`, `use one of ${TYPES.join(', ')}`);
      }
      type = value as RuleType;
    } else {
      attrs[key] = value;
    }
  }
  type ??= 'raw';
  for (const key of Object.keys(attrs)) {
    if (!COMMON.includes(key) && !KNOWN_ATTRIBUTES[type].includes(key)) {
      throw new TagRuleError(
        source,
        `type=${type} has no attribute '${key}'`,
        `use only ${[...KNOWN_ATTRIBUTES[type], ...COMMON].join(', ')}`,
      );
    }
  }
  switch (type) {
    case 'schedule':
      attrs.pattern ??= 'nightly';
      break;
    case 'semver':
      if (!attrs.pattern)
        throw new TagRuleError(
          source,
          'type=semver needs a pattern',
          'add pattern={{version}} (or {{major}}.{{minor}}, {{major}}, {{raw}})',
        );
      if (!/\{\{\s*(version|major|minor|patch|raw)\s*\}\}/.test(attrs.pattern)) {
        throw new TagRuleError(
          source,
          `pattern '${attrs.pattern}' uses none of {{version}} {{major}} {{minor}} {{patch}} {{raw}}`,
          'use pattern={{version}}',
        );
      }
      break;
    case 'match':
      if (!attrs.pattern)
        throw new TagRuleError(source, 'type=match needs a pattern', 'add pattern=<regular expression>');
      try {
        new RegExp(attrs.pattern);
      } catch (error) {
        throw new TagRuleError(
          source,
          `pattern is not a valid regular expression (${(error as Error).message})`,
          'fix the regular expression',
        );
      }
      attrs.group ??= '0';
      if (!/^[0-9]+$/.test(attrs.group))
        throw new TagRuleError(
          source,
          `group '${attrs.group}' is not a number`,
          'use group=0 or the number of a capture group',
        );
      break;
    case 'ref':
      if (!attrs.event)
        throw new TagRuleError(source, 'type=ref needs an event', 'add event=branch, event=tag or event=pr');
      if (!['branch', 'tag', 'pr'].includes(attrs.event)) {
        throw new TagRuleError(
          source,
          `event '${attrs.event}' is not branch, tag or pr`,
          'use event=branch, event=tag or event=pr',
        );
      }
      if (attrs.event === 'pr') attrs.prefix ??= 'pr-';
      break;
    case 'raw':
      if (attrs.value === undefined || attrs.value === '')
        throw new TagRuleError(source, 'type=raw needs a value', 'add value=<tag>');
      break;
    case 'sha':
      attrs.prefix ??= 'sha-';
      attrs.format ??= 'short';
      if (!['short', 'long'].includes(attrs.format))
        throw new TagRuleError(
          source,
          `format '${attrs.format}' is not short or long`,
          'use format=short or format=long',
        );
      break;
    case 'edge':
      break;
  }
  const enable = attrs.enable ?? 'true';
  delete attrs.enable;
  let priority = DEFAULT_PRIORITY[type];
  if (attrs.priority !== undefined) {
    if (!/^-?[0-9]+$/.test(attrs.priority))
      throw new TagRuleError(source, `priority '${attrs.priority}' is not a number`, 'use a whole number such as 500');
    priority = Number(attrs.priority);
  }
  delete attrs.priority;
  return { type, attrs, enable, priority, source };
}

/** Parses every rule; the error of the first bad line names it. Sorted by priority, highest first (stable). */
export function parseTagRules(lines: string[]): TagRule[] {
  const rules = (lines.length > 0 ? lines : DEFAULT_TAG_RULES).map(parseTagRule);
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index)
    .map((x) => x.rule);
}

// Fields are comma-separated; a double-quoted field may hold commas (CSV, as metadata-action reads it).
function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      if (quoted && line[i + 1] === '"') {
        current += '"';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (ch === ',' && !quoted) {
      fields.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (quoted) throw new TagRuleError(line, 'a double quote is not closed', 'close the quote');
  fields.push(current.trim());
  return fields.filter((f) => f !== '');
}
