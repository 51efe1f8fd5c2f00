export * from './build-options.js';
export * from './build-output.js';
export * from './buildx.js';
export * from './login.js';
export * from './plan.js';
export * from './pushed-image.js';
export * from './build-image.js';
