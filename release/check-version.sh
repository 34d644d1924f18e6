#!/usr/bin/env bash
# Refuses to release a tag that does not name the workspace's version: the binaries report the
# version of Cargo.toml (`--version`), and ticgen derives the image's tags from it, so a release
# tag v1.2.3 must be built from `[workspace.package] version = "1.2.3"`.
#
# Usage: release/check-version.sh TAG   (run in the checkout of TAG)
# Exit codes: 0 the tag names the version, 2 it does not (or the workspace has several versions).
set -euo pipefail
tag="${1:?usage: release/check-version.sh TAG}"
versions="$(cargo metadata --no-deps --format-version 1 --locked | jq -r '[.packages[].version] | unique | join(" ")')"
if [[ "$versions" == *" "* ]]; then
  echo "::error title=release version::the workspace's crates have several versions (${versions}); set version.workspace = true in each"
  exit 2
fi
if [[ "$tag" != "v${versions}" ]]; then
  echo "::error title=release version::tag ${tag} does not name the workspace version ${versions}; set [workspace.package] version = \"${tag#v}\" in Cargo.toml, commit, and tag that commit"
  exit 2
fi
echo "release ${tag}: the workspace version is ${versions}"
