#!/usr/bin/env bash
# required-ci-check, process start to outputs and summary written, on a 15-job `needs` that all succeeded, inside a
# simulated Actions step. Needs: cargo build --release -p required-ci-check; hyperfine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
jobs='{'
for i in $(seq 1 15); do
  result=success
  jobs+="\"job-$i\":{\"result\":\"$result\",\"outputs\":{}},"
done
jobs="${jobs%,}}"
export GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
  INPUT_JOBS="$jobs"
hyperfine -N --warmup 10 --runs "${RUNS:-200}" --export-json "$work/times.json" \
  -n required-ci-check "$root/target/release/required-ci-check"
python3 "$root/benches/median.py" "$work/times.json"
