#!/usr/bin/env bash
# One action in the three forms a runner can execute, side by side in one hyperfine run, from the
# start of the step to its outputs written:
#   composite  ticgen's two steps as the runner runs them (`bash -e` per step): install-binary.sh
#              with a warm tool cache, then the cached release binary
#   docker     ticgen's Docker form: the release image (present locally) run with the workspace
#              and the file-commands directory mounted, inputs as INPUT_* (podman + runc here;
#              GitHub's runners use docker)
#   node20     docker/metadata-action v5 (its own dist bundle, `using: node20`) on node, the peer
#              that derives image tags and labels; it reads the repository from the API (github-sim)
# The composite's install step is also timed alone (target: <= 20 ms from step start to the path).
# The runner's own per-step work (parsing the action, spawning the step) is left out of all three.
#
# Usage: benches/action-forms.sh DIST_DIR METADATA_ACTION_DIR GITHUB_SIM
#   DIST_DIR             release assets of both Linux targets (release/build.sh); the image is built
#                        from them with release/image.sh
#   METADATA_ACTION_DIR  a checkout of docker/metadata-action at a v5 tag (dist/index.js)
#   GITHUB_SIM           the github-sim binary (cargo build -p github-sim)
# Needs: hyperfine, node 20, podman, runc, buildah. RUNS (default 50) sets the run count.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$(cd "${1:?usage: benches/action-forms.sh DIST_DIR METADATA_ACTION_DIR GITHUB_SIM}" && pwd)"
metadata_action="$(cd "${2:?metadata-action checkout}" && pwd)"
github_sim="${3:?github-sim binary}"
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

. "$root/tests/image/containers.sh"
private_containers "$work"
image=ghcr.io/acme/gantry:1.2.3
SOURCE_DATE_EPOCH=1767225600 "$root/release/image.sh" "$dist" "$image" \
  "org.opencontainers.image.version=1.2.3" >/dev/null

# The repository at a release tag and its push event.
repo="$work/repo"
mkdir -p "$repo"
printf '[project]\nname = "acme-service"\nversion = "1.2.3"\n' >"$repo/pyproject.toml"
git -C "$repo" init -q
git -C "$repo" -c user.name=bench -c user.email=bench@example.com add pyproject.toml
GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" git -C "$repo" -c user.name=bench -c user.email=bench@example.com \
  commit -q -m initial --date "2026-01-01T00:00:00Z"
git -C "$repo" tag v1.2.3
sha="$(git -C "$repo" rev-parse HEAD)"
mkdir -p "$work/file_commands"
printf '{"head_commit":{"id":"%s","timestamp":"2026-01-01T00:00:00Z"}}' "$sha" >"$work/file_commands/event.json"
: >"$work/file_commands/output"
: >"$work/file_commands/summary"
chmod -R a+rwX "$repo" "$work/file_commands"

# The release checkout and a warm tool cache holding the verified binary.
checkout="$work/checkout"
mkdir -p "$checkout/actions/ticgen"
cp "$root/actions/install-binary.sh" "$checkout/actions/"
echo v1.2.3 >"$checkout/actions/RELEASE"
(cd "$dist" && sha256sum -- ticgen-x86_64-unknown-linux-musl) >"$checkout/actions/SHA256SUMS"
mkdir -p "$work/toolcache/gantry/v1.2.3/x86_64-unknown-linux-musl"
install -m 0755 "$dist/ticgen-x86_64-unknown-linux-musl" "$work/toolcache/gantry/v1.2.3/x86_64-unknown-linux-musl/ticgen"
# The generated steps' own text, expanded by the step's shell, not here.
# shellcheck disable=SC2016
printf 'bash "$GITHUB_ACTION_PATH/../install-binary.sh"\n' >"$work/step-install.sh"
# shellcheck disable=SC2016
printf 'exec "$GANTRY_EXE"\n' >"$work/step-run.sh"
cat >"$work/composite.sh" <<'SH'
: >"$work/install-output"
GITHUB_OUTPUT="$work/install-output" bash --noprofile --norc -e -o pipefail "$work/step-install.sh" >/dev/null
GANTRY_EXE="$(sed -n 's/^path=//p' "$work/install-output")" \
  exec bash --noprofile --norc -e -o pipefail "$work/step-run.sh"
SH

# github-sim holds the repository metadata-action reads.
cat >"$work/world.yaml" <<'YAML'
clock: { start: "2026-01-01T00:00:00Z", scale: 0 }
identities:
  - { login: github-actions, kind: github_token, tokens: [ghs_workflow] }
repos:
  - { name: acme/service, default_branch: main }
YAML
. "$root/tests/github-sim.sh"
start_github_sim "$work/world.yaml" "$work" "$github_sim" || { echo "github-sim did not start"; exit 1; }
api="$sim"

mkdir -p "$work/tmp"
export work TMPDIR="$work/tmp" GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/file_commands/output" \
  GITHUB_STEP_SUMMARY="$work/file_commands/summary" GITHUB_API_URL="$api" \
  GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/service GITHUB_EVENT_NAME=push \
  GITHUB_EVENT_PATH="$work/file_commands/event.json" GITHUB_REF=refs/tags/v1.2.3 GITHUB_REF_NAME=v1.2.3 \
  GITHUB_REF_TYPE=tag GITHUB_SHA="$sha" GITHUB_WORKSPACE="$repo" GITHUB_ACTION_PATH="$checkout/actions/ticgen" \
  RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TOOL_CACHE="$work/toolcache" GANTRY_BINARY=ticgen \
  GANTRY_ACTION_REPOSITORY=acme/gantry INPUT_IMAGE=ghcr.io/acme/service INPUT_IMAGES=ghcr.io/acme/service \
  INPUT_CONTEXT=workflow
docker_run=(podman run --rm --network none -v "$repo:/github/workspace" -v "$work/file_commands:/github/file_commands"
  -w /github/workspace --entrypoint /usr/local/bin/ticgen -e GITHUB_ACTIONS -e GITHUB_REPOSITORY -e GITHUB_EVENT_NAME
  -e GITHUB_REF -e GITHUB_REF_NAME -e GITHUB_REF_TYPE -e GITHUB_SHA -e GITHUB_SERVER_URL -e INPUT_IMAGE
  -e GITHUB_WORKSPACE=/github/workspace -e GITHUB_OUTPUT=/github/file_commands/output
  -e GITHUB_STEP_SUMMARY=/github/file_commands/summary -e GITHUB_EVENT_PATH=/github/file_commands/event.json
  "$image")
# A hyphenated input name cannot be exported by bash: env sets it (one exec, well under 1 ms).
node_run="env INPUT_GITHUB-TOKEN=ghs_workflow node $metadata_action/dist/index.js"

# Each form once, checked, before timing.
cd "$repo"
for form in composite docker node20; do
  : >"$GITHUB_OUTPUT"
  case "$form" in
    composite) bash "$work/composite.sh" ;;
    docker) "${docker_run[@]}" ;;
    node20) $node_run ;;
  esac >"$work/form.log" 2>&1 || { echo "$form failed: $(cat "$work/form.log")"; exit 1; }
  grep -q 'ghcr.io/acme/service:1.2.3\|ghcr.io/acme/service:v1.2.3' "$GITHUB_OUTPUT" ||
    { echo "$form wrote no release tag: $(cat "$GITHUB_OUTPUT")"; exit 1; }
done

echo "load before timing: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 5 --runs "${RUNS:-50}" --export-json "$work/times.json" \
  -n "install step alone (warm tool cache)" "bash --noprofile --norc -e -o pipefail $work/step-install.sh" \
  -n "composite (warm tool cache)" "bash $work/composite.sh" \
  -n "docker (image present)" "${docker_run[*]}" \
  -n "node20 (docker/metadata-action v5)" "$node_run"
python3 "$root/benches/median.py" "$work/times.json"
echo "load after timing: $(cut -d' ' -f1-3 /proc/loadavg)"
