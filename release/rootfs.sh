#!/usr/bin/env bash
# Lays out the image's root file system from release assets: the five binaries of one target in
# /usr/local/bin (without the target suffix), a CA bundle, and a non-root user (65532, `nonroot`).
# Used by the Dockerfile's build stage and by release/image.sh for prebuilt binaries.
#
# Usage: release/rootfs.sh DIST_DIR TARGET ROOTFS_DIR CA_BUNDLE
set -euo pipefail
[[ $# -eq 4 ]] || {
  echo "usage: release/rootfs.sh DIST_DIR TARGET ROOTFS_DIR CA_BUNDLE" >&2
  exit 2
}
dist="$1" target="$2" rootfs="$3" ca_bundle="$4"
binaries=(ticgen required-ci-check create-prerelease auto-deploy k8s-deploy)
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/home/nonroot" "$rootfs/tmp"
for name in "${binaries[@]}"; do
  asset="$dist/$name-$target"
  [[ -f "$asset" ]] || {
    echo "::error title=image rootfs::missing release asset ${asset}; build it with release/build.sh ${target} ${dist}"
    exit 2
  }
  install -m 0755 "$asset" "$rootfs/usr/local/bin/$name"
done
install -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
