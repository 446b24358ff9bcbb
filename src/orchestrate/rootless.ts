/**
 * Rootless mode: an ordinary user gets a lab by running qoslab inside a user namespace
 * it makes itself. `unshare(1)` starts a copy of this CLI as root of a new user, network
 * and mount namespace (a multi-threaded Node process cannot unshare its own user
 * namespace); there a shell prelude mounts private tmpfs over /run (for /run/netns and
 * the run markers) and /etc/netns (the per-namespace hosts files), so nothing the lab
 * creates is visible outside or survives the process tree: a killed rootless run
 * leaves nothing behind. Files it writes belong to the user (root inside maps to them).
 *
 * Needs: unprivileged user namespaces allowed by the kernel (and AppArmor on Ubuntu
 * 23.10+), /dev/net/tun readable and writable by the user, an existing /etc/netns to
 * mount over, and unshare from util-linux.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';

/** Set in the inner process so it does not try again. */
export const ROOTLESS_ENV = 'QOSLAB_ROOTLESS';

/** Commands that need a lab (or, for doctor, report on one). */
const LAB_COMMANDS = new Set(['run', 'shell', 'sweep', 'doctor']);

export interface Condition {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Each condition rootless mode needs, with its fix. */
export function rootlessConditions(): Condition[] {
  const max = Number(readSysctl('/proc/sys/user/max_user_namespaces') ?? '0');
  const debianClone = readSysctl('/proc/sys/kernel/unprivileged_userns_clone');
  const apparmor = readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  const conditions: Condition[] = [
    max > 0
      ? { name: 'user namespaces', ok: true, detail: `enabled (max ${max})` }
      : {
          name: 'user namespaces',
          ok: false,
          detail: 'user.max_user_namespaces is 0 or missing',
          fix: 'sudo sysctl -w user.max_user_namespaces=15000 (and CONFIG_USER_NS in the kernel)',
        },
  ];
  if (debianClone !== undefined) {
    conditions.push(
      debianClone === '1'
        ? {
            name: 'unprivileged userns clone',
            ok: true,
            detail: 'kernel.unprivileged_userns_clone=1',
          }
        : {
            name: 'unprivileged userns clone',
            ok: false,
            detail: `kernel.unprivileged_userns_clone=${debianClone}`,
            fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1',
          },
    );
  }
  if (apparmor !== undefined) {
    conditions.push(
      apparmor === '0'
        ? { name: 'AppArmor userns restriction', ok: true, detail: 'off' }
        : {
            name: 'AppArmor userns restriction',
            ok: false,
            detail: 'kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu 23.10+ default)',
            fix: 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile allowing userns for node',
          },
    );
  }
  conditions.push(tunCondition(), etcNetnsCondition(), unshareCondition());
  return conditions;
}

function tunCondition(): Condition {
  const name = '/dev/net/tun for this user';
  try {
    const mode = (statSync('/dev/net/tun').mode & 0o777).toString(8);
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    return { name, ok: true, detail: `mode ${mode}` };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      name,
      ok: false,
      detail: code === 'ENOENT' ? 'no /dev/net/tun' : `not readable and writable (${code})`,
      fix:
        code === 'ENOENT'
          ? 'sudo modprobe tun'
          : 'sudo chmod 0666 /dev/net/tun (the mode most distributions ship; TUN devices still need CAP_NET_ADMIN in a namespace)',
    };
  }
}

function etcNetnsCondition(): Condition {
  const name = '/etc/netns';
  return existsSync('/etc/netns')
    ? { name, ok: true, detail: 'exists (a private tmpfs is mounted over it)' }
    : {
        name,
        ok: false,
        detail: 'missing: rootless mode mounts a private tmpfs over it and cannot create it',
        fix: 'sudo mkdir -p /etc/netns (once; it stays empty)',
      };
}

function unshareCondition(): Condition {
  const name = 'unshare';
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir && existsSync(`${dir}/unshare`)) return { name, ok: true, detail: `${dir}/unshare` };
  }
  return {
    name,
    ok: false,
    detail: 'not found',
    fix: 'install util-linux (apt-get install util-linux)',
  };
}

function effectiveCaps(): bigint {
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(readSysctl('/proc/self/status') ?? '')?.[1] ?? '0';
  return BigInt(`0x${hex}`);
}

/** True inside the namespace rootless mode made. */
export function inRootless(): boolean {
  return process.env[ROOTLESS_ENV] === 'inner';
}

/** The command word of argv (first non-option argument). */
function commandOf(argv: string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-'));
}

/**
 * Rootless mode applies to an ordinary user (no CAP_NET_ADMIN and CAP_SYS_ADMIN) running
 * a lab command, unless QOSLAB_ROOTLESS=off or every condition is not met (then the
 * command fails its privilege check as before, and doctor names what is missing).
 */
export function wantsRootless(argv: string[]): boolean {
  if (process.platform !== 'linux' || process.env[ROOTLESS_ENV] !== undefined) return false;
  if (process.getuid?.() === 0) return false;
  const caps = effectiveCaps();
  if (((caps >> 12n) & 1n) === 1n && ((caps >> 21n) & 1n) === 1n) return false;
  const command = commandOf(argv);
  if (command === undefined || !LAB_COMMANDS.has(command)) return false;
  if (argv.includes('--help') || argv.includes('-h')) return false;
  return rootlessConditions().every((c) => c.ok);
}

/**
 * The prelude run as root of the new namespaces: private /run (netns, markers) and
 * /etc/netns, loopback up, then qoslab itself.
 */
const PRELUDE = [
  'set -e',
  'mount -t tmpfs -o mode=0755 qoslab-run /run',
  'mkdir -p /run/netns /run/qoslab',
  'mount -t tmpfs -o mode=0755 qoslab-netns /etc/netns',
  'ip link set lo up',
  'exec "$@"',
].join('\n');

/** Run this CLI again inside a user namespace; resolves to its exit code. */
export function enterRootless(argv: string[]): Promise<number> {
  const script = process.argv[1] ?? '';
  const child = spawn(
    'unshare',
    [
      '--user',
      '--map-root-user',
      '--net',
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      PRELUDE,
      'qoslab-rootless',
      process.execPath,
      ...process.execArgv,
      script,
      ...argv,
    ],
    { stdio: 'inherit', env: { ...process.env, [ROOTLESS_ENV]: 'inner' } },
  );
  // Ctrl-C reaches the whole process group; a SIGTERM or SIGHUP sent to us alone is passed on.
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => forward(sig));
  return new Promise((resolve) => {
    child.on('error', () => resolve(3));
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 128)));
  });
}
