#!/usr/bin/env bash
# The image end to end, offline: built by release/image.sh from release binaries (no base image
# pulled), every action run in it with podman (`--help`; ticgen on a mounted repository writing a
# mounted GITHUB_OUTPUT), pushed as a manifest list to a real local registry (Debian's
# docker-registry on 127.0.0.1 with its own config), and `skopeo inspect` shows both platforms and
# ticgen's labels.
#
# Usage: tests/image/run.sh DIST_DIR   (release assets of both Linux targets, from release/build.sh)
# Needs: buildah, podman, runc, skopeo, docker-registry, jq, qemu-user-static (the arm64 binaries
# are run from the pushed arm64 image's layer with qemu-aarch64-static).
# Containers run with runc and images live in a storage of the test's own (tests/image/containers.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dist="$(cd "${1:?usage: tests/image/run.sh DIST_DIR}" && pwd)"
work="$(mktemp -d)"
registry_pid=""
cleanup() {
  [[ -n "$registry_pid" ]] && kill "$registry_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "image test failed: $1"
  exit 1
}
. "$root/tests/image/containers.sh"
private_containers "$work"
podman_run=(podman run --rm --network none)
start_registry "$work" || fail "the registry did not start"

# Tags and labels from the released ticgen, for a repository at a release tag.
repo="$work/repo"
mkdir -p "$repo"
printf '[package]\nname = "demo"\nversion = "1.2.3"\ndescription = "demo service"\nlicense = "MIT"\n' >"$repo/Cargo.toml"
git -C "$repo" init --quiet
git -C "$repo" -c user.name=dev -c user.email=dev@example.invalid add .
GIT_COMMITTER_DATE=2026-01-01T00:00:00Z git -C "$repo" -c user.name=dev -c user.email=dev@example.invalid \
  commit --quiet -m demo
ticgen="$dist/ticgen-x86_64-unknown-linux-musl"
image="$registry/acme/gantry"
: >"$work/meta"
env -i PATH=/usr/bin:/bin GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/meta" GITHUB_REF=refs/tags/v1.2.3 \
  GITHUB_SHA="$(git -C "$repo" rev-parse HEAD)" GITHUB_EVENT_NAME=push GITHUB_SERVER_URL=https://github.com \
  GITHUB_REPOSITORY=acme/gantry GITHUB_WORKSPACE="$repo" \
  "$ticgen" --path "$repo" --image "$image" >/dev/null || fail "ticgen failed"
field() { python3 - "$work/meta" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^%s<<(\S+)\n(.*?)\n\1$" % re.escape(sys.argv[2]), text, re.S | re.M)
print(m.group(2) if m else "")
PY
}
tags="$(field tags)"
labels="$(field labels)"
[[ "$tags" == *"$image:1.2.3"* ]] || fail "ticgen gave no release tag: $tags"

IMAGE_TLS_VERIFY=false SOURCE_DATE_EPOCH=1767225600 "$root/release/image.sh" "$dist" "$tags" "$labels" --push

# Every action runs in the amd64 image.
local_image="$(head -1 <<<"$tags")"
actions=(ticgen required-ci-check create-prerelease auto-deploy k8s-deploy)
for action in "${actions[@]}"; do
  "${podman_run[@]}" --platform linux/amd64 "$local_image" "$action" --help >"$work/help" 2>&1 ||
    fail "$action --help failed on amd64: $(cat "$work/help")"
  grep -q -- "--help" "$work/help" || fail "$action --help printed no usage on amd64: $(cat "$work/help")"
done
echo "every action answers --help in the amd64 image"

# ticgen on a mounted repository writes a mounted GITHUB_OUTPUT, as a Docker action does.
: >"$work/output"
chmod 0666 "$work/output"
chmod -R a+rX "$repo"
"${podman_run[@]}" -v "$repo:/github/workspace:ro" -v "$work/output:/github/output" -w /github/workspace \
  -e GITHUB_ACTIONS=true -e GITHUB_OUTPUT=/github/output -e GITHUB_REF=refs/tags/v1.2.3 \
  -e GITHUB_SHA="$(git -C "$repo" rev-parse HEAD)" -e GITHUB_EVENT_NAME=push -e SOURCE_DATE_EPOCH=1767225600 \
  "$local_image" ticgen >/dev/null || fail "ticgen in the image failed"
if ! grep -q '^tic<<' "$work/output" || ! grep -qx '1.2.3' "$work/output"; then
  fail "no tic output: $(cat "$work/output")"
fi
echo "ticgen in the image wrote its outputs to the mounted GITHUB_OUTPUT"

# The registry holds one manifest list with both platforms and ticgen's labels.
raw="$(skopeo inspect --tls-verify=false --raw "docker://$image:1.2.3")"
platforms="$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(",")' <<<"$raw")"
[[ "$platforms" == "linux/amd64,linux/arm64" ]] || fail "platforms: $platforms"
for arch in amd64 arm64; do
  inspect="$(skopeo inspect --tls-verify=false --override-arch "$arch" "docker://$image:1.2.3")"
  [[ "$(jq -r .Architecture <<<"$inspect")" == "$arch" ]] || fail "no $arch image"
  [[ "$(jq -r '.Labels["org.opencontainers.image.version"]' <<<"$inspect")" == 1.2.3 ]] ||
    fail "labels of $arch: $(jq -c .Labels <<<"$inspect")"
done
echo "pushed $image:1.2.3: linux/amd64 + linux/arm64 with ticgen's OCI labels"

# The arm64 image's binaries, taken from the pushed layer, run under qemu-user-static.
skopeo copy --quiet --src-tls-verify=false --override-arch arm64 "docker://$image:1.2.3" "dir:$work/arm64" ||
  fail "could not copy the arm64 image"
mkdir -p "$work/arm64-root"
config="$(jq -r .config.digest "$work/arm64/manifest.json")"
for layer in $(jq -r '.layers[].digest' "$work/arm64/manifest.json"); do
  tar -xf "$work/arm64/${layer#sha256:}" -C "$work/arm64-root"
done
[[ "$(jq -r .architecture "$work/arm64/${config#sha256:}")" == arm64 ]] || fail "the arm64 config is not arm64"
for action in "${actions[@]}"; do
  # ELF e_machine (offset 18, little-endian): 0xb7 is AArch64.
  [[ "$(od -An -tx1 -j18 -N2 "$work/arm64-root/usr/local/bin/$action" | tr -d ' \n')" == b700 ]] ||
    fail "$action of the arm64 image is not an AArch64 executable"
  qemu-aarch64-static "$work/arm64-root/usr/local/bin/$action" --help >"$work/help" 2>&1 ||
    fail "$action --help failed on arm64: $(cat "$work/help")"
  grep -q -- "--help" "$work/help" || fail "$action --help printed no usage on arm64"
done
echo "every action of the arm64 image answers --help (qemu-aarch64-static)"
