#!/usr/bin/env bash
# Benchmark for BENCH.md: RSS of a 100 repos x 1,000 commits world, then GET throughput and latency
# with 32 concurrent clients (wrk saturating; loadgen at a fixed 5,000 req/s, open loop).
# Usage: crates/github-sim/bench.sh   (from the workspace root; needs wrk: apt-get install wrk)
set -euo pipefail
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target-ghsim}"
cargo build --release -q -p github-sim --bin github-sim --example loadgen
bin="$CARGO_TARGET_DIR/release/github-sim"
loadgen="$CARGO_TARGET_DIR/release/examples/loadgen"
out=$(mktemp)
"$bin" --world crates/github-sim/examples/bench-world.yaml --synthetic-repos 100 --synthetic-commits 1000 >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
until [ -s "$out" ]; do sleep 0.2; done
url=$(head -1 "$out")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "world built (100 repos x 1,000 commits): $(grep VmRSS /proc/$pid/status)"
for path in /repos/synthetic/repo-7 /repos/synthetic/repo-7/git/ref/heads/main; do
  echo "== wrk -t2 -c32 -d10s --latency $path"
  wrk -t2 -c32 -d10s --latency -H 'Authorization: token bench-token' "$url$path" | grep -E 'Requests/sec|  50%|  99%'
  echo "== loadgen --clients 32 --rate 5000 --seconds 10 $path"
  "$loadgen" "$url$path" --clients 32 --rate 5000 --seconds 10
done
echo "after load: $(grep -E 'VmRSS|VmHWM' /proc/$pid/status | tr '\n' ' ')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
