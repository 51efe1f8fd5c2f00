export * from './http-probe.js';
export * from './analysis.js';
export * from './inputs.js';
export * from './prometheus.js';
export * from './analyze.js';
export * from './bounded-match.js';
