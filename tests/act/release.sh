#!/usr/bin/env bash
# The installer end to end under act, as a user meets it: a workflow with
# `uses: acme/gantry/actions/ticgen@v1.2.3` and `uses: acme/gantry/actions/create-prerelease@v1.2.3`,
# mapped by `act --local-repository` to a checkout of a release commit (made by release/commit.sh,
# no target/), GITHUB_SERVER_URL at github-sim holding the release (published by
# release/publish.sh). First run: each binary downloaded, verified, cached, run (create-prerelease
# makes its prerelease in github-sim). Second run: cache hits, no download (asserted from the
# simulator's request log), the prerelease left as it is. A tampered asset (deleted and re-uploaded
# with other bytes), first create-prerelease's, then ticgen's: the step fails with the checksum
# ::error, nothing is cached for that binary and no release is made.
#
# Usage: tests/act/release.sh DIST_DIR   (release assets from release/build.sh x86_64-unknown-linux-musl;
#        ticgen and create-prerelease are used). Needs act, jq and a debug build of github-sim.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dist="$(cd "${1:?usage: tests/act/release.sh DIST_DIR}" && pwd)"
binaries=(ticgen create-prerelease)
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "act release test failed: $1"
  [[ -f "$work/act.log" ]] && cat "$work/act.log"
  exit 1
}
export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.invalid GIT_COMMITTER_NAME=dev GIT_COMMITTER_EMAIL=dev@example.invalid

cat >"$work/world.yaml" <<'YAML'
clock: { start: "2026-01-01T00:00:00Z" }
identities:
  - login: release-bot
    kind: user
    tokens: [release-token]
    permissions: { acme/gantry: { contents: write }, acme/service: { contents: write } }
repos:
  - name: acme/gantry
    branches:
      main:
        files: { "README.md": "gantry\n" }
  - name: acme/service
    branches:
      main:
        files: { "README.md": "service\n" }
    tags: { v2.0.0: main }
YAML
. "$root/tests/github-sim.sh"
start_github_sim "$work/world.yaml" "$work" || fail "github-sim did not start"

# The source at a release tag (this checkout's actions/), its assets, the release commit, the release.
src="$work/src"
mkdir -p "$src" "$work/dist"
git -C "$root" ls-files -z actions | (cd "$root" && xargs -0 tar -cf -) | tar -xf - -C "$src"
git -C "$src" init --quiet --initial-branch=main
git -C "$src" add .
git -C "$src" commit --quiet -m "gantry 1.2.3"
git -C "$src" tag v1.2.3
git init --quiet --bare "$work/remote.git"
git -C "$src" push --quiet "$work/remote.git" main v1.2.3
for binary in "${binaries[@]}"; do
  cp "$dist/$binary-x86_64-unknown-linux-musl" "$work/dist/"
done
"$root/release/checksums.sh" "$work/dist" >/dev/null
(cd "$src" && "$root/release/commit.sh" v1.2.3 "$work/dist/SHA256SUMS" --push "$work/remote.git") >/dev/null
GITHUB_API_URL="$sim" GITHUB_REPOSITORY=acme/gantry GITHUB_TOKEN=release-token \
  "$root/release/publish.sh" v1.2.3 "$work/dist" >/dev/null
git clone --quiet --branch v1.2.3 "$work/remote.git" "$work/release-checkout" 2>/dev/null
[[ ! -e "$work/release-checkout/target" ]] || fail "the release checkout has a target/"

# downloads BINARY: how many times its release asset was downloaded so far.
downloads() {
  curl -fsS "$sim/_sim/requests" |
    jq --arg path "/acme/gantry/releases/download/v1.2.3/$1-x86_64-unknown-linux-musl" \
      '[.[] | select(.method == "GET" and .path == $path)] | length'
}
auth=(-H "Authorization: Bearer release-token")
# service_releases: the releases of acme/service as `tag:prerelease` lines.
service_releases() {
  curl -fsS "${auth[@]}" "$sim/repos/acme/service/releases" | jq -r '.[] | "\(.tag_name):\(.prerelease)"'
}

# run_act CACHE_HOME: act keeps the tool cache (RUNNER_TOOL_CACHE) under CACHE_HOME/act/tool_cache.
run_act() {
  XDG_CACHE_HOME="$1" env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY -u GITHUB_ENV -u GITHUB_PATH \
    -u GITHUB_TOKEN -u GITHUB_API_URL \
    act push -W tests/act/release.yml -P ubuntu-latest=-self-hosted \
    --local-repository "acme/gantry@v1.2.3=$work/release-checkout" \
    --env GITHUB_SERVER_URL="$sim" --env GITHUB_API_URL="$sim" -s RELEASE_TOKEN=release-token >"$work/act.log" 2>&1
}

# cached CACHE_HOME BINARY: the files cached for BINARY under that act cache.
cached() {
  find "$1/act/tool_cache/gantry" -path "*/x86_64-unknown-linux-musl/*" -name "$2*" -type f 2>/dev/null
  find "$1/act/tool_cache/gantry" -path "*/x86_64-unknown-linux-musl/.$2.*" -type f 2>/dev/null
}

cd "$root"
run_act "$work/act-cache" || fail "first run failed"
grep -qF "installed-tic=2.0.0-main.g1111111" "$work/act.log" || fail "no tic from the installed ticgen"
grep -qE "prerelease-id=[0-9]+ url=$sim/acme/service/releases/tag/v2.0.0" "$work/act.log" ||
  fail "no outputs from the installed create-prerelease"
[[ "$(service_releases)" == "v2.0.0:true" ]] || fail "expected the prerelease v2.0.0, found: $(service_releases)"
for binary in "${binaries[@]}"; do
  [[ "$(downloads "$binary")" == 1 ]] || fail "first run: expected one download of $binary, saw $(downloads "$binary")"
  cmp -s "$(cached "$work/act-cache" "$binary")" "$dist/$binary-x86_64-unknown-linux-musl" ||
    fail "the cached $binary is not the release asset"
done
run_act "$work/act-cache" || fail "second run failed"
for binary in "${binaries[@]}"; do
  [[ "$(downloads "$binary")" == 1 ]] || fail "second run downloaded $binary again ($(downloads "$binary") downloads)"
done
[[ "$(service_releases)" == "v2.0.0:true" ]] || fail "the second run changed the releases: $(service_releases)"
echo "act: installed ticgen and create-prerelease v1.2.3 from the release, verified and cached; the prerelease made; the second run downloaded nothing"

# tamper BINARY: replace its asset in the release with other bytes.
release_id="$(curl -fsS "${auth[@]}" "$sim/repos/acme/gantry/releases/tags/v1.2.3" | jq .id)"
tamper() {
  local asset_id
  asset_id="$(curl -fsS "${auth[@]}" "$sim/repos/acme/gantry/releases/$release_id/assets" |
    jq --arg name "$1-x86_64-unknown-linux-musl" '.[] | select(.name == $name) | .id')"
  curl -fsS -X DELETE "${auth[@]}" "$sim/repos/acme/gantry/releases/assets/$asset_id"
  printf '#!/bin/sh\necho evil\n' |
    curl -fsS "${auth[@]}" -H 'Content-Type: application/octet-stream' --data-binary @- \
      "$sim/repos/acme/gantry/releases/$release_id/assets?name=$1-x86_64-unknown-linux-musl" >/dev/null
}
# Delete the prerelease, so a tampered create-prerelease that ran would show by making it again.
prerelease_id="$(curl -fsS "${auth[@]}" "$sim/repos/acme/service/releases/tags/v2.0.0" | jq .id)"
curl -fsS -X DELETE "${auth[@]}" "$sim/repos/acme/service/releases/$prerelease_id"
for binary in create-prerelease ticgen; do
  tamper "$binary"
  cache_home="$work/fresh-cache-$binary"
  if run_act "$cache_home"; then
    fail "a tampered $binary asset was accepted"
  fi
  grep -qF "::error title=$binary install failed::checksum mismatch for $binary-x86_64-unknown-linux-musl" "$work/act.log" ||
    grep -qF "checksum mismatch for $binary-x86_64-unknown-linux-musl" "$work/act.log" || fail "no checksum error for $binary"
  [[ -z "$(cached "$cache_home" "$binary")" ]] || fail "the tampered $binary download was cached"
  grep -qF "evil" "$work/act.log" && fail "the tampered $binary ran"
  [[ -z "$(service_releases)" ]] || fail "a release was made with a tampered $binary: $(service_releases)"
done
echo "act: a tampered release asset (create-prerelease, then ticgen) failed its step with the checksum error, left nothing cached and made no release"
