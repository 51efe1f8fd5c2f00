// The rights a run checks before it changes anything are the rights the shipped Role grants: neither a
// check the Role cannot pass, nor a right the Role grants that nothing checks.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { requireRunner } from '@deploy-suite/action-kit';
import {
  APP_ACCESS,
  DEPLOY_RUNNERS,
  DIAGNOSIS_ACCESS,
  MANIFEST_ACCESS,
  PRUNE_ACCESS,
  READ_ACCESS,
  missingRights,
  ruleGrants,
  type AccessNeed,
} from '../src/index.js';

/** The rights a shipped Role file grants, as `verb resource.group`. */
function grantedBy(file: string): string[] {
  const role = parseAllDocuments(
    readFileSync(new URL(`../../../actions/bluegreen-deploy/${file}`, import.meta.url), 'utf8'),
  )
    .map(
      (doc) => doc.toJS() as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] },
    )
    .find((doc) => doc.kind === 'Role')!;
  return role.rules!.flatMap((rule) =>
    rule.apiGroups.flatMap((group) =>
      rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${verb} ${resource}.${group}`)),
    ),
  );
}

const checked = (needs: AccessNeed[]) =>
  needs.flatMap((need) => need.verbs.map((verb) => `${verb} ${need.resource}.${need.group}`));

describe('preflight rights', () => {
  it('are the rules of actions/bluegreen-deploy/rbac.yaml', () => {
    expect(checked([...APP_ACCESS, ...DIAGNOSIS_ACCESS, ...PRUNE_ACCESS]).sort()).toEqual(
      grantedBy('rbac.yaml').sort(),
    );
  });

  it('of an app shipped as manifests are the rules of actions/bluegreen-deploy/rbac-manifests.yaml', () => {
    expect(checked(MANIFEST_ACCESS).sort()).toEqual(grantedBy('rbac-manifests.yaml').sort());
  });

  it('reading needs only get, list and watch', () => {
    expect(new Set(READ_ACCESS.flatMap((need) => need.verbs))).toEqual(new Set(['get', 'list', 'watch']));
  });

  it('names what is missing as verb resource.group (the core group bare)', () => {
    const missing = missingRights(
      APP_ACCESS,
      (need, verb) => !(need.resource === 'services' && verb === 'patch') && need.group !== 'coordination.k8s.io',
    );
    expect(missing).toEqual([
      'patch services',
      'get leases.coordination.k8s.io',
      'list leases.coordination.k8s.io',
      'watch leases.coordination.k8s.io',
      'create leases.coordination.k8s.io',
      'update leases.coordination.k8s.io',
      'patch leases.coordination.k8s.io',
      'delete leases.coordination.k8s.io',
    ]);
    expect(missingRights(APP_ACCESS, () => true)).toEqual([]);
  });

  it('reads RBAC rules as RBAC does: wildcards match, named objects only grant less', () => {
    const deployments = APP_ACCESS[0]!;
    const services = APP_ACCESS[1]!;
    expect(ruleGrants({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, deployments, 'patch')).toBe(true);
    expect(
      ruleGrants({ verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] }, deployments, 'patch'),
    ).toBe(true);
    expect(ruleGrants({ verbs: ['get'], apiGroups: ['apps'], resources: ['deployments'] }, deployments, 'patch')).toBe(
      false,
    );
    expect(
      ruleGrants({ verbs: ['patch'], apiGroups: ['extensions'], resources: ['deployments'] }, deployments, 'patch'),
    ).toBe(false);
    expect(ruleGrants({ verbs: ['get'], apiGroups: [''], resources: ['services'] }, services, 'get')).toBe(true);
    expect(ruleGrants({ verbs: ['get'], apiGroups: ['apps'], resources: ['services'] }, services, 'get')).toBe(false);
    expect(
      ruleGrants(
        { verbs: ['patch'], apiGroups: [''], resources: ['services'], resourceNames: ['shop'] },
        services,
        'patch',
      ),
    ).toBe(false);
    // A non-resource rule (no apiGroups) grants nothing here.
    expect(ruleGrants({ verbs: ['get'] }, services, 'get')).toBe(false);
  });
});

describe('DEPLOY_RUNNERS', () => {
  it('serves Linux and macOS on x64 and arm64, and refuses Windows up front with the runs-on that works', () => {
    expect(() => requireRunner('bluegreen-deploy', DEPLOY_RUNNERS, 'linux', 'arm64')).not.toThrow();
    expect(() => requireRunner('bluegreen-deploy', DEPLOY_RUNNERS, 'darwin', 'arm64')).not.toThrow();
    expect(() => requireRunner('verify-rollback', DEPLOY_RUNNERS, 'win32', 'x64')).toThrow(
      /verify-rollback cannot run on this runner \(Windows x64\): its kubeconfig exec plugins are looked up and started the POSIX way, for Linux\/macOS on x64 or arm64/,
    );
  });
});
