#!/usr/bin/env bash
# Proves a build reproducible: builds the binaries twice, from two copies of this checkout at
# different paths, with two different CARGO_HOMEs and target directories, and compares SHA-256.
# On a match the binaries land in OUT_DIR; on a mismatch release/compare.sh names the differing
# assets and it exits 1.
#
# Usage: release/reproducible.sh TARGET OUT_DIR [BINARY...]   (default: every action binary)
# The second CARGO_HOME reuses the first one's downloaded registry through a symbolic link (its
# path differs, which is what must not reach the binaries), so no network is needed.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: release/reproducible.sh TARGET OUT_DIR [BINARY...]" >&2
  exit 2
fi
target="$1"
out="$2"
shift 2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cargo_home="$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gantry-repro.XXXXXX")"
trap 'rm -rf "$work"' EXIT


mkdir -p "$work/home-b"
ln -s "$cargo_home/registry" "$work/home-b/registry"
epoch="$(git -C "$root" log -1 --format=%ct)"
builds=("first:$work/a/checkout:$cargo_home:$work/a/target"
  "second:$work/b/src/gantry:$work/home-b:$work/b/out")
for spec in "${builds[@]}"; do
  IFS=: read -r pass checkout home target_dir <<<"$spec"
  "$root/release/copy-checkout.sh" "$checkout"
  (cd "$checkout" &&
    CARGO_HOME="$home" CARGO_TARGET_DIR="$target_dir" SOURCE_DATE_EPOCH="$epoch" \
      release/build.sh "$target" "$work/builds/${pass}-${target}" "$@")
done
"$root/release/compare.sh" "$work/builds" "$out"
(cd "$out" && sha256sum -- *)
