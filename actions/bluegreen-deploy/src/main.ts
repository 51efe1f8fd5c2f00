import * as core from '@actions/core';
import { InputReader, Phases, code, escapeHtml, readGitHubContext, runAction, runUrl, writeSummary } from '@deploy-suite/action-kit';
import { bluegreenDeploy, createKubeClient, dryRunDeploy, type AppSpec } from '@deploy-suite/kube';
import { readBluegreenInputs } from './inputs.js';

async function main(): Promise<void> {
  const inputs = readBluegreenInputs(new InputReader(), process.env.GITHUB_WORKSPACE || process.cwd());
  const github = readGitHubContext();
  const client = createKubeClient(inputs.access!);
  const spec: AppSpec = {
    app: inputs.app,
    namespace: inputs.namespace,
    replicas: inputs.replicas,
    image: inputs.image,
    containerPort: inputs.containerPort,
    progressDeadlineSeconds: inputs.progressDeadlineSeconds,
    ...(inputs.deploymentTemplate ? { deploymentTemplate: inputs.deploymentTemplate } : {}),
  };
  const phases = new Phases();
  try {
    if (inputs.dryRun) {
      const plan = await phases.run('dry-run', () => dryRunDeploy(client, spec));
      core.setOutput('revision', String(plan.revision));
      core.setOutput('timings', JSON.stringify(phases.toJSON()));
      const rows = plan.changes.map((c): [string, string] => [`${c.kind} ${c.name}`, c.change === 'update' ? `update<br>${c.fields.map((f) => code(f)).join('<br>')}` : c.change]);
      await writeSummary(`bluegreen-deploy dry run: ${inputs.app} → ${plan.target}, revision ${plan.revision}`, rows.length ? rows : [['(all objects)', `unchanged: ${escapeHtml(inputs.image)} is already live`]]);
      for (const c of plan.changes) core.info(`${c.change.padEnd(9)} ${c.kind} ${c.name}${c.fields.length ? `\n  ${c.fields.join('\n  ')}` : ''}`);
      return;
    }
    const url = runUrl(github);
    const result = await bluegreenDeploy(
      client,
      spec,
      {
        holder: github.repository && github.runId ? `${github.repository}/actions/runs/${github.runId}` : `local-${process.pid}`,
        lockWaitMs: inputs.lockTimeoutSeconds * 1000,
        leaseSeconds: 30,
        ...(url ? { runUrl: url } : {}),
        log: (m) => core.info(m),
      },
      phases,
    );
    core.setOutput('live-colour', result.liveColour);
    core.setOutput('previous-colour', result.previousColour ?? '');
    core.setOutput('revision', String(result.revision));
    core.setOutput('digest', result.digest);
    core.setOutput('previous-digest', result.previousDigest ?? '');
    core.setOutput('noop', String(result.noop));
    core.setOutput('timings', JSON.stringify(phases.toJSON()));
    core.setOutput('api-requests', String(client.requestCount));
    await writeSummary(`bluegreen-deploy: ${inputs.app} ${result.noop ? 'unchanged' : `live on ${result.liveColour}`}`, [
      ['Namespace', inputs.namespace],
      ['Live', `${result.liveColour}, revision ${result.revision}: ${code(result.digest)}`],
      ['Kept warm for rollback', result.previousColour ? `${result.previousColour}: ${code(result.previousDigest ?? '')}` : '(none: first deploy)'],
      ['Changed', result.noop ? 'nothing: this digest was already live' : 'yes'],
      ['Kubernetes API requests', String(client.requestCount)],
      ['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')],
    ]);
  } finally {
    client.close();
  }
}

await runAction(main);
