#!/usr/bin/env bash
# create-prerelease against a local github-sim: wall time of a first run (creates the release) and
# of a re-run (finds it identical), and the API requests each makes.
# Needs: cargo build --release -p create-prerelease -p github-sim; hyperfine; curl.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
tags=40
{
  echo "identities:"
  echo "  - {login: release-bot, kind: bot, tokens: [ghp_benchtoken]}"
  echo "repos:"
  echo "  - name: acme/service"
  echo "    branches: {main: {files: {README.md: hello}}}"
  echo "    tags:"
  for i in $(seq 1 "$tags"); do echo "      v1.0.$i: main"; done
} >"$work/world.yaml"
"$root/target/release/github-sim" --port 0 --world "$work/world.yaml" >"$work/sim.log" &
sim=$!
trap 'kill $sim; rm -rf "$work"' EXIT
until [[ -s "$work/sim.log" ]]; do sleep 0.05; done
url="$(head -1 "$work/sim.log")"

export GITHUB_API_URL="$url" GITHUB_REPOSITORY=acme/service GITHUB_REF_TYPE=tag INPUT_TOKEN=ghp_benchtoken
count_requests() { curl -s "$url/_sim/requests" | python3 -c 'import json,sys; print(len([r for r in json.load(sys.stdin) if r["path"].startswith("/repos/")]))'; }

# First runs: each creates the release for a new tag.
hyperfine -N --runs 1 --export-json "$work/first.json" --parameter-scan i 1 "$tags" \
  "env GITHUB_REF_NAME=v1.0.{i} $root/target/release/create-prerelease" >/dev/null
first_requests="$(count_requests)"
# Re-runs of the last tag: find the release identical, change nothing.
hyperfine -N --warmup 3 --runs 100 --export-json "$work/rerun.json" -n "create-prerelease (re-run)" \
  "env GITHUB_REF_NAME=v1.0.$tags $root/target/release/create-prerelease" >/dev/null
all_requests="$(count_requests)"
python3 "$root/benches/median.py" "$work/first.json" --pool "create-prerelease (first run)"
python3 "$root/benches/median.py" "$work/rerun.json"
echo "API requests: $((first_requests / tags)) per first run, $(((all_requests - first_requests) / 103)) per re-run"
