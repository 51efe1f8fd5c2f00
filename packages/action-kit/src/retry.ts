export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts?: number;
  /** Delay before the second attempt; doubles each time, with jitter, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Only errors this accepts are retried; others are thrown at once. */
  isTransient?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `operation` until it succeeds, retrying transient failures with exponential backoff. */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 8_000;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const transient = options.isTransient ? options.isTransient(error) : true;
      if (!transient || attempt >= attempts) throw error;
      const delay = Math.min(max, base * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
      options.onRetry?.(error, attempt, Math.round(delay));
      await sleep(delay);
    }
  }
}

/** HTTP statuses worth retrying: throttling and server-side failures. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Network-level failures (reset, refused while restarting, timeouts) seen from fetch and child tools. */
export function isTransientNetworkMessage(message: string): boolean {
  return /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|socket hang up|i\/o timeout|TLS handshake timeout|connection reset|connection refused|unexpected EOF|502 Bad Gateway|503 Service Unavailable|504 Gateway Time-?out|500 Internal Server Error|429 Too Many Requests|toomanyrequests|fetch failed|UND_ERR/i.test(
    message,
  );
}
