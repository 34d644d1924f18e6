#!/usr/bin/env bash
# Downloads release assets through the REST API (what `gh release download` does, but with
# GITHUB_API_URL honoured, so a rehearsal against github-sim works) and verifies each against the
# release's own SHA256SUMS asset. Nothing that fails verification is left in DIR.
#
# Usage: release/download.sh TAG DIR PATTERN...   (shell globs over asset names, e.g. '*-linux-musl')
# Environment: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_API_URL (default
# https://api.github.com). Needs curl, jq, sha256sum.
# Exit codes: 0 every matching asset downloaded and verified, 1 an API or download failure or a
# checksum mismatch, 2 bad usage or no asset matched.
set -euo pipefail

[[ $# -ge 3 ]] || {
  echo "usage: release/download.sh TAG DIR PATTERN..." >&2
  exit 2
}
tag="$1"
dir="$2"
shift 2
patterns=("$@")
api="${GITHUB_API_URL:-https://api.github.com}"
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY names the repository (owner/name)}"
: "${GITHUB_TOKEN:?GITHUB_TOKEN is a token that can read the release}"

fail() {
  echo "::error title=download failed::$2"
  exit "$1"
}

# get URL ACCEPT OUT: the body of URL into OUT, following redirects (an asset answers 302).
get() {
  curl --fail --silent --show-error --location --retry 3 --connect-timeout 10 --max-time 600 \
    -H "Authorization: Bearer ${GITHUB_TOKEN}" -H "Accept: $2" -H "X-GitHub-Api-Version: 2022-11-28" \
    -o "$3" "$1"
}

mkdir -p "$dir"
work="$(mktemp -d "${dir}/.download.XXXXXX")"
trap 'rm -rf "$work"' EXIT
get "${api}/repos/${repo}/releases/tags/${tag}" application/vnd.github+json "$work/release.json" ||
  fail 1 "no release ${tag} in ${repo}"

wanted=()
while IFS=$'\t' read -r name url; do
  for pattern in "${patterns[@]}"; do
    # shellcheck disable=SC2053 # the pattern is a glob on purpose
    if [[ "$name" == $pattern ]]; then
      wanted+=("$name")
      get "$url" application/octet-stream "$work/$name" || fail 1 "could not download ${name} of ${tag}"
      break
    fi
  done
  if [[ "$name" == SHA256SUMS ]]; then
    get "$url" application/octet-stream "$work/SHA256SUMS" || fail 1 "could not download SHA256SUMS of ${tag}"
  fi
done < <(jq -r '.assets[] | [.name, .url] | @tsv' "$work/release.json")

[[ ${#wanted[@]} -gt 0 ]] || fail 2 "no asset of ${tag} matches ${patterns[*]}"
[[ -f "$work/SHA256SUMS" ]] || fail 1 "release ${tag} has no SHA256SUMS asset"
# listed NAME: SHA256SUMS has a line for NAME.
listed() {
  local file
  while read -r _ file; do
    [[ "$file" == "$1" || "$file" == "*$1" ]] && return 0
  done <"$work/SHA256SUMS"
  return 1
}
for name in "${wanted[@]}"; do
  listed "$name" || fail 1 "SHA256SUMS of ${tag} has no line for ${name}"
done
(cd "$work" && sha256sum --check --strict --quiet --ignore-missing SHA256SUMS) >&2 ||
  fail 1 "an asset of ${tag} does not match its SHA256SUMS; nothing was kept"
for name in "${wanted[@]}"; do
  mv -f "$work/$name" "$dir/$name"
  echo "downloaded ${name} (verified)"
done
