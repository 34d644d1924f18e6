#!/usr/bin/env bash
# The Docker form of an action under act, in container mode through podman's Docker-compatible
# socket: the image built from release binaries (release/image.sh, no base image pulled) is pushed
# to a private registry, a release commit (release/commit.sh --image) pins actions/ticgen/docker to
# it by the pushed digest; act runs the job in a container (a busybox image built here, as no
# runner image can be pulled), the step in the release image, and a later step reads the outputs
# back.
#
# Usage: tests/act/docker.sh DIST_DIR   (release assets of both Linux targets)
# Needs: act, podman, runc, buildah, busybox (static, Debian's busybox-static), docker-registry.
# Containers run with runc and images live in a storage of the test's own (tests/image/containers.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dist="$(cd "${1:?usage: tests/act/docker.sh DIST_DIR}" && pwd)"
work="$(mktemp -d)"
service_pid=""
registry_pid=""
cleanup() {
  [[ -n "$registry_pid" ]] && kill "$registry_pid" 2>/dev/null
  if [[ -n "$service_pid" ]]; then
    kill "$service_pid" 2>/dev/null
    wait "$service_pid" 2>/dev/null || true
  fi
  # The service leaves the private storage's overlay mounted.
  mountpoint -q "$work/storage/overlay" && umount "$work/storage/overlay"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "act docker test failed: $1"
  [[ -f "$work/act.log" ]] && cat "$work/act.log"
  exit 1
}
export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.invalid GIT_COMMITTER_NAME=dev GIT_COMMITTER_EMAIL=dev@example.invalid

. "$root/tests/image/containers.sh"
private_containers "$work"

start_registry "$work" || fail "the registry did not start"

# The image, pushed; the release commit pins it by the digest the push reports. act runs it with
# --pull=false, so podman must know it under that digest: pulled by it.
SOURCE_DATE_EPOCH=1767225600 IMAGE_TLS_VERIFY=false GITHUB_OUTPUT="$work/image.out" \
  "$root/release/image.sh" "$dist" "$registry/acme/gantry:1.2.3" "org.opencontainers.image.version=1.2.3" --push >/dev/null
digest="$(sed -n 's/^digest=//p' "$work/image.out")"
[[ "$digest" == sha256:* ]] || fail "release/image.sh reported no digest"
image="$registry/acme/gantry@$digest"
podman pull --quiet --tls-verify=false "$image" >/dev/null

# The job container: a shell and the few tools act uses, statically linked.
jobroot="$work/job-image/rootfs"
mkdir -p "$jobroot/bin" "$jobroot/tmp"
install -m 0755 "$(command -v busybox)" "$jobroot/bin/busybox"
for tool in $(busybox --list); do
  [[ "$tool" == busybox ]] || ln -s busybox "$jobroot/bin/$tool"
done
printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\n' >"$work/job-image/Containerfile"
buildah build --quiet --timestamp 0 -t localhost/gantry-act-job:busybox "$work/job-image" >/dev/null

# A release commit of this checkout's actions/ with the Docker actions pinned to that image.
src="$work/src"
mkdir -p "$src"
git -C "$root" ls-files -z actions | (cd "$root" && xargs -0 tar -cf -) | tar -xf - -C "$src"
git -C "$src" init --quiet --initial-branch=main
git -C "$src" add .
git -C "$src" commit --quiet -m "gantry 1.2.3"
git -C "$src" tag v1.2.3
(cd "$dist" && sha256sum -- *-unknown-linux-musl) >"$work/SHA256SUMS"
(cd "$src" && "$root/release/commit.sh" v1.2.3 "$work/SHA256SUMS" --image "$image") >/dev/null
git -C "$src" show v1.2.3:actions/ticgen/docker/action.yml | grep -qxF "  image: docker://$image" ||
  fail "the release commit does not pin the image by digest"
git -C "$src" checkout --quiet v1.2.3

# podman's Docker API on a private socket.
podman system service --time=0 "unix://$work/podman.sock" 2>"$work/service.log" &
service_pid=$!
for _ in $(seq 100); do [[ -S "$work/podman.sock" ]] && break; sleep 0.1; done
[[ -S "$work/podman.sock" ]] || fail "podman system service did not start"

cd "$root"
XDG_CACHE_HOME="$work/act-cache" DOCKER_HOST="unix://$work/podman.sock" \
  env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY -u GITHUB_ENV -u GITHUB_PATH \
  act push -W tests/act/docker.yml -P ubuntu-latest=localhost/gantry-act-job:busybox --pull=false \
  --local-repository "acme/gantry@v1.2.3=$src" >"$work/act.log" 2>&1 || fail "act run failed"
grep -qF "docker-tic=2.0.0-main.g1111111" "$work/act.log" || fail "the output did not reach the later step"
echo "act: the Docker form of ticgen ran in the release image through podman; its tic reached a later step"
