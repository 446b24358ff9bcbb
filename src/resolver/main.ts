/**
 * The lab's resolver process: `ip netns exec <server ns> node dist/resolver/main.js`,
 * started by every lab (src/orchestrate/resolver.ts). It reads its configuration as the
 * first NDJSON line on stdin, then commands (`rules`: the resolver rules in force from
 * now on; `stop`); it writes `ready` and one `query` line per exchange on stdout. Stdin
 * closing means the lab is gone, so it exits.
 */
import { createInterface } from 'node:readline';
import type { ResolverCommand, ResolverLine } from './protocol.js';
import { startResolver, type Resolver } from './serve.js';

function write(line: ResolverLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  let resolver: Resolver | undefined;
  const exit = (code: number): void => {
    const done = () => void process.stdout.write('', () => process.exit(code));
    if (resolver === undefined) done();
    else void resolver.close().finally(done);
  };
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => exit(0));
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => exit(0));
  for await (const text of lines) {
    const cmd = JSON.parse(text) as ResolverCommand;
    if (cmd.cmd === 'config') {
      resolver = await startResolver({
        dns: cmd.dns,
        ipv6: cmd.ipv6,
        cert: cmd.cert,
        log: (transport, client, e) =>
          write({
            ev: 'query',
            at: String(process.hrtime.bigint()),
            transport,
            client,
            name: e.name,
            type: e.type,
            rcode: e.answer.rcode,
            answers: e.answer.addresses,
            rule: e.answer.rule,
          }),
      });
      resolver.zone.setActive(cmd.active);
      write({ ev: 'ready' });
    } else if (cmd.cmd === 'rules') {
      resolver?.zone.setActive(cmd.active);
    } else if (cmd.cmd === 'stop') {
      exit(0);
    }
  }
}

main().catch((error: Error) => {
  process.stderr.write(`qoslab resolver: ${error.message}\n`);
  process.exit(1);
});
