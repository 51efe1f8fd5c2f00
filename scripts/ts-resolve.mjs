// Lets Node run this repository's TypeScript sources directly (node --import ./scripts/ts-resolve.mjs x.ts):
// Node strips the types itself, but our sources import siblings as './x.js' (what tsc and the bundler
// expect), and no './x.js' exists next to './x.ts'. This hook resolves the one to the other.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js'))
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});
