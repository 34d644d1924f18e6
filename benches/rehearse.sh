#!/usr/bin/env bash
# Wall time of `gantry rehearse` on its embedded default world (two releases: one deployed,
# verified and promoted; one rolled back; then a canary caught by its analysis, and the DORA
# keys), process start to exit, with hyperfine.
# Needs: hyperfine. Usage: benches/rehearse.sh [debug|release] (default debug, what `cargo run -p
# gantry-rehearse` builds).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-debug}
case "$profile" in
  release) cargo_profile=release ;;
  debug) cargo_profile=dev ;;
  *) echo "usage: $0 [release|debug]" >&2; exit 2 ;;
esac
cargo build --profile "$cargo_profile" -p gantry-rehearse -p ticgen -p required-ci-check \
  -p create-prerelease -p auto-deploy -p k8s-deploy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Every run must pass (exit 0: every expectation held), or hyperfine stops.
hyperfine --runs "${RUNS:-5}" --warmup 1 \
  --command-name "gantry rehearse ($profile)" \
  "target/$profile/gantry rehearse --report $work/report.html"
