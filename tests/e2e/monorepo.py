#!/usr/bin/env python3
"""The monorepo example end to end under act: examples/monorepo and examples/monorepo-gitops.

The second scenario of tests/e2e (chain.py holds the machinery it shares): a monorepo with two
services released by their own tags (`api-v…`, `worker-v…`) and a GitOps repository with one env
file per service and cluster, played against github-sim, kube-sim and a real OCI registry with the
examples' workflows unchanged. Each tag's CI builds only its service (the api, a Poetry project,
installs its locked dev group from poetry.lock); each release starts both deploy workflows and
only its service's acts; the api rolls out to its two Deployments (api-web, api-grpc) together
and, when the new image cannot start, both roll back; the worker's sidecar keeps its image.

    tests/e2e/monorepo.py [--keep] [--timings FILE]
"""

from __future__ import annotations

import json
import re
import sys

from chain import (
    ALICE,
    APP_SLUG,
    EXAMPLES,
    HERE,
    RELEASE_BOT,
    APPROVER,
    Harness,
    expect,
    landing_zone_ci,
    run_main,
    as_text,
    tree_files,
    wait_for,
)

MONOREPO, GITOPS = "acme/monorepo", "acme/gitops"
# What the example's files say is running, and what the tags release.
API_PREVIOUS, WORKER_PREVIOUS = "2.3.0", "0.9.1"
API_TAG, API_VERSION, API_IMAGE_TAG = "api-v2.4.0-rc.1", "2.4.0rc1", "2.4.0-rc.1"
WORKER_TAG, WORKER_IMAGE_TAG = "worker-v0.9.2-rc.1", "0.9.2-rc.1"
# An api image that pulls, serves HTTP (api-web) and crashes in its gRPC mode (api-grpc's
# `--grpc`: CrashLoopBackOff).
API_CRASHING = "2.4.0-rc.2"
STAGING_API, PROD_API = "clusters/eu-staging/api.env", "clusters/eu-prod/api.env"
STAGING_WORKER = "clusters/eu-staging/worker.env"
SIDECARS = {("api-grpc", "envoy"): "envoy:1.30.0", ("worker", "log-shipper"): "log-shipper:3.1.0"}
DEPLOY_SECRETS = {"DEPLOY_APPROVER_TOKEN": APPROVER}


class Monorepo(Harness):
    """examples/monorepo and examples/monorepo-gitops, and each stage of their pipeline."""

    def __init__(self, work):
        super().__init__(work)
        self.images_base = f"{self.registry}/acme"
        self.code_name = MONOREPO
        # The example as a team commits it; its Dockerfiles need a base image no machine here can
        # pull, so both services build the fixture's FROM scratch one.
        dockerfile = (HERE / "fixtures" / "monorepo" / "Dockerfile").read_bytes()
        self.code_files = tree_files(EXAMPLES / "monorepo", {}) | {
            f"services/{service}/Dockerfile": dockerfile for service in ("api", "worker")
        }
        pyproject = "services/api/pyproject.toml"
        self.api_rc_files = dict(self.code_files) | {
            pyproject: self.code_files[pyproject].replace(
                f'version = "{API_PREVIOUS}"'.encode(), f'version = "{API_VERSION}"'.encode()
            )
        }
        expect(self.api_rc_files != self.code_files, "the api's version is not the one this test bumps")
        self.gitops_files = tree_files(EXAMPLES / "monorepo-gitops", {"harbor.acme.example/platform": self.images_base})
        manifests = (HERE / "fixtures" / "monorepo" / "k8s.yaml").read_text().replace("@REGISTRY@", self.registry)
        self.start_simulators(self.world(), manifests.encode(), self.images())
        self.api_endpoint = self.version_endpoint_of("api", "api-web", "app")
        self.worker_endpoint = self.version_endpoint_of("worker", "worker", "worker")
        self.act_vars |= {
            "IMAGE_REGISTRY": self.images_base,
            "STAGING_API_VERSION_URL": self.api_endpoint.url,
            "STAGING_WORKER_VERSION_URL": self.worker_endpoint.url,
        }
        self.code = self.local_repo(MONOREPO, self.code_files)
        self.lz = self.local_repo(GITOPS, self.gitops_files)
        self.prereleased: dict[str, int] = {}
        self.tag_log = ""
        self.released_at: dict[str, tuple[str, str]] = {}

    def world(self):
        pyproject = "services/api/pyproject.toml"
        return self.world_of(
            MONOREPO,
            GITOPS,
            [
                {
                    "name": MONOREPO,
                    "branches": {
                        "main": {"files": as_text(self.code_files)},
                        "api-rc": {"from": "main", "files": {pyproject: self.api_rc_files[pyproject].decode()}},
                    },
                },
                {
                    "name": GITOPS,
                    "branches": {"main": {"files": as_text(self.gitops_files)}},
                    "protection": {"main": {"required_checks": ["validate"], "required_approvals": 1}},
                },
            ],
            [landing_zone_ci(GITOPS)],
        )

    def images(self) -> str:
        return (
            "images:\n"
            f'  - image: "{self.images_base}/api:{API_CRASHING}"\n    crash: true\n    crash_args: ["--grpc"]\n'
            f'    last_words: ["grpc: cannot bind :50051"]\n'
            f'  - image: "{self.images_base}/*"\n    pull: ok\n    pull_time: 1s\n    ready_after: 2s\n'
        )

    # -- stages -----------------------------------------------------------------------------------

    def release_service(self, service: str, tag: str, branch: str, files: dict, image_tag: str) -> None:
        """`tag` pushed on `branch`: the CI of `service` alone runs, pushes its image, and the
        release bot makes the prerelease."""
        sha = self.branch_sha(MONOREPO, branch)
        payload = self.push_tag(tag, sha, files, branch)
        records, seen = self.run_tag_workflows(
            payload, files, f"{service}-tag", {"RELEASE_BOT_TOKEN": RELEASE_BOT}, image_tag, f"acme/{service}"
        )
        expect([r["label"] for r in records] == [f"{service}-tag-ci"], f"the tag starts {records}")
        self.succeeded(records[0])
        expect("event" in seen, f"{tag} made no prerelease")
        expect(seen["image"], f"the prerelease was made before {image_tag} was in the registry")
        other = "worker" if service == "api" else "api"
        artifacts = records[0]["artifacts"]
        expect((artifacts / f"checks-services-{service}").is_dir(), f"{service}'s checks did not run")
        expect(not (artifacts / f"checks-services-{other}").exists(), f"{tag} ran {other}'s CI")
        checks = self.artifact(records[0], f"checks-services-{service}")
        # The linters the service's call names ran and passed; the others are skipped.
        expected = {"tests", "build", "wheel", "black", "pylint"} | ({"isort", "mypy"} if service == "api" else set())
        expect(
            all(outcome == ("success" if check in expected else "skipped") for check, outcome in checks.items()),
            f"{service} checks: {checks}",
        )
        expect(self.artifact(records[0], f"required-ci-check-services-{service}")["result"] == "success", "gate")
        self.gate_passed_with_skipped(records[0], other)
        expect(image_tag in self.registry_tags(f"acme/{service}"), f"{service} image not pushed")
        release = self.github.call("GET", f"/repos/{MONOREPO}/releases/tags/{tag}", ALICE)
        expect(release and release["prerelease"] and release["author"]["login"] == "release-bot", f"{release}")
        self.prereleased[service] = seen["event"][0]
        self.released_at[service] = (sha, branch)
        self.tag_log = records[0]["text"]

    def api_pull_request(self) -> None:
        """Alice's pull request bumps the api: the api's CI alone runs (the worker's is skipped, and
        the gate allows that), nothing is published; she squash-merges it."""
        pr, record = self.open_pull_request_and_run_ci(f"api {API_VERSION}", "api-rc", self.api_rc_files, "api-pr-ci")
        self.succeeded(record)
        artifacts = record["artifacts"]
        expect((artifacts / "checks-services-api").is_dir(), "the api's checks did not run")
        expect(not (artifacts / "checks-services-worker").exists(), "a pull request on the api ran the worker's CI")
        gate = self.artifact(record, "required-ci-check-services-api")
        expect(gate["result"] == "success", f"the api's gate: {gate}")
        self.gate_passed_with_skipped(record, "worker")
        expect(not self.registry_tags("acme/api"), "a pull request published an image")
        self.github.call("PUT", f"/repos/{MONOREPO}/pulls/{pr['number']}/merge", ALICE, {"merge_method": "squash"})
        self.code_files = self.api_rc_files

    def api_tag(self) -> None:
        """api-v2.4.0-rc.1 on main: the api's CI only, its tools from poetry.lock, hash-checked."""
        self.release_service("api", API_TAG, "main", self.api_rc_files, API_IMAGE_TAG)
        expect(
            "packages of the main and dev groups from services/api/poetry.lock, hash-checked" in self.tag_log,
            "the api's tools did not come from its poetry.lock",
        )
        # Poetry (validate) and the build frontend are pinned by the api's constraints file.
        expect(
            "pyproject.toml validated by Poetry (version 2.5.1)" in self.tag_log,
            "the api's validate job did not run the pinned poetry check",
        )
        expect("not pinned" not in self.tag_log and "does not pin" not in self.tag_log, "an api tool is not pinned")
        expect(not self.registry_tags("acme/worker"), "the api's tag published a worker image")

    def worker_tag(self) -> None:
        """worker-v0.9.2-rc.1 on main: the worker's CI only (version from the tag, hatch-vcs)."""
        self.release_service("worker", WORKER_TAG, "main", self.code_files, WORKER_IMAGE_TAG)
        expect("Not a Poetry project" in self.tag_log, "the worker was read as a Poetry project")
        expect(
            "pyproject.toml validated by validate_pyproject 0.27" in self.tag_log,
            "the worker's validate job did not run the pinned validate-pyproject",
        )
        expect("not pinned" not in self.tag_log and "does not pin" not in self.tag_log, "a worker tool is not pinned")

    def deploy(self, service: str, env_file: str, image_tag: str) -> None:
        """The prerelease event starts both deploy workflows; only `service`'s opens a pull request
        in the GitOps repository, whose merge deploys `env_file`; the release is promoted."""
        since = len(self.github.events())
        self.code.checkout(*self.released_at[service])
        started = self.run_triggered(
            self.code,
            self.code_files,
            "release",
            self.github.webhook(self.prereleased[service]),
            f"{service}-prereleased",
            {"DEPLOY_APP_PRIVATE_KEY": self.app_key} | DEPLOY_SECRETS,
        )
        labels = sorted(r["label"] for r in started)
        expect(
            labels == [f"{service}-prereleased-deploy-api", f"{service}-prereleased-deploy-worker"],
            f"the prereleased event starts {labels}",
        )
        mine = next(r for r in started if r["label"].endswith(f"deploy-{service}"))
        other = next(r for r in started if r is not mine)
        before = self.cluster_images()
        payload, _ = self.landing_zone_leg(
            since,
            mine,
            env_file,
            f"{service}-gitops",
            lambda: expect(self.cluster_images() == before, "the dry-run changed the cluster"),
        )
        self.finish(other)
        self.succeeded(other)
        # The other service's deploy job is skipped by its release-tag-prefix: it never runs auto-deploy.
        expect("actions/auto-deploy" not in other["text"], f"{other['label']} ran auto-deploy")
        opened = [r for r in self.github.events()[since:] if r["event"] == "pull_request" and r["action"] == "opened"]
        expect(len(opened) == 1, f"{len(opened)} GitOps pull requests for one {service} release")
        pr = self.github.call("GET", f"/repos/{GITOPS}/pulls/{payload['number']}", ALICE)
        expect(pr["merged"] and pr["user"]["login"] == f"{APP_SLUG}[bot]", f"pull request: {pr['user']}")
        changed = self.github.file(GITOPS, env_file, "main")
        expect(f"\nIMAGE_TAG={image_tag}\n".encode() in changed, f"{env_file} not bumped: {changed!r}")
        tag = API_TAG if service == "api" else WORKER_TAG
        release = self.github.call("GET", f"/repos/{MONOREPO}/releases/tags/{tag}", ALICE)
        expect(not release["prerelease"], f"{tag} was not promoted")

    def deploy_api(self) -> None:
        """The api release: api-web and api-grpc roll out together, only their `app` containers;
        eu-prod's env file is untouched."""
        self.deploy("api", STAGING_API, API_IMAGE_TAG)
        for deployment in ("api-web", "api-grpc"):
            image = self.kube_images(deployment, "api")["app"]
            expect(image == f"{self.images_base}/api:{API_IMAGE_TAG}", f"{deployment} runs {image}")
        self.sidecars_unchanged()
        expect(
            self.kube_images("worker", "worker")["worker"] == f"{self.images_base}/worker:{WORKER_PREVIOUS}",
            "the api's release changed the worker",
        )
        expect(
            self.github.file(GITOPS, PROD_API, "main") == self.gitops_files[PROD_API],
            "the staging release changed eu-prod",
        )
        wait_for(
            "the api's version", lambda: self.api_endpoint.served(self.kube_url, "api", "api-web") == API_IMAGE_TAG
        )

    def deploy_worker(self) -> None:
        """The worker release: only its `worker` container changes, the log-shipper sidecar keeps
        its image, the api is untouched."""
        self.deploy("worker", STAGING_WORKER, WORKER_IMAGE_TAG)
        image = self.kube_images("worker", "worker")["worker"]
        expect(image == f"{self.images_base}/worker:{WORKER_IMAGE_TAG}", f"worker runs {image}")
        self.sidecars_unchanged()
        for deployment in ("api-web", "api-grpc"):
            expect(
                self.kube_images(deployment, "api")["app"] == f"{self.images_base}/api:{API_IMAGE_TAG}",
                f"the worker's release changed {deployment}",
            )

    def crashing_api(self) -> None:
        """An api image whose gRPC mode cannot start merged into eu-staging: api-web's pods start,
        api-grpc's crash, the deploy job fails and rolls both Deployments back to the image they
        ran, each with its own revision."""
        revisions = {d: self.kube_revision(d, "api") for d in ("api-web", "api-grpc")}
        push = self.merge_env_version(STAGING_API, "IMAGE_TAG", API_CRASHING, "crashing")
        record = self.act(self.lz, "push", "deploy.yml", push, "api-crashing", {"KUBECONFIG": self.kubeconfig})
        expect(record["rc"] != 0, "the deploy of a crashing image succeeded")
        for deployment, revision in revisions.items():
            image = self.kube_images(deployment, "api")["app"]
            expect(image == f"{self.images_base}/api:{API_IMAGE_TAG}", f"{deployment} not rolled back: {image}")
            # Rolled out (one revision) and rolled back (the restored template gets the next one).
            now = self.kube_revision(deployment, "api")
            expect(now == revision + 2, f"{deployment}: revision {revision} → {now}")
        self.sidecars_unchanged()
        summary = record["text"].split(f"Summary - ### Deploy of {STAGING_API} failed", 1)
        expect(len(summary) == 2, "the deploy job wrote no failure summary")
        expect("- result: rolled-back" in summary[1], "the summary does not say it rolled back")
        expect(re.search(r"CrashLoopBackOff", summary[1]) is not None, "the summary does not say why")
        # api-web got ready on the new image; api-grpc did not, and k8s-deploy rolled the whole set
        # back because of it.
        expect(
            re.search(r"api-grpc failed, so the set is rolled back", summary[1]) is not None,
            "the summary does not say api-grpc's failure rolled the set back",
        )

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def gate_passed_with_skipped(record: dict, skipped: str) -> None:
        """The repository's one required status, `gate`, passed, tolerating `skipped`'s skipped CI."""
        decision = re.search(r"\[ci/gate\s*\]\s+\| decision=(\{.*\})$", record["text"], re.MULTILINE)
        expect(decision is not None, "the gate made no decision")
        decision = json.loads(decision.group(1))
        verdicts = {job["name"]: job["verdict"] for job in decision["jobs"]}
        expect(decision["result"] == "success" and verdicts.get(skipped) == "tolerated", f"gate: {decision}")

    def cluster_images(self) -> dict:
        return {
            (namespace, deployment): self.kube_images(deployment, namespace)
            for namespace, deployment in (("api", "api-web"), ("api", "api-grpc"), ("worker", "worker"))
        }

    def sidecars_unchanged(self) -> None:
        for (deployment, container), image in SIDECARS.items():
            namespace = "api" if deployment.startswith("api") else "worker"
            now = self.kube_images(deployment, namespace)[container]
            expect(now == f"{self.images_base}/{image}", f"{deployment}'s {container} sidecar runs {now}")


if __name__ == "__main__":
    sys.exit(
        run_main(
            __doc__.splitlines()[0],
            Monorepo,
            [
                ("api pull request: its CI alone, merged", "api_pull_request"),
                ("api tag: its CI alone (poetry.lock), image, prerelease", "api_tag"),
                ("deploy api: api-web and api-grpc together", "deploy_api"),
                ("worker tag: its CI alone, image, prerelease", "worker_tag"),
                ("deploy worker: the sidecar unchanged", "deploy_worker"),
                ("failure: a crashing api image rolls both back", "crashing_api"),
            ],
        )
    )
