# shellcheck shell=bash disable=SC2034 # sim_pid and sim are for the caller
# github-sim for the act tests (sourced, not run).
#
# start_github_sim WORLD_YAML DIR  builds github-sim (debug, when stale) and starts it on a free
#                                  127.0.0.1 port with the world WORLD_YAML, its address in
#                                  DIR/sim.url; sets sim_pid and sim (the base URL, also what
#                                  GITHUB_API_URL and GITHUB_SERVER_URL point at); returns 1 when
#                                  it does not start. The caller kills sim_pid.
start_github_sim() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  (cd "$root" && cargo build --quiet --locked -p github-sim)
  "$root/target/debug/github-sim" --world "$1" >"$2/sim.url" &
  sim_pid=$!
  for _ in $(seq 100); do [[ -s "$2/sim.url" ]] && break; sleep 0.1; done
  sim="$(head -1 "$2/sim.url")"
  [[ "$sim" == http://127.0.0.1:* ]]
}
