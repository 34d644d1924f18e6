#!/usr/bin/env bash
# Peak RSS of the standalone kube-sim binary alone while 100 Deployments x 10 replicas roll out
# and then all change image at once, at time scale 1. Needs: cargo build --release -p kube-sim; kubectl.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
{
  echo "apiVersion: v1"
  echo "kind: Namespace"
  echo "metadata: {name: bench}"
  for i in $(seq 1 100); do
    cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-$i, namespace: bench}
spec:
  replicas: 10
  selector: {matchLabels: {app: web-$i}}
  template:
    metadata: {labels: {app: web-$i}}
    spec:
      containers: [{name: app, image: "registry.example/app:1.0"}]
YAML
  done
} >"$work/manifests.yaml"
printf 'images:\n  - image: "registry.example/app:*"\n    pull: ok\n    pull_time: 1s\n    ready_after: 2s\n' >"$work/images.yaml"
"$root/target/release/kube-sim" --port 0 --manifests "$work/manifests.yaml" --images "$work/images.yaml" \
  --kubeconfig-out "$work/kubeconfig" --time-scale 1 >"$work/sim.log" &
sim=$!
trap 'kill $sim 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [[ -s "$work/sim.log" ]] && break
  kill -0 "$sim" 2>/dev/null || { echo "kube-sim exited; build it first: cargo build --release -p kube-sim" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$work/sim.log" ]] || { echo "kube-sim did not start within 10 s" >&2; exit 1; }
export KUBECONFIG="$work/kubeconfig"
sleep 5
echo "after creating 100 x 10: $(grep -E 'VmRSS' /proc/$sim/status)"
# shellcheck disable=SC2046
kubectl -n bench set image $(printf 'deployment/web-%s ' $(seq 1 100)) app=registry.example/app:1.1 >/dev/null
for i in $(seq 1 100); do kubectl -n bench rollout status "deployment/web-$i" --timeout 60s >/dev/null; done
echo "all 100 rolled out to 1.1; pods: $(kubectl -n bench get pods --no-headers | wc -l)"
echo "kube-sim alone: $(grep -E 'VmRSS|VmHWM' /proc/$sim/status | tr -s ' \t' ' ' | tr '\n' ' ')"
