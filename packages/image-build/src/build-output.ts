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
  /** Cache exports that failed (ignore-error kept the build going): the step and BuildKit's error. */
  exportErrors: string[];
}

/** Counts cached work steps in `--progress=plain` output (`#7 [base 3/3] COPY …` then `#7 CACHED`). */
export function cacheUse(progress: string): CacheUse {
  const work = new Set<string>();
  const cached = new Set<string>();
  const exportSteps = new Map<string, string>();
  const exportErrors: string[] = [];
  for (const line of progress.split('\n')) {
    const exporting = /^#(\d+) (exporting cache\b.*)$/.exec(line);
    if (exporting && !exportSteps.has(exporting[1]!)) exportSteps.set(exporting[1]!, exporting[2]!.trim());
    const failed = /^#(\d+) ERROR:? (.*)$/.exec(line);
    if (failed && exportSteps.has(failed[1]!))
      exportErrors.push(`${exportSteps.get(failed[1]!)}: ${failed[2]!.trim()}`);
    const step = /^#(\d+) \[[^\]]*\d+\/\d+\] (RUN|COPY|ADD) /.exec(line);
    if (step) work.add(step[1]!);
    const hit = /^#(\d+) CACHED\s*$/.exec(line);
    if (hit) cached.add(hit[1]!);
  }
  return { steps: work.size, cached: [...cached].filter((id) => work.has(id)).length, exportErrors };
}

export type FailureKind = 'registry-transient' | 'registry-auth' | 'build';

/**
 * Why a buildx run failed, from its output: a transient registry failure during push is worth
 * retrying (the build is cached, so only the push is redone); everything else is not. The phase is
 * read from the failing step (`#9 pushing … with docker` then `#9 ERROR: …`) or from buildx's own
 * "failed to push" message.
 */
export function classifyFailure(output: string): FailureKind {
  const lines = output.split('\n');
  const stepNames = new Map<string, string>();
  const messages: string[] = [];
  let pushing = false;
  for (const line of lines) {
    const step = /^#(\d+) (.*)$/.exec(line);
    if (step && !stepNames.has(step[1]!)) stepNames.set(step[1]!, step[2]!);
    const stepError = /^#(\d+) ERROR:? (.*)$/.exec(line);
    if (stepError) {
      messages.push(stepError[2]!);
      if (/^(pushing|exporting to image|exporting manifest|writing manifest)/i.test(stepNames.get(stepError[1]!) ?? ''))
        pushing = true;
    }
    if (/^ERROR\b/.test(line)) {
      messages.push(line);
      if (/failed to push|pushing|push access|upload/i.test(line)) pushing = true;
    }
  }
  const text = messages.join('\n') || lines.slice(-20).join('\n');
  if (/unauthorized|authentication required|denied|401 Unauthorized|403 Forbidden/i.test(text)) return 'registry-auth';
  const transient =
    /\b(500|502|503|504|429)\b|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Too Many Requests|toomanyrequests|connection reset|connection refused|i\/o timeout|TLS handshake timeout|unexpected EOF|broken pipe/i.test(
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
