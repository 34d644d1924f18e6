#!/usr/bin/env bash
# Makes the release commit: `actions/SHA256SUMS` and `actions/RELEASE` on top of the tagged source
# commit, then moves TAG to it (an annotated tag stays annotated, with its message) and, only with
# --major, points the floating major tag (`v1` for `v1.2.3`; never for a pre-release) there too.
# With --image REPOSITORY@sha256:DIGEST (the pushed image, e.g. ghcr.io/acme/gantry@sha256:…), the
# Docker actions (actions/*/docker/action.yml) are pinned to that image by digest. With --push
# REMOTE, force-pushes the moved tags atomically.
#
# The reusable workflows (.github/workflows) call this repository's actions, and the examples
# (examples/) call the reusable workflows, all pinned by full SHA. A development commit has no
# checksums, and a commit cannot name itself, so the release is up to three commits: the checksums
# commit (the files above); on top of it one whose workflows pin
# `gantry-actions/gantry/actions/<name>@<checksums commit>`; on top of that one whose examples pin
# `gantry-actions/gantry/.github/workflows/<name>.yml@<the commit below>` (each renamed to
# --repository OWNER/NAME's, for a fork; each pin commented `# TAG`). A commit with nothing to
# move is left out. The tag points at the last; all carry the checksums.
#
# Usage: release/commit.sh TAG SHA256SUMS_FILE [--major] [--image REPOSITORY@sha256:DIGEST]
#          [--repository OWNER/NAME] [--push REMOTE]
#
# Deterministic: the commits' author, committer and dates come from the source commit's committer
# date and a fixed identity, so a re-run on the same source and checksums yields the same commits.
# A re-run on a tag that already points at its release commit rebuilds from the tagged source.
set -euo pipefail

usage() {
  echo "usage: release/commit.sh TAG SHA256SUMS_FILE [--major] [--image REPOSITORY@sha256:DIGEST] [--repository OWNER/NAME] [--push REMOTE]" >&2
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
[[ -z "$image" || "$image" =~ ^[a-z0-9._:/-]+@sha256:[0-9a-f]{64}$ ]] ||
  fail "--image ${image} is not REPOSITORY@sha256:DIGEST; pass the pushed image's digest (release/image.sh --push writes it)"
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
  # The development form names no published image and says so; the release pins the pushed one.
  while IFS= read -r path; do
    blob="$(git show "${source}:${path}" |
      sed -e '/^# Development form: /d' -e "s|docker://ghcr.io/OWNER/gantry:not-a-release|docker://${image}|" |
      git hash-object -w --stdin)"
    git update-index --cacheinfo "100644,${blob},${path}"
  done < <(git ls-tree -r --name-only "$source" actions | grep '/docker/action.yml$' || true)
fi
tree="$(git write-tree)"

when="$(git log -1 --format=%cI "$source")"
export GIT_AUTHOR_NAME="gantry release" GIT_AUTHOR_EMAIL="release@gantry.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="$when" GIT_COMMITTER_DATE="$when"
checksums="$(git commit-tree "$tree" -p "$source" -m "Release ${tag}: checksums of the release assets")"

# repin PARENT PATTERN DIR MESSAGE: a commit on PARENT whose files under DIR have every
# `gantry-actions/gantry/<path>@<sha> # …` matching PATTERN (the <path> part) moved to
# `<repository>/<path>@PARENT # TAG`; PARENT itself when nothing moves.
repin() {
  local parent="$1" pin="gantry-actions/gantry/($2)@[0-9a-f]{40}( #.*)?$" dir="$3" before after path blob
  before="$(git write-tree)"
  while IFS= read -r path; do
    blob="$(git show "${parent}:${path}" |
      sed -E "s|${pin}|${repository}/\1@${parent} # ${tag}|" | git hash-object -w --stdin)"
    git update-index --cacheinfo "100644,${blob},${path}"
  done < <(git grep -l -E "$pin" "$parent" -- "$dir" | sed "s|^${parent}:||" || true)
  after="$(git write-tree)"
  if [[ "$after" == "$before" ]]; then
    echo "$parent"
  else
    git commit-tree "$after" -p "$parent" -m "$4"
  fi
}
# The workflows' pins of this repository's actions move to the checksums commit, then the examples'
# pins of the reusable workflows to the commit that holds those workflows.
workflows="$(repin "$checksums" 'actions/[A-Za-z0-9_./-]+' .github/workflows \
  "Release ${tag}: the workflows use the actions of ${checksums:0:12}")"
commit="$(repin "$workflows" '\.github/workflows/[A-Za-z0-9_.-]+' examples \
  "Release ${tag}: the examples call the workflows of ${workflows:0:12}")"
unset GIT_INDEX_FILE

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
echo "release commit ${commit} (workflows ${workflows}, checksums commit ${checksums}) on ${source}: ${refs[*]}"
if [[ -n "$remote" ]]; then
  git push --quiet --force --atomic "$remote" "${refs[@]}"
fi
