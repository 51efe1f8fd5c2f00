/** Reading what buildx reports: its metadata file, its plain progress, and why it failed. */

export interface BuildMetadata {
  /** The manifest (or index) digest: what was pushed, or the image id for a load-only docker build. */
  digest?: string;
  configDigest?: string;
  raw: Record<string, unknown>;
}

export function parseMetadata(text: string): BuildMetadata {
  const raw = (text.trim() ? JSON.parse(text) : {}) as Record<string, unknown>;
  const digest = raw['containerimage.digest'];
  const config = raw['containerimage.config.digest'];
  return {
    ...(typeof digest === 'string' ? { digest } : {}),
    ...(typeof config === 'string' ? { configDigest: config } : {}),
    raw,
  };
}

export interface CacheUse {
  /** Dockerfile steps that do work (RUN, COPY, ADD) … */
  steps: number;
  /** … and how many of them came from the cache. */
  cached: number;
}

/** Counts cached work steps in `--progress=plain` output (`#7 [base 3/3] COPY …` then `#7 CACHED`). */
export function cacheUse(progress: string): CacheUse {
  const work = new Set<string>();
  const cached = new Set<string>();
  for (const line of progress.split('\n')) {
    const step = /^#(\d+) \[[^\]]*\d+\/\d+\] (RUN|COPY|ADD) /.exec(line);
    if (step) work.add(step[1]!);
    const hit = /^#(\d+) CACHED\s*$/.exec(line);
    if (hit) cached.add(hit[1]!);
  }
  return { steps: work.size, cached: [...cached].filter((id) => work.has(id)).length };
}

export type FailureKind = 'registry-transient' | 'registry-auth' | 'build';

/**
 * Why a buildx run failed, from its output: a transient registry failure during push is worth
 * retrying (the build is cached, so only the push is redone); everything else is not.
 */
export function classifyFailure(output: string): FailureKind {
  const errorLines = output.split('\n').filter((line) => /^ERROR|error:|failed to/i.test(line)).join('\n');
  const text = errorLines || output.slice(-2000);
  if (/unauthorized|authentication required|denied|401 Unauthorized|403 Forbidden/i.test(text)) return 'registry-auth';
  const pushing = /push|upload|registry|blob|manifest/i.test(text);
  const transient =
    /\b(500|502|503|504|429)\b|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Too Many Requests|toomanyrequests|connection reset|connection refused|i\/o timeout|TLS handshake timeout|unexpected EOF|broken pipe|EOF$/im.test(
      text,
    );
  return pushing && transient ? 'registry-transient' : 'build';
}

/** The last error lines of a failed build, for the failure message. */
export function failureExcerpt(output: string, maxLines = 12): string {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const errorAt = lines.findIndex((l) => /^ERROR/.test(l));
  const picked = errorAt >= 0 ? lines.slice(Math.max(0, errorAt - 4), errorAt + maxLines) : lines.slice(-maxLines);
  return picked.join('\n');
}
