import * as core from '@actions/core';

/** Every form registered by maskSecret, for redactSecrets. */
const masked = new Set<string>();

/**
 * Registers a secret with the runner so it is masked in every later log line. Multi-line secrets are
 * masked line by line (the runner masks per line), and the base64 form too, since tools print it.
 */
export function maskSecret(value: string | undefined): void {
  if (!value) return;
  // A secret pasted with its trailing newline (a token file, a key): a tool may print the base64 of
  // either form, so both are masked.
  const trimmed = value.trim();
  const forms = new Set<string>([
    value,
    Buffer.from(value).toString('base64'),
    Buffer.from(trimmed).toString('base64'),
  ]);
  for (const line of value.split(/\r?\n/)) {
    if (line.trim().length >= 4) forms.add(line.trim());
  }
  for (const form of forms) {
    core.setSecret(form);
    masked.add(form);
  }
}

/**
 * `text` with every masked value replaced by ***, longest first (a secret's line inside the whole):
 * for what the runner does not mask itself, such as the job summary file.
 */
export function redactSecrets(text: string): string {
  let out = text;
  for (const value of [...masked].sort((a, b) => b.length - a.length)) out = out.replaceAll(value, '***');
  return out;
}
