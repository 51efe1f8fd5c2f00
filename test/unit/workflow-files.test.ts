// Every workflow and action file as GitHub itself reads it: @actions/workflow-parser is the parser and
// schema of GitHub's own tooling, stricter on some points than actionlint (and the two disagree at times).
import { describe, expect, it } from '@jest/globals';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { convertActionTemplate, parseAction } from '@actions/workflow-parser/actions/index';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const yamlIn = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => join(dir, f));
// The suite's workflows, the copy-paste callers of the docs, and the callers the act tests run.
const callerFiles = [...yamlIn('docs/examples'), ...yamlIn('test/fixtures/workflows')];
const workflowFiles = [...yamlIn('.github/workflows'), ...callerFiles];
const actionFiles = readdirSync(join(root, 'actions')).map((name) => join('actions', name, 'action.yml'));

async function workflowProblems(name: string, content: string) {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  const problems = parsed.context.errors.getErrors().map((e) => e.message);
  if (problems.length > 0 || !parsed.value) return { problems, template: undefined };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  return { problems: (template.errors ?? []).map((e) => e.Message), template };
}

describe("workflow files, read by GitHub's workflow parser", () => {
  it.each(workflowFiles)('%s parses and converts without errors', async (file) => {
    const { problems, template } = await workflowProblems(file, readFileSync(join(root, file), 'utf8'));
    expect(problems).toEqual([]);
    expect(template?.jobs.length).toBeGreaterThan(0);
  });

  it('the release workflow is callable and takes its secrets explicitly', async () => {
    const { template } = await workflowProblems(
      'release.yml',
      readFileSync(join(root, '.github/workflows/release.yml'), 'utf8'),
    );
    const call = template!.events.workflow_call!;
    expect(Object.keys(call.secrets ?? {})).toEqual(
      expect.arrayContaining([
        'kubeconfig',
        'registry-username',
        'registry-password',
        'cosign-private-key',
        'cosign-password',
      ]),
    );
    expect(call.secrets!['kubeconfig']!.required).toBe(true);
    expect(call.secrets!['cosign-private-key']!.required).toBeFalsy(); // keyless signing needs none
    expect(Object.keys(call.inputs ?? {})).toEqual(
      expect.arrayContaining(['image', 'context', 'app', 'namespace', 'staging-namespace']),
    );
  });

  it('the parser is not blind: a mistyped key and a broken expression are reported', async () => {
    const { problems } = await workflowProblems(
      'broken.yml',
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo ${{ github.sha\n',
    );
    expect(problems.join('\n')).toMatch(/stepz/);
  });
});

type Permissions = Record<string, string>;
interface Declared {
  inputs?: Record<string, { required?: boolean }>;
  secrets?: Record<string, { required?: boolean } | null>;
}
const LEVEL: Record<string, number> = { none: 0, read: 1, write: 2 };

describe('callers against the interface of the workflow they call', () => {
  it.each(callerFiles)(
    '%s passes what is required, nothing undeclared, and grants what the called jobs ask',
    (file) => {
      const caller = parse(readFileSync(join(root, file), 'utf8')) as {
        jobs: Record<
          string,
          {
            uses?: string;
            with?: Record<string, unknown>;
            secrets?: Record<string, unknown>;
            permissions?: Permissions;
          }
        >;
      };
      const calls = Object.values(caller.jobs).filter((job) =>
        job.uses?.startsWith('acme/deploy-suite/.github/workflows/'),
      );
      expect(calls.length).toBeGreaterThan(0);
      for (const job of calls) {
        const called = parse(
          readFileSync(join(root, '.github/workflows', basename(job.uses!.split('@')[0]!)), 'utf8'),
        ) as { on: { workflow_call: Declared }; jobs: Record<string, { permissions?: Permissions }> };
        const declared = called.on.workflow_call;
        const given = Object.keys(job.with ?? {});
        const secrets = Object.keys(job.secrets ?? {});
        expect(given.filter((name) => !(name in (declared.inputs ?? {})))).toEqual([]);
        expect(
          Object.entries(declared.inputs ?? {})
            .filter(([name, spec]) => spec.required && !given.includes(name))
            .map(([name]) => name),
        ).toEqual([]);
        expect(secrets.filter((name) => !(name in (declared.secrets ?? {})))).toEqual([]);
        expect(
          Object.entries(declared.secrets ?? {})
            .filter(([name, spec]) => spec?.required && !secrets.includes(name))
            .map(([name]) => name),
        ).toEqual([]);
        // A called job gets at most what its caller grants; asking for more fails the run before it starts.
        const granted = job.permissions ?? {};
        const short = Object.values(called.jobs).flatMap((calledJob) =>
          Object.entries(calledJob.permissions ?? {})
            .filter(
              ([scope, level]) => scope !== 'id-token' && (LEVEL[granted[scope] ?? 'none'] ?? 0) < (LEVEL[level] ?? 0),
            )
            .map(([scope, level]) => `${scope}: ${level}`),
        );
        expect(short).toEqual([]);
      }
    },
  );
});

describe("action files, read by GitHub's action parser", () => {
  it.each(actionFiles)('%s parses and converts without errors', (file) => {
    const parsed = parseAction(
      { name: file, content: readFileSync(join(root, file), 'utf8') },
      new NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    const action = convertActionTemplate(parsed.context, parsed.value!);
    expect(action.runs).toMatchObject({ using: 'node24', main: 'dist/index.js' });
    expect(Object.keys(action.inputs ?? {}).length).toBeGreaterThan(0);
  });
});
