# qoslab in a container, two images from one file (README "CI and containers"):
#
#   docker build -t qoslab .                      # full: every library scenario runs
#   docker build --target slim -t qoslab:slim .   # slim: no browsers or QUIC/TURN servers
#
# The core and the TypeScript are built with Debian's Rust toolchain; both images run on
# the slim Node base. slim has iproute2 (required), util-linux (setpriv, unshare), ping and
# iperf3, and tini as PID 1 (it passes docker stop's SIGTERM to qoslab and reaps orphans).
# full adds what http3 and webrtc workloads start: Chromium, Caddy, coturn and ngtcp2.
#
# No registry? scripts/container/build-images.sh builds ${BASE} locally first.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
# rustc-web/cargo-web: bookworm's current Rust (its plain rustc is 1.63, too old). The
# librust-*-dev packages are the core's crates for a build without crates.io
# (scripts/cargo-source.sh picks them when crates.io is unreachable).
RUN apt-get update \
 && apt-get install -y --no-install-recommends rustc-web cargo-web gcc libc6-dev ca-certificates \
    librust-ring-dev librust-hkdf-dev librust-sha2-dev librust-libc-dev librust-proptest+std-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Layers from the least to the most often changed: dependencies, the Rust core, TypeScript.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY native ./native
COPY scripts/cargo-source.sh ./scripts/
RUN npm run build:native
COPY tsconfig.json ./
COPY src ./src
RUN npm run build:ts \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin ./bin
COPY libexec ./libexec
COPY scenarios ./scenarios
COPY schema ./schema
RUN mkdir -p /app/native \
 && cp -r package.json bin libexec dist scenarios schema node_modules /app/ \
 && cp native/qoscore.*.node /app/native/

# The system layers first, the app last: a change of qoslab rebuilds only its own layers,
# and full's browsers sit on slim's system layer. Stages in build order: `--target slim`
# (the legacy builder builds every stage before its target) skips the browsers.
FROM ${BASE} AS slim-system
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 util-linux iputils-ping iperf3 tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/netns /run/netns /run/qoslab /results
# Results: bind-mount a host folder here (-v "$PWD/results:/results"); runs without --out
# go to /results/<UTC time>-<name>.
ENV QOSLAB_RESULTS=/results
WORKDIR /results
# tini is PID 1: a signal to the container reaches qoslab (which ends its lab and writes
# what it measured), and processes orphaned in the container are reaped.
ENTRYPOINT ["tini", "--", "qoslab"]
CMD ["doctor"]

FROM slim-system AS slim
COPY --from=build /app /opt/qoslab
RUN ln -s /opt/qoslab/bin/qoslab.js /usr/local/bin/qoslab

FROM slim-system AS full-system
# Only what the workloads start: no fonts, no recommends (Chromium runs headless).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium caddy coturn ngtcp2-client ngtcp2-server \
 && rm -rf /var/lib/apt/lists/*

FROM full-system AS full
COPY --from=build /app /opt/qoslab
RUN ln -s /opt/qoslab/bin/qoslab.js /usr/local/bin/qoslab
