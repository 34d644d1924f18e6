#!/usr/bin/env bash
# ticgen against `python -m setuptools_scm` on the same repository, side by side in one hyperfine
# run: process start to version (and, for ticgen, every output) written.
# Needs: cargo build --release -p ticgen; pip install setuptools-scm; hyperfine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
mkdir -p "$repo"
cat >"$repo/pyproject.toml" <<'TOML'
[build-system]
requires = ["setuptools>=64", "setuptools-scm>=8"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-service"
version = "1.2.3"

[tool.setuptools_scm]
TOML
git -C "$repo" init -q
git -C "$repo" -c user.name=bench -c user.email=bench@example.com add pyproject.toml
GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" git -C "$repo" -c user.name=bench -c user.email=bench@example.com \
  commit -q -m initial --date "2026-01-01T00:00:00Z"
git -C "$repo" tag v1.2.3
sha="$(git -C "$repo" rev-parse HEAD)"
printf '{"head_commit":{"id":"%s","timestamp":"2026-01-01T00:00:00Z"}}' "$sha" >"$work/event.json"

export GITHUB_ACTIONS=true GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
  GITHUB_REPOSITORY=acme/service GITHUB_EVENT_NAME=push GITHUB_EVENT_PATH="$work/event.json" \
  GITHUB_REF=refs/tags/v1.2.3 GITHUB_REF_NAME=v1.2.3 GITHUB_REF_TYPE=tag GITHUB_SHA="$sha"
cd "$repo"
hyperfine -N --warmup 10 --runs "${RUNS:-200}" --export-json "$work/times.json" \
  -n ticgen "$root/target/release/ticgen" \
  -n "python -m setuptools_scm" "python3 -m setuptools_scm"
python3 "$root/benches/median.py" "$work/times.json"
