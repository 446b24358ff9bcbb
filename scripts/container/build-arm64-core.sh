#!/bin/sh
# Cross-builds the native core for Linux arm64 in a container (scripts/container/
# Dockerfile.arm64) and copies it to native/qoscore.linux-arm64-gnu.node; `npm run package`
# then packs qoslab-linux-arm64-gnu too. Prints how long it took (here: about 4 minutes).
# It cannot be run here (no arm64 machine or emulator): it is checked as an aarch64 shared
# object that exports napi_register_module_v1.
# Usage (root, dockerd running; the base image as for build-images.sh):
#   sh scripts/container/build-arm64-core.sh
set -eu
cd "$(dirname "$0")/../.."
BASE=${BASE:-node:20-bookworm-slim}
tag=qoslab-core-arm64:build
start=$(date +%s)
log=$(mktemp)
docker build --network host --build-arg "BASE=$BASE" -f scripts/container/Dockerfile.arm64 -t "$tag" . >"$log" 2>&1 || {
  tail -40 "$log"
  rm -f "$log"
  exit 1
}
rm -f "$log"
id=$(docker create "$tag")
docker cp "$id:/src/native/qoscore.linux-arm64-gnu.node" native/qoscore.linux-arm64-gnu.node
docker rm "$id" >/dev/null
printf 'arm64 core: native/qoscore.linux-arm64-gnu.node took %s s\n' "$(($(date +%s) - start))"
