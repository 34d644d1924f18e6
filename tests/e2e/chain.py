#!/usr/bin/env python3
"""The whole pipeline end to end under act, against github-sim, kube-sim and a real OCI registry.

A team's two repositories are played by two local git repositories whose commits are byte-identical
to the ones github-sim holds (each commit is rebuilt from the simulator's data and its SHA checked),
carrying the callers from examples/ unchanged. Every workflow run gets the event payload github-sim
renders (`/_sim/events/{n}/webhook`) for the event the previous stage caused, and act maps
`gantry-actions/gantry@<pin>` to this checkout. Outcomes are asserted in the simulators, the
registry and the uploaded artifacts.

    tests/e2e/chain.py [--timings FILE]

Needs (installed by .ci/install): act, podman/buildah/skopeo, docker-registry, the Python wheelhouse
in target/e2e/wheelhouse, and the debug binaries (cargo build --workspace --bins).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml  # PyYAML, which the kubernetes client .ci/install installs depends on

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "e2e"
EXAMPLES = ROOT / "examples"
# Public actions as their authors published them, read-only (shared/ beside the checkout).
REFERENCE_ACTIONS = ROOT.parent / "shared" / "reference" / "actions"
BIN_DIR = Path(os.environ.get("GANTRY_E2E_BIN_DIR", ROOT / "target" / "debug"))
E2E_DIR = Path(os.environ.get("GANTRY_E2E_DIR", ROOT / "target" / "e2e"))
WHEELHOUSE = E2E_DIR / "wheelhouse"
PYTHON_ENV = E2E_DIR / "python"

SERVICE, LANDING_ZONE = "acme/service", "acme/landing-zone"
ALICE, RELEASE_BOT, APPROVER, WORKFLOW = (
    "ghp_alice",
    "ghp_release_bot",
    "ghp_approver",
    "ghs_workflow",
)
# The deploy App: its id (variable DEPLOY_APP_ID), installation and slug. Its private key is made
# per run; the deploy workflows mint its token with the real actions/create-github-app-token.
APP_ID, APP_INSTALLATION, APP_SLUG = 4242, 77, "gantry-deployer"
RC_TAG, RC_VERSION, RC_IMAGE_TAG = "v1.2.0-rc.1", "1.2.0rc1", "1.2.0-rc.1"
# A tag on a commit whose tests fail, and one released with GITHUB_TOKEN (each its own version).
FAILING_TAG, FAILING_VERSION, FAILING_IMAGE_TAG = "v1.2.1-rc.1", "1.2.1rc1", "1.2.1-rc.1"
TOKEN_TAG, TOKEN_VERSION = "v1.3.0-rc.1", "1.3.0rc1"
# kube-sim's bearer tokens: the deploy credential (KUBECONFIG) and the read-only one
# (KUBECONFIG_READONLY, the pull-request dry-run's); the test reads with the latter too.
KUBE_DEPLOY, KUBE_READ = "kube-deployer", "kube-reader"
BROKEN_TAG = "0.0.0-broken"
# Two landing-zone merges whose deploy jobs run in the opposite order.
LATE_FIRST, LATE_SECOND = "1.2.0-late.1", "1.2.0-late.2"
LANDING_ZONE_CI_MS = 2000  # the landing zone's simulated CI: one check, done 2 s after each push
PREVIOUS_TAG = "1.1.0"
GITHUB_TOKEN_WARNING = "the release was made with the workflow's own GITHUB_TOKEN"
# Stripped from every child process: the test must not inherit a surrounding runner's context.
AMBIENT = ("GITHUB_", "RUNNER_", "ACTIONS_")


class Failed(Exception):
    """An expectation of the chain did not hold."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(AMBIENT)}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str, cwd: Path | None = None, env=None, input_bytes=None) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env or clean_env(), input=input_bytes, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise Failed(f"{' '.join(args)} failed ({result.returncode}): {result.stderr.decode()}")
    return result.stdout.decode()


def wait_for(what: str, probe, timeout: float = 120.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise Failed(f"timed out after {timeout:.0f}s waiting for {what}")


class Server:
    """A simulator or the registry as a child process, stopped at exit."""

    def __init__(self, name: str, args: list[str], log_dir: Path, url: str | None = None):
        self.name = name
        self.log = open(log_dir / f"{name}.log", "wb")  # pylint: disable=consider-using-with
        stdout = subprocess.PIPE if url is None else self.log
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            args, stdout=stdout, stderr=self.log, env=clean_env()
        )
        self.url = url or self.proc.stdout.readline().decode().strip()
        expect(self.url.startswith("http://127.0.0.1:"), f"{name} did not start: {self.url!r}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Github:
    """github-sim's REST API (as a client) and admin API (as the test)."""

    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, token: str | None = None, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"token {token}")
        request.add_header("Accept", "application/vnd.github+json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            if error.code == 404 and method == "GET":
                return None
            raise Failed(f"{method} {path}: {error.code} {error.read().decode()}") from error

    def events(self) -> list[dict]:
        return self.call("GET", "/_sim/events")

    def find_event(self, since: int, event: str, repo: str, action=None, ref=None):
        """Index and record of the first matching event at or after index `since`."""
        for index, record in enumerate(self.events()):
            if index < since or record["event"] != event or record["repo"] != repo:
                continue
            if action is not None and record["action"] != action:
                continue
            if ref is not None and record["payload"].get("ref") != ref:
                continue
            return index, record
        return None

    def webhook(self, index: int) -> dict:
        return self.call("GET", f"/_sim/events/{index}/webhook")

    def file(self, repo: str, path: str, ref: str) -> bytes:
        content = self.call("GET", f"/repos/{repo}/contents/{path}?ref={ref}", ALICE)
        expect(content is not None, f"{path} is missing in {repo}@{ref}")
        return base64.b64decode(content["content"])


class LocalRepo:
    """A local git repository kept byte-identical to its github-sim twin, commit by commit."""

    def __init__(self, path: Path, name: str, github: Github):
        self.path, self.name, self.github = path, name, github
        path.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        self.git("remote", "add", "origin", f"https://github.com/{name}")
        self.files: dict[str, dict[str, bytes]] = {}

    def git(self, *args: str, input_bytes=None) -> str:
        return run("git", *args, cwd=self.path, input_bytes=input_bytes).strip()

    def mirror(self, sha: str, files: dict[str, bytes]) -> None:
        """Writes commit `sha` (with exactly `files`) and checks that git computes the same SHA."""
        index = self.path / ".git" / "mirror-index"
        env = clean_env(GIT_INDEX_FILE=str(index))
        index.unlink(missing_ok=True)
        for path, content in sorted(files.items()):
            blob = run("git", "hash-object", "-w", "--stdin", cwd=self.path, input_bytes=content)
            run(
                "git",
                "update-index",
                "--add",
                "--cacheinfo",
                f"100644,{blob.strip()},{path}",
                cwd=self.path,
                env=env,
            )
        tree = run("git", "write-tree", cwd=self.path, env=env).strip()
        commit = self.github.call("GET", f"/repos/{self.name}/git/commits/{sha}", ALICE)
        expect(tree == commit["tree"]["sha"], f"{self.name}@{sha}: local tree {tree} differs")
        lines = [f"tree {tree}"] + [f"parent {p['sha']}" for p in commit["parents"]]
        for role in ("author", "committer"):
            who = commit[role]
            epoch = int(datetime.datetime.fromisoformat(who["date"].replace("Z", "+00:00")).timestamp())
            lines.append(f"{role} {who['name']} <{who['email']}> {epoch} +0000")
        body = ("\n".join(lines) + "\n\n" + commit["message"]).encode()
        made = self.git("hash-object", "-t", "commit", "-w", "--stdin", input_bytes=body)
        expect(made == sha, f"{self.name}: rebuilt commit {made} is not github-sim's {sha}")
        self.files[sha] = dict(files)

    def checkout(self, sha: str, branch: str = "main") -> None:
        self.git("update-ref", f"refs/heads/{branch}", sha)
        self.git("checkout", "-q", "-f", branch)
        self.git("clean", "-qfdx")

    def detach(self, sha: str) -> None:
        """The working tree at `sha`, every branch left where it is."""
        self.git("checkout", "-q", "--detach", sha)
        self.git("clean", "-qfdx")

    def tag(self, name: str, sha: str) -> None:
        self.git("update-ref", f"refs/tags/{name}", sha)


def tree_files(root: Path, substitutions: dict[str, str]) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text()
            for key, value in substitutions.items():
                text = text.replace(key, value)
            files[path.relative_to(root).as_posix()] = text.encode()
    return files


def as_text(files: dict[str, bytes]) -> dict[str, str]:
    """Files as github-sim's world takes them."""
    return {path: content.decode() for path, content in files.items()}


def landing_zone_ci(repo: str) -> dict:
    """The landing zone's simulated CI: one check, `validate`, done LANDING_ZONE_CI_MS after each push."""
    return {
        "repo": repo,
        "base": "main",
        "checks": [{"name": "validate", "conclusion": "success", "after_ms": LANDING_ZONE_CI_MS}],
    }


def workflows_of(example: str) -> dict[str, bytes]:
    root = EXAMPLES / example
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / ".github" / "workflows").glob("*.yml"))
    }


def filter_matches(patterns: list[str], name: str) -> bool:
    """GitHub's branch and tag filter patterns, as far as the examples use them (`*`, `**`)."""
    for pattern in patterns:
        expect(not re.search(r"[?+\[\]!]", pattern), f"filter {pattern!r} is beyond this test's matcher")
        parts = re.split(r"(\*\*|\*)", pattern)
        regex = "".join({"**": ".*", "*": "[^/]*"}.get(part, re.escape(part)) for part in parts)
        if re.fullmatch(regex, name):
            return True
    return False


def triggered(files: dict[str, bytes], event: str, payload: dict) -> list[str]:
    """The workflows (file names) GitHub starts for `event` with `payload`, chosen by their `on:`
    filters, which act ignores. GitHub starts them all at once."""
    started = []
    for path, content in sorted(files.items()):
        if not (path.startswith(".github/workflows/") and path.endswith(".yml")):
            continue
        document = yaml.safe_load(content)
        on = document.get("on", document.get(True))  # YAML 1.1 reads the key `on` as true
        if isinstance(on, str):
            on = {on: None}
        elif isinstance(on, list):
            on = dict.fromkeys(on)
        if event not in on:
            continue
        config = on[event] or {}
        if event == "push":
            ref = payload["ref"]
            kind, other = ("tags", "branches") if ref.startswith("refs/tags/") else ("branches", "tags")
            name = ref.split("/", 2)[2]
            expect(kind == "tags" or "paths" not in config, f"{path}: paths filters are beyond this test")
            if kind in config:
                starts = filter_matches(config[kind], name)
            elif f"{kind}-ignore" in config:
                starts = not filter_matches(config[f"{kind}-ignore"], name)
            else:
                # Filters only for the other kind of ref: this kind starts nothing.
                starts = other not in config and f"{other}-ignore" not in config
        elif event == "release":
            starts = "types" not in config or payload["action"] in config["types"]
        else:
            raise Failed(f"this test knows no {event} filters")
        if starts:
            started.append(Path(path).name)
    return started


def snapshot(target: Path) -> Path:
    """This checkout's files as git sees them (tracked and new, not ignored): act tars a mapped
    repository for every action it runs, and target/ would make that take minutes."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def pins(gantry: Path) -> dict[str, str]:
    """`owner/repo@sha` → local directory for every remote `uses:` the workflows make."""
    text = "\n".join(
        p.read_text()
        for p in [
            *(ROOT / ".github" / "workflows").glob("*.yml"),
            *EXAMPLES.glob("*/.github/workflows/*.yml"),
        ]
    )
    mapping = {}
    for repo, sha in re.findall(r"uses: ([\w.-]+/[\w.-]+)(?:/[\w./-]+)?@([0-9a-f]{40})", text):
        if repo == "gantry-actions/gantry":
            mapping[f"{repo}@{sha}"] = gantry
        elif repo == "actions/setup-python":
            mapping[f"{repo}@{sha}"] = HERE / "stand-ins" / repo.split("/")[1]
        elif repo == "actions/create-github-app-token":
            # The real action (node), from the reference folder, never copied into the project.
            real = REFERENCE_ACTIONS / f"{repo}@{sha}"
            expect((real / "action.yml").is_file(), f"{real} is missing: the chain runs the real {repo}")
            mapping[f"{repo}@{sha}"] = real
        elif repo in ("actions/checkout", "actions/upload-artifact"):
            # act copies the working directory for a checkout of the event's own ref and never
            # runs this; a checkout of another ref (the deploy job's branch head) clones the
            # local repository the way actions/checkout fetches from GitHub.
            mapping[f"{repo}@{sha}"] = ROOT / "tests" / "act" / "doubles" / repo.split("/")[1]
    return mapping


def kube_get(kube_url: str, path: str) -> dict:
    """An object from kube-sim, read with the read-only token."""
    request = urllib.request.Request(kube_url + path, headers={"Authorization": f"Bearer {KUBE_READ}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class VersionEndpoint:
    """A service's /version: the image tag its Deployment has fully rolled out (in `container`, or
    the first container)."""

    def __init__(self, kube_url: str, namespace: str, deployment: str, container: str | None = None):
        self.first_seen: dict[str, float] = {}
        self.container = container
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                version = endpoint.served(kube_url, namespace, deployment)
                body = json.dumps({"version": version}).encode()
                self.send_response(200 if version else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/version"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def served(self, kube_url: str, namespace: str, deployment: str) -> str | None:
        obj = kube_get(kube_url, f"/apis/apps/v1/namespaces/{namespace}/deployments/{deployment}")
        spec, status = obj["spec"], obj.get("status", {})
        replicas = spec.get("replicas", 1)
        settled = status.get("observedGeneration", 0) >= obj["metadata"]["generation"] and all(
            status.get(key, 0) == replicas
            for key in ("replicas", "updatedReplicas", "availableReplicas", "readyReplicas")
        )
        if not settled:
            return None
        containers = spec["template"]["spec"]["containers"]
        image = next(c["image"] for c in containers if self.container in (None, c["name"]))
        version = image.rsplit(":", 1)[1]
        self.first_seen.setdefault(version, time.monotonic())
        return version


class Harness:  # pylint: disable=too-many-instance-attributes,too-many-public-methods
    """The servers (registry, github-sim, kube-sim), act, and the stages every scenario shares: a
    scenario (Chain, tests/e2e/monorepo.py's Monorepo) gives the world, the cluster and the code
    repository (`self.code`, named `self.code_name`)."""

    code: LocalRepo
    code_name: str
    lz: LocalRepo
    github: Github

    def __init__(self, work: Path):
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir()
        self.timings: list[tuple[str, float]] = []
        self.waits: dict[str, float] = {}
        self.act_runs: list[dict] = []
        self.servers: list[Server] = []
        self.endpoints: list[VersionEndpoint] = []
        # Set by start_simulators.
        self.kube_url = self.kubeconfig = self.kubeconfig_readonly = ""
        # Repository variables every act run gets (the scenario adds its own).
        self.act_vars: dict[str, str] = {
            "GANTRY_BIN_DIR": str(BIN_DIR),
            "RELEASE_AUTHORS": "release-bot",
            "DEPLOY_APP_ID": str(APP_ID),
        }
        self.registry = self.start_registry()
        self.gantry = snapshot(work / "gantry")
        # The deploy App's private key, made for this run (PKCS#1, as GitHub hands them out).
        self.app_key = run("openssl", "genrsa", "-traditional", "2048")
        self.containers = self.container_config()
        self.prepare_python()

    def start_simulators(self, world: Path, manifests: bytes, images: str) -> None:
        """github-sim with `world`; kube-sim with `manifests` and the image catalogue `images`,
        and the two kubeconfigs the landing zone's secrets hold."""
        self.github = Github(self.start("github-sim", "--port", "0", "--world", str(world)))
        kubeconfig = self.work / "kubeconfig"
        self.kube_url = self.start(
            "kube-sim",
            "--port",
            "0",
            "--manifests",
            str(self.write("manifests.yaml", manifests)),
            "--images",
            str(self.write("images.yaml", images.encode())),
            "--kubeconfig-out",
            str(kubeconfig),
            "--time-scale",
            "10",
            "--token",
            f"{KUBE_DEPLOY}:deployer:deploy",
            "--token",
            f"{KUBE_READ}:reader:read",
        )
        # KUBECONFIG (the deploy job's) may patch Deployments; KUBECONFIG_READONLY only read them.
        text = kubeconfig.read_text()
        expect(KUBE_DEPLOY in text, "kube-sim's kubeconfig does not carry the deploy token")
        self.kubeconfig = base64.b64encode(text.encode()).decode()
        self.kubeconfig_readonly = base64.b64encode(text.replace(KUBE_DEPLOY, KUBE_READ).encode()).decode()

    def local_repo(self, name: str, files: dict[str, bytes]) -> LocalRepo:
        """The local twin of github-sim's repository `name`, at its main branch (holding `files`)."""
        repo = LocalRepo(self.work / name.split("/")[1], name, self.github)
        main = self.branch_sha(name, "main")
        repo.mirror(main, files)
        repo.checkout(main)
        return repo

    def version_endpoint_of(self, namespace: str, deployment: str, container: str | None = None):
        endpoint = VersionEndpoint(self.kube_url, namespace, deployment, container)
        self.endpoints.append(endpoint)
        return endpoint

    def world_of(self, code: str, gitops: str, repos: list[dict], ci: list[dict]) -> Path:
        """github-sim's world: the people and bots, the deploy App installed on `code` and
        `gitops`, the repositories and the landing zone's simulated CI."""
        world = {
            # The wall clock: create-github-app-token signs its JWT with it.
            "clock": {"scale": 1},
            "identities": [
                {"login": "alice", "kind": "user", "tokens": [ALICE]},
                {"login": "release-bot", "kind": "bot", "tokens": [RELEASE_BOT]},
                {
                    "login": "deploy-approver",
                    "kind": "bot",
                    "tokens": [APPROVER],
                    "permissions": {
                        gitops: {
                            "contents": "write",
                            "pull_requests": "write",
                            "checks": "read",
                            "statuses": "read",
                        }
                    },
                },
                {
                    "login": "github-actions",
                    "kind": "github_token",
                    "tokens": [WORKFLOW],
                    "permissions": {
                        code: {
                            "contents": "write",
                            "pull_requests": "write",
                            "checks": "write",
                            "statuses": "write",
                        }
                    },
                },
            ],
            "apps": [
                {
                    "id": APP_ID,
                    "slug": APP_SLUG,
                    "key": self.app_key,
                    "installations": [
                        {
                            "id": APP_INSTALLATION,
                            "account": "acme",
                            "account_type": "Organization",
                            "repositories": [code.split("/")[1], gitops.split("/")[1]],
                            "permissions": {
                                "contents": "write",
                                "pull_requests": "write",
                                "checks": "write",
                                "statuses": "read",
                                "deployments": "write",
                            },
                        }
                    ],
                }
            ],
            "repos": repos,
            "ci": ci,
        }
        return self.write("world.json", json.dumps(world).encode())

    # -- set-up ---------------------------------------------------------------------------------

    def write(self, name: str, content: bytes) -> Path:
        path = self.work / name
        path.write_bytes(content)
        return path

    def start(self, name: str, *args: str) -> str:
        server = Server(name, [str(BIN_DIR / name), *args], self.logs)
        self.servers.append(server)
        return server.url

    def start_registry(self) -> str:
        port = free_port()
        config = self.write(
            "registry.yml",
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {"filesystem": {"rootdirectory": str(self.work / "registry")}},
                    "http": {"addr": f"127.0.0.1:{port}"},
                }
            ).encode(),
        )
        server = Server(
            "docker-registry",
            ["docker-registry", "serve", str(config)],
            self.logs,
            url=f"http://127.0.0.1:{port}",
        )
        self.servers.append(server)
        wait_for("the registry", lambda: self.http_ok(f"{server.url}/v2/"), timeout=30)
        return f"127.0.0.1:{port}"

    @staticmethod
    def http_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError):
            return False

    def container_config(self) -> dict[str, str]:
        """Private container storage and a registries.conf that lets buildah and skopeo use the
        plain-HTTP registry, as a runner's own configuration would."""
        storage = self.write(
            "storage.conf",
            (
                '[storage]\ndriver = "vfs"\n'
                f'graphroot = "{self.work / "containers" / "graph"}"\n'
                f'runroot = "{self.work / "containers" / "run"}"\n'
            ).encode(),
        )
        registries = self.write(
            "registries.conf", f'[[registry]]\nlocation = "{self.registry}"\ninsecure = true\n'.encode()
        )
        return {
            "CONTAINERS_STORAGE_CONF": str(storage),
            "CONTAINERS_REGISTRIES_CONF": str(registries),
            "BUILDAH_ISOLATION": "chroot",
        }

    def prepare_python(self) -> None:
        """The Python that the setup-python stand-in puts on PATH, installing from the wheelhouse."""
        expect(WHEELHOUSE.is_dir(), f"no wheelhouse at {WHEELHOUSE}: run .ci/install")
        if not (PYTHON_ENV / "bin" / "python").exists():
            run(sys.executable, "-m", "venv", str(PYTHON_ENV))

    def branch_sha(self, repo: str, branch: str) -> str:
        ref = self.github.call("GET", f"/repos/{repo}/git/ref/heads/{branch}", ALICE)
        expect(ref is not None, f"{repo} has no branch {branch}")
        return ref["object"]["sha"]

    def stop(self) -> None:
        for endpoint in self.endpoints:
            endpoint.server.shutdown()
        for server in reversed(self.servers):
            server.stop()

    # -- act --------------------------------------------------------------------------------------

    def act(
        self,
        repo: LocalRepo,
        event: str,
        workflow: str,
        payload: dict,
        label: str,
        secrets: dict[str, str] | None = None,
        background: bool = False,
    ):
        """Runs one workflow of `repo` as GitHub would for `event` with `payload`."""
        event_file = self.write(f"{label}.event.json", json.dumps(payload).encode())
        artifacts = self.work / "artifacts" / label
        artifacts.mkdir(parents=True)
        cache = self.work / "act-cache" / label
        args = [
            "act",
            event,
            "-W",
            f".github/workflows/{workflow}",
            "-e",
            str(event_file),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--defaultbranch",
            "main",
            "-a",
            "alice",
            "--env",
            f"GITHUB_API_URL={self.github.url}",
            "--env",
            f"GITHUB_SERVER_URL={self.github.url}",
            "--env",
            "PIP_NO_INDEX=1",
            "--env",
            f"PIP_FIND_LINKS={WHEELHOUSE}",
            "--env",
            "PIP_DISABLE_PIP_VERSION_CHECK=1",
            "--env",
            f"GANTRY_E2E_PYTHON={PYTHON_ENV}",
            "--env",
            f"GANTRY_TEST_ARTIFACTS={artifacts}",
            "--env",
            f"GANTRY_TEST_REMOTE={repo.path}",
            "-s",
            f"GITHUB_TOKEN={WORKFLOW}",
        ]
        for key, value in self.containers.items():
            args += ["--env", f"{key}={value}"]
        for key, value in self.act_vars.items():
            args += ["--var", f"{key}={value}"]
        for name, directory in pins(self.gantry).items():
            args += ["--local-repository", f"{name}={directory}"]
        for name, value in (secrets or {}).items():
            args += ["-s", f"{name}={value}"]
        log = self.logs / f"{label}.act.log"
        env = clean_env(XDG_CACHE_HOME=str(cache), **self.containers)
        record = {"label": label, "log": log, "artifacts": artifacts, "start": time.monotonic()}
        handle = open(log, "wb")  # pylint: disable=consider-using-with
        proc = subprocess.Popen(
            args, cwd=repo.path, env=env, stdout=handle, stderr=subprocess.STDOUT
        )  # pylint: disable=consider-using-with
        record["proc"], record["handle"] = proc, handle
        self.act_runs.append(record)
        return record if background else self.finish(record)

    @staticmethod
    def finish(record: dict) -> dict:
        record["rc"] = record["proc"].wait(timeout=900)
        record["handle"].close()
        record["seconds"] = time.monotonic() - record["start"]
        record["text"] = record["log"].read_text(errors="replace")
        return record

    @staticmethod
    def artifact(record: dict, name: str) -> dict:
        files = list((record["artifacts"] / name).glob("*.json"))
        expect(len(files) == 1, f"{record['label']}: no {name} artifact")
        return json.loads(files[0].read_text())

    def timed(self, name: str, stage) -> None:
        start = time.monotonic()
        print(f"== {name}", flush=True)
        stage()
        self.timings.append((name, time.monotonic() - start))

    def act_failed(self, record: dict) -> Failed:
        tail = "\n".join(record["text"].splitlines()[-60:])
        return Failed(f"{record['label']}: act exited {record['rc']}\n{tail}")

    def succeeded(self, record: dict) -> None:
        if record["rc"] != 0:
            raise self.act_failed(record)

    def open_pull_request_and_run_ci(self, title: str, branch: str, files: dict, label: str) -> tuple:
        """Alice opens a pull request from `branch`; its head (with `files`) runs the service CI
        under act on the event GitHub sent. Returns the pull request and the act record."""
        since = len(self.github.events())
        pr = self.github.call(
            "POST", f"/repos/{self.code_name}/pulls", ALICE, {"title": title, "head": branch, "base": "main"}
        )
        index, _ = wait_for(
            "the pull_request event", lambda: self.github.find_event(since, "pull_request", self.code_name, "opened")
        )
        payload = self.github.webhook(index)
        head = payload["pull_request"]["head"]["sha"]
        self.code.mirror(head, files)
        self.code.checkout(head, branch)
        return pr, self.act(self.code, "pull_request", "ci.yml", payload, label)

    def landing_zone_leg(self, since: int, deploy: dict, env_file: str, label: str, after_dry_run):
        """The landing-zone half of a deploy-prerelease run `deploy` (started after event `since`):
        its pull request bumping `env_file` is dry-run by the landing zone's deploy.yml (read-only
        credential; `after_dry_run` checks the cluster is untouched), merged by auto-deploy, and the
        merge's push deploys. Returns the pull request's payload and when the merge was seen, with
        `deploy` finished and successful."""
        lz = self.lz
        opened = wait_for(
            "the landing-zone pull request",
            lambda: self.github.find_event(since, "pull_request", lz.name, "opened") or self.exited(deploy),
            timeout=300,
        )
        if "proc" in opened:
            raise self.act_failed(self.finish(opened))
        payload = self.github.webhook(opened[0])
        head, base = payload["pull_request"]["head"]["sha"], payload["pull_request"]["base"]["sha"]
        head_files = dict(lz.files[base]) | {env_file: self.github.file(lz.name, env_file, head)}
        lz.mirror(head, head_files)
        lz.checkout(head, payload["pull_request"]["head"]["ref"])
        dry_run = self.act(
            lz,
            "pull_request",
            "deploy.yml",
            payload,
            f"{label}-dry-run",
            {"KUBECONFIG_READONLY": self.kubeconfig_readonly},
        )
        self.succeeded(dry_run)
        expect(f"target: {env_file}" in dry_run["text"], f"the dry-run did not target {env_file}")
        after_dry_run()
        merged = wait_for(
            "the landing-zone merge",
            lambda: self.github.find_event(since, "push", lz.name, ref="refs/heads/main") or self.exited(deploy),
            timeout=300,
        )
        if "proc" in merged:
            raise self.act_failed(self.finish(merged))
        merge_seen = time.monotonic()
        push = self.github.webhook(merged[0])
        lz.mirror(push["after"], head_files)
        lz.checkout(push["after"])
        self.succeeded(self.act(lz, "push", "deploy.yml", push, f"{label}-deploy", {"KUBECONFIG": self.kubeconfig}))
        self.finish(deploy)
        self.succeeded(deploy)
        return payload, merge_seen

    def merge_env_version(self, env_file: str, key: str, version: str, branch: str) -> dict:
        """Alice sets `key` in the landing zone's `env_file` to `version` on `branch` and merges it
        through a reviewed pull request, as branch protection demands; returns the push to main,
        with the merge commit mirrored and checked out locally."""
        lz = self.lz
        since = len(self.github.events())
        current = self.github.call("GET", f"/repos/{lz.name}/contents/{env_file}", ALICE)
        changed = re.sub(
            rf"(?m)^((?:export )?{key})=.*$".encode(),
            rb"\g<1>=" + version.encode(),
            base64.b64decode(current["content"]),
        )
        base = self.branch_sha(lz.name, "main")
        self.github.call(
            "POST", f"/repos/{lz.name}/git/refs", ALICE, {"ref": f"refs/heads/{branch}", "sha": base}
        )
        self.github.call(
            "PUT",
            f"/repos/{lz.name}/contents/{env_file}",
            ALICE,
            {
                "message": f"Deploy {version}",
                "content": base64.b64encode(changed).decode(),
                "sha": current["sha"],
                "branch": branch,
            },
        )
        pr = self.github.call(
            "POST",
            f"/repos/{lz.name}/pulls",
            ALICE,
            {"title": f"Deploy {version}", "head": branch, "base": "main"},
        )
        head = pr["head"]["sha"]

        def checks_passed() -> bool:
            runs = self.github.call("GET", f"/repos/{lz.name}/commits/{head}/check-runs", ALICE)
            return bool(runs["check_runs"]) and all(
                r["status"] == "completed" and r["conclusion"] == "success" for r in runs["check_runs"]
            )

        wait_for("the landing zone's checks", checks_passed, timeout=60)
        self.github.call(
            "POST", f"/repos/{lz.name}/pulls/{pr['number']}/reviews", APPROVER, {"event": "APPROVE"}
        )
        wait_for(
            "a mergeable pull request",
            lambda: self.github.call("GET", f"/repos/{lz.name}/pulls/{pr['number']}", ALICE)["mergeable"],
            timeout=30,
        )
        self.github.call(
            "PUT",
            f"/repos/{lz.name}/pulls/{pr['number']}/merge",
            ALICE,
            {"merge_method": "squash", "sha": head},
        )
        index, _ = wait_for(
            "the landing-zone push",
            lambda: self.github.find_event(since, "push", lz.name, ref="refs/heads/main"),
        )
        push = self.github.webhook(index)
        lz.mirror(push["after"], dict(lz.files[base]) | {env_file: changed})
        lz.checkout(push["after"])
        return push

    def run_triggered(self, repo: LocalRepo, files: dict, event: str, payload: dict, label: str, secrets: dict):
        """Starts, all at once as GitHub does, every workflow of `repo` (with `files`) that `event`
        with `payload` starts; returns their act records, still running."""
        workflows = triggered(files, event, payload)
        return [
            self.act(repo, event, workflow, payload, f"{label}-{Path(workflow).stem}", secrets, background=True)
            for workflow in workflows
        ]

    def push_tag(self, tag: str, sha: str, files: dict, branch: str) -> dict:
        """Alice pushes `tag` at `sha` (a commit of `branch` holding `files`); returns the push's
        webhook payload, with the local repository at that commit."""
        since = len(self.github.events())
        self.github.call("POST", f"/repos/{self.code_name}/git/refs", ALICE, {"ref": f"refs/tags/{tag}", "sha": sha})
        self.code.mirror(sha, files)
        self.code.checkout(sha, branch)
        self.code.tag(tag, sha)
        index, _ = wait_for(
            "the tag push", lambda: self.github.find_event(since, "push", self.code_name, ref=f"refs/tags/{tag}")
        )
        return self.github.webhook(index)

    def run_tag_workflows(
        self, payload: dict, files: dict, label: str, secrets: dict, image_tag: str, repository: str = "acme/service"
    ):
        """Every workflow the tag push starts, at once. Returns their finished records and, when a
        prerelease appeared, its event and whether the registry held the image at that moment."""
        since = len(self.github.events())
        records = self.run_triggered(self.code, files, "push", payload, label, secrets)
        expect(records, "the tag push starts no workflow")
        seen: dict = {}

        def prereleased_or_done():
            found = self.github.find_event(since, "release", self.code_name, "prereleased")
            if found:
                # The moment the deploy would start: its image must already be there.
                seen["event"], seen["image"] = found, image_tag in self.registry_tags(repository)
                return True
            return all(self.exited(r) for r in records)

        wait_for("the tag's workflows", prereleased_or_done, timeout=900, interval=0.1)
        for record in records:
            self.finish(record)
        return records, seen

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def exited(record: dict):
        return record if record["proc"].poll() is not None else None

    def registry_tags(self, repository: str = "acme/service") -> list[str]:
        try:
            with urllib.request.urlopen(
                f"http://{self.registry}/v2/{repository}/tags/list", timeout=5
            ) as response:
                return json.loads(response.read()).get("tags") or []
        except urllib.error.HTTPError:
            return []

    def kube_deployment(self, name: str, namespace: str = "default") -> dict:
        return kube_get(self.kube_url, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")

    def kube_images(self, deployment: str, namespace: str = "default") -> dict[str, str]:
        """Each container's image, by container name."""
        containers = self.kube_deployment(deployment, namespace)["spec"]["template"]["spec"]["containers"]
        return {c["name"]: c["image"] for c in containers}

    def kube_image(self, deployment: str, namespace: str = "default") -> str:
        return next(iter(self.kube_images(deployment, namespace).values()))

    def kube_revision(self, deployment: str, namespace: str = "default") -> int:
        return int(
            self.kube_deployment(deployment, namespace)["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        )


class Chain(Harness):
    """examples/service and examples/landing-zone: the service's two repositories, and each stage
    of the pipeline."""

    def __init__(self, work: Path):
        super().__init__(work)
        # Set by the stages, for the stages after them.
        self.pr_number = 0
        self.tag_payload: dict = {}
        self.release_sha = ""
        self.prereleased = 0
        self.released: tuple[int, dict] | None = None
        self.image = f"{self.registry}/acme/service"
        self.subst = {"@REGISTRY@": self.registry}
        self.service_files = tree_files(HERE / "fixtures" / "service", {}) | workflows_of("service")
        self.lz_files = tree_files(HERE / "fixtures" / "landing-zone", self.subst) | workflows_of(
            "landing-zone"
        )
        self.code_name = SERVICE
        self.start_simulators(self.world(), self.lz_files["k8s/service.yaml"], self.images())
        self.version_endpoint = self.version_endpoint_of("default", "service")
        self.act_vars |= {"IMAGE_NAME": self.image, "PREPROD_VERSION_URL": self.version_endpoint.url}
        self.code = self.local_repo(SERVICE, self.service_files)
        self.lz = self.local_repo(LANDING_ZONE, self.lz_files)

    def world(self) -> Path:
        feature = dict(self.service_files)
        feature["pyproject.toml"] = self.version_of(RC_VERSION)
        bad_lint = {
            "src/service/extra.py": b'"""Badly formatted."""\n\n\ndef add(a:int,b:int)->int:\n    return a+b\n'
        }
        self.feature_files = feature
        self.bad_lint_files = dict(self.service_files) | bad_lint
        failing = {
            "pyproject.toml": self.version_of(FAILING_VERSION),
            "tests/test_release_blocker.py": (
                b'"""A test the tagged commit fails."""\n\n\n'
                b'def test_release_blocker() -> None:\n    """One plus one is not three."""\n'
                b"    assert 1 + 1 == 3\n"
            ),
        }
        self.failing_files = dict(self.service_files) | failing
        self.token_files = dict(self.service_files) | {"pyproject.toml": self.version_of(TOKEN_VERSION)}
        return self.world_of(
            SERVICE,
            LANDING_ZONE,
            [
                {
                    "name": SERVICE,
                    "branches": {
                        "main": {"files": as_text(self.service_files)},
                        "feature": {
                            "from": "main",
                            "files": {"pyproject.toml": feature["pyproject.toml"].decode()},
                        },
                        "bad-lint": {"from": "main", "files": as_text(bad_lint)},
                        "failing-test": {"from": "main", "files": as_text(failing)},
                        "next": {"from": "main", "files": {"pyproject.toml": self.version_of(TOKEN_VERSION).decode()}},
                    },
                },
                {
                    "name": LANDING_ZONE,
                    "branches": {"main": {"files": as_text(self.lz_files)}},
                    "protection": {"main": {"required_checks": ["validate"], "required_approvals": 1}},
                },
            ],
            [landing_zone_ci(LANDING_ZONE)],
        )

    def version_of(self, version: str) -> bytes:
        """The service's pyproject.toml at another version."""
        return self.service_files["pyproject.toml"].replace(b'version = "1.1.0"', f'version = "{version}"'.encode())

    def images(self) -> str:
        return (
            "images:\n"
            f'  - image: "{self.image}:{BROKEN_TAG}"\n    pull: fail\n'
            f'  - image: "{self.image}:*"\n    pull: ok\n    pull_time: 1s\n    ready_after: 2s\n'
        )

    # -- stages -----------------------------------------------------------------------------------

    def pull_request_ci(self) -> None:
        """Alice opens a pull request bumping the version; CI runs every job and the gate passes."""
        pr, record = self.open_pull_request_and_run_ci("Release 1.2.0rc1", "feature", self.feature_files, "pr-ci")
        self.succeeded(record)
        decision = self.artifact(record, "required-ci-check")
        expect(decision["result"] == "success", f"gate: {decision}")
        verdicts = {job["name"]: (job["result"], job["verdict"]) for job in decision["jobs"]}
        for job in ("validate", "checks", "versions"):
            expect(verdicts.get(job) == ("success", "ok"), f"gate: {job} is {verdicts.get(job)}")
        # The pull request's image is built (its Dockerfile checked) and not pushed.
        expect(verdicts.get("publish") == ("success", "ok"), f"gate: publish is {verdicts.get('publish')}")
        checks = self.artifact(record, "checks")
        expect(
            all(
                checks[c] == "success"
                for c in ("tests", "build", "wheel", "black", "isort", "pylint", "mypy", "bandit")
            ),
            f"checks: {checks}",
        )
        expect(not self.registry_tags(), "a pull request published an image")
        self.pr_number = pr["number"]

    def lint_failure(self) -> None:
        """A badly formatted module: every linter still reports, the gate fails naming checks."""
        _, record = self.open_pull_request_and_run_ci(
            "Add extra", "bad-lint", self.bad_lint_files, "pr-ci-lint-failure"
        )
        expect(record["rc"] != 0, "CI passed a badly formatted module")
        checks = self.artifact(record, "checks")
        expect(checks["black"] == "failure", f"black did not fail: {checks}")
        expect(
            all(checks[c] in ("success", "failure") for c in ("isort", "pylint", "mypy", "bandit")),
            f"a linter did not report: {checks}",
        )
        decision = self.artifact(record, "required-ci-check")
        expect(decision["result"] == "failure" and "checks" in decision["failed"], f"gate: {decision}")

    def merge_and_tag(self) -> None:
        """Alice merges the pull request and pushes the release tag."""
        self.github.call(
            "PUT", f"/repos/{SERVICE}/pulls/{self.pr_number}/merge", ALICE, {"merge_method": "squash"}
        )
        merged = self.branch_sha(SERVICE, "main")
        self.tag_payload = self.push_tag(RC_TAG, merged, self.feature_files, "main")
        self.release_sha = merged

    def tag_pushed(self) -> None:
        """The tag push: CI builds and pushes the image with ticgen's tags and labels, then, in the
        same run and only then, the release bot makes the prerelease, whose event starts the deploy."""
        records, seen = self.run_tag_workflows(
            self.tag_payload, self.feature_files, "tag", {"RELEASE_BOT_TOKEN": RELEASE_BOT}, RC_IMAGE_TAG
        )
        for record in records:
            self.succeeded(record)
        expect("event" in seen, "the tag push made no prerelease")
        expect(seen["image"], f"the prerelease was made before {RC_IMAGE_TAG} was in the registry")
        tags = self.registry_tags()
        expect(RC_IMAGE_TAG in tags, f"registry tags: {tags}")
        info = json.loads(
            run(
                "skopeo",
                "inspect",
                "--tls-verify=false",
                f"docker://{self.image}:{RC_IMAGE_TAG}",
                env=clean_env(**self.containers),
            )
        )
        labels = info.get("Labels") or {}
        expect(labels.get("org.opencontainers.image.version") == RC_IMAGE_TAG, f"labels: {labels}")
        expect(labels.get("org.opencontainers.image.revision") == self.release_sha, f"labels: {labels}")
        ci = [r for r in records if (r["artifacts"] / "required-ci-check").is_dir()]
        expect(len(ci) == 1 and self.artifact(ci[0], "required-ci-check")["result"] == "success", "tag CI gate")
        release = self.github.call("GET", f"/repos/{SERVICE}/releases/tags/{RC_TAG}", ALICE)
        expect(
            release and release["prerelease"] and release["author"]["login"] == "release-bot",
            f"release: {release}",
        )
        expect(seen["event"][1]["triggers_workflows"], "the bot-made prerelease triggers no workflow")
        self.prereleased = seen["event"][0]

    def failing_tag(self) -> None:
        """A tag on a commit whose tests fail: CI fails, so no image is pushed, no prerelease is made
        and nothing reaches the landing zone."""
        since = len(self.github.events())
        lz_refs = self.github.call("GET", f"/repos/{LANDING_ZONE}/git/matching-refs/heads/", ALICE)
        head = self.branch_sha(SERVICE, "failing-test")
        payload = self.push_tag(FAILING_TAG, head, self.failing_files, "failing-test")
        records, seen = self.run_tag_workflows(
            payload, self.failing_files, "failing-tag", {"RELEASE_BOT_TOKEN": RELEASE_BOT}, FAILING_IMAGE_TAG
        )
        expect(any(r["rc"] != 0 for r in records), "CI passed a tag whose tests fail")
        ci = [r for r in records if (r["artifacts"] / "checks").is_dir()]
        expect(len(ci) == 1, "no checks artifact")
        checks = self.artifact(ci[0], "checks")
        expect(checks["tests"] == "failure", f"the tests did not fail: {checks}")
        expect("event" not in seen, "a prerelease event for a tag whose CI failed")
        expect(
            self.github.call("GET", f"/repos/{SERVICE}/releases/tags/{FAILING_TAG}", ALICE) is None,
            "a release was made for a tag whose CI failed",
        )
        expect(self.github.find_event(since, "release", SERVICE) is None, "a release event")
        expect(FAILING_IMAGE_TAG not in self.registry_tags(), "the image of a failing tag was pushed")
        expect(self.github.find_event(since, "pull_request", LANDING_ZONE) is None, "a landing-zone pull request")
        expect(
            self.github.call("GET", f"/repos/{LANDING_ZONE}/git/matching-refs/heads/", ALICE) == lz_refs,
            "the landing zone's branches changed",
        )

    def deploy_prerelease(self) -> None:
        """deploy-prerelease: landing-zone PR, dry-run, mirrored checks, approval, merge; the
        landing zone's push deploys to kube-sim; the version is verified; the release promoted."""
        since = len(self.github.events())
        self.code.checkout(self.release_sha)
        started = self.run_triggered(
            self.code,
            self.feature_files,
            "release",
            self.github.webhook(self.prereleased),
            "prereleased",
            {"DEPLOY_APP_PRIVATE_KEY": self.app_key, "DEPLOY_APPROVER_TOKEN": APPROVER},
        )
        expect(
            [r["label"] for r in started] == ["prereleased-deploy-prerelease"],
            f"the prereleased event starts {[r['label'] for r in started]}",
        )
        deploy = started[0]
        payload, merge_seen = self.landing_zone_leg(
            since,
            deploy,
            "deploy/preprod.env",
            "landing-zone",
            lambda: expect(
                self.kube_image("service") == f"{self.image}:{PREVIOUS_TAG}", "the dry-run changed the Deployment"
            ),
        )
        self.waits = {
            "landing_zone_ci": LANDING_ZONE_CI_MS / 1000,
            "rollout": self.version_endpoint.first_seen[RC_IMAGE_TAG] - merge_seen,
        }
        # End state, read from the simulators.
        expect(
            self.kube_image("service") == f"{self.image}:{RC_IMAGE_TAG}",
            f"kube-sim runs {self.kube_image('service')}",
        )
        expect(
            self.version_endpoint.served(self.kube_url, "default", "service") == RC_IMAGE_TAG,
            "pods do not serve the new version",
        )
        expect(
            b"export IMAGE_VERSION=1.2.0-rc.1\n"
            in self.github.file(LANDING_ZONE, "deploy/preprod.env", "main"),
            "env file not bumped",
        )
        pr = self.github.call("GET", f"/repos/{LANDING_ZONE}/pulls/{payload['number']}", ALICE)
        expect(pr["merged"], "landing-zone pull request not merged")
        # The deploy's token was the App's: minted by the real create-github-app-token (narrowed to
        # the two repositories), acting as the App's bot, revoked by the action's post step.
        expect(pr["user"]["login"] == f"{APP_SLUG}[bot]", f"pull request opened by {pr['user']['login']}")
        log = self.github.call("GET", "/_sim/requests")
        minted = [
            r
            for r in log
            if r["method"] == "POST" and r["path"] == f"/app/installations/{APP_INSTALLATION}/access_tokens"
        ]
        revoked = [
            r for r in log if r["method"] == "DELETE" and r["path"] == "/installation/token" and r["status"] == 204
        ]
        expect(minted and revoked, f"the App token was not minted ({len(minted)}) and revoked ({len(revoked)})")
        reviews = self.github.call("GET", f"/repos/{LANDING_ZONE}/pulls/{payload['number']}/reviews", ALICE)
        expect(
            any(r["state"] == "APPROVED" and r["user"]["login"] == "deploy-approver" for r in reviews),
            f"reviews: {reviews}",
        )
        expect(
            self.github.call("GET", f"/repos/{LANDING_ZONE}/git/ref/heads/{pr['head']['ref']}", ALICE)
            is None,
            "deploy branch not deleted",
        )
        mirrored = self.github.call("GET", f"/repos/{SERVICE}/commits/{self.release_sha}/check-runs", ALICE)
        expect(
            any(run_["name"].endswith("validate") for run_ in mirrored["check_runs"]),
            f"checks not mirrored: {mirrored}",
        )
        # The deploy is recorded in the service repository: a deployment of the tag's commit in
        # the environment named after the env file, its last status success.
        deployments = self.github.call("GET", f"/repos/{SERVICE}/deployments?sha={self.release_sha}", ALICE)
        expect(
            [d["environment"] for d in deployments] == ["preprod"],
            f"deployments of the release commit: {deployments}",
        )
        statuses = self.github.call("GET", f"/repos/{SERVICE}/deployments/{deployments[0]['id']}/statuses", ALICE)
        expect(statuses and statuses[0]["state"] == "success", f"deployment statuses: {statuses}")
        release = self.github.call("GET", f"/repos/{SERVICE}/releases/tags/{RC_TAG}", ALICE)
        expect(not release["prerelease"], "the prerelease was not promoted")
        self.released = wait_for(
            "the released event", lambda: self.github.find_event(since, "release", SERVICE, "released")
        )

    def deploy_release(self) -> None:
        """The promotion fires `edited` and `released`: deploy-release, started once (by
        `released`), opens the production PR and leaves it."""
        expect(self.released[1]["triggers_workflows"], "the promotion triggers no workflow")
        promotion = [
            index
            for index, record in enumerate(self.github.events())
            if index > self.prereleased and record["event"] == "release" and record["repo"] == SERVICE
        ]
        starts = {
            index: triggered(self.feature_files, "release", self.github.webhook(index)) for index in promotion
        }
        expect(
            [(i, w) for i, ws in starts.items() for w in ws] == [(self.released[0], "deploy-release.yml")],
            f"the promotion's release events start {starts}",
        )
        started = self.run_triggered(
            self.code,
            self.feature_files,
            "release",
            self.github.webhook(self.released[0]),
            "released",
            {"DEPLOY_APP_PRIVATE_KEY": self.app_key},
        )
        record = self.finish(started[0])
        self.succeeded(record)
        prs = self.github.call("GET", f"/repos/{LANDING_ZONE}/pulls?state=open", ALICE)
        prod = [pr for pr in prs if not pr["merged_at"]]
        expect(len(prod) == 1, f"open landing-zone pull requests: {prs}")
        changed = self.github.file(LANDING_ZONE, "deploy/prod.env", prod[0]["head"]["sha"])
        expect(b"export IMAGE_VERSION=1.2.0-rc.1\n" in changed, "production env file not bumped in the PR")
        expect(
            self.kube_image("service-prod") == f"{self.image}:{PREVIOUS_TAG}",
            "production changed without a merge",
        )

    def broken_image(self) -> None:
        """Someone merges a version that cannot be pulled: the deploy fails, rolls back, and its
        summary says why."""
        push = self.merge_env_version("deploy/preprod.env", "IMAGE_VERSION", BROKEN_TAG, "broken")
        revision = self.kube_revision("service")
        record = self.act(
            self.lz, "push", "deploy.yml", push, "landing-zone-broken", {"KUBECONFIG": self.kubeconfig}
        )
        expect(record["rc"] != 0, "the deploy of an unpullable image succeeded")
        # Rolled out (one revision) and rolled back (the restored template gets the next one).
        expect(
            self.kube_revision("service") == revision + 2,
            f"revision {revision} → {self.kube_revision('service')}",
        )
        expect(
            self.kube_image("service") == f"{self.image}:{RC_IMAGE_TAG}",
            f"not rolled back: {self.kube_image('service')}",
        )
        wait_for(
            "the rolled-back pods",
            lambda: self.version_endpoint.served(self.kube_url, "default", "service") == RC_IMAGE_TAG,
            timeout=60,
        )
        # The job summary (act prints each step's summary after "Summary - ") says why.
        summary = record["text"].split("Summary - ### Deploy of deploy/preprod.env failed", 1)
        expect(len(summary) == 2, "the deploy job wrote no failure summary")
        expect("- result: rolled-back" in summary[1], "the summary does not say it rolled back")
        expect(
            re.search(r"- why: .*(ErrImagePull|ImagePullBackOff)", summary[1]) is not None,
            "the summary does not say why",
        )

    def late_deploy(self) -> None:
        """Two merges, A then B; B's deploy job runs first, A's late (queued, re-run): A's job
        deploys what the head of main says (B), so preprod never goes back to A's version."""
        first = self.merge_env_version("deploy/preprod.env", "IMAGE_VERSION", LATE_FIRST, "late-first")
        second = self.merge_env_version("deploy/preprod.env", "IMAGE_VERSION", LATE_SECOND, "late-second")
        self.succeeded(
            self.act(self.lz, "push", "deploy.yml", second, "landing-zone-newer", {"KUBECONFIG": self.kubeconfig})
        )
        expect(self.kube_image("service") == f"{self.image}:{LATE_SECOND}", "the newer merge was not deployed")
        revision = self.kube_revision("service")
        # GitHub runs A's job on A's commit (act copies the working directory) while main is at B.
        self.lz.detach(first["after"])
        late = self.act(self.lz, "push", "deploy.yml", first, "landing-zone-late", {"KUBECONFIG": self.kubeconfig})
        self.succeeded(late)
        expect(
            self.kube_image("service") == f"{self.image}:{LATE_SECOND}",
            f"a late deploy went back to {self.kube_image('service')}",
        )
        expect(self.kube_revision("service") == revision, "a late deploy changed the Deployment")
        expect("target: deploy/preprod.env" in late["text"], "the late job did not target deploy/preprod.env")

    def github_token_prerelease(self) -> None:
        """A prerelease made with GITHUB_TOKEN (no RELEASE_BOT_TOKEN in the `release` environment):
        its event starts no workflow; the action warns."""
        since = len(self.github.events())
        head = self.branch_sha(SERVICE, "next")
        payload = self.push_tag(TOKEN_TAG, head, self.token_files, "next")
        records, _ = self.run_tag_workflows(payload, self.token_files, "release-github-token", {}, "")
        for record in records:
            self.succeeded(record)
        release = self.github.call("GET", f"/repos/{SERVICE}/releases/tags/{TOKEN_TAG}", ALICE)
        expect(release["author"]["login"] == "github-actions[bot]", f"release author: {release['author']}")
        event = wait_for(
            "the prereleased event", lambda: self.github.find_event(since, "release", SERVICE, "prereleased")
        )
        expect(not event[1]["triggers_workflows"], "a GITHUB_TOKEN release would trigger workflows")
        expect(
            any(GITHUB_TOKEN_WARNING in r["text"] for r in records),
            "create-prerelease did not warn about GITHUB_TOKEN",
        )


def run_main(description: str, scenario, stages: list[tuple[str, str]]) -> int:
    """Runs `scenario` (a Harness class)'s `stages` (title, method name) in order; the command line
    of chain.py and its siblings."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--timings", type=Path, help="write stage and act-run wall times (JSON) here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    options = parser.parse_args()
    for binary in (
        "github-sim",
        "kube-sim",
        "ticgen",
        "required-ci-check",
        "create-prerelease",
        "auto-deploy",
        "k8s-deploy",
    ):
        expect((BIN_DIR / binary).exists(), f"no {binary} in {BIN_DIR}: cargo build --workspace --bins")
    work = Path(tempfile.mkdtemp(prefix=f"gantry-e2e-{scenario.__name__.lower()}-"))
    chain = None
    try:
        chain = scenario(work)
        for title, stage in stages:
            chain.timed(title, getattr(chain, stage))
        for name, seconds in chain.timings:
            print(f"{seconds:7.1f} s  {name}")
        if options.timings:
            options.timings.write_text(
                json.dumps(
                    {
                        "stages": chain.timings,
                        "waits": chain.waits,
                        "act": [
                            {
                                "label": r["label"],
                                "seconds": r.get("seconds"),
                                "log": r["log"].read_text(errors="replace"),
                            }
                            for r in chain.act_runs
                        ],
                    }
                )
            )
        print(
            f"e2e ({scenario.__name__}): the whole chain ran under act; "
            "end states hold in github-sim, kube-sim and the registry"
        )
        return 0
    except Failed as failure:
        print(f"e2e FAILED: {failure}\nlogs: {work / 'logs'}", file=sys.stderr)
        options.keep = True
        return 1
    finally:
        if chain:
            chain.stop()
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(
        run_main(
            __doc__.splitlines()[0],
            Chain,
            [
                ("pull request CI", "pull_request_ci"),
                ("merge and tag", "merge_and_tag"),
                ("tag: CI, image, then the prerelease", "tag_pushed"),
                ("deploy prerelease", "deploy_prerelease"),
                ("deploy release (production PR)", "deploy_release"),
                ("failure: lint", "lint_failure"),
                ("failure: a tag whose tests fail", "failing_tag"),
                ("failure: broken image", "broken_image"),
                ("failure: GITHUB_TOKEN prerelease", "github_token_prerelease"),
                ("a late deploy never goes backwards", "late_deploy"),
            ],
        )
    )
