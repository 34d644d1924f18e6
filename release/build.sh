#!/usr/bin/env bash
# Builds gantry's action binaries for one target, bit-for-bit reproducibly, into OUT_DIR as
# `<binary>-<target>` (the release asset names install-binary.sh downloads).
#
# Usage: release/build.sh TARGET OUT_DIR [BINARY...]   (default: every action binary)
#
# Reproducible across checkout paths, users, CARGO_HOMEs, target directories and times: the
# checkout, CARGO_HOME, target directory and toolchain paths are remapped to fixed names in Rust
# (--remap-path-prefix) and C (-ffile-prefix-map) code, dependencies come from Cargo.lock
# (--locked), SOURCE_DATE_EPOCH is the commit time, and the release profile strips symbols.
# The Linux musl targets are built with cargo-zigbuild (pip install --require-hashes -r
# release/zig-requirements.txt, the pinned versions): zig is the C compiler and linker for musl
# that ring's C code needs (plain cargo would need musl-gcc); the macOS targets with plain cargo.
# Every target is installed by rustup.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: release/build.sh TARGET OUT_DIR [BINARY...]" >&2
  exit 2
fi
target="$1"
out="$2"
shift 2
binaries=("$@")
if [[ ${#binaries[@]} -eq 0 ]]; then
  binaries=(ticgen required-ci-check create-prerelease auto-deploy k8s-deploy)
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$root"
cargo_home="$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$target_dir" "$out"
target_dir="$(cd "$target_dir" && pwd -P)"
sysroot="$(rustc --print sysroot)"

# The last matching remap wins: the more specific prefixes come after the checkout.
prefixes=("$sysroot=/rust/toolchain" "$root=/gantry" "$cargo_home=/cargo" "$target_dir=/gantry/target")
rustflags=()
cflags=()
for map in "${prefixes[@]}"; do
  rustflags+=("--remap-path-prefix=$map")
  cflags+=("-ffile-prefix-map=$map")
done
CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${rustflags[*]}")"
export CARGO_ENCODED_RUSTFLAGS
export CFLAGS="${cflags[*]}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
export CARGO_TARGET_DIR="$target_dir"
export CARGO_INCREMENTAL=0
export TZ=UTC LC_ALL=C

packages=()
for name in "${binaries[@]}"; do
  packages+=(-p "$name")
done
case "$target" in
  x86_64-unknown-linux-musl | aarch64-unknown-linux-musl) build=(cargo zigbuild) ;;
  *) build=(cargo build) ;;
esac
"${build[@]}" --release --locked --target "$target" "${packages[@]}"

for name in "${binaries[@]}"; do
  install -m 0755 "$target_dir/$target/release/$name" "$out/$name-$target"
done
