/** One problem with one input: what was wrong and how to fix it. */
export interface InputProblem {
  input: string;
  problem: string;
  fix: string;
}

/** Thrown when inputs are invalid; carries every problem found, so a user fixes them all at once. */
export class InputError extends Error {
  readonly problems: InputProblem[];

  constructor(problems: InputProblem[]) {
    super(formatProblems(problems));
    this.name = 'InputError';
    this.problems = problems;
  }
}

export function formatProblems(problems: InputProblem[]): string {
  const lines = problems.map((p) => `input '${p.input}': ${p.problem}. Fix: ${p.fix}`);
  return lines.length === 1 ? lines[0]! : `${lines.length} inputs are invalid:\n- ${lines.join('\n- ')}`;
}

/** A failure in a named phase of an action's run (build, push, verify…), with the fix when known. */
export class PhaseError extends Error {
  readonly phase: string;
  readonly fix: string | undefined;

  constructor(phase: string, message: string, fix?: string, options?: { cause?: unknown }) {
    super(`${phase}: ${message}${fix ? `. Fix: ${fix}` : ''}`, options);
    this.name = 'PhaseError';
    this.phase = phase;
    this.fix = fix;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
