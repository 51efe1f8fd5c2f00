import * as core from '@actions/core';
import { appendFileSync } from 'node:fs';
import { proxyEnvironmentProblem } from './agents.js';
import { InputError, PhaseError, errorMessage } from './errors.js';
import { redactSecrets } from './secrets.js';
import { escapeHtml } from './summary.js';

/**
 * The one entry point of every action: runs `main`, and turns any error into a clear failed step, and
 * into a section of the job summary titled with the action's `name` (the summary is where a person
 * looks first, and the step's log may be long: a failed rollout's pod reasons belong in both).
 */
export async function runAction(main: () => Promise<void>, name?: string): Promise<void> {
  try {
    const proxy = proxyEnvironmentProblem();
    if (proxy) throw new PhaseError('environment', proxy.problem, proxy.fix);
    await main();
  } catch (error) {
    if (error instanceof InputError) {
      // One annotation per problem, titled with the input; the message names it too, as the log shows
      // messages without titles. No summary after them: it would repeat each problem as another annotation.
      for (const p of error.problems)
        core.error(`input '${p.input}': ${p.problem}. Fix: ${p.fix}`, { title: `input '${p.input}'` });
      process.exitCode = 1;
    } else {
      const message = errorMessage(error);
      core.setFailed(message);
      if (name) failureSummary(name, message);
    }
    if (core.isDebug() && error instanceof Error && error.stack) core.debug(error.stack);
  }
}

/** The failed step's message in the job summary, secrets redacted (the runner masks logs, not this file). */
function failureSummary(name: string, message: string): void {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    appendFileSync(
      process.env.GITHUB_STEP_SUMMARY,
      `<h3>${escapeHtml(name)} failed</h3>\n<pre>${escapeHtml(redactSecrets(message))}</pre>\n`,
    );
  } catch {
    // a summary file that cannot be written does not hide the failure: setFailed has reported it
  }
}
