import { InputError, type InputProblem } from '@deploy-suite/action-kit';

/** The problems an input reader reported; fails the test when it reported none. */
export function inputProblems(read: () => unknown): InputProblem[] {
  try {
    read();
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
  throw new Error('expected an InputError');
}
