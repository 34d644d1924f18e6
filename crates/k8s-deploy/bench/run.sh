#!/usr/bin/env bash
# Side-by-side benchmark of k8s-deploy and kubectl on kube-sim (real time, time scale 1).
# Usage: crates/k8s-deploy/bench/run.sh [target-dir]   (needs release builds of k8s-deploy and kube-sim)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../../target/release}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done; }

"$bin/kube-sim" --manifests "$here/manifests.yaml" --images "$here/images.yaml" \
  --kubeconfig-out "$work/kubeconfig" > "$work/url" &
until [ -s "$work/url" ]; do sleep 0.05; done
export KUBECONFIG=$work/kubeconfig
kubectl -n bench rollout status deployment/web >/dev/null
kubectl -n bench rollout status deployment/web-kubectl >/dev/null

kubectl -n bench get deployments -w --no-headers \
  -o custom-columns=N:.metadata.name,G:.metadata.generation,O:.status.observedGeneration,U:.status.updatedReplicas,A:.status.availableReplicas,R:.status.replicas \
  | stamp > "$work/deployments.log" &
kubectl -n bench get pods -w --no-headers | stamp > "$work/pods.log" &
sleep 0.5

deploy() { # image
  /usr/bin/time -v -o "$work/time-$2.txt" "$bin/k8s-deploy" --kubeconfig "$work/kubeconfig" \
    --namespace bench --deployment web --image "$1" --dry-run false 2>&1 | stamp > "$work/action-$2.log" || true
}
kubectl_deploy() { # image; -v=6 logs each API request to stderr
  kubectl -v=6 -n bench set image deployment/web-kubectl "app=$1" >/dev/null 2>"$work/kubectl-requests-$2.log"
  { kubectl -v=6 -n bench rollout status deployment/web-kubectl 2>>"$work/kubectl-requests-$2.log" \
      && echo "exit 0" || echo "exit $?"; } | stamp > "$work/kubectl-$2.log"
}

# Success: both roll out 1.1 at the same moment.
deploy registry.example/app:1.1 success & a=$!
kubectl_deploy registry.example/app:1.1 success & b=$!
wait $a $b
# Failure: both roll out an image that cannot be pulled.
deploy registry.example/app:missing failure & a=$!
kubectl_deploy registry.example/app:missing failure & b=$!
wait $a $b
sleep 0.5
python3 "$here/analyse.py" "$work"
