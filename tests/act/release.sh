#!/usr/bin/env bash
# The installer end to end under act, as a user meets it: a workflow with
# `uses: acme/gantry/actions/ticgen@v1.2.3`, mapped by `act --local-repository` to a checkout of a
# release commit (made by release/commit.sh, no target/), GITHUB_SERVER_URL at github-sim holding
# the release (published by release/publish.sh). First run: download, verify, cache, run. Second
# run: a cache hit, no download (asserted from the simulator's request log). A tampered asset
# (deleted and re-uploaded with other bytes): the step fails with the checksum ::error and nothing
# is cached.
#
# Usage: tests/act/release.sh TICGEN_BINARY   (a release build of ticgen, e.g. from
#        release/build.sh x86_64-unknown-linux-musl). Needs act, jq and a debug build of github-sim.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
ticgen="$(cd "$(dirname "${1:?usage: tests/act/release.sh TICGEN_BINARY}")" && pwd)/$(basename "$1")"
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
  - { login: release-bot, kind: user, tokens: [release-token] }
repos:
  - name: acme/gantry
    branches:
      main:
        files: { "README.md": "gantry\n" }
YAML
(cd "$root" && cargo build --quiet --locked -p github-sim)
"$root/target/debug/github-sim" --world "$work/world.yaml" >"$work/sim.url" &
sim_pid=$!
for _ in $(seq 100); do [[ -s "$work/sim.url" ]] && break; sleep 0.1; done
sim="$(head -1 "$work/sim.url")"
[[ "$sim" == http://127.0.0.1:* ]] || fail "github-sim did not start"

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
cp "$ticgen" "$work/dist/ticgen-x86_64-unknown-linux-musl"
"$root/release/checksums.sh" "$work/dist" >/dev/null
(cd "$src" && "$root/release/commit.sh" v1.2.3 "$work/dist/SHA256SUMS" --push "$work/remote.git") >/dev/null
GITHUB_API_URL="$sim" GITHUB_REPOSITORY=acme/gantry GITHUB_TOKEN=release-token \
  "$root/release/publish.sh" v1.2.3 "$work/dist" >/dev/null
git clone --quiet --branch v1.2.3 "$work/remote.git" "$work/release-checkout" 2>/dev/null
[[ ! -e "$work/release-checkout/target" ]] || fail "the release checkout has a target/"

downloads() {
  curl -fsS "$sim/_sim/requests" |
    jq '[.[] | select(.method == "GET" and .path == "/acme/gantry/releases/download/v1.2.3/ticgen-x86_64-unknown-linux-musl")] | length'
}

# run_act CACHE_HOME: act keeps the tool cache (RUNNER_TOOL_CACHE) under CACHE_HOME/act/tool_cache.
run_act() {
  XDG_CACHE_HOME="$1" env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY -u GITHUB_ENV -u GITHUB_PATH \
    act push -W tests/act/release.yml -P ubuntu-latest=-self-hosted \
    --local-repository "acme/gantry@v1.2.3=$work/release-checkout" \
    --env GITHUB_SERVER_URL="$sim" >"$work/act.log" 2>&1
}

cd "$root"
run_act "$work/act-cache" || fail "first run failed"
grep -qF "installed-tic=2.0.0-main.g1111111" "$work/act.log" || fail "no tic from the installed ticgen"
[[ "$(downloads)" == 1 ]] || fail "first run: expected one download, saw $(downloads)"
run_act "$work/act-cache" || fail "second run failed"
[[ "$(downloads)" == 1 ]] || fail "second run downloaded again ($(downloads) downloads)"
echo "act: installed ticgen v1.2.3 from the release, verified and cached; the second run downloaded nothing"

# Tamper: replace the asset in the release with other bytes.
auth=(-H "Authorization: Bearer release-token")
release_id="$(curl -fsS "${auth[@]}" "$sim/repos/acme/gantry/releases/tags/v1.2.3" | jq .id)"
asset_id="$(curl -fsS "${auth[@]}" "$sim/repos/acme/gantry/releases/$release_id/assets" |
  jq '.[] | select(.name == "ticgen-x86_64-unknown-linux-musl") | .id')"
curl -fsS -X DELETE "${auth[@]}" "$sim/repos/acme/gantry/releases/assets/$asset_id"
printf '#!/bin/sh\necho evil\n' |
  curl -fsS "${auth[@]}" -H 'Content-Type: application/octet-stream' --data-binary @- \
    "$sim/repos/acme/gantry/releases/$release_id/assets?name=ticgen-x86_64-unknown-linux-musl" >/dev/null
if run_act "$work/fresh-act-cache"; then
  fail "a tampered asset was accepted"
fi
grep -qF "::error title=ticgen install failed::checksum mismatch for ticgen-x86_64-unknown-linux-musl" "$work/act.log" ||
  grep -qF "checksum mismatch for ticgen-x86_64-unknown-linux-musl" "$work/act.log" || fail "no checksum error"
[[ -z "$(find "$work/fresh-act-cache/act/tool_cache" -type f 2>/dev/null)" ]] || fail "the tampered download was cached"
echo "act: a tampered release asset failed the step with the checksum error and left nothing cached"
