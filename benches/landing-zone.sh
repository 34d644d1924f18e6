#!/usr/bin/env bash
# Many services releasing at once into one landing zone (crates/auto-deploy/tests/it/scaling.rs):
# 1, 5 and 20 services, each landing zone without and with "require branches to be up to date"
# and with a merge queue,
# github-sim at real time enforcing GitHub's secondary limits per identity. Prints the table of
# BENCHMARKS.md. Usage: benches/landing-zone.sh [filter] (default: every size; `01_service`,
# `05_services`, `20_services` pick one).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "| landing zone | deployed | wall | per deploy p50 | p95 | rate-limited requests per deploy | writes per deploy | peak writes/min, one identity | 403/429 answered | deploys that updated their branch |"
echo "|---|---|---|---|---|---|---|---|---|---|"
cargo test -q -p auto-deploy --test it "bench_landing_zone_${1:-}" -- --ignored --nocapture --test-threads 1 2>&1 \
  | grep '^| ' || { echo "the benchmark failed; run it again without the filter on its output" >&2; exit 1; }
