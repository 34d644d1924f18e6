#!/usr/bin/env bash
# Compares two builds of the same release and refuses a mismatch: BUILDS_DIR holds
# `first-<target>/` and `second-<target>/` directories (the release workflow's two build passes);
# every asset must exist in both with the same SHA-256. On success the first pass's assets are
# copied into OUT_DIR; otherwise it names each difference and exits 1.
#
# Usage: release/compare.sh BUILDS_DIR OUT_DIR
set -euo pipefail
builds="${1:?usage: release/compare.sh BUILDS_DIR OUT_DIR}"
out="${2:?usage: release/compare.sh BUILDS_DIR OUT_DIR}"

sums_of() {
  (cd "$1" && find . -maxdepth 1 -type f -printf '%f\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum --)
}

shopt -s nullglob
firsts=("$builds"/first-*)
[[ ${#firsts[@]} -gt 0 ]] || {
  echo "::error title=build not reproducible::${builds} holds no first-<target> build"
  exit 1
}
mismatch=0
for first in "${firsts[@]}"; do
  second="$builds/second-${first##*/first-}"
  if [[ ! -d "$second" ]]; then
    echo "missing second build for ${first##*/}"
    mismatch=1
  elif ! diff -u --label "${first##*/}" --label "${second##*/}" <(sums_of "$first") <(sums_of "$second"); then
    mismatch=1
  fi
done
if [[ "$mismatch" -ne 0 ]]; then
  echo "::error title=build not reproducible::the two builds differ (above); nothing is published"
  exit 1
fi
mkdir -p "$out"
for first in "${firsts[@]}"; do
  cp -- "$first"/* "$out/"
done
echo "reproducible: $(find "$out" -maxdepth 1 -type f | wc -l) assets identical in both builds"
