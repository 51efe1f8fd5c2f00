/**
 * Held promotion, pure: the record a held release leaves on the preview Service, and whether a later
 * promote may switch to it. A release is held after its preview checks and hooks, warm behind the preview;
 * what was checked is its revision, image, configuration and pod template (as the API server holds it), on
 * top of the live revision it was checked against. A promote switches only if all of that still holds.
 */
import type { KubeObject } from './client.js';
import { DIGEST_PATTERN, liveSide, switchedTo, type Colour, type LiveState } from './bluegreen.js';
import { contentHash } from './app-manifests.js';

export const HELD_ANNOTATION = 'deploy-suite.dev/held';

export interface HeldRelease {
  colour: Colour;
  revision: number;
  digest: string;
  config?: string;
  /** contentHash of the colour's pod template as the API server returned it when the release was held. */
  template: string;
  /** The live revision the release was checked against: a deploy or rollback since then voids the hold. */
  basedOn: number;
  heldAt: string;
  expiresAt: string;
  runUrl?: string;
  /** The GitHub deployment the holding run created, set to success or failure by the run that ends the hold. */
  githubDeployment?: number;
  /** The holding run's seconds from its start, and from its commit, to held: the history's durations at promote. */
  seconds?: number;
  leadSeconds?: number;
}

/** The hash a held pod template is compared by. */
export function templateHash(deployment: KubeObject | undefined): string {
  return contentHash((deployment as { spec?: { template?: unknown } } | undefined)?.spec?.template ?? null, 16);
}

/** The preview Service with the hold recorded on it. Pure. */
export function withHeld(preview: KubeObject, held: HeldRelease): KubeObject {
  return {
    ...preview,
    metadata: {
      ...preview.metadata,
      annotations: { ...(preview.metadata.annotations ?? {}), [HELD_ANNOTATION]: JSON.stringify(held) },
    },
  };
}

export class HoldRecordError extends Error {}

/**
 * The hold on a preview Service: undefined when there is none. A record the suite did not write (edited
 * by hand) is refused rather than trusted: it names what a promote would switch live traffic to.
 */
export function readHeld(preview: KubeObject | undefined): HeldRelease | undefined {
  const text = preview?.metadata.annotations?.[HELD_ANNOTATION];
  if (text === undefined || text === '') return undefined;
  let value: Partial<Record<keyof HeldRelease, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    throw new HoldRecordError(`the ${HELD_ANNOTATION} annotation is not JSON`);
  }
  const wrong = (field: string) => new HoldRecordError(`the ${HELD_ANNOTATION} annotation has no valid ${field}`);
  if (value.colour !== 'blue' && value.colour !== 'green') throw wrong('colour');
  if (!Number.isInteger(value.revision) || (value.revision as number) < 1) throw wrong('revision');
  if (!Number.isInteger(value.basedOn) || (value.basedOn as number) < 1) throw wrong('basedOn');
  if (typeof value.digest !== 'string' || !DIGEST_PATTERN.test(value.digest)) throw wrong('digest');
  if (value.config !== undefined && (typeof value.config !== 'string' || !/^[a-f0-9]{10}$/.test(value.config)))
    throw wrong('config');
  if (typeof value.template !== 'string' || !/^[a-f0-9]{16}$/.test(value.template)) throw wrong('template');
  for (const field of ['heldAt', 'expiresAt'] as const)
    if (typeof value[field] !== 'string' || Number.isNaN(Date.parse(value[field] as string))) throw wrong(field);
  if (value.githubDeployment !== undefined && !Number.isInteger(value.githubDeployment))
    throw wrong('githubDeployment');
  // Durations only inform the KPIs: a value that is not a number is left out, never a broken hold.
  const duration = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  const seconds = duration(value.seconds);
  const leadSeconds = duration(value.leadSeconds);
  return {
    colour: value.colour,
    revision: value.revision as number,
    digest: value.digest,
    ...(value.config ? { config: value.config as string } : {}),
    template: value.template,
    basedOn: value.basedOn as number,
    heldAt: value.heldAt as string,
    expiresAt: value.expiresAt as string,
    ...(typeof value.runUrl === 'string' ? { runUrl: value.runUrl } : {}),
    ...(value.githubDeployment !== undefined ? { githubDeployment: value.githubDeployment as number } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    ...(leadSeconds !== undefined ? { leadSeconds } : {}),
  };
}

/** What the cluster shows at promote time, read under the app's lock. */
export interface ObservedHold {
  live?: LiveState;
  /** The colour the preview Service selects (undefined: parked, or none). */
  previewColour?: string;
  /** The held colour's Deployment: its revision, digest and configuration annotations, its pod template. */
  deployment?: { revision?: number; digest?: string; config?: string; template: string };
}

export type PromotionVerdict = { kind: 'promote' } | { kind: 'expired' } | { kind: 'refused'; reasons: string[] };

/**
 * Whether a promote may switch live traffic to the held release. Every difference between what was held
 * and what is there is a reason to refuse (all are listed); an expired hold is aborted, not promoted. Pure.
 */
export function judgePromotion(
  held: HeldRelease,
  observed: ObservedHold,
  now: Date,
  expect: { digest?: string } = {},
): PromotionVerdict {
  const reasons: string[] = [];
  const { live, deployment } = observed;
  if (!live) reasons.push('nothing is live any more');
  else if (live.revision !== held.basedOn)
    reasons.push(
      `live traffic moved on since the hold (revision ${live.revision} is live, the hold was checked against ${held.basedOn})`,
    );
  else if (live.liveColour === held.colour) reasons.push(`${held.colour} is the live colour now`);
  if (observed.previewColour !== held.colour)
    reasons.push(`the preview selects ${observed.previewColour ?? 'no colour'}, not ${held.colour}`);
  if (!deployment) reasons.push(`the ${held.colour} Deployment is gone`);
  else {
    if (deployment.digest !== held.digest)
      reasons.push(`${held.colour} runs ${deployment.digest ?? 'an unknown image'}, not the held ${held.digest}`);
    if ((deployment.config ?? '') !== (held.config ?? ''))
      reasons.push(
        `${held.colour} runs configuration ${deployment.config ?? 'none'}, not the held ${held.config ?? 'none'}`,
      );
    if (deployment.revision !== held.revision)
      reasons.push(`${held.colour} is revision ${deployment.revision ?? 'unknown'}, not the held ${held.revision}`);
    if (deployment.template !== held.template)
      reasons.push(`the pod template of ${held.colour} changed since the hold (edited or restarted outside the suite)`);
  }
  if (expect.digest && expect.digest !== held.digest)
    reasons.push(`the held release is ${held.digest}, not the image given (${expect.digest})`);
  if (reasons.length) return { kind: 'refused', reasons };
  if (now.getTime() >= Date.parse(held.expiresAt)) return { kind: 'expired' };
  return { kind: 'promote' };
}

/** The live state once a held release is promoted. Pure. */
export function promotedState(held: HeldRelease, live: LiveState): LiveState {
  return switchedTo(held, liveSide(live));
}
