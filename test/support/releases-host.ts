// A local stand-in for github.com's release downloads: syft and trivy releases as their projects publish
// them (<owner>/<repo>/releases/download/v<version>/<name>_<version>_<os_arch>.tar.gz with the binary at
// the archive's root, and goreleaser's <name>_<version>_checksums.txt beside them), made from the
// platform's own binaries. Three sites under one server, by the first path segment:
//   /good/      the releases as published
//   /tampered/  every archive altered by one byte, the checksums file still listing the published ones
//   /missing/   nothing (404), as a GitHub Enterprise Server that does not mirror the tools
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { repoRoot } from './action-runner.js';

export type ReleasedTool = 'syft' | 'trivy';

const PROJECT: Record<ReleasedTool, string> = { syft: 'anchore/syft', trivy: 'aquasecurity/trivy' };
const ARCHES: Record<ReleasedTool, string[]> = {
  syft: ['linux_amd64', 'linux_arm64'],
  trivy: ['Linux-64bit', 'Linux-ARM64'],
};

export interface ReleasesHost {
  /** The server's root; add /good, /tampered or /missing for a site. */
  url: string;
  /** Paths asked for, in order. */
  requests: string[];
  /** SHA-256 of the published archive of a tool for x64 (what the checksums file lists). */
  sha256(tool: ReleasedTool): string;
  close(): Promise<void>;
}

/**
 * A release archive of a binary, built once per binary (its size and mtime name it) and kept in .tmp:
 * trivy's takes seconds to pack.
 */
function packArchive(binary: string, name: ReleasedTool): string {
  const real = realpathSync(binary);
  const stat = statSync(real);
  const dir = join(repoRoot, '.tmp/release-archives');
  const archive = join(dir, `${name}-${stat.size}-${Math.floor(stat.mtimeMs)}.tar.gz`);
  if (existsSync(archive)) return archive;
  mkdirSync(dir, { recursive: true });
  const partial = `${archive}.partial`;
  // The binary at the archive's root, under the tool's name, as goreleaser packs it.
  const packed = spawnSync(
    'tar',
    [
      '-C',
      dirname(real),
      '-I',
      'gzip -1',
      '--transform',
      `s/^${basename(real)}$/${name}/`,
      '-cf',
      partial,
      basename(real),
    ],
    { encoding: 'utf8' },
  );
  if (packed.status !== 0) throw new Error(`packing ${binary}: ${packed.stderr}`);
  renameSync(partial, archive);
  return archive;
}

export async function startReleasesHost(
  tools: { name: ReleasedTool; version: string; binary: string }[],
): Promise<ReleasesHost> {
  const files = new Map<string, { good: Buffer; tampered: Buffer }>();
  const sums = new Map<ReleasedTool, string>();
  for (const tool of tools) {
    const bytes = readFileSync(packArchive(tool.binary, tool.name));
    const tampered = Buffer.from(bytes);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0xff, tampered.length - 1);
    const sha = createHash('sha256').update(bytes).digest('hex');
    sums.set(tool.name, sha);
    const folder = `${PROJECT[tool.name]}/releases/download/v${tool.version}`;
    const lines: string[] = [];
    // Every architecture's name serves the same bytes: what is under test is which name a runner asks for.
    for (const arch of ARCHES[tool.name]) {
      const file = `${tool.name}_${tool.version}_${arch}.tar.gz`;
      files.set(`${folder}/${file}`, { good: bytes, tampered });
      lines.push(`${sha}  ${file}`);
    }
    const listing = Buffer.from(`${lines.join('\n')}\n`);
    files.set(`${folder}/${tool.name}_${tool.version}_checksums.txt`, { good: listing, tampered: listing });
  }
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push(path);
    const match = /^\/(good|tampered)\/(.+)$/.exec(path);
    const file = match ? files.get(match[2]!) : undefined;
    if (!match || !file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    const body = match[1] === 'good' ? file.good : file.tampered;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    sha256: (tool) => sums.get(tool)!,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The platform's syft and trivy served as releases, and the caller workflows' variables that make
 * sbom-and-sign install them from there as it installs them from github.com on a GitHub-hosted runner
 * (downloaded, checked against a SHA-256, unpacked into the tool cache). `host` replaces 127.0.0.1 in
 * the mirror's address (a name only a proxy resolves, say).
 */
export async function startPlatformReleases(): Promise<
  ReleasesHost & { vars: (host?: string) => Record<string, string> }
> {
  const versions = { syft: '1.57.1', trivy: '0.74.0' };
  const releases = await startReleasesHost([
    { name: 'syft', version: versions.syft, binary: process.env.DEPLOY_SUITE_SYFT! },
    { name: 'trivy', version: versions.trivy, binary: process.env.DEPLOY_SUITE_TRIVY! },
  ]);
  return Object.assign(releases, {
    vars: (host = '127.0.0.1') => ({
      SYFT_VERSION: versions.syft,
      SYFT_SHA256: releases.sha256('syft'),
      TRIVY_VERSION: versions.trivy,
      TRIVY_SHA256: releases.sha256('trivy'),
      TOOLS_MIRROR: `${releases.url.replace('127.0.0.1', host)}/good`,
    }),
  });
}
