// Runs the pipeline's actions, bundled, as the GitHub runner runs them, on the local platform, and
// leaves each step's summary and outputs in .tmp/demo/ for a person to read.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';

const registry = process.env.DEPLOY_SUITE_REGISTRY!;
const out = join(repoRoot, '.tmp/demo');
mkdirSync(out, { recursive: true });
const event = await loadEvent(process.argv[2] ?? 'push-default-branch');

console.log(`== build-image (event: ${event.eventName} ${event.ref})`);
const build = await runAction('build-image', { image: `${registry}/demo/shop-api`, context: 'test/fixtures/app', 'build-args': `APP_VERSION=${new Date().toISOString()}`, 'require-non-root': 'true' }, event);
writeFileSync(join(out, 'build-image.log'), build.log);
writeFileSync(join(out, 'build-image.summary.html'), build.summary);
writeFileSync(join(out, 'build-image.outputs.json'), `${JSON.stringify(build.outputs, null, 2)}\n`);
if (build.exitCode !== 0) {
  console.error(build.log.slice(-3000));
  console.error(`build-image failed (exit ${build.exitCode}); full log: ${join(out, 'build-image.log')}`);
  process.exit(1);
}
console.log(`image:   ${build.outputs.image}`);
console.log(`tags:    ${build.outputs.tags!.split('\n').join(', ')}`);
console.log(`cache:   ${build.outputs['cached-steps']} steps cached; timings ${build.outputs.timings} (${build.seconds.toFixed(2)} s in all)`);
console.log(`\nWhere to look:`);
console.log(`  job summary   ${join(out, 'build-image.summary.html')}`);
console.log(`  outputs       ${join(out, 'build-image.outputs.json')}`);
console.log(`  log           ${join(out, 'build-image.log')}`);
console.log(`  registry      curl -s http://${registry}/v2/demo/shop-api/tags/list`);
