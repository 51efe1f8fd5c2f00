// The entry the bundle starts (dist/index.js): main.ts exports the action's run, which tests import.
import { runAction } from '@deploy-suite/action-kit';
import { run } from './main.js';

await runAction(run, 'build-image');
