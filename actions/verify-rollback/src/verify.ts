// The run: read what is live, analyse it, roll back (automatically, or to the revision asked for), record.
import * as core from '@actions/core';
import {
  PhaseError,
  Phases,
  pushMetrics,
  errorMessage,
  runTrigger,
  runUrl,
  noticeOf,
  type GitHubContext,
  type ReleaseNotice,
} from '@deploy-suite/action-kit';
import { analyze } from '@deploy-suite/checks';
import {
  APP_ACCESS,
  READ_ACCESS,
  createKubeClient,
  preflight,
  putLive,
  readHistory,
  kpiMetrics,
  readLiveState,
  recordAnalysis,
  releaseKpis,
  rollback,
  type HistoryEntry,
  type ReleaseKpis,
  type RollbackResult,
  type RollbackTarget,
} from '@deploy-suite/kube';
import { signatureGate } from '@deploy-suite/supply-chain/inputs';
import { analysisPlan, type VerifyRollbackInputs } from './inputs.js';
import { markRollback } from './github-status.js';
import { report, rollbackSeconds, started, summarize } from './report.js';

/** A release the analysis failed (or found inconclusive, with inconclusive: fail). */
export class AnalysisFailure extends PhaseError {
  constructor(
    message: string,
    fix: string,
    readonly digest: string,
    readonly trigger: string,
    readonly rolledBack: boolean,
  ) {
    super('analysis', message, fix);
  }
}

export const notice = (inputs: VerifyRollbackInputs, github: GitHubContext) =>
  noticeOf('verify-rollback', inputs, github);

function rolledBackNotice(
  inputs: VerifyRollbackInputs,
  github: GitHubContext,
  result: RollbackResult,
  trigger: string,
  reason: string,
): ReleaseNotice {
  return {
    ...notice(inputs, github),
    event: 'rolled-back',
    revision: result.revision,
    digest: result.liveDigest,
    colour: result.liveColour,
    ...(result.fromDigest ? { previousDigest: result.fromDigest } : {}),
    trigger,
    reason: `${reason}; live again after ${rollbackSeconds(result)} s`,
  };
}

export async function verifyOrRollBack(inputs: VerifyRollbackInputs, github: GitHubContext): Promise<void> {
  const client = createKubeClient(inputs.access!);
  // Before any phase: the credential, the namespace, and the rights of what this run may do.
  await preflight(client, inputs.namespace, inputs.rollbackTo || inputs.autoRollback ? APP_ACCESS : READ_ACCESS);
  const phases = new Phases();
  const url = runUrl(github);
  const lock = {
    holder:
      github.repository && github.runId ? `${github.repository}/actions/runs/${github.runId}` : `local-${process.pid}`,
    lockWaitMs: inputs.lockTimeoutMs,
    leaseSeconds: 30,
    log: (m: string) => core.info(m),
    readyTimeoutMs: inputs.readyTimeoutMs,
    hookTimeoutSeconds: inputs.hookTimeoutSeconds,
    ...(url ? { runUrl: url } : {}),
  };
  // The same policy as the deploy's: a rollback puts a digest live too.
  const gate = signatureGate(inputs.imagePolicy, 'Nothing was rolled back: live traffic stays where it is', (m) =>
    core.info(m),
  );
  const rollbackOptions = {
    ...lock,
    ...(gate ? { verifyImages: async (images: string[]) => void (await gate(images)) } : {}),
    clock: { startedAt: started },
  };
  try {
    if (inputs.rollbackTo) {
      // rollback() runs its own phases (lock, read, …): log groups do not nest.
      const result = await rollback(
        client,
        inputs,
        inputs.rollbackTo!,
        { ...rollbackOptions, trigger: 'manual' },
        phases,
      );
      if (inputs.environment && !result.noop)
        await markRollback(github, inputs.githubToken, inputs.environment, inputs, result, 'manual rollback', url);
      if (!result.noop)
        await inputs.notifier.notify(
          rolledBackNotice(
            inputs,
            github,
            result,
            runTrigger(github),
            `manual rollback (rollback-to: ${rollbackText(inputs.rollbackTo)})`,
          ),
        );
      const kpis = await readKpis(client, inputs);
      report(result, 'skipped', undefined, kpis, result);
      await summarize(inputs, phases, 'skipped', undefined, result, inputs.rollbackTo, kpis);
      return;
    }

    const state = await phases.run('read', async () =>
      readLiveState(await client.get('v1', 'Service', inputs.namespace, inputs.app)),
    );
    if (!state)
      throw new PhaseError(
        'read',
        `${inputs.app} has no live release in ${inputs.namespace}`,
        'run bluegreen-deploy first',
      );
    if (inputs.expectDigest && state.liveDigest !== inputs.expectDigest) {
      throw new PhaseError(
        'read',
        `${state.liveDigest} is live, not ${inputs.expectDigest}: another deploy or rollback happened since`,
        'nothing was analysed or rolled back; re-run with the digest that is live',
      );
    }
    const history = await readHistory(client, inputs.namespace, inputs.app);
    const wentLive = history.find((h) => h.revision === state.revision && putLive(h))?.at;
    const analysis = await phases.run('analysis', () =>
      analyze(analysisPlan(inputs, state.liveColour), (m) => core.info(m)),
    );
    // The KPIs' record of it, where the run may write (auto-rollback: it has the rights a rollback needs).
    if (inputs.autoRollback)
      await recordAnalysis(
        client,
        inputs,
        {
          revision: state.revision,
          digest: state.liveDigest,
          colour: state.liveColour,
          outcome: analysis.verdict,
          at: analysis.endedAt,
          seconds: (Date.parse(analysis.endedAt) - Date.parse(analysis.startedAt)) / 1000,
          ...(url ? { runUrl: url } : {}),
        },
        lock,
      );
    const rollBack =
      analysis.verdict === 'failed' || (analysis.verdict === 'inconclusive' && inputs.inconclusive === 'fail');
    let result: RollbackResult | undefined;
    if (rollBack && inputs.autoRollback) {
      core.warning(
        `the analysis of ${state.liveDigest} on ${state.liveColour} is ${analysis.verdict}; rolling back to the previous release`,
      );
      result = await rollback(
        client,
        inputs,
        { kind: 'previous' },
        { ...rollbackOptions, expectLiveDigest: state.liveDigest, trigger: 'analysis' },
        phases,
      );
      if (inputs.environment && !result.noop)
        await markRollback(
          github,
          inputs.githubToken,
          inputs.environment,
          inputs,
          result,
          `analysis ${analysis.verdict}`,
          url,
        );
    }
    const kpis = await readKpis(client, inputs);
    report(result, analysis.verdict, analysis, kpis, result ?? state);
    await summarize(
      inputs,
      phases,
      analysis.verdict,
      analysis,
      result,
      result ? { kind: 'previous' } : undefined,
      kpis,
      wentLive,
    );
    if (rollBack) {
      const failed = analysis.checks
        .filter((c) => c.outcome.verdict !== 'passed')
        .map((c) => `${c.name} ${c.outcome.verdict} (${c.outcome.measurements.at(-1)?.detail ?? 'no measurement'})`);
      const trigger = `the analysis of ${state.liveDigest} on ${state.liveColour} (verify-rollback, run by ${runTrigger(github)})`;
      if (result && !result.noop)
        await inputs.notifier.notify(
          rolledBackNotice(
            inputs,
            github,
            result,
            trigger,
            `the analysis is ${analysis.verdict}: ${failed.join('; ')}`,
          ),
        );
      throw new AnalysisFailure(
        `the release ${state.liveDigest} is ${analysis.verdict}: ${failed.join('; ')}${result ? `. Rolled back to ${result.liveDigest} on ${result.liveColour} in ${rollbackSeconds(result)} s` : inputs.autoRollback ? '' : '. auto-rollback is off: it stays live'}`,
        result
          ? 'fix the release and deploy again; the previous one is serving'
          : 'roll back with rollback-to: previous, or fix the release',
        state.liveDigest,
        trigger,
        Boolean(result && !result.noop),
      );
    }
  } finally {
    client.close();
  }
}

function rollbackText(target: RollbackTarget): string {
  return target.kind === 'previous' ? 'previous' : target.kind === 'revision' ? String(target.revision) : target.digest;
}

/** The history as it is now (this run's records in it) and the KPIs over its last releases. */
async function readKpis(
  client: Parameters<typeof readHistory>[0],
  inputs: VerifyRollbackInputs,
): Promise<{ history: HistoryEntry[]; kpis: ReleaseKpis }> {
  const history = await readHistory(client, inputs.namespace, inputs.app);
  const kpis = releaseKpis(history, inputs.kpiReleases);
  if (inputs.pushgatewayUrl) {
    try {
      await pushMetrics(
        inputs.pushgatewayUrl,
        'deploy_suite',
        { namespace: inputs.namespace, app: inputs.app },
        kpiMetrics(kpis),
      );
      core.info(`pushed the release KPIs of ${inputs.app} to the Pushgateway`);
    } catch (error) {
      core.warning(
        `the release KPIs did not reach the Pushgateway (${errorMessage(error)}); the verdict is not affected. Check pushgateway-url`,
      );
    }
  }
  return { history, kpis };
}
