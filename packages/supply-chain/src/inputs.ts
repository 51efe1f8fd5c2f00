// The light part of the package: what actions need to read and check their inputs (keys, policies,
// severities, ignore files), without loading sigstore-js. Actions import this statically and the rest
// (`@deploy-suite/supply-chain`) only when they sign or verify.
export * from './cosign-key.js';
export * from './findings.js';
export * from './ignore-file.js';
export * from './policy-inputs.js';
export * from './tool-release.js';
