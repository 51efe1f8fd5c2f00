import { readFileSync } from 'node:fs';

const dir = new URL('../../../test/fixtures/cosign/', import.meta.url);
export const fixtureKey = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
export const KEY = {
  private: fixtureKey('cosign.key'),
  public: fixtureKey('cosign.pub'),
  password: 'fixture-password',
};
export const OTHER = { private: fixtureKey('other.key'), public: fixtureKey('other.pub'), password: 'other-password' };
export const DIGEST = `sha256:${'a'.repeat(64)}`;
export const OTHER_DIGEST = `sha256:${'b'.repeat(64)}`;
