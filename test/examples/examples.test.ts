import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { Namespace, PersistentVolumeClaim } from 'kubernetes-models/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { checkRunnable } from '../../src/run/prepare.js';
import { loadScenario } from '../../src/scenario/library.js';
import { applySettings } from '../../src/sweep/apply.js';
import { cellsOf, parseSet } from '../../src/sweep/matrix.js';
import { CLI } from '../helpers/cli.js';

/**
 * The CI examples and the GitHub Action must work as written. GitHub's side is checked
 * against the published schemas of workflows and actions (@action-validator/core, which
 * validates with SchemaStore's schemas) plus what a schema cannot see: each run step is
 * valid bash, apt-get install follows an update, qoslab runs as `node <bin>` (never under
 * `sudo npx`), every qoslab command and option exists and its scenario (every sweep cell)
 * runs, the container flags are the README's, and a workflow passes the action only inputs
 * it declares. Kubernetes' side: each manifest against the Kubernetes OpenAPI schema of its
 * kind (kubernetes-models' validate(); no cluster, and kubectl's dry run needs one), then
 * what makes the example work as a whole. None of it was run on GitHub or a cluster here.
 */
const file = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const read = (name: string) => readFileSync(file(name), 'utf8');
const ACTION = 'action.yml';
const WORKFLOWS = ['examples/github-actions.yml', 'examples/github-action.yml'];
const K8S = 'examples/k8s';

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<string, { steps: Step[]; strategy?: { matrix: Record<string, unknown[]> } }>;
}
interface Action {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: Step[] };
}

/** `${{ expr }}` as a shell word would read it once GitHub substituted it. */
const substituted = (text: string) =>
  text.replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, '1').replace(/\$\{\{[^}]*\}\}/g, 'X');

/** Shell words, quotes removed. */
function words(command: string): string[] {
  const text = substituted(command).replace(/\\\n/g, ' ');
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const allSteps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);

/** Every qoslab invocation in the run steps: the words after `qoslab` or its bin. */
function qoslabCommands(steps: Step[]): string[][] {
  const found: string[][] = [];
  for (const step of steps) {
    if (step.run === undefined) continue;
    const ws = words(step.run);
    const at = ws.findIndex(
      (x, i) => (x === 'qoslab' && ws[i - 1] !== '-t') || x.endsWith('bin/qoslab.js'),
    );
    if (at >= 0) found.push(ws.slice(at + 1));
  }
  return found;
}

const helpCache = new Map<string, string>();
function help(command: string): string {
  if (!helpCache.has(command)) {
    const r = spawnSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' });
    expect(r.status, `qoslab ${command} --help: ${r.stderr}`).toBe(0);
    helpCache.set(command, r.stdout);
  }
  return helpCache.get(command)!;
}

/** The command exists, each --option is one of its options, and its scenario is runnable. */
async function checkCommand(args: string[]): Promise<void> {
  const [command, scenario] = args;
  const text = help(command!);
  for (const option of args.filter((a) => a.startsWith('--'))) {
    expect(text, `qoslab ${command} has no ${option}`).toMatch(
      new RegExp(`\\s${option.replace(/[[\]]/g, '\\$&')}\\s`),
    );
  }
  if (command === 'run' || command === 'sweep') {
    const loaded = await loadScenario(scenario!);
    const sets = args.flatMap((a, i) => (args[i - 1] === '--set' ? [parseSet(a)] : []));
    for (const cell of cellsOf(sets)) {
      const s = applySettings(loaded, sets, cell.params);
      checkRunnable(s, s.compiled);
    }
  }
}

/** Problems a schema cannot see in the run steps: bash syntax, apt without update, sudo npx. */
function runStepProblems(steps: Step[]): string[] {
  const problems: string[] = [];
  let updated = false;
  for (const step of steps) {
    if (step.run === undefined) continue;
    const script = substituted(step.run);
    const syntax = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    if (syntax.status !== 0) problems.push(`bash -n: ${syntax.stderr.trim()}`);
    if (/apt-get update/.test(script)) updated = true;
    if (/apt-get install/.test(script) && !updated) {
      problems.push(`apt-get install before any apt-get update: ${script.split('\n')[0]}`);
    }
    if (/sudo[^\n|&;]*\bnpx\b/.test(script)) problems.push(`sudo npx: ${script.split('\n')[0]}`);
  }
  return problems;
}

/** The flags README "CI and containers" documents for `docker run`. */
function readmeDockerFlags(): string[] {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## CI and containers'));
  const block = /^docker run .*$/m.exec(section)?.[0] ?? '';
  const ws = words(block);
  return ws.slice(0, ws.indexOf('qoslab')).filter((w) => w.startsWith('--'));
}

describe('the GitHub Action (action.yml)', () => {
  const action = parse(read(ACTION)) as Action;

  it("is valid against GitHub's action schema, and the checker can fail", () => {
    expect(validateAction(read(ACTION)).errors).toEqual([]);
    expect(
      validateAction(read(ACTION).replace('using: composite', 'using: node99')).errors,
    ).not.toEqual([]);
  });

  it('is a composite action whose run steps are valid bash, update before install, no sudo npx', () => {
    expect(action.runs.using).toBe('composite');
    expect(runStepProblems(action.runs.steps)).toEqual([]);
    // The checks themselves can fail.
    expect(
      runStepProblems([{ run: 'sudo npx qoslab run' }, { run: 'apt-get install x' }]),
    ).toHaveLength(2);
    expect(runStepProblems([{ run: 'if then fi' }])).toHaveLength(1);
  });

  it('runs qoslab run and sweep with options that exist, uploads and writes the summary', async () => {
    const run = action.runs.steps.find((s) => s.run?.includes('run_qoslab sweep'))!.run!;
    for (const line of run.split('\n').filter((l) => /run_qoslab (run|sweep) /.test(l))) {
      const ws = words(line.replace(/\\$/, ''));
      const args = ws.slice(ws.indexOf('run_qoslab') + 1).filter((w) => !w.startsWith('$'));
      // The options the script adds on continuation lines and through ci=(...).
      const more = words(run).filter((w) =>
        /^--(resume|fail-on|junit|summary-md|shard|out|force)$/.test(w),
      );
      const command = args[0]!;
      for (const option of [...args.filter((a) => a.startsWith('--')), ...more]) {
        if (command === 'run' && /^--(resume|fail-on|shard)$/.test(option)) continue;
        expect(help(command), `qoslab ${command} has no ${option}`).toMatch(
          new RegExp(`\\s${option}\\s`),
        );
      }
    }
    expect(action.runs.steps.some((s) => s.uses?.startsWith('actions/upload-artifact@'))).toBe(
      true,
    );
    expect(run).toContain('--summary-md "$GITHUB_STEP_SUMMARY"');
    expect(action.inputs.scenario!.default).toBe('messengers');
  });
});

describe('the GitHub workflow examples', () => {
  const action = parse(read(ACTION)) as Action;

  for (const name of WORKFLOWS) {
    const workflow = parse(read(name)) as Workflow;

    it(`${name}: valid against GitHub's workflow schema`, () => {
      expect(validateWorkflow(read(name)).errors).toEqual([]);
    });

    it(`${name}: run steps valid bash, apt-get update first, qoslab never under sudo npx`, () => {
      for (const job of Object.values(workflow.jobs))
        expect(runStepProblems(job.steps)).toEqual([]);
    });

    it(`${name}: only qoslab commands and options that exist, on runnable scenarios`, async () => {
      for (const c of qoslabCommands(allSteps(workflow))) await checkCommand(c);
    });

    it(`${name}: passes the action only inputs it declares, and runnable scenarios`, async () => {
      for (const step of allSteps(workflow).filter((s) => s.uses === './')) {
        for (const key of Object.keys(step.with ?? {}))
          expect(Object.keys(action.inputs)).toContain(key);
        const w = step.with as Record<string, string>;
        const sets = (w.sweep ?? '')
          .split('\n')
          .filter(Boolean)
          .flatMap((s) => ['--set', s]);
        const args = (w.args ?? '').split(' ').filter(Boolean);
        await checkCommand([
          w.sweep ? 'sweep' : 'run',
          w.scenario ?? 'messengers',
          ...sets,
          ...args,
        ]);
      }
    });
  }

  const plain = parse(read(WORKFLOWS[0]!)) as Workflow;

  it('github-actions.yml: a sudo job, the container, a sweep matrix of four shards and a merge', () => {
    expect(Object.keys(plain.jobs)).toEqual(['run', 'container', 'sweep', 'merge']);
    expect(plain.jobs.sweep!.strategy!.matrix.shard).toEqual([1, 2, 3, 4]);
    expect(qoslabCommands(allSteps(plain)).map((c) => c[0])).toEqual([
      'doctor',
      'run',
      'run',
      'sweep',
      'merge',
    ]);
    const sweep = qoslabCommands(plain.jobs.sweep!.steps)[0]!;
    expect(sweep).toEqual(expect.arrayContaining(['--resume', '--fail-on', 'runs', '--junit']));
  });

  it('github-actions.yml: the container job uses the documented docker flags, results owned', () => {
    const documented = readmeDockerFlags();
    expect(documented).toContain('--cap-drop');
    const step = plain.jobs.container!.steps.find((s) => s.run?.startsWith('docker run'))!;
    const ws = words(step.run!);
    const dockerFlags = ws.slice(0, ws.indexOf('qoslab')).filter((w) => w.startsWith('--'));
    expect(dockerFlags.slice(0, documented.length)).toEqual(documented);
    expect(step.run).toMatch(/--cap-add CHOWN -e PUID="\$\(id -u\)" -e PGID="\$\(id -g\)"/);
  });
});

describe('the Kubernetes example (examples/k8s)', () => {
  // Manifests as parsed: their shape is what the schema check above decides.
  type Doc = Record<string, any>;
  const docs: Doc[] = readdirSync(file(K8S))
    .sort()
    .flatMap((f) => parseAllDocuments(read(`${K8S}/${f}`)).map((d) => d.toJS() as Doc));
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const jobs = byKind('Job');
  const sweep = jobs.find((j) => j.spec.completionMode === 'Indexed')!;
  const merge = jobs.find((j) => j !== sweep)!;
  const container = (j: Doc) => j.spec.template.spec.containers[0];

  it('every manifest is valid against the Kubernetes schema of its kind, and the checker can fail', () => {
    const models: Record<string, new (d: Doc) => { validate(): void }> = {
      Namespace,
      PersistentVolumeClaim,
      Job,
    };
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'Job',
      'Job',
      'Namespace',
      'PersistentVolumeClaim',
    ]);
    for (const d of docs)
      expect(() => new models[d.kind]!(d).validate(), d.metadata.name).not.toThrow();
    const broken = structuredClone(sweep);
    container(broken).imagePullPolicy = 'Sometimes';
    expect(() => new Job(broken).validate()).toThrow(/imagePullPolicy/);
  });

  it('a namespace Pod Security lets run privileged workloads, holding everything else', () => {
    const ns = byKind('Namespace')[0]!;
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    for (const d of docs.filter((x) => x.kind !== 'Namespace'))
      expect(d.metadata.namespace).toBe(ns.metadata.name);
  });

  it('a ReadWriteMany claim that both Jobs mount', () => {
    const pvc = byKind('PersistentVolumeClaim')[0]!;
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
    for (const j of jobs) {
      expect(j.spec.template.spec.volumes).toContainEqual({
        name: 'results',
        persistentVolumeClaim: { claimName: pvc.metadata.name },
      });
    }
  });

  it('an Indexed Job of sweep shards that resume, JOB_COMPLETIONS = completions, the tun device, least privilege', async () => {
    const c = container(sweep);
    expect(sweep.spec.parallelism).toBeLessThanOrEqual(sweep.spec.completions);
    expect(c.env).toContainEqual({
      name: 'JOB_COMPLETIONS',
      value: String(sweep.spec.completions),
    });
    expect(c.args[0]).toBe('sweep');
    expect(c.args).toEqual(expect.arrayContaining(['--resume', '--out', '/results/sweep']));
    await checkCommand(c.args);
    expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    const readme = read('README.md');
    const documented = [...readme.matchAll(/--cap-add (\w+)/g)].map((m) => m[1]);
    for (const cap of c.securityContext.capabilities.add) expect(documented).toContain(cap);
    expect(c.volumeMounts).toContainEqual({ name: 'tun', mountPath: '/dev/net/tun' });
    expect(sweep.spec.template.spec.volumes).toContainEqual({
      name: 'tun',
      hostPath: { path: '/dev/net/tun', type: 'CharDevice' },
    });
  });

  it('a merge Job of what the shards wrote, with no capability', async () => {
    const c = container(merge);
    expect(c.args.slice(0, 2)).toEqual([
      'merge',
      container(sweep).args[container(sweep).args.indexOf('--out') + 1],
    ]);
    await checkCommand(c.args);
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'] });
  });

  it('images loaded on the nodes are never pulled: a tag other than latest, imagePullPolicy Never', () => {
    for (const j of jobs) {
      const c = container(j);
      expect(c.image).toMatch(/^qoslab:(?!latest$)[\w.-]+$/);
      expect(c.imagePullPolicy).toBe('Never');
    }
  });
});
