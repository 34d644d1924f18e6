# shellcheck shell=bash disable=SC2034 # sim_pid and sim are for the caller
# github-sim for the shell tests and benchmarks (sourced, not run).
#
# start_github_sim WORLD_YAML DIR [BINARY]  starts github-sim on a free 127.0.0.1 port with the
#                                  world WORLD_YAML (BINARY, or this checkout's debug build, built
#                                  when stale), its address in DIR/sim.url and its log in
#                                  DIR/sim.err; sets sim_pid and sim (the base URL, also what
#                                  GITHUB_API_URL and GITHUB_SERVER_URL point at); returns 1 with
#                                  the log on stderr when it does not start. The caller kills sim_pid.
start_github_sim() {
  local binary="${3:-}"
  if [[ -z "$binary" ]]; then
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    (cd "$root" && cargo build --quiet --locked -p github-sim)
    binary="$root/target/debug/github-sim"
  fi
  "$binary" --port 0 --world "$1" >"$2/sim.url" 2>"$2/sim.err" &
  sim_pid=$!
  for _ in $(seq 200); do [[ -s "$2/sim.url" ]] && break; sleep 0.05; done
  sim="$(head -1 "$2/sim.url")"
  [[ "$sim" == http://127.0.0.1:* ]] || {
    cat "$2/sim.err" >&2
    return 1
  }
}
