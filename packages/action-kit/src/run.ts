import * as core from '@actions/core';
import { proxyEnvironmentProblem } from './agents.js';
import { InputError, PhaseError, errorMessage } from './errors.js';

/** The one entry point of every action: runs `main`, and turns any error into a clear failed step. */
export async function runAction(main: () => Promise<void>): Promise<void> {
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
      core.setFailed(errorMessage(error));
    }
    if (core.isDebug() && error instanceof Error && error.stack) core.debug(error.stack);
  }
}
