import * as core from '@actions/core';
import { code } from '@deploy-suite/action-kit';
import { probeOnce, runCheck, type HttpCheck } from '@deploy-suite/checks';

/**
 * The HTTP checks of the preview route: a line for the summary, or an error (failing the preview phase).
 * The preview Service has just been pointed at the new colour: until kube-proxy (or the ingress in front)
 * has programmed that, a request gets no answer at all. Checks before the first answer are not counted
 * (as many as the checks at most); once the route has answered, every check counts.
 */
export async function checkPreview(check: HttpCheck): Promise<string> {
  const measure = async () => {
    const m = await probeOnce(check.probe);
    return m.unanswered ? { ...m, awaitingData: true } : m;
  };
  const outcome = await runCheck(check.schedule, measure, {
    onMeasurement: (m, i, awaiting) =>
      core.info(
        awaiting
          ? `preview check waiting for the route (${i + 1}/${check.schedule.count}, not counted) ${check.probe.url}: ${m.detail}`
          : `preview check ${i + 1}/${check.schedule.count} ${check.probe.url}: ${m.ok ? 'ok' : 'FAILED'}, ${m.detail}`,
      ),
  });
  if (!outcome.passed) {
    const last = outcome.measurements.at(-1);
    throw new Error(
      `${outcome.failures} of ${outcome.measurements.length} checks of ${check.probe.url} failed (last: ${last?.detail ?? 'none'}), more than the ${check.schedule.failureLimit} allowed`,
    );
  }
  const counted = outcome.measurements.length - outcome.awaited;
  return `${counted - outcome.failures} of ${counted} checks of ${code(check.probe.url)} passed${outcome.awaited ? ` (after ${outcome.awaited} without an answer, while the route was set up)` : ''}`;
}
