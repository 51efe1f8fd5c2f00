/**
 * The attributes of one cache-from/cache-to entry, as buildx reads them (`type=gha,mode=max`); a bare value
 * with no `=` is an image reference, buildx's registry type. No `type` means a malformed entry.
 */
export function cacheAttributes(entry: string): Map<string, string> {
  if (!entry.includes('='))
    return new Map([
      ['type', 'registry'],
      ['ref', entry],
    ]);
  const attributes = new Map<string, string>();
  for (const field of entry.split(',')) {
    const at = field.indexOf('=');
    if (at > 0) attributes.set(field.slice(0, at), field.slice(at + 1));
  }
  return attributes;
}
