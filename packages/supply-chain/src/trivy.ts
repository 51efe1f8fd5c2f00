import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PhaseError, execTool } from '@deploy-suite/action-kit';
import { findingsFromTrivy, type Finding } from './findings.js';
import { lastLines } from './syft.js';

export interface ScanRequest {
  trivy: string;
  image: string;
  outDir: string;
  stem: string;
  plainHttp: boolean;
  dockerConfig?: string;
  /** trivy's cache (its database under db/). */
  cacheDir?: string;
  /** Use the database as it is: no download (air-gapped runners, tests). */
  offline: boolean;
  /** The platform of an index's image (trivy otherwise assumes the host's). */
  platform?: string;
}

export interface ScanResult {
  findings: Finding[];
  reportPath: string;
  /** The database's build time, for the summary: a stale database finds less. */
  databaseUpdatedAt?: string;
}

/**
 * Scans the pushed image with trivy (vulnerabilities only) and reads its JSON report. The gate is
 * decided by the suite, not by trivy's exit code, so ignores with reasons and expiry dates apply.
 */
export async function scanImage(request: ScanRequest): Promise<ScanResult> {
  const reportPath = join(request.outDir, `${request.stem}.trivy.json`);
  const args = [
    'image',
    '--quiet',
    '--format',
    'json',
    '--output',
    reportPath,
    '--scanners',
    'vuln',
    '--image-src',
    'remote',
    '--skip-version-check',
    '--disable-telemetry',
  ];
  if (request.cacheDir) args.push('--cache-dir', request.cacheDir);
  if (request.offline) args.push('--skip-db-update', '--skip-java-db-update', '--offline-scan');
  if (request.plainHttp) args.push('--insecure');
  if (request.platform) args.push('--platform', request.platform);
  args.push(request.image);
  const env: NodeJS.ProcessEnv = {
    ...(request.dockerConfig ? { DOCKER_CONFIG: request.dockerConfig } : {}),
  };
  const result = await execTool(request.trivy, args, { env, stream: false });
  if (result.exitCode !== 0) {
    const text = lastLines(result.stderr || result.stdout);
    const fix = /db|database/i.test(text)
      ? "let trivy download its database (offline: 'false'), or provide one in trivy's cache folder"
      : 'check that the digest was pushed and the registry credentials (registry-username/registry-password) can pull it';
    throw new PhaseError('scan', `trivy could not scan ${request.image}: ${text}`, fix);
  }
  const findings = findingsFromTrivy(JSON.parse(await readFile(reportPath, 'utf8')));
  let databaseUpdatedAt: string | undefined;
  if (request.cacheDir) {
    try {
      databaseUpdatedAt = (
        JSON.parse(await readFile(join(request.cacheDir, 'db', 'metadata.json'), 'utf8')) as { UpdatedAt?: string }
      ).UpdatedAt;
    } catch {
      databaseUpdatedAt = undefined;
    }
  }
  return { findings, reportPath, ...(databaseUpdatedAt ? { databaseUpdatedAt } : {}) };
}
