#!/usr/bin/env bash
# Writes DIST_DIR/SHA256SUMS: the SHA-256 of every release asset in DIST_DIR, sorted by name, in
# `sha256sum` format (`<hex>  <name>`), as actions/SHA256SUMS carries it and `sha256sum -c` reads it.
#
# Usage: release/checksums.sh DIST_DIR
set -euo pipefail
dist="${1:?usage: release/checksums.sh DIST_DIR}"
cd "$dist"
assets=()
while IFS= read -r -d '' file; do
  assets+=("${file#./}")
done < <(find . -maxdepth 1 -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z)
if [[ ${#assets[@]} -eq 0 ]]; then
  echo "::error title=no release assets::${dist} holds no files; build them first (release/build.sh)"
  exit 2
fi
sha256sum -- "${assets[@]}" >SHA256SUMS.partial
mv SHA256SUMS.partial SHA256SUMS
cat SHA256SUMS
