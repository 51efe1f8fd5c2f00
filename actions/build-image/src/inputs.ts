import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { InputReader, maskSecret, readInsecureRegistries } from '@deploy-suite/action-kit';
import {
  ANNOTATION_LEVEL,
  attestationAttributeProblem,
  cacheAttributes,
  type BuildOptions,
} from '@deploy-suite/image-build';
import {
  DEFAULT_FLAVOR,
  ReferenceError,
  TagRuleError,
  parseFlavor,
  parseImageName,
  parseTagRules,
  type Flavor,
  type ImageReference,
  type TagRule,
} from '@deploy-suite/oci';

/** The build's own settings, as buildx takes them, plus what the action does around the build. */
export interface BuildImageInputs extends Pick<
  BuildOptions,
  | 'context'
  | 'file'
  | 'target'
  | 'buildArgs'
  | 'secretFiles'
  | 'secretEnvs'
  | 'platforms'
  | 'push'
  | 'pushByDigest'
  | 'load'
  | 'cacheFrom'
  | 'cacheTo'
  | 'noCache'
  | 'pull'
  | 'builder'
> {
  image: ImageReference;
  imageText: string;
  rules: TagRule[];
  flavor: Flavor;
  /** Build secrets given as values: written to 0600 files for the build, then removed. */
  secrets: Map<string, string>;
  /** The user's own labels and annotations, laid over the computed OCI ones. */
  labels: Map<string, string>;
  annotations: Map<string, string>;
  login?: { registry: string; username: string; password: string };
  requireNonRoot: boolean;
  /** '' (the anchors' default), 'false', 'true' or BuildKit's attributes. */
  provenance: string;
  sbom: string;
  /** Merge mode: the push-by-digest jobs' digests; nothing is built. */
  digests: string[];
  githubToken: string;
  /** Registries spoken to over plain HTTP (insecure-registries). */
  insecureRegistries: string[];
}

const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_ID = /^[A-Za-z0-9_.-]+$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const CACHE_TYPES = ['registry', 'local', 'inline', 'gha', 's3', 'azblob'];
const SECRET_LIKE = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)/i;

/**
 * Reads and checks every input before anything runs: a bad input fails the step here, with all
 * problems listed, and nothing is built or pushed. Secrets are masked before any check can print them.
 */
export function readBuildImageInputs(
  reader: InputReader,
  workspace: string,
  warn: (message: string) => void,
): BuildImageInputs {
  const password = reader.raw('password');
  maskSecret(password);
  const githubToken = reader.raw('github-token');
  maskSecret(githubToken);
  const secrets = reader.keyValues('secrets');
  for (const value of secrets.values()) maskSecret(value);

  const imageText = reader.string('image', { required: true });
  let image: ImageReference = { registry: 'docker.io', repository: 'library/invalid' };
  if (imageText) {
    try {
      image = parseImageName(imageText);
    } catch (error) {
      const reason = error instanceof ReferenceError ? error.reason : String(error);
      reader.problem(
        'image',
        `'${imageText}' is not a valid image name: ${reason}`,
        'use a name such as ghcr.io/owner/app (lowercase, no tag)',
      );
    }
  }

  let rules: TagRule[] = [];
  try {
    rules = parseTagRules(reader.list('tags', { separators: 'newline' }));
  } catch (error) {
    if (!(error instanceof TagRuleError)) throw error;
    reader.problem('tags', `${error.message}`, error.fix);
  }
  let flavor = DEFAULT_FLAVOR;
  try {
    flavor = parseFlavor(reader.list('flavor', { separators: 'newline' }));
  } catch (error) {
    if (!(error instanceof TagRuleError)) throw error;
    reader.problem('flavor', error.message, error.fix);
  }

  // Merge mode builds nothing: the job need not check out the context.
  const digests = reader.list('digests');
  const merge = digests.length > 0;
  const contextText = reader.string('context', { default: '.' });
  const remoteContext = merge || /^(https?:\/\/|git@|git:\/\/)/.test(contextText) || contextText === '-';
  const context = remoteContext ? contextText : resolve(workspace, contextText);
  const contextMissing = !remoteContext && !(existsSync(context) && statSync(context).isDirectory());
  if (contextMissing) {
    reader.problem(
      'context',
      `directory '${contextText}' does not exist (looked in ${context})`,
      'give a directory of the checked-out repository (did the job run actions/checkout?)',
    );
  }
  const fileText = reader.string('file');
  let file: string | undefined;
  if (!remoteContext && !(contextMissing && !fileText)) {
    file = fileText ? (isAbsolute(fileText) ? fileText : resolve(workspace, fileText)) : join(context, 'Dockerfile');
    if (!existsSync(file)) {
      reader.problem(
        'file',
        `Dockerfile '${fileText || join(contextText, 'Dockerfile')}' does not exist`,
        "set 'file' to the Dockerfile's path, relative to the workspace",
      );
      file = undefined;
    }
  } else if (fileText) {
    file = fileText;
  }
  const target = reader.string('target') || undefined;
  if (target && file && !merge) {
    const stages = dockerfileStages(readFileSync(file, 'utf8'));
    if (!stages.includes(target.toLowerCase())) {
      reader.problem(
        'target',
        `stage '${target}' is not in ${fileText || 'the Dockerfile'}${stages.length ? ` (stages: ${stages.join(', ')})` : ' (it names no stages)'}`,
        'use the name after AS in a FROM line',
      );
    }
  }

  const buildArgs = reader.keyValues('build-args');
  for (const [key] of buildArgs) {
    if (!BUILD_ARG_NAME.test(key))
      reader.problem(
        'build-args',
        `'${key}' is not a valid build-arg name`,
        'use letters, digits and _ (not starting with a digit), as ARG does',
      );
    else if (SECRET_LIKE.test(key))
      warn(
        `build-arg ${key} looks like a secret; build-arg values stay in the image history, pass it through 'secrets' instead`,
      );
  }
  for (const [id] of secrets)
    if (!SECRET_ID.test(id))
      reader.problem(
        'secrets',
        `secret id '${id}' has characters other than letters, digits, '.', '_' and '-'`,
        'rename the id',
      );
  const secretFiles = reader.keyValues('secret-files');
  for (const [id, path] of secretFiles) {
    const full = resolve(workspace, path);
    if (!existsSync(full))
      reader.problem(
        'secret-files',
        `file '${path}' for secret '${id}' does not exist`,
        'write the file in an earlier step, or fix the path',
      );
    else secretFiles.set(id, full);
  }
  const secretEnvs = reader.keyValues('secret-envs');
  for (const [id, variable] of secretEnvs) {
    if (process.env[variable] === undefined)
      reader.problem(
        'secret-envs',
        `variable '${variable}' for secret '${id}' is not set`,
        `set it in the step's env: (${variable}: \${{ secrets.… }})`,
      );
    else maskSecret(process.env[variable]);
  }

  const platforms = reader.list('platforms');
  for (const p of platforms)
    if (!PLATFORM.test(p))
      reader.problem('platforms', `'${p}' is not os/arch[/variant]`, 'use e.g. linux/amd64 or linux/arm64/v8');

  const push = reader.boolean('push', true);
  const pushByDigest = reader.boolean('push-by-digest', false);
  const load = reader.boolean('load', false);
  if (pushByDigest && !push)
    reader.problem('push-by-digest', 'is true while push is false', 'set push: true (pushing by digest is a push)');
  if (pushByDigest && load)
    reader.problem('push-by-digest', 'is true with load: true', 'drop load: a matrix job pushes by digest only');
  const labels = reader.keyValues('labels');
  const annotations = reader.keyValues('annotations');
  for (const key of annotations.keys()) {
    const bare = key.replace(ANNOTATION_LEVEL, '');
    if (/^[a-z-]+(\[[^\]]*\])?:/.test(key) && bare === key)
      reader.problem(
        'annotations',
        `'${key}' starts with an unknown level '${key.slice(0, key.indexOf(':'))}'`,
        'use index:, manifest:, index-descriptor: or manifest-descriptor: (optionally with [os/arch]), or no level for the manifest',
      );
    else if (bare === '')
      reader.problem('annotations', `'${key}' has a level but no key`, 'write <level>:<key>=<value>');
  }
  const provenance = reader.string('provenance');
  if (provenance !== '' && provenance !== 'true' && provenance !== 'false') {
    const problem = attestationAttributeProblem('provenance', provenance);
    if (problem) reader.problem('provenance', problem, 'use true, false, or attributes such as mode=max');
  }
  const sbom = reader.string('sbom', { default: 'false' });
  if (sbom !== 'true' && sbom !== 'false') {
    const problem = attestationAttributeProblem('sbom', sbom);
    if (problem) reader.problem('sbom', problem, 'use true, false, or attributes such as generator=<scanner image>');
  }
  for (const entry of digests) {
    const digest = entry.includes('@') ? entry.slice(entry.lastIndexOf('@') + 1) : entry;
    if (!/^sha256:[a-f0-9]{64}$/.test(digest))
      reader.problem(
        'digests',
        `'${entry}' is not a digest`,
        "give each push-by-digest job's digest output (sha256:<64 hex>) or its image output (<image>@sha256:…)",
      );
    else if (entry.includes('@') && imageText && entry.slice(0, entry.lastIndexOf('@')) !== imageText)
      reader.problem(
        'digests',
        `'${entry}' is of another image than '${imageText}'`,
        'merge the digests pushed to the same image name',
      );
  }
  const bare = digests.map((d) => d.slice(d.lastIndexOf('@') + 1));
  for (const [i, digest] of bare.entries())
    if (bare.indexOf(digest) !== i)
      reader.problem('digests', `lists ${digest} twice`, "give each push-by-digest job's digest once");
  if (digests.length > 0 && pushByDigest)
    reader.problem(
      'digests',
      'merge mode (digests) is set together with push-by-digest',
      'the matrix jobs push by digest; the merge job gives only digests',
    );
  const cacheFrom = reader.list('cache-from', { separators: 'newline' });
  const cacheTo = reader.list('cache-to', { separators: 'newline' });
  for (const [name, entries] of [
    ['cache-from', cacheFrom],
    ['cache-to', cacheTo],
  ] as const) {
    for (const entry of entries) {
      const type = cacheAttributes(entry).get('type');
      if (type !== undefined && !CACHE_TYPES.includes(type))
        reader.problem(name, `cache type '${type}' is unknown`, `use one of ${CACHE_TYPES.join(', ')}`);
      if (type === undefined && entry.includes('='))
        reader.problem(
          name,
          `'${entry}' has no type=`,
          'write type=registry,ref=<image>:<tag> (or just the image reference)',
        );
    }
  }
  const noCache = reader.boolean('no-cache', false);
  const pull = reader.boolean('pull', false);
  const builder = reader.string('builder') || undefined;

  const username = reader.string('username');
  let login: BuildImageInputs['login'];
  if (username && !password)
    reader.problem(
      'password',
      'is empty while username is set',
      'pass the registry token: password: ${{ secrets.REGISTRY_TOKEN }}',
    );
  else if (password && !username)
    reader.problem('username', 'is empty while password is set', 'set username (for GHCR: ${{ github.actor }})');
  else if (username)
    login = {
      registry: reader.string('registry') || (image.registry === 'docker.io' ? 'docker.io' : image.registry),
      username,
      password,
    };

  const requireNonRoot = reader.boolean('require-non-root', false);
  const insecureRegistries = readInsecureRegistries(reader);
  reader.done();
  return {
    image,
    imageText,
    rules,
    flavor,
    context,
    ...(file ? { file } : {}),
    ...(target ? { target } : {}),
    buildArgs,
    secrets,
    secretFiles,
    secretEnvs,
    platforms,
    push,
    ...(pushByDigest ? { pushByDigest } : {}),
    load,
    labels,
    annotations,
    cacheFrom,
    cacheTo,
    noCache,
    pull,
    ...(builder ? { builder } : {}),
    ...(login ? { login } : {}),
    requireNonRoot,
    provenance,
    sbom,
    digests: bare,
    githubToken,
    insecureRegistries,
  };
}

/** Stage names declared with `FROM … AS name`, lowercased (stage names are case-insensitive). */
export function dockerfileStages(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1]!.toLowerCase());
}
