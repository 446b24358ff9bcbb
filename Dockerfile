# qoslab in a container: build the native core and the TypeScript with Debian's Rust
# toolchain, then run on the slim Node image with iproute2 (required) and ping, iperf3
# (optional). Least privilege, results and a read-only root: see README "CI and containers".
#
# No registry? scripts/container/make-base-image.sh builds ${BASE} locally.
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
COPY scenarios ./scenarios
COPY schema ./schema
RUN mkdir -p /app/native \
 && cp -r package.json bin dist scenarios schema node_modules /app/ \
 && cp native/qoscore.linux-x64-gnu.node /app/native/

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 util-linux iputils-ping iperf3 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /etc/netns /run/netns /run/qoslab /results
COPY --from=build /app /opt/qoslab
RUN ln -s /opt/qoslab/bin/qoslab.js /usr/local/bin/qoslab
# Results: bind-mount a host folder here (-v "$PWD/results:/results").
WORKDIR /results
ENTRYPOINT ["qoslab"]
CMD ["doctor"]
