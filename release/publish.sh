#!/usr/bin/env bash
# Publishes a release: finds or creates the GitHub release of TAG as a draft, uploads every file
# of DIST_DIR (the binaries and SHA256SUMS) as assets, then publishes it, so users never see a
# release without its assets. Re-runnable: an asset already uploaded with the same SHA-256 is kept;
# one with other bytes stops the run (exit 1) rather than being replaced.
#
# Usage: release/publish.sh TAG DIST_DIR
# Environment: GITHUB_TOKEN (contents: write), GITHUB_REPOSITORY (owner/name), GITHUB_API_URL
# (default https://api.github.com; github-sim's base URL for a rehearsal). Needs curl and jq.
set -euo pipefail

tag="${1:?usage: release/publish.sh TAG DIST_DIR}"
dist="${2:?usage: release/publish.sh TAG DIST_DIR}"
api="${GITHUB_API_URL:-https://api.github.com}"
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY names the repository (owner/name)}"
: "${GITHUB_TOKEN:?GITHUB_TOKEN is a token with contents: write}"
[[ -f "$dist/SHA256SUMS" ]] || {
  echo "::error title=publish failed::${dist}/SHA256SUMS is missing; run release/checksums.sh ${dist}"
  exit 2
}

body="$(mktemp)"
trap 'rm -f "$body"' EXIT

# call METHOD URL [curl args...]: the body lands in $body, the status is printed.
call() {
  local method="$1" url="$2"
  shift 2
  curl --silent --show-error --retry 3 --connect-timeout 10 --max-time 600 \
    -X "$method" -o "$body" -w '%{http_code}' \
    -H "Authorization: Bearer ${GITHUB_TOKEN}" \
    -H "Accept: application/vnd.github+json" \
    -H "X-GitHub-Api-Version: 2022-11-28" \
    "$@" "$url"
}

expect() {
  local want="$1" got="$2" what="$3"
  if [[ "$got" != "$want" ]]; then
    echo "::error title=publish failed::${what}: HTTP ${got}: $(jq -r '.message? // empty' "$body" 2>/dev/null)"
    exit 1
  fi
}

prerelease=false
[[ "$tag" == *-* ]] && prerelease=true

status="$(call GET "${api}/repos/${repo}/releases?per_page=100")"
expect 200 "$status" "list the releases of ${repo}"
release="$(jq -c --arg tag "$tag" 'map(select(.tag_name == $tag)) | first // empty' "$body")"
if [[ -z "$release" ]]; then
  request="$(jq -n --arg tag "$tag" --argjson pre "$prerelease" \
    '{tag_name: $tag, name: $tag, draft: true, prerelease: $pre}')"
  status="$(call POST "${api}/repos/${repo}/releases" -H 'Content-Type: application/json' --data "$request")"
  expect 201 "$status" "create the release ${tag}"
  release="$(jq -c . "$body")"
fi
id="$(jq -r .id <<<"$release")"
upload_url="$(jq -r '.upload_url | sub("\\{.*\\}$"; "")' <<<"$release")"
status="$(call GET "${api}/repos/${repo}/releases/${id}/assets?per_page=100")"
expect 200 "$status" "list the assets of ${tag}"
existing="$(jq -c . "$body")"

for file in "$dist"/*; do
  [[ -f "$file" ]] || continue
  name="$(basename "$file")"
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  present="$(jq -r --arg name "$name" 'map(select(.name == $name)) | first | .digest // empty' <<<"$existing")"
  if [[ -n "$present" ]]; then
    [[ "$present" == "$digest" ]] || {
      echo "::error title=publish failed::asset ${name} of ${tag} already exists with other bytes (${present}); delete it by hand if this build is the right one"
      exit 1
    }
    echo "kept ${name} (already uploaded, same SHA-256)"
    continue
  fi
  status="$(call POST "${upload_url}?name=${name}" \
    -H 'Content-Type: application/octet-stream' --data-binary "@${file}")"
  expect 201 "$status" "upload ${name}"
  echo "uploaded ${name} ${digest}"
done

latest=true
[[ "$prerelease" == true ]] && latest=false
status="$(call PATCH "${api}/repos/${repo}/releases/${id}" -H 'Content-Type: application/json' \
  --data "$(jq -n --argjson latest "$latest" '{draft: false, make_latest: ($latest | tostring)}')")"
expect 200 "$status" "publish the release ${tag}"
echo "published $(jq -r .html_url "$body")"
