import { PROGRAMS } from '../scenario/protocols/programs.js';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { EnvironmentError } from '../errors.js';
import { NativeLab, nativeVersion } from '../native/index.js';
import { exec, ExecError } from './exec.js';
import { addNamespace, deleteNamespace } from './netns.js';
import { newRunId } from './names.js';
import { LAB_PREFIXES } from './addresses.js';
import { inRootless, rootlessConditions } from './rootless.js';

/**
 * What a lab needs from the machine, each check with a fix a user can apply.
 * `qoslab doctor` prints them all; every command that opens a lab runs the required ones
 * first and exits 3 with the same advice instead of failing half-way.
 */

export type CheckLevel = 'required' | 'optional';

export interface CheckResult {
  name: string;
  level: CheckLevel;
  ok: boolean;
  detail: string;
  /** How to fix it, when not ok. */
  fix?: string;
}

interface Check {
  name: string;
  level: CheckLevel;
  /** Names of checks that must pass first; otherwise this one is skipped as failed. */
  needs?: string[];
  run(): Promise<Omit<CheckResult, 'name' | 'level'>>;
}

/**
 * An optional program found by running it: its version line, or where it is used and the
 * Debian package that has it. `file` may be argv (a check that is a command line).
 */
function optionalTool(
  name: string,
  argv: [string, ...string[]],
  usedFor: string,
  pkg: string,
  /** Its help exits non-zero (mosquitto's): having run at all is enough. */
  helpFails = false,
): Check {
  return {
    name,
    level: 'optional',
    async run() {
      const [file, ...args] = argv;
      const { version, problem } = await toolVersion(file, args, helpFails);
      return version !== undefined
        ? { ok: true, detail: `${version || name} (${usedFor})` }
        : {
            ok: false,
            detail: `${problem} (${usedFor})`,
            fix: problem === 'not found' ? `apt-get install ${pkg}` : undefined,
          };
    },
  };
}

/**
 * Programs the end-to-end tests and the library's bring-your-own-app scenarios run as
 * `command` workloads, and the capture readers.
 */
const APP_CHECKS: Check[] = [
  optionalTool(
    'tshark',
    ['tshark', '--version'],
    'reads capture.pcapng; the capture tests',
    'tshark',
  ),
  optionalTool('tcpdump', ['tcpdump', '--version'], 'reads capture.pcapng', 'tcpdump'),
  optionalTool(
    'mosquitto',
    ['mosquitto', '-h'],
    'MQTT broker of the mosquitto tests and library scenario',
    'mosquitto',
    true,
  ),
  optionalTool(
    'mosquitto_pub',
    ['mosquitto_pub', '--help'],
    'MQTT clients of the mosquitto tests and library scenario',
    'mosquitto-clients',
    true,
  ),
  optionalTool(
    'prosody',
    ['prosodyctl', 'about'],
    'XMPP server of the freeze tests and library scenario',
    'prosody lua-unbound',
  ),
  optionalTool(
    'slixmpp',
    ['/usr/bin/python3', '-c', 'import slixmpp; print("slixmpp", slixmpp.__version__)'],
    'the XMPP chat client scenarios/apps/xmpp-chat.py',
    'python3-slixmpp',
  ),
  optionalTool('curl', ['curl', '--version'], 'HTTP/2 client of the Caddy test', 'curl'),
];

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
/** The lab's servers listen on 443 and other ports below 1024. */
const CAP_NET_BIND_SERVICE = 10;

function effectiveCapabilities(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  return BigInt(`0x${hex}`);
}

function hasCapability(caps: bigint, bit: number): boolean {
  return ((caps >> BigInt(bit)) & 1n) === 1n;
}

/** First line of `file args`, or why it could not be run. */
async function toolVersion(
  file: string,
  args: string[],
  anyExit = false,
): Promise<{ version?: string; problem?: string }> {
  try {
    const { stdout, stderr } = await exec(file, args, 5000);
    return { version: (stdout || stderr).split('\n')[0]?.trim() };
  } catch (error) {
    const stderr = error instanceof ExecError ? error.stderr.trim() : '';
    if (anyExit && error instanceof ExecError && error.exitCode !== null) {
      return { version: stderr.split('\n')[0]?.trim() ?? '' };
    }
    if (stderr === '' && /ENOENT/.test((error as Error).message)) return { problem: 'not found' };
    return {
      problem: `\`${file} ${args.join(' ')}\` failed: ${stderr || (error as Error).message}`,
    };
  }
}

const ROOT_FIX =
  'run qoslab as root (sudo) or grant CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_NET_BIND_SERVICE; in Docker: --cap-add NET_ADMIN --cap-add SYS_ADMIN --cap-add NET_BIND_SERVICE --device /dev/net/tun (README "CI and containers"); as an ordinary user, meet the rootless checks below';

/** Open a TUN pair the way a lab does (with offload), run `use` on it, and close it. */
function withProbeLab<T>(use: (lab: NativeLab) => T): T {
  const id = newRunId();
  const probe = NativeLab.open({
    clientTun: `qldc-${id}`,
    serverTun: `qlds-${id}`,
    mtu: 1500,
    offload: true,
    labPrefixes: [...LAB_PREFIXES],
  });
  try {
    return use(probe);
  } finally {
    probe.close();
  }
}

const CHECKS: Check[] = [
  {
    name: 'linux',
    level: 'required',
    async run() {
      const ok = process.platform === 'linux';
      const release = ok ? readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() : '';
      return ok
        ? { ok, detail: `Linux ${release}` }
        : {
            ok,
            detail: `platform is ${process.platform}`,
            fix: 'qoslab needs Linux (TUN devices and network namespaces)',
          };
    },
  },
  {
    name: 'node',
    level: 'required',
    async run() {
      const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
      const ok = major > 20 || (major === 20 && minor >= 19);
      return { ok, detail: `Node ${process.versions.node}`, fix: 'install Node.js 20.19 or newer' };
    },
  },
  {
    name: 'native core',
    level: 'required',
    async run() {
      try {
        return { ok: true, detail: `qoslab-core ${nativeVersion()}` };
      } catch (error) {
        return {
          ok: false,
          detail: (error as Error).message,
          fix: 'build it: npm run build (needs a Rust toolchain: https://rustup.rs)',
        };
      }
    },
  },
  {
    name: 'privileges',
    level: 'required',
    async run() {
      const caps = effectiveCapabilities();
      const missing = [
        hasCapability(caps, CAP_NET_ADMIN) ? undefined : 'CAP_NET_ADMIN',
        hasCapability(caps, CAP_SYS_ADMIN) ? undefined : 'CAP_SYS_ADMIN',
        hasCapability(caps, CAP_NET_BIND_SERVICE) ? undefined : 'CAP_NET_BIND_SERVICE',
      ].filter((c): c is string => c !== undefined);
      return missing.length === 0
        ? {
            ok: true,
            detail: `CAP_NET_ADMIN, CAP_SYS_ADMIN and CAP_NET_BIND_SERVICE (uid ${process.getuid?.()})`,
          }
        : {
            ok: false,
            detail: `missing ${missing.join(', ')} (uid ${process.getuid?.()})`,
            fix: ROOT_FIX,
          };
    },
  },
  {
    name: '/dev/net/tun',
    level: 'required',
    async run() {
      try {
        const stat = statSync('/dev/net/tun');
        if (!stat.isCharacterDevice()) {
          return {
            ok: false,
            detail: '/dev/net/tun is not a character device',
            fix: 'recreate it: mknod /dev/net/tun c 10 200',
          };
        }
        accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
        return { ok: true, detail: `character device, mode ${(stat.mode & 0o777).toString(8)}` };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return code === 'ENOENT'
          ? {
              ok: false,
              detail: '/dev/net/tun does not exist',
              fix: 'load the tun module (modprobe tun); in Docker pass --device /dev/net/tun',
            }
          : {
              ok: false,
              detail: `/dev/net/tun is not readable and writable (${code})`,
              fix: ROOT_FIX,
            };
      }
    },
  },
  {
    name: 'TUN devices',
    level: 'required',
    needs: ['native core', 'privileges', '/dev/net/tun'],
    async run() {
      try {
        withProbeLab(() => undefined);
        return { ok: true, detail: 'created a TUN pair with IFF_VNET_HDR and TSO offload' };
      } catch (error) {
        return {
          ok: false,
          detail: (error as Error).message,
          fix: 'the kernel needs CONFIG_TUN with IFF_VNET_HDR; ' + ROOT_FIX,
        };
      }
    },
  },
  {
    name: 'UDP offload',
    level: 'optional',
    needs: ['TUN devices'],
    async run() {
      try {
        const uso = withProbeLab((lab) => lab.counters().udpOffload);
        return uso
          ? { ok: true, detail: 'TUN_F_USO4/USO6: UDP GSO senders cross as super-packets' }
          : {
              ok: false,
              detail: 'the kernel refused TUN_F_USO4/USO6: one read and one write per UDP datagram',
              fix: 'Linux 6.2 or newer has UDP segmentation offload on TUN devices; QUIC and other UDP traffic still works, only slower',
            };
      } catch (error) {
        return { ok: false, detail: (error as Error).message };
      }
    },
  },
  {
    name: 'iproute2',
    level: 'required',
    async run() {
      const { version, problem } = await toolVersion('ip', ['-V']);
      return version
        ? { ok: true, detail: version }
        : {
            ok: false,
            detail: `ip: ${problem}`,
            fix: 'install iproute2 (apt-get install iproute2)',
          };
    },
  },
  {
    name: 'network namespaces',
    level: 'required',
    needs: ['privileges', 'iproute2'],
    async run() {
      const name = `qld-${newRunId()}`;
      try {
        await addNamespace(name);
        await deleteNamespace(name);
        return { ok: true, detail: 'created and deleted a namespace' };
      } catch (error) {
        return {
          ok: false,
          detail: (error as Error).message,
          fix: inRootless()
            ? 'in rootless mode /run and /etc/netns are private tmpfs mounts; see the error above'
            : 'the kernel needs CONFIG_NET_NS; ' + ROOT_FIX,
        };
      }
    },
  },
  {
    name: 'iperf3',
    level: 'optional',
    async run() {
      const { version, problem } = await toolVersion('iperf3', ['--version']);
      return version
        ? { ok: true, detail: version }
        : {
            ok: false,
            detail: `${problem} (used by the examples, tests and benchmark)`,
            fix: problem === 'not found' ? 'apt-get install iperf3' : undefined,
          };
    },
  },
  {
    name: 'caddy',
    level: 'optional',
    async run() {
      const { version, problem } = await toolVersion('caddy', ['version']);
      return version
        ? { ok: true, detail: `${version} (serves http3 workloads: HTTP/3 by quic-go)` }
        : {
            ok: false,
            detail: `${problem} (the HTTP/3 server of http3 workloads)`,
            fix: problem === 'not found' ? 'apt-get install caddy' : undefined,
          };
    },
  },
  {
    name: 'coturn',
    level: 'optional',
    async run() {
      const { version, problem } = await toolVersion('turnserver', ['--version']);
      return version
        ? { ok: true, detail: `coturn ${version} (the TURN server of webrtc calls with turn)` }
        : {
            ok: false,
            detail: `${problem} (the TURN/STUN server of webrtc calls with turn)`,
            fix: problem === 'not found' ? 'apt-get install coturn' : undefined,
          };
    },
  },
  {
    name: 'chromium',
    level: 'optional',
    async run() {
      const path = PROGRAMS.chromium.command;
      const { version, problem } = await toolVersion(path, ['--version']);
      return version
        ? { ok: true, detail: `${version} (the HTTP/3 client of http3 workloads; report tests)` }
        : {
            ok: false,
            detail: `${problem} (the QUIC client of http3 workloads, headless)`,
            fix: problem === 'not found' ? 'apt-get install chromium' : undefined,
          };
    },
  },
  {
    name: 'gtlsclient',
    level: 'optional',
    async run() {
      // ngtcp2's example QUIC client and server: the QUIC end-to-end tests use both, and
      // gtlsclient is the client of http3 workloads with `client: ngtcp2`.
      const client = await toolVersion('gtlsclient', ['--help']);
      const server = await toolVersion('gtlsserver', ['--help']);
      const problem = client.problem ?? server.problem;
      return problem === undefined
        ? {
            ok: true,
            detail: 'gtlsclient and gtlsserver (ngtcp2) found (http3 `client: ngtcp2`; tests)',
          }
        : {
            ok: false,
            detail: `${problem} (ngtcp2's QUIC client and server: http3 \`client: ngtcp2\`, tests)`,
            fix:
              problem === 'not found' ? 'apt-get install ngtcp2-client ngtcp2-server' : undefined,
          };
    },
  },
  ...APP_CHECKS,
  {
    name: 'dig',
    level: 'optional',
    async run() {
      const { version, problem } = await toolVersion('dig', ['-v']);
      return version
        ? { ok: true, detail: `${version} (asks the lab's resolver in \`qoslab shell\`; tests)` }
        : {
            ok: false,
            detail: `${problem} (a DNS client for the lab's resolver: qoslab shell, the DNS tests)`,
            fix: problem === 'not found' ? 'apt-get install bind9-dnsutils' : undefined,
          };
    },
  },
  {
    name: 'ping',
    level: 'optional',
    async run() {
      const { version, problem } = await toolVersion('ping', ['-V']);
      return version
        ? { ok: true, detail: version }
        : {
            ok: false,
            detail: `${problem} (used by the tests and benchmark)`,
            fix: problem === 'not found' ? 'apt-get install iputils-ping' : undefined,
          };
    },
  },
];

/** Run every check in order; a check whose prerequisites failed is reported, not run. */
export async function runChecks(
  filter: (check: Check) => boolean = everything,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of CHECKS.filter(filter)) {
    const failedNeed = check.needs?.find((need) => results.some((r) => r.name === need && !r.ok));
    if (failedNeed !== undefined) {
      results.push({
        name: check.name,
        level: check.level,
        ok: false,
        detail: `not checked: ${failedNeed} failed`,
      });
      continue;
    }
    try {
      results.push({ name: check.name, level: check.level, ...(await check.run()) });
    } catch (error) {
      results.push({
        name: check.name,
        level: check.level,
        ok: false,
        detail: (error as Error).message,
      });
    }
  }
  if (filter === everything) results.push(...rootlessResults());
  return results;
}

const everything = () => true;

/** Rootless mode's conditions, each an optional check (as root: one line saying so). */
function rootlessResults(): CheckResult[] {
  if (inRootless()) {
    return [
      {
        name: 'rootless',
        level: 'optional',
        ok: true,
        detail: 'active: a user namespace made by qoslab (private /run and /etc/netns)',
      },
    ];
  }
  if (process.getuid?.() === 0) {
    return [{ name: 'rootless', level: 'optional', ok: true, detail: 'not needed as root' }];
  }
  return rootlessConditions().map((c) => ({
    name: `rootless: ${c.name}`,
    level: 'optional' as const,
    ok: c.ok,
    detail: c.detail,
    fix: c.fix,
  }));
}

/**
 * For an ordinary user, the rootless conditions that are not met, as advice lines: the
 * privilege fix says "meet the rootless checks", which only doctor lists otherwise.
 */
function unmetRootless(): string[] {
  if (process.getuid?.() === 0 || inRootless()) return [];
  return rootlessResults()
    .filter((r) => !r.ok)
    .map((r) => `${r.name}: ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`);
}

/** The required checks that failed, with their fixes, as advice lines. */
export function adviceFor(results: CheckResult[]): string[] {
  return results
    .filter((r) => r.level === 'required' && !r.ok)
    .map((r) => `${r.name}: ${r.detail}${r.fix ? ` — fix: ${r.fix}` : ''}`);
}

/**
 * Fail fast, before creating anything, when this machine cannot host a lab. Only the
 * cheap checks run here; the probes that create devices are left to `doctor`.
 */
export async function assertLabPossible(): Promise<void> {
  const cheap = new Set(['linux', 'native core', 'privileges', '/dev/net/tun', 'iproute2']);
  const results = await runChecks((check) => cheap.has(check.name));
  const advice = adviceFor(results);
  if (advice.length > 0) {
    throw new EnvironmentError('this machine cannot host a qoslab lab', [
      ...advice,
      ...unmetRootless(),
      'run `qoslab doctor` for the full picture',
    ]);
  }
}
