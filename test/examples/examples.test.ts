import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkRunnable } from '../../src/run/prepare.js';
import { loadScenario } from '../../src/scenario/library.js';
import { applySettings } from '../../src/sweep/apply.js';
import { cellsOf, parseSet } from '../../src/sweep/matrix.js';
import { CLI } from '../helpers/cli.js';

/**
 * The CI examples must work as written: they parse, every qoslab command they run exists
 * with the options they give it, their scenarios (with every sweep cell) are runnable,
 * and the container flags are the README's.
 */
const file = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));
const GITHUB = file('examples/github-actions.yml');
const K8S = file('examples/k8s-sweep-job.yaml');

interface Workflow {
  jobs: Record<
    string,
    { steps: { run?: string }[]; strategy?: { matrix: Record<string, unknown[]> } }
  >;
}

/** Shell words, quotes removed; `${{ matrix.shard }}` becomes 1. */
function words(command: string): string[] {
  const text = command.replace(/\$\{\{\s*matrix\.shard\s*\}\}/g, '1').replace(/\\\n/g, ' ');
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

/** Every qoslab invocation in the workflow's run steps: the words after `qoslab`. */
function qoslabCommands(w: Workflow): string[][] {
  const found: string[][] = [];
  for (const job of Object.values(w.jobs)) {
    for (const step of job.steps) {
      if (step.run === undefined) continue;
      const ws = words(step.run);
      const at = ws.findIndex((x, i) => x === 'qoslab' && ws[i - 1] !== '-t');
      if (at >= 0) found.push(ws.slice(at + 1));
    }
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

/** The flags README "CI and containers" documents for `docker run`. */
function readmeDockerFlags(): string[] {
  const readme = readFileSync(file('README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## CI and containers'));
  const block = /^docker run .*$/m.exec(section)?.[0] ?? '';
  const ws = words(block);
  return ws.slice(0, ws.indexOf('qoslab')).filter((w) => w.startsWith('--'));
}

describe('examples/github-actions.yml', () => {
  const workflow = parse(readFileSync(GITHUB, 'utf8')) as Workflow;

  it('parses, with a sudo job, a container job, a sweep matrix and a merge', () => {
    expect(Object.keys(workflow.jobs)).toEqual(['run', 'container', 'sweep', 'merge']);
    expect(workflow.jobs.sweep!.strategy!.matrix.shard).toEqual([1, 2, 3, 4]);
  });

  it('runs only qoslab commands and options that exist, on runnable scenarios', async () => {
    const commands = qoslabCommands(workflow);
    expect(commands.map((c) => c[0])).toEqual(['doctor', 'run', 'run', 'sweep', 'merge']);
    for (const c of commands) await checkCommand(c);
  });

  it('the container job uses exactly the documented docker flags', () => {
    const documented = readmeDockerFlags();
    expect(documented).toContain('--cap-drop');
    const step = workflow.jobs.container!.steps.find((s) => s.run?.startsWith('docker run'))!;
    const ws = words(step.run!);
    const dockerFlags = ws.slice(0, ws.indexOf('qoslab')).filter((w) => w.startsWith('--'));
    expect(dockerFlags).toEqual(documented);
  });
});

describe('examples/k8s-sweep-job.yaml', () => {
  const job = parse(readFileSync(K8S, 'utf8')) as {
    kind: string;
    spec: {
      completionMode: string;
      completions: number;
      template: {
        spec: {
          containers: {
            args: string[];
            env: { name: string; value: string }[];
            securityContext: { capabilities: { drop: string[]; add: string[] } };
          }[];
        };
      };
    };
  };

  it('is an Indexed Job whose JOB_COMPLETIONS matches its completions', () => {
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const c = job.spec.template.spec.containers[0]!;
    expect(c.env).toContainEqual({ name: 'JOB_COMPLETIONS', value: String(job.spec.completions) });
    expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
  });

  it('runs a sweep command that exists, on a runnable scenario, with the documented capabilities', async () => {
    const c = job.spec.template.spec.containers[0]!;
    expect(c.args[0]).toBe('sweep');
    await checkCommand(c.args);
    const readme = readFileSync(file('README.md'), 'utf8');
    const documented = [...readme.matchAll(/--cap-add (\w+)/g)].map((m) => m[1]);
    for (const cap of c.securityContext.capabilities.add) expect(documented).toContain(cap);
  });
});
