#!/usr/bin/env bash
# The image's size as a registry stores it and as a runner unpacks it: release/image.sh pushes the
# manifest list to a private docker-registry, then per platform the registry's manifest gives the
# compressed size (config + gzip layers, what a pull downloads) and the layers, decompressed, the
# uncompressed size (the tar stream a pull unpacks). Also each release asset's size.
#
# Usage: benches/image-size.sh DIST_DIR   (release assets of both Linux targets, release/build.sh)
# Needs: buildah, skopeo, runc, docker-registry, jq.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dist="$(cd "${1:?usage: benches/image-size.sh DIST_DIR}" && pwd)"
work="$(mktemp -d)"
registry_pid=""
cleanup() {
  [[ -n "$registry_pid" ]] && kill "$registry_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. "$root/tests/image/containers.sh"
private_containers "$work"
start_registry "$work"
image="$registry/acme/gantry:1.2.3"
IMAGE_TLS_VERIFY=false SOURCE_DATE_EPOCH=1767225600 "$root/release/image.sh" "$dist" "$image" \
  "org.opencontainers.image.version=1.2.3" --push >/dev/null

echo "| asset | x86_64-unknown-linux-musl | aarch64-unknown-linux-musl |"
echo "|---|---|---|"
for name in ticgen required-ci-check create-prerelease auto-deploy k8s-deploy; do
  echo "| $name | $(stat -c %s "$dist/$name-x86_64-unknown-linux-musl") | $(stat -c %s "$dist/$name-aarch64-unknown-linux-musl") |"
done
echo
echo "| platform | compressed (registry: config + layers) | uncompressed (layers' tar) | layers |"
echo "|---|---|---|---|"
for arch in amd64 arm64; do
  skopeo copy --quiet --src-tls-verify=false --override-arch "$arch" "docker://$image" "dir:$work/$arch"
  manifest="$work/$arch/manifest.json"
  compressed="$(jq '.config.size + ([.layers[].size] | add)' "$manifest")"
  uncompressed=0
  for layer in $(jq -r '.layers[].digest' "$manifest"); do
    uncompressed=$((uncompressed + $(gzip -dc "$work/$arch/${layer#sha256:}" | wc -c)))
  done
  echo "| linux/$arch | $compressed | $uncompressed | $(jq '.layers | length' "$manifest") |"
done
