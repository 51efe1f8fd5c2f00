import * as core from '@actions/core';

/**
 * Registers a secret with the runner so it is masked in every later log line. Multi-line secrets are
 * masked line by line (the runner masks per line), and the base64 form too, since tools print it.
 */
export function maskSecret(value: string | undefined): void {
  if (!value) return;
  const forms = new Set<string>([value, Buffer.from(value).toString('base64')]);
  for (const line of value.split(/\r?\n/)) {
    if (line.trim().length >= 4) forms.add(line.trim());
  }
  for (const form of forms) core.setSecret(form);
}
