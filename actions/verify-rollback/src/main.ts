import * as core from '@actions/core';
import {
  InputReader,
  PhaseError,
  Phases,
  code,
  errorMessage,
  escapeHtml,
  readGitHubContext,
  requireRunner,
  pushMetrics,
  runAction,
  runTrigger,
  runUrl,
  writeSummary,
  type GitHubContext,
  type ReleaseNotice,
  type SummaryRow,
  noticeOf,
} from '@deploy-suite/action-kit';
import { analyze, type AnalysisReport } from '@deploy-suite/checks';
import {
  APP_ACCESS,
  DEPLOY_RUNNERS,
  READ_ACCESS,
  createKubeClient,
  preflight,
  putLive,
  readHistory,
  kpiChart,
  kpiMetrics,
  kpiRows,
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
import { analysisPlan, readVerifyRollbackInputs, type VerifyRollbackInputs } from './inputs.js';
import { markRollback } from './github-status.js';
import { timeline } from './timeline.js';

// The process's start (Node's time origin, before the bundle even loads): the rollback time a user feels
// runs from here to the live selector switched back.
const started = performance.timeOrigin;

async function main(): Promise<void> {
  requireRunner('verify-rollback', DEPLOY_RUNNERS);
  const inputs = readVerifyRollbackInputs(new InputReader(), process.env.GITHUB_WORKSPACE || process.cwd());
  const github = readGitHubContext();
  try {
    await verifyOrRollBack(inputs, github);
  } catch (error) {
    // A failed analysis that rolled back was told as rolled-back already.
    if (!(error instanceof AnalysisFailure && error.rolledBack))
      await inputs.notifier.notify({
        ...notice(inputs, github),
        event: 'failed',
        ...(error instanceof AnalysisFailure ? { digest: error.digest, trigger: error.trigger } : {}),
        reason: errorMessage(error),
      });
    throw error;
  }
}

/** A release the analysis failed (or found inconclusive, with inconclusive: fail). */
class AnalysisFailure extends PhaseError {
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

const notice = (inputs: VerifyRollbackInputs, github: GitHubContext) => noticeOf('verify-rollback', inputs, github);

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

async function verifyOrRollBack(inputs: VerifyRollbackInputs, github: GitHubContext): Promise<void> {
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

function rollbackSeconds(result: RollbackResult): string {
  return result.switchedAt ? ((result.switchedAt - started) / 1000).toFixed(3) : '0';
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

function report(
  result: RollbackResult | undefined,
  verdict: string,
  analysis: AnalysisReport | undefined,
  read: { history: HistoryEntry[]; kpis: ReleaseKpis },
  live: { liveColour: string; liveDigest: string; revision: number },
): void {
  core.setOutput('verdict', verdict);
  core.setOutput('kpis', JSON.stringify(read.kpis));
  core.setOutput('history', JSON.stringify(read.history));
  core.setOutput('rolled-back', String(Boolean(result && !result.noop)));
  core.setOutput('live-colour', live.liveColour);
  core.setOutput('live-digest', live.liveDigest);
  core.setOutput('revision', String(live.revision));
  if (result) core.setOutput('rollback-seconds', rollbackSeconds(result));
  if (analysis)
    core.setOutput(
      'measurements',
      JSON.stringify(
        analysis.checks.map((c) => ({
          name: c.name,
          verdict: c.outcome.verdict,
          values: c.outcome.measurements.map((m) => m.detail),
        })),
      ),
    );
}

async function summarize(
  inputs: VerifyRollbackInputs,
  phases: Phases,
  verdict: string,
  analysis: AnalysisReport | undefined,
  result: RollbackResult | undefined,
  target: RollbackTarget | undefined,
  read: { kpis: ReleaseKpis },
  wentLive?: string,
): Promise<void> {
  const rows: SummaryRow[] = [['App', `${escapeHtml(inputs.app)} in ${escapeHtml(inputs.namespace)}`]];
  if (analysis) rows.push(['Verdict', verdict === 'passed' ? 'passed: the release stays' : `<b>${verdict}</b>`]);
  if (result) {
    rows.push([
      'Rollback',
      result.noop
        ? `nothing to do: ${code(result.liveDigest)} was live`
        : `${target?.kind === 'previous' ? 'to the previous release' : `to ${target?.kind} ${target?.kind === 'revision' ? target.revision : ''}`}: ${code(result.liveDigest)} on ${result.liveColour} (${result.how}), revision ${result.revision}, live after ${rollbackSeconds(result)} s${result.hooks?.length ? `; post-rollback hooks: ${result.hooks.map((h) => `${code(h.name)} ${h.outcome}`).join(', ')}` : ''}`,
    ]);
  }
  rows.push(['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')]);
  await writeSummary(
    `verify-rollback: ${inputs.app} ${result && !result.noop ? 'rolled back' : verdict}`,
    rows,
    (s) => {
      if (analysis) {
        s.addHeading('Measurements', 4).addTable([
          [
            { data: 'Check', header: true },
            { data: 'Measured', header: true },
            { data: 'Values', header: true },
            { data: 'Verdict', header: true },
          ],
          ...analysis.checks.map((c) => [
            escapeHtml(c.name),
            c.provider ? `${escapeHtml(c.provider)}: ${code(c.what)}` : code(c.what),
            c.outcome.measurements
              .map((m, i) =>
                i < c.outcome.awaited
                  ? `… ${escapeHtml(m.detail)} (waiting for data, not counted)`
                  : `${m.ok ? '✓' : m.inconclusive ? '?' : '✗'} ${escapeHtml(m.detail)}`,
              )
              .join('<br>'),
            c.outcome.verdict,
          ]),
        ]);
        s.addRaw(`\n\n${timeline(analysis, result, started, wentLive)}\n`);
      }
      const { kpis } = read;
      if (kpis.releases > 0) {
        s.addHeading(
          `Release KPIs: the last ${kpis.releases} releases${kpis.since ? ` since ${escapeHtml(kpis.since.slice(0, 10))}` : ''}`,
          4,
        ).addTable([
          [
            { data: 'KPI', header: true },
            { data: 'Value', header: true },
            { data: 'Target', header: true },
          ],
          ...kpiRows(kpis).map((row) => row.map((cell) => escapeHtml(cell))),
        ]);
        const chart = kpiChart(kpis);
        if (chart) s.addRaw(`\n\n${chart}\n`);
      }
    },
  );
}

await runAction(main, 'verify-rollback');
