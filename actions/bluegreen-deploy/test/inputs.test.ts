import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputReader } from '@deploy-suite/action-kit';
import { inputProblems } from '../../../test/support/input-problems.js';
import { readBluegreenInputs } from '../src/inputs.js';

const kubeconfig = `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]
current-context: x
users: [{name: u, user: {token: abc123token}}]
`;
const DIGEST = `r/app@sha256:${'a'.repeat(64)}`;
const dir = mkdtempSync(join(tmpdir(), 'bg-inputs-'));
writeFileSync(join(dir, 'svc.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n');
writeFileSync(
  join(dir, 'empty.yaml'),
  'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: []}}}\n',
);
writeFileSync(join(dir, 'bad.yaml'), 'kind: [unclosed\n');
writeFileSync(
  join(dir, 'svc-good.yaml'),
  'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{name: http, port: 8080}]}\n',
);
writeFileSync(
  join(dir, 'svc-bad-port.yaml'),
  'apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{name: http, port: "eighty"}]}\n',
);
writeFileSync(
  join(dir, 'good.yaml'),
  '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: a, image: b}]}}}\n',
);

function read(values: Record<string, string>) {
  return readBluegreenInputs(
    new InputReader((name) => ({ kubeconfig, app: 'shop', image: DIGEST, ...values })[name]),
    dir,
    { HOME: '/nonexistent' },
  );
}

const problems = (values: Record<string, string>) => inputProblems(() => read(values));

describe('bluegreen-deploy inputs', () => {
  it('defaults, with the namespace from the kubeconfig context', async () => {
    const inputs = read({});
    expect(inputs).toMatchObject({
      namespace: 'team-a',
      app: 'shop',
      image: DIGEST,
      replicas: 2,
      containerPort: 8080,
      progressDeadlineSeconds: 300,
      lockTimeoutSeconds: 300,
      dryRun: false,
    });
    expect(inputs.access?.secrets).toContain('abc123token');
    expect((await inputs.access!.credentials()).headers.authorization).toBe('Bearer abc123token');
  });

  it('app-secrets: a Secret of the revision, every value masked; malformed lines named by number', () => {
    const masked: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      const mask = /^::add-mask::(.*)$/m.exec(String(chunk));
      if (mask) masked.push(mask[1]!);
      return true;
    }) as typeof process.stdout.write;
    let inputs;
    try {
      inputs = read({ 'app-secrets': 'DATABASE_URL=postgres://u:pw-4711@db/shop\nREDIS_URL="redis://r:6379"' });
    } finally {
      process.stdout.write = write;
    }
    expect(inputs.appSecret).toMatchObject({
      kind: 'Secret',
      metadata: { name: 'shop-secrets' },
      data: {
        DATABASE_URL: Buffer.from('postgres://u:pw-4711@db/shop').toString('base64'),
        REDIS_URL: Buffer.from('redis://r:6379').toString('base64'),
      },
    });
    expect(masked).toEqual(expect.arrayContaining(['postgres://u:pw-4711@db/shop', 'redis://r:6379']));
    expect(read({ 'app-secrets': 'A=1', 'app-secrets-name': 'shop-env' }).appSecret?.metadata.name).toBe('shop-env');
    expect(read({ 'app-secrets': '# nothing yet\n' }).appSecret).toBeUndefined();
    expect(problems({ 'app-secrets': 'A=1\npw-4711' })).toEqual([
      expect.objectContaining({ input: 'app-secrets', problem: 'line 2 is not KEY=value' }),
    ]);
    expect(problems({ 'app-secrets-name': 'shop-env' })).toEqual([
      expect.objectContaining({ input: 'app-secrets-name', problem: 'is set without app-secrets' }),
    ]);
    expect(problems({ 'app-secrets': 'A=1', 'app-secrets-name': 'Shop_Env' })).toEqual([
      expect.objectContaining({ input: 'app-secrets-name', problem: "'Shop_Env' is not a Secret name" }),
    ]);
  });

  it('scale-down delay: kept warm by default, or a duration', () => {
    expect(read({}).scaleDownDelayMs).toBeUndefined();
    expect(read({ 'scale-down-delay': 'keep' }).scaleDownDelayMs).toBeUndefined();
    expect(read({ 'scale-down-delay': '0' }).scaleDownDelayMs).toBe(0);
    expect(read({ 'scale-down-delay': '0s' }).scaleDownDelayMs).toBe(0);
    expect(read({ 'scale-down-delay': '10m' }).scaleDownDelayMs).toBe(600_000);
    expect(problems({ 'scale-down-delay': 'soon' })).toEqual([
      expect.objectContaining({ input: 'scale-down-delay', problem: "'soon' is not a duration" }),
    ]);
  });

  it('a Service template', () => {
    expect(read({ 'service-template': 'svc-good.yaml' }).serviceTemplate?.kind).toBe('Service');
    expect(problems({ 'service-template': 'good.yaml' })).toEqual([
      expect.objectContaining({ input: 'service-template', problem: "'good.yaml' holds no Service" }),
    ]);
    expect(problems({ 'service-template': 'svc-bad-port.yaml' })).toEqual([
      expect.objectContaining({
        input: 'service-template',
        problem: "the Service in 'svc-bad-port.yaml' has ports without a numeric port",
      }),
    ]);
    expect(problems({ 'service-template': 'bad.yaml' })[0]?.problem).toMatch(/is not valid YAML/);
  });

  it('durations and a template', () => {
    const inputs = read({ 'progress-deadline': '90s', 'lock-timeout': '2m', 'deployment-template': 'good.yaml' });
    expect(inputs.progressDeadlineSeconds).toBe(90);
    expect(inputs.lockTimeoutSeconds).toBe(120);
    expect(inputs.deploymentTemplate?.kind).toBe('Deployment');
  });

  it.each([
    [{ image: 'r/app:latest' }, 'image', /names a tag, not a digest/],
    [{ image: 'r/app@sha256:short' }, 'image', /digest/],
    [{ image: '' }, 'image', /required/],
    [{ app: 'Shop_API' }, 'app', /DNS label/],
    [{ app: 'a'.repeat(41) }, 'app', /at most 40/],
    [{ namespace: 'Prod' }, 'namespace', /not a valid namespace/],
    [{ replicas: '0' }, 'replicas', /positive/],
    [{ 'container-port': '70000' }, 'container-port', /not a port/],
    [{ 'progress-deadline': '5 minutes' }, 'progress-deadline', /not a duration/],
    [{ 'lock-timeout': '0' }, 'lock-timeout', /not a duration/],
    [{ 'deployment-template': 'missing.yaml' }, 'deployment-template', /does not exist/],
    [{ 'deployment-template': 'svc.yaml' }, 'deployment-template', /no Deployment/],
    [{ 'deployment-template': 'empty.yaml' }, 'deployment-template', /no containers/],
    [{ 'deployment-template': 'bad.yaml' }, 'deployment-template', /not valid YAML/],
    [{ kubeconfig: 'clusters: []' }, 'kubeconfig', /no context/],
    [{ 'dry-run': 'maybe' }, 'dry-run', /not a boolean/],
    [{ environment: 'production', 'environment-url': 'shop.example.com' }, 'environment-url', /not an http\(s\) URL/],
    [{ 'environment-url': 'https://shop.example.com' }, 'environment', /empty while environment-url/],
  ])('%j fails on %s', (values, input, problem) => {
    const found = problems(values);
    expect(found.map((p) => p.input)).toEqual([input]);
    expect(found[0]!.problem).toMatch(problem);
  });
});
