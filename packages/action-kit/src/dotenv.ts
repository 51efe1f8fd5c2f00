/**
 * KEY=value lines as a dotenv file writes them, the way repository secrets carry an app's settings:
 * comments and blank lines skipped, an `export ` prefix allowed, values bare, 'single-quoted' (taken as
 * they are) or "double-quoted" (\n, \t, \" and \\ unescaped; may span lines). Pure.
 */
export interface DotenvResult {
  entries: Map<string, string>;
  /** What is wrong, by line number: never the value (it is a secret). */
  problems: string[];
}

// Secret keys: what the API server takes (alphanumerics, -, _ and .); env names are a subset.
const KEY = /^[A-Za-z0-9_.-]+$/;

export function parseDotenv(text: string): DotenvResult {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const number = i + 1;
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    if (eq <= 0) {
      problems.push(`line ${number} is not KEY=value`);
      continue;
    }
    const key = body.slice(0, eq).trim();
    if (!KEY.test(key)) {
      problems.push(
        `line ${number}: key '${key.slice(0, 40)}' has characters a Secret key cannot (letters, digits, -, _ and . only)`,
      );
      continue;
    }
    let raw = body.slice(eq + 1).trimStart();
    let value: string;
    if (raw.startsWith('"')) {
      // A double-quoted value ends at the first unescaped quote, on this line or a later one.
      let text = raw.slice(1);
      let end = closingQuote(text);
      while (end < 0 && i + 1 < lines.length) {
        text += `\n${lines[++i]!}`;
        end = closingQuote(text);
      }
      if (end < 0) {
        problems.push(`line ${number}: the value of ${key} opens a " that never closes`);
        continue;
      }
      value = text.slice(0, end).replace(/\\(["\\nt])/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c));
    } else if (raw.startsWith("'")) {
      const end = raw.indexOf("'", 1);
      if (end < 0) {
        problems.push(`line ${number}: the value of ${key} opens a ' that never closes`);
        continue;
      }
      value = raw.slice(1, end);
    } else {
      // A bare value ends at an inline comment ( #), as dotenv reads it.
      const comment = raw.search(/\s#/);
      raw = comment >= 0 ? raw.slice(0, comment) : raw;
      value = raw.trimEnd();
    }
    if (entries.has(key)) problems.push(`line ${number}: ${key} is set twice`);
    entries.set(key, value);
  }
  return { entries, problems };
}

function closingQuote(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
