"""github-sim over HTTPS, driven by PyGitHub (an independent client) and requests: every URL the
API reports is on https, raw downloads and release asset uploads work there, and a client that
does not trust the private CA refuses the server.

Usage: REQUESTS_CA_BUNDLE=ca.pem python3 pygithub_tls.py BASE_URL   (world: tests/pygithub_world.yaml)
"""
import os
import sys

import requests
from github import Auth, Github


def main(url):
    assert url.startswith("https://"), url
    gh = Github(base_url=url, auth=Auth.Token("alice-token"), retry=None)
    repo = gh.get_repo("acme/service")
    for name, value in [("url", repo.url), ("html_url", repo.html_url), ("owner.url", repo.owner.url)]:
        assert value.startswith(url + "/"), f"{name} is {value}"
    readme = repo.get_contents("README.md", ref="main")
    assert readme.download_url.startswith(url + "/"), readme.download_url
    raw = requests.get(readme.download_url, headers={"Authorization": "token alice-token"}, timeout=10)
    assert raw.status_code == 200 and raw.content == b"hello\n", (raw.status_code, raw.content)

    release = repo.create_git_release("v9.9.9", "v9.9.9", "notes", prerelease=True)
    assert release.upload_url.startswith(url + "/"), release.upload_url
    assert release.html_url.startswith(url + "/"), release.html_url
    asset = release.upload_asset_from_memory(b"binary", 6, "tool.bin")
    assert asset.browser_download_url.startswith(url + "/"), asset.browser_download_url
    assert asset.url.startswith(url + "/"), asset.url

    # Without the private CA, the certificate is refused before any request is answered.
    bundle = os.environ.pop("REQUESTS_CA_BUNDLE")
    try:
        requests.get(url + "/repos/acme/service", timeout=10)
    except requests.exceptions.SSLError as error:
        assert "CERTIFICATE_VERIFY_FAILED" in str(error), error
    else:
        raise AssertionError("the server was trusted without its CA")
    finally:
        os.environ["REQUESTS_CA_BUNDLE"] = bundle
    print("TLS OK")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
