// Finds secrets in what a run showed: logs as the runner displays them (after its ::add-mask:: masking),
// job summaries, step outputs. A secret counts as leaked in plain form, line by line when it spans lines,
// and base64-encoded on its own or inside a larger base64 blob (a docker config's auth, a kubeconfig).
// Pure: the captures and secrets come from test/support/capture.ts; scripts/secret-scan.ts runs it.
import { parse } from 'yaml';

/** One captured run: `shown` is what the runner masks before display, `unmasked` what it does not. */
export interface Capture {
  source: string;
  shown: string[];
  unmasked: string[];
}

export interface Leak {
  source: string;
  /** A hint that names the secret without repeating it. */
  secret: string;
  form: string;
}

const MIN_LENGTH = 8;

/** The runner's display of a log: ::add-mask:: lines consumed, every masked value (and its lines) as ***. */
export function displayedLog(raw: string): string {
  const masks = new Set<string>();
  const kept: string[] = [];
  for (const line of raw.split('\n')) {
    const mask = /^::add-mask::(.*)$/.exec(line.trimEnd());
    if (mask) {
      // Commands escape newlines as %0A (and % as %25): the value is the unescaped text.
      const value = mask[1]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
      if (value) masks.add(value);
      for (const part of value.split('\n')) if (part.trim().length >= 4) masks.add(part.trim());
    } else {
      kept.push(line);
    }
  }
  let text = kept.join('\n');
  for (const value of [...masks].sort((a, b) => b.length - a.length)) text = text.split(value).join('***');
  return text;
}

/** The secret itself and what it carries: a PEM's body lines, a kubeconfig's credentials, base64 decoded. */
export function expandSecret(secret: string): string[] {
  const values = new Set<string>([secret.trim()]);
  const decoded =
    /^[A-Za-z0-9+/=\s]+$/.test(secret.trim()) && secret.trim().length >= 16
      ? Buffer.from(secret.trim(), 'base64').toString('utf8')
      : '';
  const texts = [secret, ...(decoded && !decoded.includes('\uFFFD') ? [decoded] : [])];
  for (const text of texts) {
    if (text !== secret) values.add(text.trim());
    // PEM bodies: each base64 line, as a leak may show one line of it.
    for (const line of text.split('\n')) if (/^[A-Za-z0-9+/=]{40,}$/.test(line.trim())) values.add(line.trim());
    // A kubeconfig: its users' credentials, and their decoded forms.
    if (/\busers:/.test(text)) {
      try {
        const config = parse(text) as { users?: { user?: Record<string, unknown> }[] };
        for (const entry of config.users ?? []) {
          for (const key of ['client-key-data', 'token', 'password']) {
            const value = entry.user?.[key];
            if (typeof value === 'string' && value.length >= MIN_LENGTH) {
              values.add(value);
              if (key === 'client-key-data')
                for (const line of Buffer.from(value, 'base64').toString('utf8').split('\n'))
                  if (line.trim().length >= 40 && !line.startsWith('-----')) values.add(line.trim());
            }
          }
        }
      } catch {
        // not YAML after all: the plain forms above stand
      }
    }
  }
  return [...values].filter((v) => v.length >= MIN_LENGTH);
}

/**
 * The base64 forms of a value: alone (standard and URL alphabets), and as it appears inside a larger
 * blob at each of the three byte alignments (the stable middle of the encoding).
 */
export function base64Forms(value: string): string[] {
  const forms = new Set<string>();
  const bytes = Buffer.from(value, 'utf8');
  forms.add(bytes.toString('base64').replace(/=+$/, ''));
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString('base64');
    // Characters fully determined by the value's own bytes: skip the leading partial group, drop the tail one.
    const start = Math.ceil((offset * 4) / 3);
    const end = Math.floor(((offset + bytes.length) * 4) / 3);
    const middle = encoded.slice(start, end);
    if (middle.length >= MIN_LENGTH) forms.add(middle);
  }
  for (const form of [...forms]) forms.add(form.replace(/\+/g, '-').replace(/\//g, '_'));
  return [...forms];
}

function hint(secret: string): string {
  return `${secret.length} chars, starts '${secret.slice(0, 3)}…'`;
}

/** Every place a secret shows, in any of its forms. */
export function findLeaks(captures: Capture[], secrets: Iterable<string>): Leak[] {
  const leaks: Leak[] = [];
  const forms: { value: string; secret: string; form: string }[] = [];
  for (const secret of new Set(secrets)) {
    for (const value of expandSecret(secret)) {
      forms.push({ value, secret: value, form: value === secret.trim() ? 'plain' : 'part' });
      for (const encoded of base64Forms(value)) forms.push({ value: encoded, secret: value, form: 'base64' });
    }
  }
  for (const capture of captures) {
    const texts = [...capture.shown.map(displayedLog), ...capture.unmasked];
    for (const { value, secret, form } of forms) {
      if (texts.some((text) => text.includes(value)))
        leaks.push({ source: capture.source, secret: hint(secret), form });
    }
  }
  return leaks;
}
