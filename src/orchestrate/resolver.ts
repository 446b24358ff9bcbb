/**
 * The lab's resolver process (src/resolver/main.ts) in the server namespace: started by
 * every lab under `setpriv --pdeathsig KILL` (it dies with the orchestrator), given its
 * configuration on stdin, waited for until it serves; `setRules` switches the censor's
 * resolver rules as the timeline plays; each exchange comes back through `onQuery`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import type { QueryLine, ResolverCommand, ResolverLine } from '../resolver/protocol.js';
import type { CompiledDns } from '../scenario/compiled.js';

/** Binding four listeners on two addresses takes milliseconds; a loaded machine, seconds. */
const READY_TIMEOUT_MS = 20_000;

/** dist/resolver/main.js, also when this module runs from src/ (tests). */
function resolverScript(): string {
  const here = fileURLToPath(new URL('../resolver/main.js', import.meta.url));
  if (existsSync(here)) return here;
  return fileURLToPath(new URL('../../dist/resolver/main.js', import.meta.url));
}

export interface ResolverStart {
  ns: string;
  dns: CompiledDns;
  ipv6: boolean;
  cert?: { cert: string; key: string };
  onQuery?(line: QueryLine): void;
}

export class ResolverProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(o: ResolverStart): Promise<ResolverProcess> {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        o.ns,
        'setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        process.execPath,
        resolverScript(),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => {
      child.once('close', (code) => resolve(code));
      child.once('error', () => resolve(null));
    });
    child.stdin!.on('error', () => {});
    let last = '';
    createInterface({ input: child.stderr! }).on('line', (line) => (last = line));
    const ready = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (text) => {
        let line: ResolverLine;
        try {
          line = JSON.parse(text) as ResolverLine;
        } catch {
          return;
        }
        if (line.ev === 'ready') resolve();
        else o.onQuery?.(line);
      });
    });
    const resolver = new ResolverProcess(child, exited);
    resolver.send({ cmd: 'config', dns: o.dns, ipv6: o.ipv6, cert: o.cert, active: [] });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready'),
      exited.then((code) => `exited with code ${code}`),
      new Promise<string>(
        (r) => (timer = setTimeout(() => r('no answer in 20 s'), READY_TIMEOUT_MS)),
      ),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ready') {
      await resolver.close();
      throw new LabError(`the lab's resolver did not start (${outcome})${last ? `: ${last}` : ''}`);
    }
    return resolver;
  }

  private send(cmd: ResolverCommand): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  /** The resolver rules in force from now on (the timeline's `dns_active`). */
  setRules(active: string[]): void {
    this.send({ cmd: 'rules', active });
  }

  /** Stop it (closing stdin ends it), killing it if it lingers. */
  async close(): Promise<void> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
