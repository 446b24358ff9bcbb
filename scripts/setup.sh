#!/bin/sh
# Everything qoslab needs on a fresh Debian/Ubuntu machine: system tools through apt-get
# (when run as root), the Rust core's crates (from crates.io, or from Debian's packages
# when crates.io is unreachable: scripts/cargo-source.sh), then `npm ci`, which builds
# the Rust core and the TypeScript.
set -eu
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }

# command:package pairs. iperf3 and ping serve the examples, tests and benchmark;
# setpriv (util-linux) lets the tests run the CLI unprivileged; openssl makes their certificates;
# chromium renders report.html in the report tests and is the QUIC client of http3 workloads
# (headless, driven by playwright-core); caddy (quic-go) is their HTTP/3 server;
# gtlsclient and gtlsserver (ngtcp2) are the real QUIC client and server of the QUIC tests,
# and gtlsclient the client of http3 workloads with `client: ngtcp2`; turnserver (coturn) is
# the TURN/STUN server of webrtc calls with `turn`; dig (bind9-dnsutils) asks the lab's
# resolver in `qoslab shell` and the DNS tests. GNU time measures the peak memory of
# each case of the hostile corpus (test/hostile); `time` is a shell keyword, hence the path.
# Real software nobody here wrote runs as `command` workloads in the bring-your-own-app
# tests and library scenarios: mosquitto and its clients, prosody (with lua-unbound, its
# DNS library) and a slixmpp client (python3-slixmpp; also the real XMPP pair the xmpp app
# profile is cross-checked against), curl against Caddy; tshark and tcpdump read captures.
missing=""
[ -x /usr/bin/time ] || missing="$missing time"
for pair in ip:iproute2 iperf3:iperf3 ping:iputils-ping setpriv:util-linux pgrep:procps openssl:openssl chromium:chromium caddy:caddy gtlsclient:ngtcp2-client gtlsserver:ngtcp2-server turnserver:coturn dig:bind9-dnsutils curl:curl tshark:tshark tcpdump:tcpdump mosquitto:mosquitto mosquitto_pub:mosquitto-clients prosody:prosody; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
# Packages without a command of their own.
dpkg -s lua-unbound >/dev/null 2>&1 || missing="$missing lua-unbound"
/usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || missing="$missing python3-slixmpp"
# The container test builds and runs the images (test/container): a container engine, and
# debootstrap for a locally built base image where no image registry is reachable. Root
# (and CI) gets them; elsewhere the test is skipped, so they are only suggested.
for pair in dockerd:docker.io debootstrap:debootstrap; do
  if ! command -v "${pair%%:*}" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      missing="$missing ${pair#*:}"
    else
      say "optional, for the container test (as root): ${pair#*:}"
    fi
  fi
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    say "please install:$missing (for example: sudo apt-get install$missing)"
    exit 1
  fi
fi

# rustup installs into ~/.cargo/bin, which a non-login shell may not have on PATH.
[ -x "$HOME/.cargo/bin/cargo" ] && PATH="$HOME/.cargo/bin:$PATH" && export PATH
if ! command -v cargo >/dev/null 2>&1; then
  say "qoslab's core is Rust: install a toolchain (https://rustup.rs), then run this again"
  exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  say "Node.js >= 20.19 is needed (found $(node --version))"
  exit 1
}

# crates.io, or Debian's librust-*-dev packages when it is unreachable (installed as root).
sh scripts/cargo-source.sh --install

say "npm ci (builds the native core and the TypeScript)"
npm ci --no-audit --no-fund
say "done: try \`npx qoslab doctor\`"
