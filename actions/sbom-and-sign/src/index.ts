// The entry. A cosign key opens with scrypt (~0.15 s, node:crypto's, on libuv's thread pool; see supply-chain's scrypt.ts): it
// starts here, before the action's code loads (~35 ms of modules on Node 24), and main.ts finds it under
// way when it reads the key. Only the input reader and the scrypt load first.
// bench/sbom-and-sign.bench.ts measures the run.
import { InputReader, runAction } from '@deploy-suite/action-kit';
import { startKeyDerivation } from '@deploy-suite/supply-chain/sealed-key';

const early = new InputReader();
startKeyDerivation(early.raw('cosign-private-key'), early.raw('cosign-password'));
const { run } = await import('./main.js');
await runAction(run, 'sbom-and-sign');
