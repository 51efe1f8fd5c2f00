/** Where a Deployment's rollout stands, read from its status as `kubectl rollout status` reads it. Pure. */
export interface DeploymentLike {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    readyReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string }[];
  };
}

export type RolloutState =
  { phase: 'waiting'; message: string } | { phase: 'done'; message: string } | { phase: 'failed'; message: string };

/**
 * When a Deployment's last rollout exceeded its deadline: that condition's lastUpdateTime (read before a
 * new rollout starts, to tell the old verdict from a new one), or undefined.
 */
export function exceededDeadline(deployment: DeploymentLike | undefined): string | undefined {
  const progressing = deployment?.status?.conditions?.find((c) => c.type === 'Progressing');
  return progressing?.reason === 'ProgressDeadlineExceeded' ? (progressing.lastUpdateTime ?? '') : undefined;
}

/**
 * `earlierDeadline`: exceededDeadline() of the Deployment before this rollout began. The controller keeps
 * a timed-out condition until the new rollout makes progress, even once it has observed the new spec
 * (a template it already has a ReplicaSet for: the colour deployed again after a failed release), so
 * that same condition is the old rollout's verdict, not this one's (kubectl rollout status reports it
 * as this one's).
 */
export function rolloutState(deployment: DeploymentLike, options: { earlierDeadline?: string } = {}): RolloutState {
  const status = deployment.status ?? {};
  const generation = deployment.metadata.generation ?? 0;
  if ((status.observedGeneration ?? 0) < generation)
    return { phase: 'waiting', message: 'waiting for the controller to observe the new spec' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (
    progressing?.reason === 'ProgressDeadlineExceeded' &&
    options.earlierDeadline !== undefined &&
    (progressing.lastUpdateTime ?? '') === options.earlierDeadline
  )
    return {
      phase: 'waiting',
      message: "waiting for the controller to start the rollout (the last one's deadline still shows)",
    };
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      phase: 'failed',
      message: `the rollout exceeded its progress deadline (${progressing.message ?? 'no message'})`,
    };
  }
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) return { phase: 'waiting', message: `${updated} of ${wanted} replicas updated` };
  if ((status.replicas ?? 0) > updated)
    return { phase: 'waiting', message: `${(status.replicas ?? 0) - updated} old replicas pending termination` };
  if (available < updated)
    return { phase: 'waiting', message: `${available} of ${updated} updated replicas available` };
  return { phase: 'done', message: `${available} of ${wanted} replicas available` };
}
