"""GitHub App sign-in driven by PyGitHub (an independent client: Auth.AppAuth signs the JWT with
PyJWT) against a running github-sim.

Usage: python3 pygithub_apps.py BASE_URL   (world: tests/apps_world.yaml, on the wall clock)

The App and its key are declared here through the admin API, with a key made for this run.
"""
import sys
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubException, GithubIntegration

from pygithub_assets import admin, expect_status

APP_ID = 4242


def main(url):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    admin(url, "PATCH", "/_sim/world", {"apps": [{
        "id": APP_ID, "slug": "gantry-deployer", "key": pem,
        "installations": [{"id": 77, "account": "acme",
                           "permissions": {"contents": "write", "pull_requests": "write", "statuses": "read"}}],
    }]})

    app_auth = Auth.AppAuth(APP_ID, pem)
    gi = GithubIntegration(auth=app_auth, base_url=url)
    app = gi.get_app()
    assert (app.id, app.slug, app.owner.login) == (APP_ID, "gantry-deployer", "acme"), app.raw_data
    assert app.permissions["contents"] == "write" and app.permissions["metadata"] == "read"

    inst = gi.get_repo_installation("acme", "landing-zone")
    assert (inst.id, inst.app_id, inst.target_type) == (77, APP_ID, "Organization"), inst.raw_data
    assert gi.get_org_installation("acme").id == 77
    assert gi.get_user_installation("acme").id == 77
    assert gi.get_app_installation(77).app_slug == "gantry-deployer"
    assert [i.id for i in gi.get_installations()] == [77]
    expect_status(404, lambda: gi.get_repo_installation("other", "nope"))

    # A token narrowed to read on contents: reads the landing zone, writes nowhere.
    auth = gi.get_access_token(77, permissions={"contents": "read"})
    assert auth.token.startswith("ghs_"), auth.token
    assert auth.permissions == {"contents": "read", "metadata": "read"}, auth.permissions
    assert auth.repository_selection == "all"
    assert timedelta(minutes=59) < auth.expires_at - datetime.now(timezone.utc) <= timedelta(hours=1)
    reader = Github(auth=Auth.Token(auth.token), base_url=url, retry=None)
    zone = reader.get_repo("acme/landing-zone")
    assert zone.get_contents("env/prod.env").decoded_content == b"export IMAGE_VERSION=1.0.0\n"
    err = expect_status(403, lambda: zone.create_file("x", "x", "x"))
    assert err.data["message"] == "Resource not accessible by integration", err.data
    expect_status(403, lambda: reader.get_user().login)

    err = expect_status(422, lambda: gi.get_access_token(77, permissions={"administration": "write"}))
    assert err.data["message"] == "The permissions requested are not granted to this installation.", err.data

    # Auth.AppInstallationAuth mints its own token and acts as the App's bot.
    bot = Github(auth=app_auth.get_installation_auth(77, {"contents": "write"}), base_url=url, retry=None)
    created = bot.get_repo("acme/landing-zone").create_file("deploy/notes", "Deploy notes", "1.1.0\n")
    assert created["commit"].sha
    events = admin(url, "GET", "/_sim/events")
    assert events[-1]["event"] == "push" and events[-1]["actor"] == "gantry-deployer", events[-1]
    # The private vault is in the installation: the unnarrowed token sees it.
    assert bot.get_repo("acme/vault").private is True

    # Revoked (DELETE /installation/token), the token answers 401.
    revoked = Github(auth=Auth.Token(auth.token), base_url=url, retry=None)
    revoked.requester.requestJsonAndCheck("DELETE", "/installation/token")
    expect_status(401, lambda: revoked.get_repo("acme/landing-zone"))

    # A JWT only reaches the App's routes.
    as_app = Github(auth=app_auth, base_url=url, retry=None)
    err = expect_status(403, lambda: as_app.get_repo("acme/landing-zone"))
    assert err.data["message"] == "Resource not accessible by integration", err.data
    print("APPS OK")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
