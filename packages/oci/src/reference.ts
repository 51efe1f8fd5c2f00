/**
 * Image references as the Docker/OCI distribution grammar defines them:
 * [registry[:port]/]path[:tag][@sha256:hex]. Parsing is strict so a bad `image` input fails before
 * anything is built.
 */
export interface ImageReference {
  /** Host (and port) as written, or docker.io when none was written. */
  registry: string;
  /** Repository path, with docker.io's implicit `library/` added for one-part names. */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
export const DOCKER_HUB = 'docker.io';

export class ReferenceError extends Error {
  constructor(
    readonly reference: string,
    readonly reason: string,
  ) {
    super(`'${reference}' is not a valid image reference: ${reason}`);
    this.name = 'ReferenceError';
  }
}

export function parseReference(text: string): ImageReference {
  const input = text.trim();
  if (input === '') throw new ReferenceError(text, 'it is empty');
  if (/\s/.test(input)) throw new ReferenceError(text, 'it contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) {
      throw new ReferenceError(text, `digest '${digest}' is not sha256: followed by 64 lowercase hex digits`);
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_PATTERN.test(tag)) {
      throw new ReferenceError(
        text,
        `tag '${tag}' must be 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'`,
      );
    }
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || /[A-Z]/.test(first))
  ) {
    if (!DOMAIN.test(first)) throw new ReferenceError(text, `registry host '${first}' is not a valid host[:port]`);
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((p) => p === ''))
    throw new ReferenceError(text, 'the repository path is empty or has an empty part');
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      throw new ReferenceError(
        text,
        `path part '${part}' must be lowercase letters and digits, separated by '.', '_', '__' or '-'`,
      );
    }
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (registry.length + 1 + repository.length > 255)
    throw new ReferenceError(text, 'the name is longer than 255 characters');
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** The name without tag or digest, in the form a user wrote it (docker.io kept implicit). */
export function repositoryName(ref: ImageReference): string {
  if (ref.registry === DOCKER_HUB) {
    return ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  return `${ref.registry}/${ref.repository}`;
}

export function formatReference(ref: ImageReference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Parses an image name for building: a repository, with no tag or digest (tags come from rules). */
export function parseImageName(text: string): ImageReference {
  const ref = parseReference(text);
  if (ref.tag || ref.digest) {
    throw new ReferenceError(text, 'give the name without a tag or digest; tags come from the tag rules');
  }
  return ref;
}
