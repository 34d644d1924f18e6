#!/usr/bin/env python3
"""A bad canary, side by side: how long it serves errors under k8s-deploy's `strategy: canary`
(an error-ratio analysis in a real Prometheus removes it) and under Azure/k8s-deploy's canary
(no metric gate: it serves until a person runs `action: reject`).

    cargo build -p kube-sim -p k8s-deploy && benches/canary-detection.py [--runs 5] [--window 60]

Needs: Debian's `prometheus` (.ci/install), `kubectl`, `node` (20 or later), `git`. Every run has
its own kube-sim (`--time-scale 1 --metrics-port`, so rates are per real second) holding
`prod/web`, 5 pods of a good image behind the Service `web`, and a Prometheus scraping the
exporter every second. The new image answers 20 % of its requests with 500.

gantry: k8s-deploy with one step `weight: 20` (1 canary pod) and an error-ratio analysis; from the
first 5xx sample Prometheus holds (and from the canary's first ready pod) to the moment
`web-canary` is gone from the API, and the 500s the canary served. Over `--runs` runs.

Azure/k8s-deploy: its bundled `lib/index.js` at the newest release tag (taken from `--azure-git`,
a clone of github.com/Azure/k8s-deploy, or cloned into a temp dir; its LICENSE is kept beside the
copy) run under node as the runner runs it (`INPUT_*`), `action: deploy`, `strategy: canary`,
`traffic-split-method: pod`, `percentage: 20` (1 canary and 1 baseline pod), then `--window`
seconds of watching, then `action: reject` as a person would run it. kube-sim serves no OpenAPI
documents, so `kubectl apply` cannot validate client-side; the action's kubectl gets
`--validate=false` on `apply` (a shim on PATH), nothing else changes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE, NAME, CANARY = "prod", "web", "web-canary"
GOOD, BAD = "registry.example/web:good", "registry.example/web:bad"

IMAGES = f"""images:
  - image: "{GOOD}"
    traffic: {{rps: 10, error_ratio: 0}}
  - image: "{BAD}"
    traffic: {{rps: 10, error_ratio: 0.2}}
"""
DEPLOYMENT = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {NAME}, namespace: {NAMESPACE}}}
spec:
  replicas: 5
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: app, image: "IMAGE"}}]
"""
CLUSTER = f"""apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
{DEPLOYMENT.replace("IMAGE", GOOD)}---
apiVersion: v1
kind: Service
metadata: {{name: {NAME}, namespace: {NAMESPACE}}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"""
# The canary's error ratio over the last 5 s; a few scrapes of the new pod first (`rate` needs two).
STEPS = """- weight: 20
  analysis:
    prometheus:
      address: PROMETHEUS
      query: >-
        (sum(rate(http_requests_total{namespace="{{namespace}}",deployment="{{canary}}",code=~"5.."}[5s])) or vector(0))
        / sum(rate(http_requests_total{namespace="{{namespace}}",deployment="{{canary}}"}[5s]))
    success-condition: result < 0.01
    interval: 1s
    count: 3
    initial-delay: 3s
"""
KUBECTL_SHIM = """#!/bin/sh
# kube-sim serves no OpenAPI documents (GET /openapi/v3 and /openapi/v2 are 404), so client-side
# validation cannot run: apply without it, as kubectl's own error message suggests.
if [ "$1" = apply ]; then shift; exec "$REAL_KUBECTL" apply --validate=false "$@"; fi
exec "$REAL_KUBECTL" "$@"
"""


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what: str, ready, timeout: float = 30.0) -> None:
    until = time.time() + timeout
    while not ready():
        if time.time() > until:
            sys.exit(f"{what} within {timeout:.0f} s")
        time.sleep(0.05)


class World:
    """One kube-sim and one Prometheus scraping its exporter, in a temp dir, stopped by close()."""

    def __init__(self, bins: Path, work: Path):
        self.work = work
        work.mkdir(parents=True)
        (work / "cluster.yaml").write_text(CLUSTER)
        (work / "images.yaml").write_text(IMAGES)
        self.kubeconfig = work / "kubeconfig"
        self.sim = subprocess.Popen(
            [bins / "kube-sim", "--port", "0", "--manifests", work / "cluster.yaml",
             "--images", work / "images.yaml", "--kubeconfig-out", self.kubeconfig,
             "--time-scale", "1", "--metrics-port", "0"],
            stdout=subprocess.PIPE, stderr=open(work / "sim.err", "w"), text=True)
        self.api = self.sim.stdout.readline().strip()
        self.metrics = self.sim.stdout.readline().strip()
        if not self.metrics.endswith("/metrics"):
            sys.exit(f"kube-sim did not start with --metrics-port: {(work / 'sim.err').read_text()}")
        port = free_port()
        self.prometheus_url = f"http://127.0.0.1:{port}"
        target = urllib.parse.urlparse(self.metrics)
        (work / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: kube-sim\n    honor_labels: true\n    scrape_timeout: 1s\n"
            f"    metrics_path: {target.path}\n    static_configs: [{{targets: ['{target.netloc}']}}]\n")
        self.prometheus = subprocess.Popen(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "w"), cwd=work)
        wait("prometheus ready", lambda: self._status("/-/ready") == 200)
        wait("prometheus scraping kube-sim", self._scraped)
        wait("prod/web rolled out", lambda: self.deployment(NAME).get("status", {}).get("readyReplicas") == 5)

    def _status(self, path: str) -> int:
        try:
            return get(self.prometheus_url + path)[0]
        except OSError:
            return 0

    def _scraped(self) -> bool:
        try:
            targets = json.loads(get(self.prometheus_url + "/api/v1/targets")[1])
        except (OSError, ValueError):
            return False
        active = targets["data"]["activeTargets"]
        return bool(active) and all(t["health"] == "up" for t in active)

    def deployment(self, name: str) -> dict:
        status, body = get(f"{self.api}/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{name}")
        return json.loads(body) if status == 200 else {}

    def canary_errors(self) -> int:
        """The 500s the canary's pods have answered, as the exporter serves them now."""
        _, body = get(self.metrics)
        pattern = re.compile(r'^http_requests_total\{.*deployment="web-canary".*code="500"\} (\d+)')
        return sum(int(m.group(1)) for m in map(pattern.match, body.splitlines()) if m)

    def first_error_sample(self) -> float | None:
        """When Prometheus first holds a 5xx sample of the canary (its scrape time)."""
        query = f'http_requests_total{{namespace="{NAMESPACE}",deployment="{CANARY}",code=~"5.."}}[30m]'
        _, body = get(f"{self.prometheus_url}/api/v1/query?query={urllib.parse.quote(query)}")
        starts = [float(s["values"][0][0]) for s in json.loads(body)["data"]["result"]]
        return min(starts) if starts else None

    def close(self) -> None:
        for child in (self.prometheus, self.sim):
            child.terminate()
            child.wait()


class Watch(threading.Thread):
    """Polls the canary every 50 ms: first seen, first ready pod, gone; the most 500s it served."""

    def __init__(self, world: World):
        super().__init__(daemon=True)
        self.world, self.stop = world, threading.Event()
        self.created = self.ready = self.gone = None
        self.errors = 0

    def run(self) -> None:
        while not self.stop.is_set():
            now, canary = time.time(), self.world.deployment(CANARY)
            if canary and self.created is None:
                self.created = now
            if canary.get("status", {}).get("readyReplicas") and self.ready is None:
                self.ready = now
            if not canary and self.created is not None and self.gone is None:
                self.gone = now
            self.errors = max(self.errors, self.world.canary_errors())
            time.sleep(0.05)

    def finish(self) -> None:
        self.stop.set()
        self.join()


def gantry_run(bins: Path, world: World) -> dict:
    step = world.work / "step"
    step.mkdir()
    (step / "event.json").write_text("{}")
    env = {
        "PATH": os.environ["PATH"], "HOME": str(step), "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(step / "output"), "GITHUB_STEP_SUMMARY": str(step / "summary"),
        "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(step / "event.json"),
        "GITHUB_REPOSITORY": "acme/web", "GITHUB_RUN_ID": "1", "GITHUB_REF_NAME": "v1.1.0",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "INPUT_KUBECONFIG": world.kubeconfig.read_text(), "INPUT_NAMESPACE": NAMESPACE,
        "INPUT_DEPLOYMENT": NAME, "INPUT_IMAGE": BAD, "INPUT_STRATEGY": "canary",
        "INPUT_STEPS": STEPS.replace("PROMETHEUS", world.prometheus_url), "INPUT_TIMEOUT": "60s",
    }
    (step / "output").write_text("")
    watch = Watch(world)
    watch.start()
    started = time.time()
    done = subprocess.run([bins / "k8s-deploy"], env=env, capture_output=True, text=True)
    ended = time.time()
    wait("web-canary removed", lambda: watch.gone is not None, 10)
    watch.finish()
    first = world.first_error_sample()
    untouched = world.deployment(NAME)["spec"]["template"]["spec"]["containers"][0]["image"] == GOOD
    if done.returncode != 1 or first is None or watch.ready is None or not untouched:
        sys.exit(f"k8s-deploy exited {done.returncode} (expected 1, the analysis failing, prod/web untouched):\n{done.stdout}{done.stderr}")
    return {"first_5xx_to_removed": watch.gone - first, "ready_to_removed": watch.gone - watch.ready,
            "errors": watch.errors, "step": ended - started, "exit": done.returncode}


def azure_source(args, work: Path) -> tuple[Path, str, str]:
    """lib/index.js (with package.json, action.yml, LICENSE) of the newest vX.Y.Z tag, its SHA."""
    git = args.azure_git
    if git is None:
        git = work / "azure.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", "--filter=blob:none",
                        "https://github.com/Azure/k8s-deploy", git], check=True)
    tags = subprocess.run(["git", "--git-dir", git, "tag", "--list", "v*.*.*", "--sort=-v:refname"],
                          capture_output=True, text=True, check=True).stdout.split()
    tag = args.azure_ref or tags[0]
    sha = subprocess.run(["git", "--git-dir", git, "rev-parse", f"{tag}^{{commit}}"],
                         capture_output=True, text=True, check=True).stdout.strip()
    action = work / "azure-k8s-deploy"
    action.mkdir()
    archive = subprocess.run(["git", "--git-dir", git, "archive", sha, "lib/index.js", "package.json",
                              "action.yml", "LICENSE"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", action], input=archive, check=True)
    return action, tag, sha


def azure_step(action: Path, world: World, verb: str) -> tuple[float, subprocess.CompletedProcess]:
    runner = world.work / f"runner-{verb}"
    runner.mkdir()
    shim = world.work / "shim"
    if not shim.exists():
        shim.mkdir()
        (shim / "kubectl").write_text(KUBECTL_SHIM)
        (shim / "kubectl").chmod(0o755)
    (world.work / "manifests.yaml").write_text(DEPLOYMENT.replace("IMAGE", "registry.example/web"))
    inputs = {
        "action": verb, "strategy": "canary", "traffic-split-method": "pod", "percentage": "20",
        "manifests": str(world.work / "manifests.yaml"), "images": BAD, "namespace": NAMESPACE,
        # action.yml's defaults, as the runner passes them
        "pull-images": "false", "route-method": "service", "version-switch-buffer": "0",
        "baseline-and-canary-replicas": "", "force": "false", "server-side": "false", "timeout": "10m",
        "token": "unused", "annotate-resources": "true", "annotate-namespace": "true",
        "private-cluster": "false", "skip-tls-verify": "false",
        "resource-type": "Microsoft.ContainerService/managedClusters",
    }
    env = {f"INPUT_{k.upper()}": v for k, v in inputs.items()}
    env.update({
        "PATH": f"{shim}:{os.environ['PATH']}", "REAL_KUBECTL": shutil.which("kubectl"),
        "HOME": str(runner), "KUBECONFIG": str(world.kubeconfig), "GITHUB_ACTIONS": "true",
        "GITHUB_WORKFLOW": ".github/workflows/deploy.yml", "GITHUB_REPOSITORY": "acme/web",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567", "GITHUB_RUN_ID": "1",
        "GITHUB_SERVER_URL": "https://github.com", "RUNNER_TEMP": str(runner),
        "GITHUB_OUTPUT": str(runner / "output"), "GITHUB_STEP_SUMMARY": str(runner / "summary"),
    })
    started = time.time()
    done = subprocess.run(["node", action / "lib/index.js"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"Azure/k8s-deploy {verb} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return time.time() - started, done


def azure_run(action: Path, world: World, window: float) -> dict:
    watch = Watch(world)
    watch.start()
    deploy_time, _ = azure_step(action, world, "deploy")
    step_ended = time.time()
    errors_at_step_end = watch.errors
    time.sleep(window)
    serving = bool(world.deployment(CANARY).get("status", {}).get("readyReplicas"))
    errors_at_window = watch.errors
    reject_time, _ = azure_step(action, world, "reject")
    wait("web-canary removed", lambda: watch.gone is not None, 10)
    watch.finish()
    first = world.first_error_sample()
    return {"deploy_step": deploy_time, "ready_to_step_end": step_ended - watch.ready,
            "window": window, "serving_after_window": serving,
            "errors_during_step": errors_at_step_end, "errors_during_window": errors_at_window - errors_at_step_end,
            "reject_step": reject_time, "errors": watch.errors,
            "first_5xx_to_removed": watch.gone - first, "ready_to_removed": watch.gone - watch.ready}


def first_line(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True).stdout.splitlines()[0]


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f}, {len(values)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin-dir", type=Path, default=ROOT / "target/debug")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the bad canary is watched after Azure's step")
    parser.add_argument("--azure-git", type=Path, help="a clone of github.com/Azure/k8s-deploy (default: clone one)")
    parser.add_argument("--azure-ref", help="a tag (default: the newest vX.Y.Z)")
    args = parser.parse_args()
    for tool in ("prometheus", "kubectl", "node", "git"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not on PATH")
    with tempfile.TemporaryDirectory(prefix="canary-detection-") as tmp:
        work = Path(tmp)
        action, tag, sha = azure_source(args, work)
        print(f"Azure/k8s-deploy {tag} ({sha}); {first_line('kubectl', 'version', '--client')}; "
              f"node {first_line('node', '--version')}; {first_line('prometheus', '--version')}")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        gantry = []
        for i in range(args.runs):
            world = World(args.bin_dir, work / f"gantry-{i}")
            try:
                gantry.append(gantry_run(args.bin_dir, world))
            finally:
                world.close()
            print(f"gantry run {i + 1}: " + json.dumps({k: round(v, 3) for k, v in gantry[-1].items()}))
        world = World(args.bin_dir, work / "azure")
        try:
            azure = azure_run(action, world, args.window)
        finally:
            world.close()
        print("azure run: " + json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in azure.items()}))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print("\nk8s-deploy (strategy: canary, error-ratio analysis):")
        print(f"  first 5xx sample in Prometheus -> web-canary removed: {spread([r['first_5xx_to_removed'] for r in gantry])}")
        print(f"  canary's first ready pod -> web-canary removed: {spread([r['ready_to_removed'] for r in gantry])}")
        print(f"  500s the canary served: median {statistics.median(r['errors'] for r in gantry)} "
              f"(min {min(r['errors'] for r in gantry)}, max {max(r['errors'] for r in gantry)})")
        print(f"Azure/k8s-deploy {tag} (canary, pod split, 20 %):")
        print(f"  deploy step: {azure['deploy_step']:.2f} s, exit 0; canary's first ready pod -> step end {azure['ready_to_step_end']:.2f} s, "
              f"{azure['errors_during_step']} 500s by then")
        print(f"  {args.window:.0f} s after the step: canary still serving: {azure['serving_after_window']}, "
              f"{azure['errors_during_window']} more 500s")
        print(f"  reject step: {azure['reject_step']:.2f} s; first 5xx sample -> web-canary removed: "
              f"{azure['first_5xx_to_removed']:.2f} s; 500s the canary served: {azure['errors']}")


if __name__ == "__main__":
    main()
