/**
 * The pod-security check of a release before anything is applied: each pod template it would run (the
 * colour's Deployment, its hook Jobs) against a Pod Security Standard. Where the namespace's PodSecurity
 * admission can answer at that level (its warn label), a server-side dry run asks it; elsewhere the
 * suite's own judge of the same checks answers (pod-security.ts). The namespace's enforce level is
 * checked too: pods it refuses would never start, so a release that breaks it stops here, not at the
 * progress deadline.
 */
import { PhaseError } from '@deploy-suite/action-kit';
import type { KubeApi, KubeObject } from './client.js';
import { renderDeployment, type AppSpec } from './bluegreen.js';
import {
  admissionViolations,
  namespacePodSecurity,
  podSecurityViolations,
  type PodSecurityLevel,
  type PodTemplate,
} from './pod-security.js';
import { FIELD_MANAGER } from './ownership.js';

export interface PodSecurityFinding {
  /** Deployment shop-blue, Job migrate, … */
  object: string;
  violations: string[];
}

export interface PodSecurityReport {
  level: Exclude<PodSecurityLevel, 'privileged'>;
  /** Who judged at `level`: the namespace's PodSecurity admission (a dry run), or the suite's own checks. */
  judge: 'admission' | 'suite';
  findings: PodSecurityFinding[];
  /** The namespace's enforce label, and what it would refuse (judged by the suite). */
  namespaceEnforce?: PodSecurityLevel;
  refusedByNamespace: PodSecurityFinding[];
}

/** The pod templates a release runs, as they would be applied (the colour's Deployment, its hook Jobs). */
function podTemplates(spec: AppSpec): { object: KubeObject; label: string; template: PodTemplate }[] {
  const deployment = renderDeployment(spec, 'blue', 0);
  const templateOf = (o: KubeObject) =>
    ((o.spec as { template?: PodTemplate } | undefined)?.template ?? {}) as PodTemplate;
  return [
    { object: deployment, label: `Deployment ${deployment.metadata.name}`, template: templateOf(deployment) },
    ...(spec.hooks ?? []).map((h) => ({
      object: { ...h.job, metadata: { ...h.job.metadata, namespace: spec.namespace } },
      label: `Job ${h.job.metadata.name} (${h.event} hook)`,
      template: templateOf(h.job),
    })),
  ];
}

/**
 * `namespaceLabels`: the app's namespace's labels as the preflight read them (undefined when the identity
 * may not read namespaces: a namespaced Role; the suite's own checks then answer).
 */
export async function checkPodSecurity(
  client: KubeApi,
  spec: AppSpec,
  level: Exclude<PodSecurityLevel, 'privileged'>,
  namespaceLabels: Record<string, string> | undefined,
  log: (message: string) => void,
): Promise<PodSecurityReport> {
  const { enforce, warn } = namespacePodSecurity(namespaceLabels);
  const templates = podTemplates(spec);
  const judged = (at: PodSecurityLevel) =>
    templates
      .map((t) => ({ object: t.label, violations: podSecurityViolations(t.template, at) }))
      .filter((f) => f.violations.length);

  let judge: PodSecurityReport['judge'] = 'suite';
  let findings = judged(level);
  if (warn === level) {
    // The admission itself answers: a dry run of each object in the namespace, its warnings read back.
    try {
      const answers = await Promise.all(
        templates.map(async (t) => {
          const warnings: string[] = [];
          await client.apply(t.object, { fieldManager: FIELD_MANAGER, dryRun: true, warnings });
          return {
            object: t.label,
            violations: admissionViolations(warnings)
              .filter((w) => w.level === level)
              .flatMap((w) => w.violations),
          };
        }),
      );
      judge = 'admission';
      const ours = findings;
      findings = answers.filter((f) => f.violations.length);
      if (JSON.stringify(ours.map((f) => f.object)) !== JSON.stringify(findings.map((f) => f.object)))
        log(
          `pod-security: the namespace's PodSecurity admission and the suite's own check differ (admission: ${findings.map((f) => f.object).join(', ') || 'none'}; suite: ${ours.map((f) => f.object).join(', ') || 'none'}); the admission's answer stands`,
        );
    } catch (error) {
      log(
        `pod-security: the dry run for the PodSecurity admission failed (${error instanceof Error ? error.message : String(error)}); the suite's own check answers`,
      );
    }
  }
  const refusedByNamespace = enforce && enforce !== 'privileged' ? judged(enforce) : [];
  return {
    level,
    judge,
    findings,
    ...(enforce ? { namespaceEnforce: enforce } : {}),
    refusedByNamespace,
  };
}

/** The lines a report prints: one a pod template. */
export function podSecurityLines(findings: PodSecurityFinding[], level: string): string[] {
  return findings.map((f) => `${f.object} would violate PodSecurity "${level}": ${f.violations.join(', ')}`);
}

/**
 * What the run does with a report: the namespace's enforce level is always a refusal (its pods would
 * never start); the level asked refuses with `enforce`, warns with `warn`.
 */
export function podSecurityOutcome(
  report: PodSecurityReport,
  action: 'warn' | 'enforce',
  namespace: string,
): { warnings: string[] } {
  if (report.refusedByNamespace.length)
    throw new PhaseError(
      'pod-security',
      `namespace ${namespace} enforces the ${report.namespaceEnforce} Pod Security Standard, and its API server would refuse these pods: ${podSecurityLines(report.refusedByNamespace, report.namespaceEnforce!).join('; ')}. Nothing was applied`,
      'set what each violation names in the pod template (securityContext), or have the namespace label changed',
    );
  const lines = podSecurityLines(report.findings, report.level);
  if (lines.length && action === 'enforce')
    throw new PhaseError(
      'pod-security',
      `${lines.join('; ')}. Nothing was applied`,
      `set what each violation names in the pod template (securityContext), or lower pod-security (baseline, off), or set pod-security-action: warn`,
    );
  return { warnings: lines };
}
