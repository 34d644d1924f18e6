"""Comparisons and file lists read by PyGitHub (an independent client) from a running github-sim.

Usage: python3 pygithub_diffs.py BASE_URL EXPECTED_JSON
EXPECTED_JSON: {"base": sha, "first": sha, "second": sha}
"""
import json
import sys

from github import Auth, Github


def main(url, expected):
    gh = Github(base_url=url, auth=Auth.Token("alice-token"), retry=None)
    repo = gh.get_repo("acme/service")

    comparison = repo.compare("main", "bump")
    assert comparison.status == "diverged", comparison.status
    assert (comparison.ahead_by, comparison.behind_by, comparison.total_commits) == (2, 1, 2)
    assert comparison.merge_base_commit.sha == expected["base"]
    files = {f.filename: f for f in comparison.files}
    assert sorted(files) == ["deploy/env", "docs/README.md", "notes/a.txt"], sorted(files)
    env = files["deploy/env"]
    assert (env.status, env.additions, env.deletions, env.changes) == ("modified", 1, 1, 2)
    assert env.patch == "@@ -1 +1 @@\n-export IMAGE_VERSION=1.0.0\n+export IMAGE_VERSION=1.1.0", env.patch
    moved = files["docs/README.md"]
    assert (moved.status, moved.previous_filename, moved.changes) == ("renamed", "README.md", 0)
    assert files["notes/a.txt"].status == "added"
    assert [c.sha for c in comparison.commits] == [expected["first"], expected["second"]]
    # One commit per page: the Link header carries the rest.
    paged = repo.compare("main", "bump", comparison_commits_per_page=1)
    assert [c.sha for c in paged.commits] == [expected["first"], expected["second"]]

    commit = repo.get_commit(expected["first"])
    assert sorted(f.filename for f in commit.files) == ["deploy/env", "notes/a.txt"]
    assert (commit.stats.additions, commit.stats.deletions, commit.stats.total) == (2, 1, 3)

    number = repo.create_pull(title="Bump", body="bump", head="bump", base="main").number
    small_pages = Github(base_url=url, auth=Auth.Token("alice-token"), retry=None, per_page=2)
    pull = small_pages.get_repo("acme/service").get_pull(number)
    listed = [f.filename for f in pull.get_files()]
    assert listed == ["deploy/env", "docs/README.md", "notes/a.txt"], listed
    print("DIFFS OK")


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
