#!/bin/sh
# Builds qoslab's two images from the Dockerfile, printing how long each step took:
#   the base image, only when it is missing (locally, with make-base-image.sh: for machines
#   that reach no image registry); then the slim image and the full one on top of it (the
#   full stage starts from the slim one, so the second build reuses every slim layer).
# Usage (root, dockerd running): sh scripts/container/build-images.sh [NAME]
#   tags NAME:slim and NAME:full (default NAME: qoslab); BASE overrides the base image.
set -eu
cd "$(dirname "$0")/../.."
NAME=${1:-qoslab}
BASE=${BASE:-node:20-bookworm-slim}

step() {
  label=$1
  shift
  start=$(date +%s)
  "$@"
  printf 'images: %s took %s s\n' "$label" "$(($(date +%s) - start))"
}

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  step "base $BASE (debootstrap)" sh scripts/container/make-base-image.sh "$BASE"
fi
# --network host: the build's apt-get and npm reach their registries as this machine does.
# The build log is kept and shown only when a build fails.
build() {
  log=$(mktemp)
  docker build --network host --build-arg "BASE=$BASE" "$@" . >"$log" 2>&1 || {
    tail -40 "$log"
    rm -f "$log"
    return 1
  }
  rm -f "$log"
}
step "$NAME:slim" build --target slim -t "$NAME:slim"
step "$NAME:full" build -t "$NAME:full"
