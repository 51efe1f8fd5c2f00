// Why the pods of a colour are not ready, as `kubectl describe` would show it, from the pods' status and
// their events: an image that cannot be pulled (and the pull error), a container that keeps crashing (its
// exit code and last log lines: the kubelet copies them into the status when the container's
// terminationMessagePolicy is FallbackToLogsOnError, which the suite sets), a readiness probe that fails
// (its message), a pod no node takes. diagnosePods is pure; podsReport makes the two requests.

import type { KubeApi } from './client.js';

export interface PodStatusLike {
  metadata: { name: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      ready?: boolean;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: Terminated };
      lastState?: { terminated?: Terminated };
    }[];
  };
}

interface Terminated {
  exitCode?: number;
  reason?: string;
  message?: string;
}

export interface EventLike {
  involvedObject?: { kind?: string; name?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
}

const LOG_LINES = 5;

/** The last lines of a log, each indented for the error message. */
function lastLines(text: string): string {
  const lines = text.trimEnd().split('\n').slice(-LOG_LINES);
  return lines.map((line) => `    | ${line}`).join('\n');
}

/** What is wrong with one pod, or undefined when nothing is (it is ready). */
function podProblem(pod: PodStatusLike, events: EventLike[]): string | undefined {
  const status = pod.status ?? {};
  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False')
    return `not scheduled: ${scheduled.message ?? scheduled.reason ?? 'no reason given'}`;
  for (const container of status.containerStatuses ?? []) {
    const waiting = container.state?.waiting;
    const last = container.lastState?.terminated;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      let line = `container ${container.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      if (last) {
        line += ` (restarted ${container.restartCount ?? 0} times; last exit code ${last.exitCode ?? '?'}${last.reason ? `, ${last.reason}` : ''})`;
        if (last.message) line += `\n${lastLines(last.message)}`;
      }
      return line;
    }
    if (container.state?.terminated) {
      const t = container.state.terminated;
      return `container ${container.name}: exited with code ${t.exitCode ?? '?'}${t.reason ? ` (${t.reason})` : ''}${t.message ? `\n${lastLines(t.message)}` : ''}`;
    }
    if (container.state?.running && container.ready === false) {
      const probe = events
        .filter((e) => e.reason === 'Unhealthy' && e.involvedObject?.name === pod.metadata.name)
        .sort((a, b) => (a.lastTimestamp ?? a.eventTime ?? '').localeCompare(b.lastTimestamp ?? b.eventTime ?? ''))
        .at(-1);
      return `container ${container.name}: running, not ready${probe?.message ? `: ${probe.message.trim()}` : ''}`;
    }
  }
  return undefined;
}

/**
 * One line per distinct problem among the pods (the same problem of several pods said once, with how
 * many), at most `limit`; empty when every pod is ready or none exists yet.
 */
export function diagnosePods(pods: PodStatusLike[], events: EventLike[], limit = 3): string[] {
  const byProblem = new Map<string, string[]>();
  for (const pod of pods) {
    const problem = podProblem(pod, events);
    if (!problem) continue;
    // Pod names differ in messages (a back-off names its pod): grouped by the message without them.
    const key = problem.replaceAll(pod.metadata.name, '<pod>');
    byProblem.set(key, [...(byProblem.get(key) ?? []), pod.metadata.name]);
  }
  return [...byProblem.entries()].slice(0, limit).map(([problem, names]) => {
    const who = names.length === 1 ? `pod ${names[0]}` : `${names.length} pods (${names[0]}, …)`;
    return `${who}: ${problem.replaceAll('<pod>', names[0]!)}`;
  });
}

/**
 * Why the pods of one colour are not ready, for an error message: `- pod …: …` lines, or a note that the
 * kubeconfig user may not list pods (the rights are optional), or '' when nothing is known.
 */
export async function podsReport(
  client: Pick<KubeApi, 'request'>,
  namespace: string,
  selector: Record<string, string>,
): Promise<string> {
  const labelSelector = Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  try {
    const [pods, events] = await Promise.all([
      client.request<{ items?: PodStatusLike[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
        query: { labelSelector },
      }),
      client.request<{ items?: EventLike[] }>('GET', `/api/v1/namespaces/${namespace}/events`, {
        query: { fieldSelector: 'involvedObject.kind=Pod' },
      }),
    ]);
    const lines = diagnosePods(pods.items ?? [], events.items ?? []);
    return lines.length ? `\n${lines.map((line) => `- ${line}`).join('\n')}` : '';
  } catch (error) {
    if ((error as { status?: number }).status === 403)
      return " (the pods' reasons are not shown: the kubeconfig user may not list pods and events in the namespace; actions/bluegreen-deploy/rbac.yaml grants it)";
    return '';
  }
}
