"""Secondary rate limits driven by PyGitHub (an independent client) against a running github-sim.

Usage: python3 pygithub_limits.py BASE_URL   (world: tests/pygithub_limits.yaml)

PyGitHub's own retry (GithubRetry) honours the simulator's 403: with `retry-after` it sleeps that
many seconds (urllib3), with neither header it waits `secondary_rate_wait`; without a retry it
raises RateLimitExceededException.
"""
import json
import sys
import urllib.request

from github import Auth, Github, GithubRetry, RateLimitExceededException


def admin(url, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def limited(url):
    return admin(url, "GET", "/_sim/limits")["limited"]


def main(url):
    # PyGitHub spaces its own requests (a second between writes) unless told not to.
    unthrottled = dict(seconds_between_requests=0, seconds_between_writes=0)
    retrying = Github(
        base_url=url,
        auth=Auth.Token("alice-token"),
        retry=GithubRetry(total=3, secondary_rate_wait=3),
        **unthrottled,
    )
    bare = Github(base_url=url, auth=Auth.Token("alice-token"), retry=None, **unthrottled)
    repo = retrying.get_repo("acme/service")
    sha = repo.get_branch("main").commit.sha

    # Three creates where two fit in a minute: the third is refused with a retry-after of at most
    # 3 s (a simulated minute at scale 20), GithubRetry sleeps it and the create goes through once.
    for n in range(3):
        repo.create_git_ref(f"refs/heads/a{n}", sha)
    assert limited(url) == 1, admin(url, "GET", "/_sim/limits")
    usage = admin(url, "GET", "/_sim/limits")["identities"]["alice"]
    assert usage["limited"] == {"content_per_minute": 1}, usage
    assert usage["peak_writes_per_minute"] <= 2, usage
    assert [r.ref for r in repo.get_git_refs() if r.ref.startswith("refs/heads/a")] == [
        "refs/heads/a0",
        "refs/heads/a1",
        "refs/heads/a2",
    ]

    # Without a retry PyGitHub raises its rate-limit exception for the simulator's answer.
    admin(url, "DELETE", "/_sim/limits")
    bare_repo = bare.get_repo("acme/service")
    bare_repo.create_git_ref("refs/heads/b0", sha)
    bare_repo.create_git_ref("refs/heads/b1", sha)
    try:
        bare_repo.create_git_ref("refs/heads/b2", sha)
        raise AssertionError("the third create in a minute was not refused")
    except RateLimitExceededException as e:
        assert e.status == 403
        assert e.data["message"].startswith("You have exceeded a secondary rate limit"), e.data
        assert e.data["documentation_url"].endswith("#about-secondary-rate-limits"), e.data
        assert 1 <= int(e.headers.get("retry-after")) <= 3, e.headers
    assert "refs/heads/b2" not in [r.ref for r in bare_repo.get_git_refs()]

    # With neither header GithubRetry reads the message and waits `secondary_rate_wait` (a
    # simulated minute).
    admin(url, "DELETE", "/_sim/limits")
    admin(url, "PUT", "/_sim/faults/secondary-limit", {"headers": "neither"})
    for n in range(3):
        repo.create_git_ref(f"refs/heads/c{n}", sha)
    assert limited(url) == 1
    print("LIMITS OK")


if __name__ == "__main__":
    main(sys.argv[1])
