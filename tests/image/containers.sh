# shellcheck shell=bash disable=SC2034 # registry_pid and registry are for the caller
# Container plumbing shared by the image tests and benchmarks (sourced, not run): podman and buildah
# confined to a directory of the caller's own, and a private registry.
#
# private_containers DIR  writes DIR/containers.conf (runc: crun cannot start containers on cgroup
#                         v1/hybrid hosts; the ulimits podman needs there) and DIR/storage.conf (an
#                         image store under DIR, so nothing touches the machine's own images) and
#                         exports CONTAINERS_CONF and CONTAINERS_STORAGE_CONF for every podman,
#                         buildah and skopeo call after it. Remove DIR after stopping any
#                         `podman system service` (unmount DIR/storage/overlay first).
# start_registry DIR      starts Debian's docker-registry on a free 127.0.0.1 port with storage in
#                         DIR/registry; sets registry_pid and registry (HOST:PORT); returns 1 with
#                         its log on stderr when it does not answer.

private_containers() {
  local dir="$1"
  printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n' \
    >"$dir/containers.conf"
  printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$dir/storage" "$dir/run" \
    >"$dir/storage.conf"
  export CONTAINERS_CONF="$dir/containers.conf" CONTAINERS_STORAGE_CONF="$dir/storage.conf"
}

start_registry() {
  local dir="$1" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  cat >"$dir/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/registry
http:
  addr: 127.0.0.1:$port
YAML
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  registry_pid=$!
  registry="127.0.0.1:$port"
  for _ in $(seq 50); do
    curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$dir/registry.log" >&2
  return 1
}
