import * as core from '@actions/core';
import { InputError, errorMessage } from './errors.js';

/** The one entry point of every action: runs `main`, and turns any error into a clear failed step. */
export async function runAction(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof InputError) {
      for (const p of error.problems) core.error(`${p.problem}. Fix: ${p.fix}`, { title: `input '${p.input}'` });
    }
    core.setFailed(errorMessage(error));
    if (core.isDebug() && error instanceof Error && error.stack) core.debug(error.stack);
  }
}
