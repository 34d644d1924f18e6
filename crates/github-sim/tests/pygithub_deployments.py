"""Deployments, deployment statuses and environments driven by PyGitHub (an independent client)
against a running github-sim: create, list with pagination, statuses, auto-inactive, delete
refused while active, environments, and the 403 of a token without deployments permission.

Usage: python3 pygithub_deployments.py BASE_URL   (world: tests/pygithub_deployments.yaml)
"""
import sys

from github import Auth, Github

from pygithub_flow import expect_status


def main(base):
    gh = Github(auth=Auth.Token("alice-token"), base_url=base, per_page=3)
    repo = gh.get_repo("acme/service")
    sha = repo.get_branch("main").commit.sha

    created = []
    for n in range(7):
        d = repo.create_deployment(
            "v1.0.0", environment="staging", required_contexts=[], auto_merge=False,
            payload={"n": n}, description=f"deploy {n}",
        )
        assert d.sha == sha and d.ref == "v1.0.0" and d.environment == "staging", d.raw_data
        assert d.production_environment is False and d.transient_environment is False
        assert d.payload == {"n": n}, d.payload
        created.append(d)

    listed = repo.get_deployments(environment="staging")
    assert listed.totalCount == 7, listed.totalCount
    ids = [d.id for d in listed]
    assert ids == [d.id for d in reversed(created)], ids
    assert [d.id for d in repo.get_deployments(sha=sha, task="deploy")] == ids
    assert list(repo.get_deployments(environment="production")) == []

    first, second = created[0], created[1]
    first.create_status("success", target_url="https://ci/1", environment_url="https://staging")
    progress = second.create_status("in_progress", description="rolling out")
    assert progress.state == "in_progress"
    done = second.create_status("success", environment_url="https://staging", description="verified")
    assert done.environment_url == "https://staging", done.raw_data
    assert [s.state for s in first.get_statuses()] == ["inactive", "success"]
    assert [s.state for s in second.get_statuses()] == ["success", "in_progress"]
    assert second.get_status(done.id).description == "verified"

    # Active deployments are kept; an inactive one may go.
    e = expect_status(422, lambda: repo._requester.requestJsonAndCheck("DELETE", second.url))
    assert "active deployment" in e.data["message"], e.data
    repo._requester.requestJsonAndCheck("DELETE", first.url)
    expect_status(404, lambda: repo.get_deployment(first.id))

    # The deployment created its environment; environments are configured by admins.
    assert [e.name for e in repo.get_environments()] == ["staging"]
    env = repo.create_environment("production", wait_timer=3)
    assert env.name == "production" and env.protection_rules[0].wait_timer == 3
    assert sorted(e.name for e in repo.get_environments()) == ["production", "staging"]
    repo.delete_environment("production")
    expect_status(404, lambda: repo.get_environment("production"))

    # A token without deployments permission is refused, and nothing is created.
    other = Github(auth=Auth.Token("no-deploy-token"), base_url=base).get_repo("acme/service")
    expect_status(403, lambda: other.create_deployment("main", required_contexts=[]))
    assert repo.get_deployments().totalCount == 6
    print("DEPLOYMENTS OK")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
