export * from './cloudwatch.js';
export * from './datadog.js';
export * from './newrelic.js';
export * from './web.js';
export * from './source.js';
