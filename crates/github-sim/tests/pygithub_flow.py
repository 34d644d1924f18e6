"""Core flows driven by PyGitHub (an independent client) against a running github-sim.

Usage: python3 pygithub_flow.py BASE_URL   (world: tests/pygithub_world.yaml)
"""
import sys

from github import Auth, Github, GithubException


def expect_status(status, fn):
    try:
        fn()
    except GithubException as e:
        assert e.status == status, f"expected {status}, got {e.status}: {e.data}"
        return e
    raise AssertionError(f"expected HTTP {status}, but the call succeeded")


def settled(repo, number):
    """The pull request once GitHub has computed its mergeability (the first read starts it)."""
    for _ in range(20):
        pull = repo.get_pull(number)
        if pull.mergeable is not None:
            return pull
    raise AssertionError(f"#{number}: mergeable never settled")


def main(url):
    gh = lambda token: Github(base_url=url, auth=Auth.Token(token), retry=None)
    alice, bob, app = gh("alice-token"), gh("bob-token"), gh("app-token")
    repo = alice.get_repo("acme/service")
    assert repo.default_branch == "main"
    main_sha = repo.get_branch("main").commit.sha
    assert len(main_sha) == 40

    # Create a ref; creating it again is 422 "Reference already exists".
    ref = repo.create_git_ref("refs/heads/bump", main_sha)
    assert ref.object.sha == main_sha
    err = expect_status(422, lambda: repo.create_git_ref("refs/heads/bump", main_sha))
    assert err.data["message"] == "Reference already exists"

    # Update a file: a stale blob sha is 409, the current one works.
    current = repo.get_contents("deploy/env", ref="bump")
    assert current.decoded_content == b"export IMAGE_VERSION=1.0.0\n"
    expect_status(409, lambda: repo.update_file("deploy/env", "bump", "export IMAGE_VERSION=1.1.0\n", "0" * 40, branch="bump"))
    updated = repo.update_file(current.path, "bump", "export IMAGE_VERSION=1.1.0\n", current.sha, branch="bump")
    head_sha = updated["commit"].sha
    assert repo.get_git_ref("heads/bump").object.sha == head_sha

    # Open a PR, approve it as another user; the author cannot approve.
    pr = repo.create_pull(title="Bump to 1.1.0", body="bump", head="bump", base="main")
    assert pr.head.sha == head_sha
    expect_status(422, lambda: pr.create_review(event="APPROVE"))
    bob.get_repo("acme/service").get_pull(pr.number).create_review(event="APPROVE", body="lgtm")
    assert [r.state for r in pr.get_reviews()] == ["APPROVED"]

    # An app posts the required check; list check runs.
    app.get_repo("acme/service").create_check_run(name="lint", head_sha=head_sha, status="completed", conclusion="success")
    runs = repo.get_commit(head_sha).get_check_runs()
    assert runs.totalCount == 1
    assert runs[0].name == "lint" and runs[0].conclusion == "success"
    expect_status(403, lambda: repo.create_check_run(name="lint", head_sha=head_sha))

    # Merge pinned to the wrong head is 409; pinned to the right one merges.
    expect_status(409, lambda: pr.merge(sha="f" * 40, merge_method="squash"))
    result = pr.merge(sha=head_sha, merge_method="squash")
    assert result.merged
    assert repo.get_pull(pr.number).merged
    assert repo.get_contents("deploy/env").decoded_content == b"export IMAGE_VERSION=1.1.0\n"

    # Create a prerelease and promote it.
    rel = repo.create_git_release("v1.1.0", "1.1.0", "notes", prerelease=True)
    assert rel.prerelease
    expect_status(422, lambda: repo.create_git_release("v1.1.0", "again", "x"))
    rel.update_release(name="1.1.0", message="notes", prerelease=False)
    assert not repo.get_release("v1.1.0").prerelease
    assert repo.get_latest_release().tag_name == "v1.1.0"

    # A check name that needs encoding, paginated one per page through the Link header.
    one_per_page = Github(base_url=url, auth=Auth.Token("alice-token"), retry=None, per_page=1)
    tip = repo.get_branch("main").commit.sha
    for _ in range(3):
        app.get_repo("acme/service").create_check_run(name="test (ubuntu, 3.11)", head_sha=tip, status="completed", conclusion="success")
    runs = one_per_page.get_repo("acme/service").get_commit(tip).get_check_runs(check_name="test (ubuntu, 3.11)", filter="all")
    assert [r.name for r in runs] == ["test (ubuntu, 3.11)"] * 3
    # A base that requires up-to-date branches and dismisses stale approvals: the base moves,
    # the pull request is behind; update-branch merges the base in, which dismisses the approval.
    repo.create_git_ref("refs/heads/hotfix", repo.get_branch("release").commit.sha)
    repo.create_file("hotfix.txt", "fix", "fix\n", branch="hotfix")
    fix = repo.create_pull(title="Hotfix", body="", head="hotfix", base="release")
    bob.get_repo("acme/service").get_pull(fix.number).create_review(event="APPROVE")
    repo.create_file("other.txt", "other", "other\n", branch="release")
    fix = settled(repo, fix.number)
    assert fix.mergeable_state == "behind", fix.mergeable_state
    expect_status(405, lambda: fix.merge(sha=fix.head.sha))
    assert fix.update_branch(expected_head_sha=fix.head.sha)
    fix = settled(repo, fix.number)
    assert [r.state for r in fix.get_reviews()] == ["DISMISSED"]
    assert fix.mergeable_state == "blocked", fix.mergeable_state
    bob.get_repo("acme/service").get_pull(fix.number).create_review(event="APPROVE")
    assert settled(repo, fix.number).mergeable_state == "clean"
    assert fix.merge(sha=fix.head.sha).merged
    print("ALL FLOWS OK")


if __name__ == "__main__":
    main(sys.argv[1])
