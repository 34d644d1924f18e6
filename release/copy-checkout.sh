#!/usr/bin/env bash
# Copies this checkout's files (tracked and new, not ignored; no target/, no .git) to DEST, as a
# fresh clone with the working tree's changes would have them.
#
# Usage: release/copy-checkout.sh DEST
set -euo pipefail
dest="${1:?usage: release/copy-checkout.sh DEST}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
mkdir -p "$dest"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do if [[ -e "$file" ]]; then printf '%s\0' "$file"; fi; done |
  tar --null -T - -cf -) | tar -xf - -C "$dest"
