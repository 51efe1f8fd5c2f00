/**
 * The manifests of an app, rendered as users' own tools render them: files and folders read as they are,
 * a Kustomize overlay by `kustomize build` (or `kubectl kustomize`, which carries it), a Helm chart by
 * `helm template`. The tools run without streaming their output: a rendered Secret must not reach the log.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { execTool } from '@deploy-suite/action-kit';
import type { KubeObject } from './client.js';
import { ManifestError } from './app-manifests.js';

export interface HelmOptions {
  /** The release name `helm template` renders with (.Release.Name). */
  release: string;
  /** Values files, in order (later ones win, as with helm's -f). */
  valuesFiles: string[];
  /** `key=value` settings (helm's --set), after the files. */
  set: string[];
}

export interface ManifestSource {
  /** Files, folders, Kustomize overlays or Helm charts, each an absolute path. */
  paths: string[];
  /** How paths are shown in messages (relative to the workspace). */
  workspace: string;
  namespace: string;
  helm: HelmOptions;
}

export type SourceKind = 'file' | 'folder' | 'kustomize' | 'helm';

const KUSTOMIZATION = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** What a path is: a Helm chart (Chart.yaml, or a packed .tgz), a Kustomize overlay, a folder or a file. */
export function sourceKind(path: string): SourceKind {
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'Chart.yaml'))) return 'helm';
    if (KUSTOMIZATION.some((name) => existsSync(join(path, name)))) return 'kustomize';
    return 'folder';
  }
  return /\.tgz$/.test(path) ? 'helm' : 'file';
}

/** Kubernetes objects from YAML or JSON text (several documents, `kind: List` unpacked). Pure. */
export function parseManifests(text: string, where: string): KubeObject[] {
  const docs = parseAllDocuments(text);
  const objects: KubeObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length)
      throw new ManifestError(
        `${where} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`,
        'fix the YAML (kubectl apply --dry-run=client -f shows the same error)',
      );
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new ManifestError(
        `${where} holds a document that is not an object`,
        'give one Kubernetes object a document',
      );
    const object = value as KubeObject & { items?: KubeObject[] };
    if (object.kind === 'List' || (object.kind?.endsWith('List') && Array.isArray(object.items)))
      objects.push(...(object.items ?? []));
    else objects.push(object);
  }
  return objects;
}

const firstLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 4)
    .join(' / ');

async function run(command: string, args: string[], what: string, missingFix: string): Promise<string> {
  process.stdout.write(`[command]${command} ${args.join(' ')}\n`);
  let result;
  try {
    result = await execTool(command, args, { stream: false });
  } catch (error) {
    throw new ManifestError(`${what}: ${(error as Error).message}`, missingFix);
  }
  if (result.exitCode !== 0)
    throw new ManifestError(
      `${what} failed (exit ${result.exitCode}): ${firstLines(result.stderr) || firstLines(result.stdout)}`,
      'fix the chart or overlay until the same command renders it on your machine',
    );
  return result.stdout;
}

async function renderKustomize(path: string, shown: string): Promise<string> {
  try {
    return await run('kustomize', ['build', path], `kustomize build ${shown}`, '');
  } catch (error) {
    // No kustomize on PATH: kubectl carries it (kubectl kustomize), as on GitHub's runners.
    if (!(error instanceof ManifestError && /cannot run kustomize/.test(error.problem))) throw error;
    return run(
      'kubectl',
      ['kustomize', path],
      `kubectl kustomize ${shown}`,
      'install kustomize or kubectl on the runner (GitHub-hosted runners have both)',
    );
  }
}

function renderHelm(path: string, shown: string, source: ManifestSource): Promise<string> {
  const args = ['template', source.helm.release, path, '--namespace', source.namespace];
  for (const file of source.helm.valuesFiles) args.push('--values', file);
  for (const setting of source.helm.set) args.push('--set', setting);
  return run(
    'helm',
    args,
    `helm template ${shown}`,
    'install helm on the runner before this step (azure/setup-helm; GitHub-hosted runners have it)',
  );
}

/** Every object of the app's manifests, in the order of the paths (a folder's files by name). */
export async function renderManifests(source: ManifestSource): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const path of source.paths) {
    const shown = relative(source.workspace, path) || basename(path);
    const kind = sourceKind(path);
    if (kind === 'helm')
      objects.push(...parseManifests(await renderHelm(path, shown, source), `helm template ${shown}`));
    else if (kind === 'kustomize')
      objects.push(...parseManifests(await renderKustomize(path, shown), `the kustomize build of ${shown}`));
    else if (kind === 'folder') {
      const files = readdirSync(path)
        .filter((name) => /\.(ya?ml|json)$/.test(name))
        .sort();
      if (files.length === 0)
        throw new ManifestError(
          `folder ${shown} holds no .yaml, .yml or .json file`,
          'point manifests at the folder of the app’s manifests, a kustomization or a chart',
        );
      for (const name of files)
        objects.push(...parseManifests(readFileSync(join(path, name), 'utf8'), `${shown}/${name}`));
    } else objects.push(...parseManifests(readFileSync(path, 'utf8'), shown));
  }
  return objects;
}

/** Every value of the Secrets among the objects (decoded from data, as is from stringData). Pure. */
export function secretValues(objects: KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'Secret')
    .flatMap((o) => {
      const { data, stringData } = o as { data?: Record<string, unknown>; stringData?: Record<string, unknown> };
      return [
        ...Object.values(data ?? {}).map((v) =>
          typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '',
        ),
        ...Object.values(stringData ?? {}).map((v) => (typeof v === 'string' ? v : '')),
      ];
    })
    .filter((v) => v.length > 0);
}
