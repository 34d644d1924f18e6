"""Release assets driven by PyGitHub (an independent client) and urllib (what curl and browsers do)
against a running github-sim.

Usage: python3 pygithub_assets.py BASE_URL   (world: tests/pygithub_world.yaml)
"""
import hashlib
import io
import http.client
import json
import os
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from github import Auth, Github, GithubException

PAYLOAD = b"\x7fELF static binary \x00\x01\x02" * 100


def expect_status(status, fn):
    try:
        fn()
    except GithubException as e:
        assert e.status == status, f"expected {status}, got {e.status}: {e.data}"
        return e
    raise AssertionError(f"expected HTTP {status}, but the call succeeded")


def get_no_redirect(url):
    """GET without following redirects: (status, Location, body)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request("GET", parts.path)
    resp = conn.getresponse()
    return resp.status, resp.getheader("Location"), resp.read()


def admin(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def main(url):
    alice = Github(base_url=url, auth=Auth.Token("alice-token"), retry=None)
    repo = alice.get_repo("acme/service")
    rel = repo.create_git_release("v2.0.0", "2.0.0", "notes")
    assert rel.upload_url.startswith(url + "/repos/acme/service/releases/"), rel.upload_url

    # Upload (PyGitHub posts to the release's upload_url); the same name again is 422.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ticgen-x86_64-unknown-linux-musl")
        with open(path, "wb") as f:
            f.write(PAYLOAD)
        asset = rel.upload_asset(path, label="ticgen for Linux x86_64", content_type="application/octet-stream")
        assert asset.name == "ticgen-x86_64-unknown-linux-musl"
        assert asset.size == len(PAYLOAD) and asset.state == "uploaded"
        assert asset.label == "ticgen for Linux x86_64"
        assert asset.digest == "sha256:" + hashlib.sha256(PAYLOAD).hexdigest(), asset.digest
        err = expect_status(422, lambda: rel.upload_asset(path))
        assert err.data["errors"] == [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}], err.data
        sums = rel.upload_asset_from_memory(io.BytesIO(b"abc  x\n"), 7, "SHA256SUMS", content_type="text/plain")

        # List and get.
        assert sorted(a.name for a in rel.get_assets()) == ["SHA256SUMS", "ticgen-x86_64-unknown-linux-musl"]
        assert repo.get_release("v2.0.0").assets[0].name == "ticgen-x86_64-unknown-linux-musl"
        got = repo.get_release_asset(asset.id)
        assert got.browser_download_url == f"{url}/acme/service/releases/download/v2.0.0/{asset.name}"

        # Download through the API (Accept: application/octet-stream, a 302 followed).
        out = os.path.join(tmp, "via-api")
        got.download_asset(out)
        with open(out, "rb") as f:
            assert f.read() == PAYLOAD

    # Download the way browsers and curl do: a 302 from the web route to the object.
    status, location, _ = get_no_redirect(got.browser_download_url)
    assert status == 302 and location.startswith(url + "/"), (status, location)
    with urllib.request.urlopen(got.browser_download_url, timeout=10) as resp:
        assert resp.read() == PAYLOAD
        assert resp.headers["Content-Type"] == "application/octet-stream"
    with urllib.request.urlopen(f"{url}/acme/service/releases/latest/download/{asset.name}", timeout=10) as resp:
        assert resp.read() == PAYLOAD
    assert repo.get_release_asset(asset.id).download_count == 3
    status, _, _ = get_no_redirect(f"{url}/acme/service/releases/download/v2.0.0/missing")
    assert status == 404

    # A fault cuts the object mid-body: the client sees a short read, not a complete file.
    admin(url, "POST", "/_sim/faults", {"path": "/github-production-release-asset/**", "times": 1, "action": {"kind": "close_mid_body"}})
    try:
        with urllib.request.urlopen(got.browser_download_url, timeout=10) as resp:
            data = resp.read()
        raise AssertionError(f"a cut body read completely ({len(data)} bytes)")
    except http.client.IncompleteRead as e:
        assert len(e.partial) < len(PAYLOAD)

    # Rename, then delete; deleting the release deletes its remaining assets.
    renamed = got.update_asset("ticgen-linux-amd64", label="renamed")
    assert renamed.name == "ticgen-linux-amd64" and renamed.label == "renamed"
    assert sums.delete_asset()
    expect_status(404, lambda: repo.get_release_asset(sums.id))
    assert [a.name for a in rel.get_assets()] == ["ticgen-linux-amd64"]
    rel.delete_release()
    status, _, _ = get_no_redirect(f"{url}/github-production-release-asset/1/{renamed.id}")
    assert status == 404

    paths = [r["path"] for r in admin(url, "GET", "/_sim/requests")]
    assert "/acme/service/releases/download/v2.0.0/ticgen-x86_64-unknown-linux-musl" in paths
    print("ASSETS OK")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
