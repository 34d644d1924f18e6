#!/usr/bin/env bash
# The install step of a composite action from a release, cold (empty tool cache: download from the
# release, verify against actions/SHA256SUMS, cache) and warm (cache hit: the cached binary copied
# into the job's RUNNER_TEMP and the copy re-hashed), side by side in one hyperfine run. The
# release lives in github-sim, published by release/publish.sh as the release workflow does.
#
# Usage: benches/install-cold.sh TICGEN_ASSET GITHUB_SIM
#   TICGEN_ASSET  a release build of ticgen-x86_64-unknown-linux-musl (release/build.sh)
#   GITHUB_SIM    the github-sim binary (cargo build -p github-sim)
# Needs: hyperfine, curl, jq. RUNS (default 50) sets the run count. With BASELINE_INSTALLER set to
# another install-binary.sh (e.g. `git show REV:actions/install-binary.sh >/tmp/old.sh`), its cache
# hit is timed in the same run too.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
asset="${1:?usage: benches/install-cold.sh TICGEN_ASSET GITHUB_SIM}"
github_sim="${2:?github-sim binary}"
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/world.yaml" <<'YAML'
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
identities:
  - { login: release-bot, kind: user, tokens: [ghp_release] }
repos:
  - name: acme/gantry
    default_branch: main
    branches: { main: { files: { README.md: "# gantry\n" } } }
    tags: { v1.2.3: main }
YAML
. "$root/tests/github-sim.sh"
start_github_sim "$work/world.yaml" "$work" "$github_sim" || { echo "github-sim did not start"; exit 1; }
server="$sim"

mkdir -p "$work/dist" "$work/checkout/actions/ticgen"
install -m 0755 "$asset" "$work/dist/ticgen-x86_64-unknown-linux-musl"
"$root/release/checksums.sh" "$work/dist" >/dev/null
GITHUB_API_URL="$server" GITHUB_REPOSITORY=acme/gantry GITHUB_TOKEN=ghp_release \
  "$root/release/publish.sh" v1.2.3 "$work/dist" >/dev/null
cp "$root/actions/install-binary.sh" "$work/checkout/actions/"
cp "$work/dist/SHA256SUMS" "$work/checkout/actions/SHA256SUMS"
echo v1.2.3 >"$work/checkout/actions/RELEASE"
# The generated step's own text, expanded by the step's shell, not here.
# shellcheck disable=SC2016
printf 'bash "$GITHUB_ACTION_PATH/../install-binary.sh"\n' >"$work/step-install.sh"

# RUNNER_TEMP, which the runner empties for every job, receives the private copy each step runs;
# every timed run starts with it empty, as a job's first step does.
mkdir -p "$work/temp"
export GITHUB_OUTPUT="$work/output" GITHUB_SERVER_URL="$server" GITHUB_ACTION_PATH="$work/checkout/actions/ticgen" \
  RUNNER_OS=Linux RUNNER_ARCH=X64 GANTRY_BINARY=ticgen GANTRY_ACTION_REPOSITORY=acme/gantry \
  RUNNER_TEMP="$work/temp"
fresh_temp="sh -c 'rm -rf $work/temp && mkdir $work/temp'"
step="bash --noprofile --norc -e -o pipefail $work/step-install.sh"
# Checked once each way before timing: the cold run downloads, the warm one does not.
RUNNER_TOOL_CACHE="$work/cold" $step >"$work/cold.log" 2>&1 || { echo "the cold install failed: $(cat "$work/cold.log")"; exit 1; }
grep -q "^Downloading " "$work/cold.log" || { echo "the cold install did not download"; exit 1; }
RUNNER_TOOL_CACHE="$work/cold" $step >"$work/warm.log" 2>&1 || { echo "the warm install failed: $(cat "$work/warm.log")"; exit 1; }
grep -q "^Downloading " "$work/warm.log" && { echo "the warm install downloaded"; exit 1; }
cmp "$work/cold/gantry/v1.2.3/x86_64-unknown-linux-musl/ticgen" "$asset"

echo "load before timing: $(cut -d' ' -f1-3 /proc/loadavg)"
baseline=()
if [[ -n "${BASELINE_INSTALLER:-}" ]]; then
  mkdir -p "$work/baseline/actions/ticgen"
  cp "$BASELINE_INSTALLER" "$work/baseline/actions/install-binary.sh"
  cp "$work/checkout/actions/SHA256SUMS" "$work/checkout/actions/RELEASE" "$work/baseline/actions/"
  baseline=(--prepare "$fresh_temp" -n "warm install (cache hit), baseline installer"
    "env RUNNER_TOOL_CACHE=$work/warm GITHUB_ACTION_PATH=$work/baseline/actions/ticgen $step")
fi
hyperfine -N --warmup 3 --runs "${RUNS:-50}" --export-json "$work/times.json" \
  --prepare "sh -c 'rm -rf $work/cold $work/temp && mkdir $work/temp'" --prepare "$fresh_temp" \
  -n "cold install (download from github-sim, verify, cache)" "env RUNNER_TOOL_CACHE=$work/cold $step" \
  -n "warm install (cache hit)" "env RUNNER_TOOL_CACHE=$work/warm $step" "${baseline[@]}"
python3 "$root/benches/median.py" "$work/times.json"
echo "load after timing: $(cut -d' ' -f1-3 /proc/loadavg)"
