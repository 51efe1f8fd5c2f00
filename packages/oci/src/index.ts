export * from './reference.js';
export * from './git-context.js';
export * from './tag-rules.js';
export * from './tags.js';
export * from './labels.js';
export * from './docker-config.js';
export * from './registry.js';
export * from './registry-trust.js';
