#!/usr/bin/env bash
# The reusable workflows under act, on what the e2e chain does not reach:
#   1. k8s-deploy.yml (through the landing-zone example) on a push whose `before` commit is not in
#      the repository (a force-push): the targets job fails with an ::error (and a summary) instead of finding
#      no env file changed and passing; nothing is deployed.
#   2. service-ci.yml called twice in one workflow (a monorepo: one call per project path, one on
#      a runner named by a JSON list of labels, one by a single label): each
#      call uploads its own `build` and `required-ci-check` artifacts, and the upload-artifact
#      double refuses a name uploaded twice in a run, as upload-artifact v4 does.
#   3. k8s-deploy.yml on a landing zone with one env file per cluster (clusters/eu-prod/api.env,
#      clusters/eu-staging/api.env): without the `environments` map the targets job refuses to
#      send both to environment `api`; with it, each goes to its cluster's environment.
# Needs: act, git, the debug binaries (tests/act/run.sh builds them, then runs this).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT
fail() {
  echo "reusable workflows under act: $1"
  [[ -f "$work/act.log" ]] && tail -n 60 "$work/act.log"
  exit 1
}
# gantry's own pins map to this checkout: the examples' workflow pin and, at another commit, the
# workflows' action pins (every one of them: a pin left unmapped would be fetched from GitHub);
# upload-artifact maps to its double.
pin="$(grep -oE 'gantry-actions/gantry/\.github/workflows/service-ci\.yml@[0-9a-f]{40}' \
  "$root/examples/service/.github/workflows/ci.yml")"
sha="${pin##*@}"
mapfile -t own_shas < <(grep -rhoE 'gantry-actions/gantry/[A-Za-z0-9_./-]+@[0-9a-f]{40}' \
  "$root/.github/workflows" "$root/examples" | sed 's/.*@//' | sort -u)
upload="$(grep -oE 'actions/upload-artifact@[0-9a-f]{40}' "$root/.github/workflows/service-ci.yml" | sort -u)"
[[ -n "$sha" && ${#own_shas[@]} -gt 0 && $(wc -l <<<"$upload") == 1 ]] || fail "no pins found"
own_maps=()
for own in "${own_shas[@]}"; do
  own_maps+=(--local-repository "gantry-actions/gantry@${own}=$work/gantry")
done
# act tars a mapped repository for every action it runs: map a copy without target/.
"$root/release/copy-checkout.sh" "$work/gantry"

# new_repo DIR NAME: a git repository whose origin names github.com/NAME (act reads the name there).
new_repo() {
  git -C "$1" init --quiet --initial-branch=main
  git -C "$1" remote add origin "https://github.com/$2"
  git -C "$1" add .
  git -C "$1" -c user.name=dev -c user.email=dev@example.invalid commit --quiet -m "$2"
}
# act_run DIR EVENT_NAME EVENT_FILE WORKFLOW [ACT ARGS…]: act in host mode, offline, from a clean
# slate.
act_run() {
  (cd "$1" && XDG_CACHE_HOME="$work/act-cache" \
    env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY -u GITHUB_ENV -u GITHUB_PATH \
    act "$2" -W "$4" -e "$3" -P ubuntu-latest=-self-hosted -P self-hosted=-self-hosted "${@:5}" \
    "${own_maps[@]}" \
    --local-repository "${upload}=$root/tests/act/doubles/upload-artifact" \
    --env GANTRY_TEST_ARTIFACTS="$work/artifacts" --var GANTRY_BIN_DIR="$root/target/debug") \
    >"$work/act.log" 2>&1
}

# refused_saying PASSED TEXT ACT_RUN_ARGS...: the run must fail (else `fail PASSED`) and its log
# say TEXT. act (host mode) was seen once, in a clean CI run, to log no line of a step that failed
# within milliseconds (exit 2, the refusal's code, and nothing of it in the log), so one more run
# tells that apart from a refusal that does not say TEXT.
refused_saying() {
  local passed="$1" text="$2" _
  shift 2
  for _ in 1 2; do
    if act_run "$@"; then
      fail "$passed"
    fi
    grep -qF "$text" "$work/act.log" && return 0
  done
  return 1
}

# 1. A force-push: the event's `before` is not in the repository.
lz="$work/landing-zone"
mkdir -p "$lz"
cp -R "$root/examples/landing-zone/." "$lz/"
new_repo "$lz" acme/landing-zone
printf '{"ref": "refs/heads/main", "before": "%s", "after": "%s", "forced": true}\n' \
  "$(printf 'f%.0s' {1..40})" "$(git -C "$lz" rev-parse HEAD)" >"$work/push.json"
refused_saying "a push whose before commit is missing passed" \
  "is not in the checkout (a force-push, or history not fetched): cannot tell which env files changed" \
  "$lz" push "$work/push.json" .github/workflows/deploy.yml ||
  fail "the targets job did not say why it failed"
grep -q "No env file changed" "$work/act.log" && fail "the targets job found nothing to deploy"
grep -qE "deploy \(deploy/.*\.env\)" "$work/act.log" && fail "a deploy job ran"
echo "act: a push whose before commit is missing fails the targets job, nothing deploys"

# 2. service-ci twice in one workflow, one call per project.
mono="$work/monorepo"
mkdir -p "$mono/services/api" "$mono/services/web" "$mono/.github/workflows"
cp "$root/tests/act/project/pyproject.toml" "$mono/services/api/"
cp "$root/tests/act/project/pyproject.toml" "$mono/services/web/"
printf 'name: ci\non: push\npermissions: {}\njobs:\n' >"$mono/.github/workflows/ci.yml"
# api runs on a self-hosted runner named by a JSON list of labels, web on the default label.
declare -A runs_on=([api]="'[\"self-hosted\", \"linux\"]'" [web]=ubuntu-latest)
for project in api web; do
  cat >>"$mono/.github/workflows/ci.yml" <<YAML
  ${project}:
    uses: gantry-actions/gantry/.github/workflows/service-ci.yml@${sha}
    permissions:
      contents: read
      packages: write
    with:
      python: false
      path: services/${project}
      build-command: mkdir -p out && echo ${project} >out/built.txt
      build-artifact-path: services/${project}/out
      gantry-bin-dir: \${{ vars.GANTRY_BIN_DIR }}
      runs-on: ${runs_on[$project]}
YAML
done
new_repo "$mono" acme/monorepo
printf '{"ref": "refs/heads/main", "after": "%s"}\n' "$(git -C "$mono" rev-parse HEAD)" >"$work/mono.json"
act_run "$mono" push "$work/mono.json" .github/workflows/ci.yml || fail "two service-ci calls in one workflow failed"
for project in api web; do
  [[ "$(cat "$work/artifacts/build-services-$project/built.txt")" == "$project" ]] ||
    fail "no build-services-$project artifact"
  grep -q '"result": *"success"' "$work/artifacts/required-ci-check-services-$project/decision.json" ||
    fail "no passing required-ci-check-services-$project decision"
done
echo "act: two service-ci calls in one workflow upload build-services-{api,web} and their own gate decisions"

# 3. One env file per cluster, the same file name in each.
clusters="$work/clusters"
mkdir -p "$clusters/clusters/eu-prod" "$clusters/clusters/eu-staging" "$clusters/.github/workflows"
for cluster in eu-prod eu-staging; do
  printf 'IMAGE_NAME=registry.example/api\nIMAGE_VERSION=2.3.0\nDEPLOYMENT_NAME=api\n' \
    >"$clusters/clusters/$cluster/api.env"
done
k8s_pin="$(grep -oE 'gantry-actions/gantry/\.github/workflows/k8s-deploy\.yml@[0-9a-f]{40}' \
  "$root/examples/landing-zone/.github/workflows/deploy.yml")"
# deploy_workflow ENVIRONMENTS: the landing zone's caller with that `environments` input.
deploy_workflow() {
  cat >"$clusters/.github/workflows/deploy.yml" <<YAML
name: deploy
on: push
permissions: {}
jobs:
  k8s:
    uses: ${k8s_pin}
    permissions:
      contents: read
    with:
      env-files: clusters/*/*.env
      environments: "$1"
      gantry-bin-dir: \${{ vars.GANTRY_BIN_DIR }}
YAML
}
deploy_workflow ""
new_repo "$clusters" acme/clusters
printf '{"ref": "refs/heads/main", "before": "%s", "after": "%s"}\n' "$(printf '0%.0s' {1..40})" \
  "$(git -C "$clusters" rev-parse HEAD)" >"$work/clusters.json"
refused_saying "two env files named api.env both went to environment api" \
  "clusters/eu-prod/api.env and clusters/eu-staging/api.env would both deploy in environment api" \
  "$clusters" push "$work/clusters.json" .github/workflows/deploy.yml -j k8s ||
  fail "the targets job did not name the two env files"
deploy_workflow 'clusters/eu-prod/*=eu-prod\nclusters/eu-staging/*=eu-staging'
# The deploy jobs hold no kubeconfig here and fail; the targets job is what is checked.
act_run "$clusters" push "$work/clusters.json" .github/workflows/deploy.yml -j k8s || true
grep -qF "[k8s/k8s-deploy/targets] 🏁  Job succeeded" "$work/act.log" ||
  fail "the mapped landing zone's targets job failed"
for cluster in eu-prod eu-staging; do
  grep -qF "target: clusters/$cluster/api.env (environment $cluster)" "$work/act.log" ||
    fail "clusters/$cluster/api.env did not go to environment $cluster"
done
echo "act: env files of one name in two clusters are refused one environment, and mapped each to its own"
