export * from './kubeconfig.js';
export * from './client.js';
export * from './rollout.js';
export * from './bluegreen.js';
export * from './lease.js';
export * from './history.js';
export * from './deploy.js';
export * from './dry-run.js';
