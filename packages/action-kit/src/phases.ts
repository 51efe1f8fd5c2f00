import * as core from '@actions/core';

export interface PhaseTiming {
  name: string;
  seconds: number;
}

/**
 * Runs an action's work as named phases, each in a collapsible log group, and keeps how long each took
 * for the outputs and the job summary.
 */
export class Phases {
  readonly timings: PhaseTiming[] = [];

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    core.startGroup(name);
    try {
      return await work();
    } finally {
      const seconds = Math.round(performance.now() - started) / 1000;
      this.timings.push({ name, seconds });
      core.endGroup();
      core.info(`${name}: ${seconds.toFixed(2)} s`);
    }
  }

  /** `{"build": 2.41, "verify": 0.03}`: the form of the `timings` output. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.timings.map((t) => [t.name, t.seconds]));
  }
}
