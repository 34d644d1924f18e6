#!/usr/bin/env bash
# Makes the release commit: `actions/SHA256SUMS` and `actions/RELEASE` on top of the tagged source
# commit, then moves TAG to it (an annotated tag stays annotated, with its message) and, only with
# --major, points the floating major tag (`v1` for `v1.2.3`; never for a pre-release) there too.
# With --image REPOSITORY (e.g. ghcr.io/acme/gantry), the Docker actions
# (actions/*/docker/action.yml) are pinned to that image at this version (the tag without `v`, as
# ticgen tags it). With --push REMOTE, force-pushes the moved tags atomically.
#
# The reusable workflows (.github/workflows) call this repository's actions, pinned by full SHA. A
# development commit has no checksums, so those pins are moved to the checksums commit: the release
# is two commits, the checksums commit (the files above) and on top of it the release commit, whose
# workflows pin `gantry-actions/gantry/actions/<name>@<checksums commit>` (or --repository
# OWNER/NAME's, for a fork). The tag points at the release commit; both carry the checksums.
#
# Usage: release/commit.sh TAG SHA256SUMS_FILE [--major] [--image REPOSITORY] [--repository OWNER/NAME]
#          [--push REMOTE]
#
# Deterministic: the commits' author, committer and dates come from the source commit's committer
# date and a fixed identity, so a re-run on the same source and checksums yields the same commits.
# A re-run on a tag that already points at its release commit rebuilds from the tagged source.
set -euo pipefail

usage() {
  echo "usage: release/commit.sh TAG SHA256SUMS_FILE [--major] [--image REPOSITORY] [--repository OWNER/NAME] [--push REMOTE]" >&2
  exit 2
}
[[ $# -ge 2 ]] || usage
tag="$1"
sums="$2"
shift 2
major=""
image=""
repository=gantry-actions/gantry
remote=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --major) major=yes ;;
    --push)
      [[ $# -ge 2 ]] || usage
      remote="$2"
      shift
      ;;
    --image)
      [[ $# -ge 2 ]] || usage
      image="${2,,}"
      shift
      ;;
    --repository)
      [[ $# -ge 2 && "$2" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || usage
      repository="$2"
      shift
      ;;
    *) usage ;;
  esac
  shift
done

fail() {
  echo "::error title=release commit failed::$1"
  exit 2
}
[[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
  fail "tag ${tag} is not a release tag like v1.2.3 or v1.2.3-rc.1"
[[ -s "$sums" ]] || fail "${sums} is missing or empty; write it with release/checksums.sh"
git rev-parse --verify --quiet "refs/tags/${tag}" >/dev/null || fail "no tag ${tag} in this repository"

source="$(git rev-parse "${tag}^{commit}")"
while [[ "$(git show "${source}:actions/RELEASE" 2>/dev/null | tr -d '[:space:]')" == "$tag" ]]; do
  source="$(git rev-parse "${source}^")"
done

index="$(mktemp)"
trap 'rm -f "$index"' EXIT
export GIT_INDEX_FILE="$index"
git read-tree "$source"
git update-index --add --cacheinfo "100644,$(git hash-object -w -- "$sums"),actions/SHA256SUMS"
git update-index --add --cacheinfo "100644,$(printf '%s\n' "$tag" | git hash-object -w --stdin),actions/RELEASE"
if [[ -n "$image" ]]; then
  version="${tag#v}"
  pinned="docker://${image}:${version//+/_}"
  while IFS= read -r path; do
    blob="$(git show "${source}:${path}" | sed "s|docker://ghcr.io/OWNER/gantry:RELEASE|${pinned}|" | git hash-object -w --stdin)"
    git update-index --cacheinfo "100644,${blob},${path}"
  done < <(git ls-tree -r --name-only "$source" actions | grep '/docker/action.yml$' || true)
fi
tree="$(git write-tree)"

when="$(git log -1 --format=%cI "$source")"
export GIT_AUTHOR_NAME="gantry release" GIT_AUTHOR_EMAIL="release@gantry.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="$when" GIT_COMMITTER_DATE="$when"
checksums="$(git commit-tree "$tree" -p "$source" -m "Release ${tag}: checksums of the release assets")"

# The workflows' pins of this repository's actions move to the checksums commit.
pin_pattern='gantry-actions/gantry/actions/([A-Za-z0-9_-]+)@[0-9a-f]{40}( # [^ ]+)?'
while IFS= read -r path; do
  blob="$(git show "${checksums}:${path}" |
    sed -E "s|${pin_pattern}|${repository}/actions/\1@${checksums} # ${tag}|g" | git hash-object -w --stdin)"
  git update-index --cacheinfo "100644,${blob},${path}"
done < <(git grep -l -E "$pin_pattern" "$checksums" -- .github/workflows | sed "s|^${checksums}:||" || true)
pinned_tree="$(git write-tree)"
unset GIT_INDEX_FILE
commit="$checksums"
if [[ "$pinned_tree" != "$tree" ]]; then
  commit="$(git commit-tree "$pinned_tree" -p "$checksums" \
    -m "Release ${tag}: the workflows use the actions of ${checksums:0:12}")"
fi

if [[ "$(git cat-file -t "refs/tags/${tag}")" == tag ]]; then
  message="$(git tag -l --format='%(contents)' "$tag")"
  git tag -f -a "$tag" -m "$message" "$commit" >/dev/null
else
  git tag -f "$tag" "$commit" >/dev/null
fi
refs=("refs/tags/${tag}")
if [[ -n "$major" ]]; then
  [[ "$tag" != *-* ]] || fail "--major: ${tag} is a pre-release; a floating major tag only follows final releases"
  floating="${tag%%.*}"
  git tag -f "$floating" "$commit" >/dev/null
  refs+=("refs/tags/${floating}")
fi
echo "release commit ${commit} (checksums commit ${checksums}) on ${source}: ${refs[*]}"
if [[ -n "$remote" ]]; then
  git push --quiet --force --atomic "$remote" "${refs[@]}"
fi
