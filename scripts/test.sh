#!/bin/sh
# The whole suite in parts — Rust, lint, vitest — each timed, so a slow part shows
# itself in CI logs. Stops at the first failing part with its exit code.
set -u
cd "$(dirname "$0")/.."

timings=""
part() {
  name=$1
  shift
  start=$(date +%s)
  "$@"
  code=$?
  took=$(($(date +%s) - start))
  timings="$timings  $name: ${took} s\n"
  printf 'test: %s took %s s (exit %s)\n' "$name" "$took" "$code"
  if [ "$code" -ne 0 ]; then
    printf 'test: timings so far\n%b' "$timings"
    exit "$code"
  fi
}

part rust npm run --silent test:rust
part lint npm run --silent lint
part vitest npx vitest run "$@"
printf 'test: timings\n%b' "$timings"
