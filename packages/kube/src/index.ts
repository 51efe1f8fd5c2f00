export * from './kubeconfig.js';
export * from './client.js';
export * from './rollout.js';
export * from './bluegreen.js';
