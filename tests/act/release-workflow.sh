#!/usr/bin/env bash
# The release workflow itself (.github/workflows/release.yml) under act, offline: a
# workflow_dispatch of v<workspace version> on a copy of this checkout, GitHub played by github-sim (the API) and a
# local bare repository (git), GHCR by a private docker-registry (repository variable
# IMAGE_REGISTRY), and the four third-party actions by the test doubles in tests/act/doubles.
#
# The build job runs for x86_64-unknown-linux-musl, first pass (act's own checkout path): a real
# release build. The other three builds are the release assets given in DIST_DIR, built from this
# checkout's path, so the workflow's comparison checks act's build against them bit for bit.
#   0. A tag that is not v<workspace version>: the build job refuses before building.
#   1. The second pass's ticgen differs: the publish job refuses, and nothing is left behind
#      (no release in github-sim, the tag not moved, no image).
#   2. The builds agree: the registry holds the manifest list (amd64 + arm64) under ticgen's tags,
#      its digest the one attested (the attest double finds the registry's login where the real
#      action reads it, ~/.docker/config.json) and the one the Docker actions pin; the checksums
#      commit carries actions/SHA256SUMS and actions/RELEASE, the commit on it pins the reusable
#      workflows' actions to it, the tagged commit on that pins the examples' workflows to it (no
#      v1: not asked); the release is published with every asset and SHA256SUMS, and the assets
#      were attested.
# The jobs run with HOME in the test's directory (the login writes HOME/.docker/config.json).
#
# Usage: tests/act/release-workflow.sh DIST_DIR   (release/build.sh for both Linux targets)
# Needs: act, jq, git, buildah, skopeo, docker-registry, cargo-zigbuild; a debug github-sim build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dist="$(cd "${1:?usage: tests/act/release-workflow.sh DIST_DIR}" && pwd)"
work="$(mktemp -d)"
sim_pid=""
registry_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null
  [[ -n "$registry_pid" ]] && kill "$registry_pid" 2>/dev/null
  buildah rm --all >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
fail() {
  echo "release workflow test failed: $1"
  [[ -f "$work/act.log" ]] && tail -n 80 "$work/act.log"
  exit 1
}
targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
version="$(cd "$root" && cargo metadata --no-deps --format-version 1 --locked | jq -r '.packages[0].version')"
tag="v${version}"
binaries=(ticgen required-ci-check create-prerelease auto-deploy k8s-deploy)

# GitHub: the API.
cat >"$work/world.yaml" <<'YAML'
clock: { start: "2026-01-01T00:00:00Z" }
identities:
  - login: release-bot
    kind: user
    tokens: [release-token]
    permissions: { acme/gantry: { contents: write } }
repos:
  - name: acme/gantry
    branches:
      main:
        files: { "README.md": "gantry\n" }
YAML
. "$root/tests/github-sim.sh"
start_github_sim "$work/world.yaml" "$work" || fail "github-sim did not start"

# GHCR: a private registry, and buildah confined to this test's own image store.
. "$root/tests/image/containers.sh"
private_containers "$work"
start_registry "$work" || fail "the registry did not start"

# GitHub: git. This checkout's files at the release tag, with HEAD's dates (release/build.sh derives
# SOURCE_DATE_EPOCH from the commit), pushed to a bare repository the checkout double clones.
src="$work/src"
"$root/release/copy-checkout.sh" "$src"
date="$(git -C "$root" log -1 --format=%cI)"
git -C "$src" init --quiet --initial-branch=main
git -C "$src" add .
GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
  git -C "$src" -c user.name=dev -c user.email=dev@example.invalid commit --quiet -m "gantry 1.2.3"
git -C "$src" tag "$tag"
git -C "$src" tag v9.9.9
source_commit="$(git -C "$src" rev-parse HEAD)"
git init --quiet --bare --initial-branch=main "$work/remote.git"
git -C "$src" push --quiet "$work/remote.git" main "$tag" v9.9.9
# act takes the repository's name from origin.
git -C "$src" remote add origin https://github.com/acme/gantry.git

# The artifacts of the three builds act does not run.
artifacts="$work/artifacts"
for target in "${targets[@]}"; do
  for pass in first second; do
    [[ "$target/$pass" == x86_64-unknown-linux-musl/first ]] && continue
    mkdir -p "$artifacts/$pass-$target"
    for binary in "${binaries[@]}"; do
      cp "$dist/$binary-$target" "$artifacts/$pass-$target/"
    done
  done
done

# The doubles, at the SHAs release.yml pins.
doubles=()
for action in checkout upload-artifact download-artifact attest-build-provenance; do
  pin="$(grep -oE "actions/${action}@[0-9a-f]{40}" "$root/.github/workflows/release.yml" | sort -u)"
  [[ $(wc -l <<<"$pin") == 1 && -n "$pin" ]] || fail "release.yml pins actions/${action} ${pin:-nowhere}"
  doubles+=(--local-repository "${pin}=$root/tests/act/doubles/${action}")
done
# The jobs' HOME is the test's own; cargo and rustup stay where they are.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
mkdir -p "$work/home"
# run_release TAG: a workflow_dispatch of TAG.
run_release() {
  printf '{"inputs": {"version": "%s", "major": false}}\n' "$1" >"$work/event.json"
  # A new workflow run: the build act runs uploads its artifact afresh (the upload-artifact double,
  # like v4, refuses a name already uploaded in the run).
  rm -rf "$artifacts/first-x86_64-unknown-linux-musl"
  (cd "$src" && XDG_CACHE_HOME="$work/act-cache" \
    env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY -u GITHUB_ENV -u GITHUB_PATH -u GITHUB_TOKEN \
    act workflow_dispatch -W .github/workflows/release.yml -e "$work/event.json" \
    -P ubuntu-latest=-self-hosted --no-skip-checkout \
    --matrix target:x86_64-unknown-linux-musl --matrix pass:first "${doubles[@]}" \
    --env GITHUB_API_URL="$sim" --env GITHUB_SERVER_URL="$sim" \
    --env GANTRY_TEST_REMOTE="$work/remote.git" --env GANTRY_TEST_ARTIFACTS="$artifacts" \
    --env CONTAINERS_CONF="$CONTAINERS_CONF" --env CONTAINERS_STORAGE_CONF="$CONTAINERS_STORAGE_CONF" \
    --env IMAGE_TLS_VERIFY=false --env PIP_NO_INDEX=1 --env CARGO_TARGET_DIR="$root/target" \
    --env HOME="$work/home" --env CARGO_HOME="$cargo_home" --env RUSTUP_HOME="$rustup_home" \
    --var IMAGE_REGISTRY="$registry" -s GITHUB_TOKEN=release-token) >"$work/act.log" 2>&1
}
auth=(-H "Authorization: Bearer release-token")
releases() { curl -fsS "${auth[@]}" "$sim/repos/acme/gantry/releases" | jq length; }
tag_commit() { git -C "$work/remote.git" rev-parse "${tag}^{commit}"; }

# 0. A tag that does not name the workspace version.
if run_release v9.9.9; then
  fail "a tag that is not the workspace version was released"
fi
grep -qF "tag v9.9.9 does not name the workspace version ${version}" "$work/act.log" || fail "no version refusal"
grep -q "Run Main Build" "$work/act.log" && fail "the build ran despite the version mismatch"
[[ "$(releases)" == 0 ]] || fail "a release was created for v9.9.9"
echo "release workflow: a tag that is not v${version} is refused before building"

# 1. The second pass built another ticgen: nothing is published.
cp "$dist/required-ci-check-x86_64-unknown-linux-musl" "$artifacts/second-x86_64-unknown-linux-musl/ticgen-x86_64-unknown-linux-musl"
if run_release "$tag"; then
  fail "a mismatch between the two builds was published"
fi
grep -q "Refuse unless both builds are identical" "$work/act.log" || fail "the comparison did not run"
grep -qF "build not reproducible::the two builds differ" "$work/act.log" || fail "no refusal"
grep -qE "\| \+[0-9a-f]{64}  ticgen-x86_64-unknown-linux-musl" "$work/act.log" || fail "the differing asset is not named"
[[ "$(releases)" == 0 ]] || fail "a release was created despite the mismatch"
[[ "$(tag_commit)" == "$source_commit" ]] || fail "the tag moved despite the mismatch"
[[ ! -e "$artifacts/attestations" ]] || fail "something was attested despite the mismatch"
if skopeo inspect --tls-verify=false --raw "docker://$registry/acme/gantry:${version}" >/dev/null 2>&1; then
  fail "an image was pushed despite the mismatch"
fi
echo "release workflow: builds that differ are refused before anything is published"

# 2. The builds agree: the whole release.
cp "$dist/ticgen-x86_64-unknown-linux-musl" "$artifacts/second-x86_64-unknown-linux-musl/"
run_release "$tag" || fail "the release failed"
cmp -s "$artifacts/first-x86_64-unknown-linux-musl/ticgen-x86_64-unknown-linux-musl" \
  "$dist/ticgen-x86_64-unknown-linux-musl" || fail "act's build of ticgen differs from DIST_DIR's"

release_commit="$(tag_commit)"
workflows_commit="$(git -C "$work/remote.git" rev-parse "$release_commit^")"
checksums_commit="$(git -C "$work/remote.git" rev-parse "$workflows_commit^")"
[[ "$(git -C "$work/remote.git" rev-parse "$checksums_commit^")" == "$source_commit" ]] ||
  fail "the tag does not point at the release commits on top of the tagged source"
for commit in "$release_commit" "$workflows_commit" "$checksums_commit"; do
  [[ "$(git -C "$work/remote.git" show "$commit:actions/RELEASE")" == "$tag" ]] || fail "actions/RELEASE ($commit)"
done
# The reusable workflows of the release use the actions of the checksums commit, and the examples
# the reusable workflows of the commit above it, under this repository's name; no pin of a
# development commit is left.
own_pins() { # DIR PATH_PATTERN
  git -C "$work/remote.git" grep -h -o -E "[A-Za-z0-9_.-]+/gantry/$2@[0-9a-f]{40} # .*" "$release_commit" -- "$1" |
    sed -E "s|/$2@| |" | sort -u
}
pins="$(own_pins .github/workflows 'actions/[a-z-]+')"
[[ "$pins" == "acme/gantry $checksums_commit # $tag" ]] || fail "the workflows' action pins: $pins"
pins="$(own_pins examples '\.github/workflows/[a-z-]+\.yml')"
[[ "$pins" == "acme/gantry $workflows_commit # $tag" ]] || fail "the examples' workflow pins: $pins"
(cd "$dist" && sha256sum -- *-unknown-linux-musl) | sort -k2 >"$work/expected-sums"
git -C "$work/remote.git" show "$release_commit:actions/SHA256SUMS" | sort -k2 >"$work/committed-sums"
cmp -s "$work/expected-sums" "$work/committed-sums" || fail "actions/SHA256SUMS is not the assets' checksums"
if git -C "$work/remote.git" rev-parse --verify --quiet v1 >/dev/null; then
  fail "v1 moved although major was false"
fi

release_json="$(curl -fsS "${auth[@]}" "$sim/repos/acme/gantry/releases/tags/${tag}")"
[[ "$(jq -r '.draft' <<<"$release_json")" == false ]] || fail "the release is still a draft"
[[ "$(jq '.assets | length' <<<"$release_json")" == 11 ]] || fail "expected 10 binaries and SHA256SUMS"
curl -fsSL "$sim/acme/gantry/releases/download/${tag}/k8s-deploy-aarch64-unknown-linux-musl" -o "$work/k8s-deploy"
cmp -s "$work/k8s-deploy" "$dist/k8s-deploy-aarch64-unknown-linux-musl" || fail "an asset's bytes differ"

list_digest="$(skopeo inspect --tls-verify=false --raw "docker://$registry/acme/gantry:${version}" | sha256sum | cut -d' ' -f1)"
platforms="$(skopeo inspect --tls-verify=false --raw "docker://$registry/acme/gantry:${version}" |
  jq -r '[.manifests[].platform.architecture] | sort | join(",")')"
[[ "$platforms" == amd64,arm64 ]] || fail "the image's platforms: $platforms"
skopeo inspect --tls-verify=false --raw "docker://$registry/acme/gantry:latest" >/dev/null ||
  fail "ticgen's latest tag was not pushed"

docker_pins="$(git -C "$work/remote.git" grep -h "^  image: " "$release_commit" -- 'actions/*/docker/action.yml' | sort -u)"
[[ "$docker_pins" == "  image: docker://$registry/acme/gantry@sha256:$list_digest" ]] ||
  fail "the Docker actions do not pin the pushed image by digest: $docker_pins"

grep -qx "file ticgen-x86_64-unknown-linux-musl sha256:$(sha256sum "$dist/ticgen-x86_64-unknown-linux-musl" | cut -d' ' -f1)" \
  "$artifacts/attestations" || fail "the assets were not attested"
grep -qx "image $registry/acme/gantry sha256:$list_digest push=true" "$artifacts/attestations" ||
  fail "the image was not attested with its pushed digest: $(cat "$artifacts/attestations")"
echo "release workflow: act's build matched, the image pushed and pinned by digest, the release commits and tag, the published release and the attestations are as they should be"
