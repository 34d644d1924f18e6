#!/usr/bin/env bash
# Builds the multi-arch image (linux/amd64 + linux/arm64) from release binaries with buildah, as
# one manifest list, and with --push pushes it under every tag. No base image is pulled: the
# Dockerfile's `prebuilt` path copies a root file system laid out by release/rootfs.sh.
#
# Usage: release/image.sh DIST_DIR TAGS LABELS [--push]
#   DIST_DIR  the release assets (<binary>-x86_64-unknown-linux-musl, <binary>-aarch64-unknown-linux-musl)
#   TAGS      newline-separated full references, e.g. ticgen's `tags` output with `image` set
#   LABELS    newline-separated `key=value` OCI labels, e.g. ticgen's `labels` output
# Environment: SOURCE_DATE_EPOCH (image timestamps; default the commit time), CA_BUNDLE (default
# /etc/ssl/certs/ca-certificates.crt), IMAGE_TLS_VERIFY (default true; false for a local registry),
# GITHUB_OUTPUT (when set, `digest=` of the pushed manifest list is appended).
# Needs: buildah, jq.
set -euo pipefail
[[ $# -ge 3 ]] || {
  echo "usage: release/image.sh DIST_DIR TAGS LABELS [--push]" >&2
  exit 2
}
dist="$(cd "$1" && pwd)"
tags_text="$2"
labels_text="$3"
push="${4:-}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ca_bundle="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
tls_verify="${IMAGE_TLS_VERIFY:-true}"
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct)}"

mapfile -t tags < <(printf '%s\n' "$tags_text" | sed '/^[[:space:]]*$/d')
[[ ${#tags[@]} -gt 0 ]] || {
  echo "::error title=image::no tags given; pass ticgen's tags output (with image set)"
  exit 2
}
label_args=()
while IFS= read -r label; do
  [[ -n "$label" ]] && label_args+=(--label "$label")
done <<<"$labels_text"

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$root/Dockerfile" "$context/Dockerfile"
declare -A targets=([amd64]=x86_64-unknown-linux-musl [arm64]=aarch64-unknown-linux-musl)
for arch in amd64 arm64; do
  "$root/release/rootfs.sh" "$dist" "${targets[$arch]}" "$context/rootfs-$arch" "$ca_bundle"
done

list="${tags[0]}"
buildah manifest rm "$list" >/dev/null 2>&1 || true
buildah manifest create "$list" >/dev/null
for arch in amd64 arm64; do
  buildah build --quiet --platform "linux/$arch" --build-arg BINARIES=prebuilt \
    --timestamp "$epoch" --identity-label=false "${label_args[@]}" \
    --manifest "$list" -f "$context/Dockerfile" "$context" >/dev/null
done
echo "built ${list} (linux/amd64, linux/arm64)"

if [[ "$push" == --push ]]; then
  # `buildah manifest push` compresses with Go's default gzip level; each platform image is first
  # written as an OCI layout at level 9 (about 3 % smaller), and the list of those is pushed, so the
  # registry stores the level-9 layers as they are.
  push_list="localhost/gantry-push-$$:latest"
  buildah manifest rm "$push_list" >/dev/null 2>&1 || true
  trap 'buildah manifest rm "$push_list" >/dev/null 2>&1; rm -rf "$context"' EXIT
  buildah manifest create "$push_list" >/dev/null
  for digest in $(buildah manifest inspect "$list" | jq -r '.manifests[].digest'); do
    layout="oci:$context/oci:${digest#sha256:}"
    buildah push --quiet --compression-format gzip --compression-level 9 "$list@$digest" "$layout"
    buildah manifest add "$push_list" "$layout" >/dev/null
  done
  digest_file="$context/digest"
  for tag in "${tags[@]}"; do
    buildah manifest push --quiet --all --tls-verify="$tls_verify" --digestfile "$digest_file" \
      "$push_list" "docker://$tag"
    echo "pushed ${tag} $(cat "$digest_file")"
  done
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    echo "digest=$(cat "$digest_file")" >>"$GITHUB_OUTPUT"
  fi
fi
