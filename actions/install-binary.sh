#!/usr/bin/env bash
# Resolves the gantry binary an action step runs and writes its path as the step output `path`.
#
# Order: the `bin-dir` input; this checkout's own `target/release` (act and the project's CI);
# otherwise the release asset for the runner's OS and architecture, verified against the SHA-256
# pinned in this ref's `actions/SHA256SUMS` and cached in the runner's tool cache.
#
# Environment: GANTRY_BINARY (binary name), GANTRY_BIN_DIR (the bin-dir input),
# GANTRY_ACTION_REPOSITORY (owner/name of this repository), and the runner's GITHUB_OUTPUT,
# GITHUB_SERVER_URL, RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP.
# Exit codes: 0 resolved, 2 cannot resolve (nothing is left behind in the cache).
#
# The cache-hit path runs on every step of every job, so it keeps to few child processes: a
# private directory, a copy of the cached binary, and the copy's hash, checked against SHA256SUMS
# on every use (the copy, not the cache entry, is what runs).
set -euo pipefail

name="${GANTRY_BINARY:?GANTRY_BINARY names the binary}"
here="${BASH_SOURCE[0]%/*}"
[[ "$here" != "${BASH_SOURCE[0]}" ]] || here=.
[[ "$here" == /* ]] || here="${PWD}/${here}"

fail() {
  echo "::error title=${name} install failed::$1"
  exit 2
}

resolved() {
  echo "Using ${name} at $1"
  echo "path=$1" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is set by the runner}"
  exit 0
}

# sha256 FILE: sets `digest` to the file's SHA-256 in hex.
hasher=()
sha256() {
  if [[ ${#hasher[@]} -eq 0 ]]; then
    if type -P sha256sum >/dev/null; then hasher=(sha256sum); else hasher=(shasum -a 256); fi
  fi
  digest="$("${hasher[@]}" "$1")"
  digest="${digest%% *}"
}

if [[ -n "${GANTRY_BIN_DIR:-}" ]]; then
  exe="${GANTRY_BIN_DIR%/}/${name}"
  [[ -f "$exe" && -x "$exe" ]] ||
    fail "input bin-dir: no executable ${name} in ${GANTRY_BIN_DIR}; build it (cargo build --release -p ${name}) or leave bin-dir empty"
  resolved "$(cd "${exe%/*}" && pwd)/${name}"
fi

local_build="${here}/../target/release/${name}"
if [[ -f "$local_build" && -x "$local_build" ]]; then
  resolved "$(cd "${local_build%/*}" && pwd)/${name}"
fi

sums="${here}/SHA256SUMS"
release_file="${here}/RELEASE"
if [[ ! -f "$sums" || ! -f "$release_file" ]]; then
  fail "no prebuilt ${name}: this ref is not a release (no actions/SHA256SUMS); use a release tag or its commit SHA, set bin-dir, or run cargo build --release in the action checkout"
fi
release=""
IFS= read -r release <"$release_file" || true
release="${release//[[:space:]]/}"
[[ "$release" =~ ^v[0-9A-Za-z.+-]+$ ]] || fail "actions/RELEASE holds no release tag"

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
  Linux/X64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ;;
  macOS/X64) target=x86_64-apple-darwin ;;
  macOS/ARM64) target=aarch64-apple-darwin ;;
  *) fail "no prebuilt ${name} for ${RUNNER_OS:-unknown OS}/${RUNNER_ARCH:-unknown arch}; supported: Linux and macOS on X64 and ARM64; set bin-dir to a binary you built" ;;
esac
asset="${name}-${target}"
expected=""
while read -r sum file || [[ -n "${sum:-}" ]]; do
  if [[ "$file" == "$asset" || "$file" == "*$asset" ]]; then
    [[ -z "$expected" ]] || fail "actions/SHA256SUMS has more than one checksum for ${asset}"
    expected="$sum"
  fi
done <"$sums"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || fail "actions/SHA256SUMS has no checksum for ${asset}"

# What this step runs lives in a private directory of this job (mktemp -d: mode 0700, under
# RUNNER_TEMP, which the runner empties for every job). The tool cache outlives jobs on a persistent
# self-hosted runner and may be shared by every repository that runner serves, so a cached binary
# is never run in place: it is copied here, the copy is hashed, and the copy runs. Anything that
# rewrites the cache after the check changes nothing this step executes. A download lands here too
# and reaches the cache only after it was verified, for the next job (which checks it again).
scratch="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
private="$(mktemp -d "${scratch%/}/gantry-${name}.XXXXXX" 2>/dev/null)" ||
  fail "cannot create a private directory under ${scratch}; fix RUNNER_TEMP or its permissions, or set bin-dir"
trap 'rm -rf "$private"' EXIT
run_copy="${private}/${name}"
keep() {
  trap - EXIT
  resolved "$run_copy"
}

cache="${RUNNER_TOOL_CACHE:-${scratch}}/gantry/${release}/${target}"
cached="${cache}/${name}"
# cp keeps the entry's mode bits (0755 as cached), so the copy is executable with no chmod.
if [[ -f "$cached" && -x "$cached" ]] && cp -- "$cached" "$run_copy" 2>/dev/null; then
  sha256 "$run_copy"
  [[ "$digest" != "$expected" ]] || keep
  echo "The cached ${asset} does not match actions/SHA256SUMS; downloading it again"
fi

repository="${GANTRY_ACTION_REPOSITORY:?GANTRY_ACTION_REPOSITORY names this repository}"
url="${GITHUB_SERVER_URL:-https://github.com}/${repository}/releases/download/${release}/${asset}"
partial="${private}/${name}.partial"
echo "Downloading ${url}"
curl --fail --silent --show-error --location --retry 3 --connect-timeout 10 --max-time 300 \
  --output "$partial" "$url" || fail "could not download ${url}"
sha256 "$partial"
[[ "$digest" == "$expected" ]] ||
  fail "checksum mismatch for ${asset}: expected ${expected}, got ${digest}; the download was discarded"
chmod 0755 "$partial"
mv -f -- "$partial" "$run_copy"
# Best effort: a cache that cannot be written only costs the next job a download.
if mkdir -p "$cache" 2>/dev/null && entry="$(mktemp "${cache}/.${name}.XXXXXX" 2>/dev/null)"; then
  if ! { cp -- "$run_copy" "$entry" && chmod 0755 "$entry" && mv -f -- "$entry" "$cached"; } 2>/dev/null; then
    rm -f -- "$entry"
    echo "Could not write ${cached}; the next job downloads ${asset} again"
  fi
else
  echo "The tool cache ${cache} is not writable; the next job downloads ${asset} again"
fi
keep
