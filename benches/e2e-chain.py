#!/usr/bin/env python3
"""Wall time of each stage of the end-to-end chain (tests/e2e/chain.py), the time gantry's own
steps add beyond the landing zone's CI and the rollout, and act's start-up, measured apart.

    cargo build --workspace --bins && benches/e2e-chain.py [--startup-runs N]

Overhead = Σ wall time of every gantry action step from pull request CI to the promoted release
(install-binary.sh plus the binary, as act reports each), minus the two waits that are not gantry's: the landing zone's
CI (pull request opened → its last check completed, from github-sim's events) and the rollout
(merge → the version endpoint first serving the new version; it contains the landing zone's
deploy run, whose k8s-deploy step is therefore not counted again).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The two steps of every gantry composite action: install-binary.sh, then the binary.
STEP = re.compile(
    r"^\[(?P<job>[^\]]+)\]\s+✅\s+Success - Main (?:Install|Run) "
    r"(?P<action>ticgen|required-ci-check|create-prerelease|auto-deploy|k8s-deploy) \[(?P<time>[\d.]+)(?P<unit>µs|ms|s)\]"
)
# The chain up to the promoted release. The landing zone's runs are its CI (the dry-run) and part of
# the rollout wait (the deploy), so they are not counted.
# (The prerelease is a job of the tag's CI run; the deploy runs on its `prereleased` event.)
HAPPY = ("pr-ci", "tag-ci", "prereleased-deploy-prerelease")
UNIT = {"µs": 1e-6, "ms": 1e-3, "s": 1.0}


def gantry_steps(log: str) -> list[tuple[str, str, float]]:
    return [
        (m["job"].strip(), m["action"], float(m["time"]) * UNIT[m["unit"]])
        for m in map(STEP.match, log.splitlines())
        if m
    ]


def act_startup(runs: int) -> list[float]:
    """act from process start to exit for a workflow with one job and one `true` step."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        (repo / ".github" / "workflows").mkdir(parents=True)
        (repo / ".github" / "workflows" / "noop.yml").write_text(
            "on: push\npermissions: {}\njobs:\n  noop:\n    runs-on: ubuntu-latest\n    steps:\n      - run: 'true'\n"
        )
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        times = []
        for _ in range(runs):
            start = time.monotonic()
            subprocess.run(
                ["act", "push", "-P", "ubuntu-latest=-self-hosted"],
                cwd=repo,
                check=True,
                capture_output=True,
                env={"PATH": os.environ["PATH"], "HOME": tmp, "XDG_CACHE_HOME": tmp},
            )
            times.append(time.monotonic() - start)
        return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument(
        "--timings", type=Path, help="report on this chain.py --timings file instead of running the chain"
    )
    options = parser.parse_args()
    if options.timings:
        timings = json.loads(options.timings.read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            timings_file = Path(tmp) / "timings.json"
            subprocess.run(
                [sys.executable, str(ROOT / "tests" / "e2e" / "chain.py"), "--timings", str(timings_file)],
                check=True,
            )
            timings = json.loads(timings_file.read_text())
    print("| stage | wall time |\n|---|---|")
    for name, seconds in timings["stages"]:
        print(f"| {name} | {seconds:.1f} s |")
    print("\n| act run | wall time | gantry steps (install + binary) |\n|---|---|---|")
    total = 0.0
    for run in timings["act"]:
        steps = gantry_steps(run["log"])
        spent = sum(seconds for _, _, seconds in steps)
        if run["label"] in HAPPY:
            total += spent
        per_action: dict[str, float] = {}
        for _, action, seconds in steps:
            per_action[action] = per_action.get(action, 0.0) + seconds
        listed = ", ".join(f"{action} {seconds:.2f} s" for action, seconds in per_action.items())
        print(f"| {run['label']} | {run['seconds']:.1f} s | {listed} |")
    missing = set(HAPPY) - {run["label"] for run in timings["act"]}
    if missing:
        # A renamed run must not silently drop out of the sum.
        raise SystemExit(f"the chain ran no act run named {sorted(missing)}: update HAPPY")
    waits = timings["waits"]
    overhead = total - waits["landing_zone_ci"] - waits["rollout"]
    print(
        f"\nΣ gantry steps on the happy path (without the landing zone's deploy run): {total:.2f} s; "
        f"landing-zone CI {waits['landing_zone_ci']:.2f} s; rollout (merge → version served) {waits['rollout']:.2f} s; "
        f"**overhead {overhead:.2f} s**"
    )
    startup = act_startup(options.startup_runs)
    print(
        f"\nact start-up (one job, one `true` step, {len(startup)} runs): median {statistics.median(startup):.2f} s, "
        f"min {min(startup):.2f} s, max {max(startup):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
