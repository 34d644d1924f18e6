//! GitHub's JSON shapes, built from world state. Field sets mirror the recorded real responses in
//! `reference/github/` so clients with strict models (octocrab, `PyGitHub`) deserialise them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::apps::{App, Grant, Installation};
use crate::clock::iso;
use crate::git::Sha;
use crate::spec::{Access, AccountType, IdentityKind, Level, RepoPermissions};
use crate::world::{
    CheckRun, CheckSuite, CommitStatus, Identity, Pull, PullState, Release, ReleaseAsset, Repo,
    Review, World,
};

/// A stable small id for a name (organisations are not identities in the world).
pub fn name_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 90_000_000 + 10_000_000
}

pub(crate) fn node_id(kind: &str, id: u64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("0:{kind}{id}"))
}

/// The kind and id of a [`node_id`] (GraphQL's global ids); `None` for any other text.
pub(crate) fn parse_node_id(node: &str) -> Option<(String, u64)> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(node)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("0:")?;
    let digits = rest.find(|c: char| c.is_ascii_digit())?;
    let (kind, id) = rest.split_at(digits);
    Some((kind.to_owned(), id.parse().ok()?))
}

/// A simple user object.
pub fn user_obj(base: &str, login: &str, id: u64, kind: &str) -> Value {
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("User", id),
        "avatar_url": format!("{base}/_avatars/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("{base}/users/{login}"),
        "html_url": format!("{base}/{login}"),
        "followers_url": format!("{base}/users/{login}/followers"),
        "following_url": format!("{base}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{base}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{base}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{base}/users/{login}/subscriptions"),
        "organizations_url": format!("{base}/users/{login}/orgs"),
        "repos_url": format!("{base}/users/{login}/repos"),
        "events_url": format!("{base}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{base}/users/{login}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// The user object of an identity.
pub fn identity(base: &str, world: &World, id: u64) -> Value {
    match world.identities.get(&id) {
        Some(i) => ident_obj(base, i),
        None => user_obj(base, "ghost", 10_000_001, "User"),
    }
}

fn ident_obj(base: &str, i: &Identity) -> Value {
    let (login, kind) = match i.kind {
        IdentityKind::User => (i.login.clone(), "User"),
        IdentityKind::Bot => (i.login.clone(), "Bot"),
        IdentityKind::App | IdentityKind::GithubToken => {
            if i.login.ends_with("[bot]") {
                (i.login.clone(), "Bot")
            } else {
                (format!("{}[bot]", i.login), "Bot")
            }
        }
    };
    user_obj(base, &login, i.id, kind)
}

/// The permissions an app installation shows on `repo`: what its token may do there (all of
/// them when the world grants it everything), plus `metadata: read`, which every app has.
fn app_permissions(world: &World, r: &Repo, id: u64) -> Value {
    let granted = world.identities.get(&id).and_then(|i| {
        i.permissions
            .as_ref()
            .map(|m| m.get(&r.full_name()).copied())
    });
    let Some(granted) = granted else {
        return json!({
            "actions": "write", "administration": "write", "checks": "write", "contents": "write",
            "deployments": "write", "discussions": "read", "issues": "write", "merge_queues": "read",
            "metadata": "read", "packages": "read", "pages": "read", "pull_requests": "write",
            "repository_hooks": "read", "repository_projects": "read", "security_events": "read",
            "single_file": "read", "statuses": "write", "vulnerability_alerts": "read"
        });
    };
    let p = granted.unwrap_or_default();
    let mut m = serde_json::Map::new();
    for (name, access) in [
        ("administration", p.administration),
        ("checks", p.checks),
        ("contents", p.contents),
        ("deployments", p.deployments),
        ("metadata", Access::Read),
        ("pull_requests", p.pull_requests),
        ("statuses", p.statuses),
    ] {
        match access {
            Access::Write => m.insert(name.into(), json!("write")),
            Access::Read => m.insert(name.into(), json!("read")),
            Access::None => None,
        };
    }
    Value::Object(m)
}

/// The GitHub App object of an app identity (a declared App when it is one's bot), with the
/// permissions it holds on `r`.
pub fn app(base: &str, world: &World, r: &Repo, id: u64) -> Value {
    if let Some(a) = world.apps.values().find(|a| a.bot == id) {
        let permissions = world
            .installation_on(a.id, &r.owner)
            .map_or_else(|| json!({}), |i| levels(&i.permissions));
        return app_object(base, a, &permissions);
    }
    let slug = world.login_of(id).trim_end_matches("[bot]").to_owned();
    app_json(
        base,
        AppFields {
            id,
            slug: &slug,
            client_id: &format!("Iv1.{id:016x}"),
            name: &slug,
            owner: "github",
            created_at: 0,
        },
        &app_permissions(world, r, id),
    )
}

/// The fields of an App object that vary.
#[derive(Clone, Copy)]
struct AppFields<'a> {
    id: u64,
    slug: &'a str,
    client_id: &'a str,
    name: &'a str,
    owner: &'a str,
    created_at: i64,
}

fn app_json(base: &str, a: AppFields<'_>, permissions: &Value) -> Value {
    let slug = a.slug;
    json!({
        "id": a.id,
        "slug": slug,
        "client_id": a.client_id,
        "node_id": node_id("App", a.id),
        "owner": user_obj(base, a.owner, name_id(a.owner), "Organization"),
        "name": a.name,
        "description": "Simulated GitHub App",
        "external_url": format!("{base}/apps/{slug}"),
        "html_url": format!("{base}/apps/{slug}"),
        "created_at": iso(a.created_at),
        "updated_at": iso(a.created_at),
        "permissions": permissions,
        "events": ["check_run", "check_suite", "pull_request", "push"],
    })
}

/// A declared App with these permissions.
pub fn app_object(base: &str, a: &App, permissions: &Value) -> Value {
    app_json(
        base,
        AppFields {
            id: a.id,
            slug: &a.slug,
            client_id: &a.client_id,
            name: &a.name,
            owner: &a.owner,
            created_at: a.created_at,
        },
        permissions,
    )
}

/// An App permission map as GitHub shows it (`{"contents": "write", …}`).
pub fn levels(permissions: &BTreeMap<String, Level>) -> Value {
    permissions
        .iter()
        .map(|(name, level)| (name.clone(), json!(level.as_str())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// An installation of an App.
pub fn installation(base: &str, world: &World, inst: &Installation) -> Value {
    let app = world.apps.get(&inst.app);
    let account = &inst.account;
    let html_url = match inst.account_type {
        AccountType::Organization => {
            format!(
                "{base}/organizations/{account}/settings/installations/{}",
                inst.id
            )
        }
        AccountType::User => format!("{base}/settings/installations/{}", inst.id),
    };
    json!({
        "id": inst.id,
        "client_id": app.map(|a| a.client_id.as_str()),
        "account": user_obj(base, account, name_id(account), inst.account_type.as_str()),
        "repository_selection": if inst.repositories.is_some() { "selected" } else { "all" },
        "access_tokens_url": format!("{base}/app/installations/{}/access_tokens", inst.id),
        "repositories_url": format!("{base}/installation/repositories"),
        "html_url": html_url,
        "app_id": inst.app,
        "app_slug": app.map(|a| a.slug.as_str()),
        "target_id": name_id(account),
        "target_type": inst.account_type.as_str(),
        "permissions": levels(&inst.permissions),
        "events": [],
        "created_at": iso(inst.created_at),
        "updated_at": iso(inst.created_at),
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "suspended_by": null,
        "suspended_at": null,
    })
}

/// The answer to minting an installation token: `repositories` only when the token is limited
/// to selected ones.
pub fn installation_token(
    base: &str,
    world: &World,
    token: &str,
    grant: &Grant,
    selected: Option<&[String]>,
) -> Value {
    let mut v = json!({
        "token": token,
        "expires_at": iso(grant.expires_ms.div_euclid(1000)),
        "permissions": levels(&grant.permissions),
        "repository_selection": if selected.is_some() { "selected" } else { "all" },
    });
    if let (Some(names), Value::Object(m)) = (selected, &mut v) {
        let repos: Vec<Value> = names
            .iter()
            .filter_map(|n| world.repos.get(n))
            .map(|r| repo(base, world, r, None))
            .collect();
        m.insert("repositories".into(), repos.into());
    }
    v
}

/// A full repository object.
#[expect(
    clippy::too_many_lines,
    reason = "one JSON literal mirroring GitHub's repository object"
)]
pub fn repo(base: &str, world: &World, r: &Repo, perms: Option<RepoPermissions>) -> Value {
    let full = r.full_name();
    let files = r
        .branch(&r.default_branch)
        .map(|head| world.objects.commit_files(&head))
        .unwrap_or_default();
    let bytes: usize = files
        .values()
        .filter_map(|blob| world.objects.blob(blob).map(<[u8]>::len))
        .sum();
    let u = format!("{base}/repos/{full}");
    let html = format!("{base}/{full}");
    let p = perms.unwrap_or_default();
    let push = p.contents == Access::Write;
    json!({
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": full,
        "private": r.private,
        "owner": user_obj(base, &r.owner, name_id(&r.owner), "Organization"),
        "html_url": html,
        "description": "",
        "fork": false,
        "url": u,
        "archive_url": format!("{u}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{u}/assignees{{/user}}"),
        "blobs_url": format!("{u}/git/blobs{{/sha}}"),
        "branches_url": format!("{u}/branches{{/branch}}"),
        "collaborators_url": format!("{u}/collaborators{{/collaborator}}"),
        "comments_url": format!("{u}/comments{{/number}}"),
        "commits_url": format!("{u}/commits{{/sha}}"),
        "compare_url": format!("{u}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{u}/contents/{{+path}}"),
        "contributors_url": format!("{u}/contributors"),
        "deployments_url": format!("{u}/deployments"),
        "downloads_url": format!("{u}/downloads"),
        "events_url": format!("{u}/events"),
        "forks_url": format!("{u}/forks"),
        "git_commits_url": format!("{u}/git/commits{{/sha}}"),
        "git_refs_url": format!("{u}/git/refs{{/sha}}"),
        "git_tags_url": format!("{u}/git/tags{{/sha}}"),
        "git_url": format!("git://sim/{full}.git"),
        "issue_comment_url": format!("{u}/issues/comments{{/number}}"),
        "issue_events_url": format!("{u}/issues/events{{/number}}"),
        "issues_url": format!("{u}/issues{{/number}}"),
        "keys_url": format!("{u}/keys{{/key_id}}"),
        "labels_url": format!("{u}/labels{{/name}}"),
        "languages_url": format!("{u}/languages"),
        "merges_url": format!("{u}/merges"),
        "milestones_url": format!("{u}/milestones{{/number}}"),
        "notifications_url": format!("{u}/notifications{{?since,all,participating}}"),
        "pulls_url": format!("{u}/pulls{{/number}}"),
        "releases_url": format!("{u}/releases{{/id}}"),
        "ssh_url": format!("git@sim:{full}.git"),
        "stargazers_url": format!("{u}/stargazers"),
        "statuses_url": format!("{u}/statuses/{{sha}}"),
        "subscribers_url": format!("{u}/subscribers"),
        "subscription_url": format!("{u}/subscription"),
        "tags_url": format!("{u}/tags"),
        "teams_url": format!("{u}/teams"),
        "trees_url": format!("{u}/git/trees{{/sha}}"),
        "clone_url": format!("{html}.git"),
        "mirror_url": null,
        "hooks_url": format!("{u}/hooks"),
        "svn_url": html,
        "homepage": "",
        "language": null,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": bytes.div_ceil(1024),
        "default_branch": r.default_branch,
        "open_issues_count": r.pulls.iter().filter(|p| p.state == PullState::Open).count(),
        "is_template": false,
        "topics": [],
        "has_issues": true,
        "has_projects": false,
        "has_wiki": false,
        "has_pages": false,
        "has_downloads": true,
        "has_discussions": false,
        "archived": false,
        "disabled": false,
        "visibility": if r.private { "private" } else { "public" },
        "pushed_at": iso(r.pushed_at),
        "created_at": iso(r.created_at),
        "updated_at": iso(r.pushed_at),
        "permissions": {"admin": false, "maintain": push, "push": push, "triage": push, "pull": true},
        "allow_rebase_merge": true,
        "template_repository": null,
        "temp_clone_token": "",
        "allow_squash_merge": true,
        "allow_auto_merge": false,
        "delete_branch_on_merge": false,
        "allow_merge_commit": true,
        "allow_forking": true,
        "allow_update_branch": true,
        "use_squash_pr_title_as_default": false,
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "merge_commit_message": "PR_TITLE",
        "merge_commit_title": "MERGE_MESSAGE",
        "web_commit_signoff_required": false,
        "subscribers_count": 0,
        "network_count": 0,
        "license": license(base, world, &files),
        "forks": 0,
        "open_issues": r.pulls.iter().filter(|p| p.state == PullState::Open).count(),
        "watchers": 0,
    })
}

/// The license GitHub would detect from the default branch's licence file (`null` without one,
/// `other` when the text is not one the simulator recognises).
fn license(base: &str, world: &World, files: &crate::git::Files) -> Value {
    let text = ["LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"]
        .iter()
        .find_map(|name| files.get(*name))
        .and_then(|blob| world.objects.blob(blob))
        .map(String::from_utf8_lossy);
    let Some(text) = text else {
        return Value::Null;
    };
    let (key, name, spdx, node) = if text.contains("Permission is hereby granted, free of charge") {
        ("mit", "MIT License", "MIT", "MDc6TGljZW5zZTEz")
    } else if text.contains("Apache License") && text.contains("Version 2.0") {
        (
            "apache-2.0",
            "Apache License 2.0",
            "Apache-2.0",
            "MDc6TGljZW5zZTI=",
        )
    } else {
        return json!({"key": "other", "name": "Other", "spdx_id": "NOASSERTION", "url": null, "node_id": "MDc6TGljZW5zZTA="});
    };
    json!({
        "key": key, "name": name, "spdx_id": spdx, "url": format!("{base}/licenses/{key}"),
        "node_id": node
    })
}

/// A git ref object.
pub fn git_ref(base: &str, world: &World, r: &Repo, name: &str, sha: &Sha) -> Value {
    let u = format!("{base}/repos/{}", r.full_name());
    let kind = world.objects.kind(sha).unwrap_or("commit");
    let plural = if kind == "tag" { "tags" } else { "commits" };
    json!({
        "ref": name,
        "node_id": node_id("Ref", r.id),
        "url": format!("{u}/git/{name}"),
        "object": {"sha": sha.hex(), "type": kind, "url": format!("{u}/git/{plural}/{sha}")},
    })
}

/// An annotated tag object (`/git/tags/{sha}`).
pub fn git_tag(base: &str, world: &World, r: &Repo, sha: &Sha) -> Value {
    let u = format!("{base}/repos/{}", r.full_name());
    let Some(t) = world.objects.tag(sha) else {
        return Value::Null;
    };
    let kind = world.objects.kind(&t.object).unwrap_or("commit");
    let plural = if kind == "tag" { "tags" } else { "commits" };
    json!({
        "node_id": node_id("Tag", 1),
        "tag": &*t.tag,
        "sha": sha.hex(),
        "url": format!("{u}/git/tags/{sha}"),
        "message": &*t.message,
        "tagger": {"name": &*t.tagger.name, "email": &*t.tagger.email, "date": iso(t.tagger.time)},
        "object": {"type": kind, "sha": t.object.hex(), "url": format!("{u}/git/{plural}/{}", t.object)},
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
    })
}

/// A git commit object (`/git/commits/{sha}` and the `commit` of contents responses).
pub fn git_commit(base: &str, world: &World, r: &Repo, sha: &Sha) -> Value {
    let u = format!("{base}/repos/{}", r.full_name());
    let Some(c) = world.objects.commit(sha) else {
        return Value::Null;
    };
    json!({
        "sha": sha.hex(),
        "node_id": node_id("Commit", 1),
        "url": format!("{u}/git/commits/{sha}"),
        "html_url": format!("{base}/{}/commit/{sha}", r.full_name()),
        "author": {"name": &*c.author.name, "email": &*c.author.email, "date": iso(c.author.time)},
        "committer": {"name": &*c.committer.name, "email": &*c.committer.email, "date": iso(c.committer.time)},
        "tree": {"sha": c.tree.hex(), "url": format!("{u}/git/trees/{}", c.tree)},
        "message": c.message,
        "parents": c.parents.iter().map(|p| json!({
            "sha": p.hex(), "url": format!("{u}/git/commits/{p}"),
            "html_url": format!("{base}/{}/commit/{p}", r.full_name())
        })).collect::<Vec<_>>(),
        "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
    })
}

/// A commit as `/repos/{o}/{r}/commits/{ref}` shows it.
pub fn commit(base: &str, world: &World, r: &Repo, sha: &Sha) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    let Some(c) = world.objects.commit(sha) else {
        return Value::Null;
    };
    let mut git = git_commit(base, world, r, sha);
    if let Value::Object(m) = &mut git {
        m.remove("sha");
        m.remove("node_id");
        m.remove("html_url");
        m.remove("parents");
        m.insert("comment_count".into(), json!(0));
    }
    let person = |name: &str| match world.identity_by_login(name) {
        Some(i) => {
            let mut v = ident_obj(base, i);
            if let Value::Object(m) = &mut v {
                m.insert("patch_url".into(), Value::Null);
            }
            v
        }
        None => Value::Null,
    };
    json!({
        "sha": sha.hex(),
        "node_id": node_id("Commit", 2),
        "commit": git,
        "url": format!("{api}/commits/{sha}"),
        "html_url": format!("{base}/{}/commit/{sha}", r.full_name()),
        "comments_url": format!("{api}/commits/{sha}/comments"),
        "author": person(&c.author.name),
        "committer": person(&c.committer.name),
        "parents": c.parents.iter().map(|p| json!({
            "sha": p.hex(), "url": format!("{api}/commits/{p}"),
            "html_url": format!("{base}/{}/commit/{p}", r.full_name())
        })).collect::<Vec<_>>(),
    })
}

/// A file entry of the contents API (without `content`).
pub fn content_entry(
    base: &str,
    r: &Repo,
    path: &str,
    blob: &Sha,
    size: usize,
    git_ref: &str,
) -> Value {
    let full = r.full_name();
    let u = format!("{base}/repos/{full}");
    let name = path.rsplit('/').next().unwrap_or(path);
    let self_url = format!("{u}/contents/{path}?ref={git_ref}");
    let git_url = format!("{u}/git/blobs/{blob}");
    let html_url = format!("{base}/{full}/blob/{git_ref}/{path}");
    json!({
        "name": name,
        "path": path,
        "sha": blob.hex(),
        "size": size,
        "url": self_url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": format!("{base}/_raw/{full}/{git_ref}/{path}"),
        "type": "file",
        "_links": {"self": self_url, "git": git_url, "html": html_url},
    })
}

/// A directory entry of the contents API.
pub fn dir_entry(base: &str, r: &Repo, path: &str, git_ref: &str) -> Value {
    let full = r.full_name();
    let u = format!("{base}/repos/{full}");
    let name = path.rsplit('/').next().unwrap_or(path);
    let self_url = format!("{u}/contents/{path}?ref={git_ref}");
    let html_url = format!("{base}/{full}/tree/{git_ref}/{path}");
    json!({
        "name": name, "path": path, "sha": Sha::of_object("tree", path.as_bytes()).hex(), "size": 0,
        "url": self_url, "html_url": html_url, "git_url": null, "download_url": null, "type": "dir",
        "_links": {"self": self_url, "git": null, "html": html_url},
    })
}

fn branch_obj(base: &str, world: &World, r: &Repo, branch: &str, sha: &Sha) -> Value {
    json!({
        "label": format!("{}:{branch}", r.owner),
        "ref": branch,
        "sha": sha.hex(),
        "user": user_obj(base, &r.owner, name_id(&r.owner), "Organization"),
        "repo": repo(base, world, r, None),
    })
}

/// What only the single-pull-request endpoint shows.
pub struct PullDetail {
    pub mergeable: Option<bool>,
    pub state: String,
}

/// A pull request; `detail` adds the fields only the single-PR endpoint has.
pub fn pull(base: &str, world: &World, r: &Repo, p: &Pull, detail: Option<&PullDetail>) -> Value {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let html = format!("{base}/{full}/pull/{}", p.number);
    let number = p.number;
    let mut v = json!({
        "url": format!("{api}/pulls/{number}"),
        "id": p.id,
        "node_id": node_id("PullRequest", p.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{api}/issues/{number}"),
        "commits_url": format!("{api}/pulls/{number}/commits"),
        "review_comments_url": format!("{api}/pulls/{number}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{number}/comments"),
        "statuses_url": format!("{api}/statuses/{}", p.head_sha),
        "number": number,
        "state": p.state,
        "locked": false,
        "title": p.title,
        "user": identity(base, world, p.user),
        "body": p.body,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "closed_at": p.closed_at.map(iso),
        "merged_at": p.merged_at.map(iso),
        "merge_commit_sha": p.merge_commit_sha.map(|s| s.hex()),
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": branch_obj(base, world, r, &p.head_ref, &p.head_sha),
        "base": branch_obj(base, world, r, &p.base_ref, &p.base_sha),
        "_links": {
            "self": {"href": format!("{api}/pulls/{number}")},
            "html": {"href": html},
            "issue": {"href": format!("{api}/issues/{number}")},
            "comments": {"href": format!("{api}/issues/{number}/comments")},
            "review_comments": {"href": format!("{api}/pulls/{number}/comments")},
            "review_comment": {"href": format!("{api}/pulls/comments{{/number}}")},
            "commits": {"href": format!("{api}/pulls/{number}/commits")},
            "statuses": {"href": format!("{api}/statuses/{}", p.head_sha)},
        },
        "author_association": world.author_association(r, p.user),
        "auto_merge": null,
        "draft": p.draft,
    });
    if let (Some(detail), Value::Object(m)) = (detail, &mut v) {
        let mergeable = detail.mergeable;
        let merge_base = world.objects.merge_base(&p.base_sha, &p.head_sha);
        let diff = world
            .objects
            .diff_stats(&merge_base.unwrap_or(p.base_sha), &p.head_sha);
        let rebaseable = mergeable.map(|_| {
            let onto = r.branch(&p.base_ref).unwrap_or(p.base_sha);
            let base = world.objects.merge_base(&onto, &p.head_sha);
            world.objects.can_rebase(base.as_ref(), &onto, &p.head_sha)
        });
        let comments = r.comments.iter().filter(|c| c.number == p.number).count();
        let commits = p.merge_commit_sha.map_or_else(
            || {
                world
                    .objects
                    .commits_between(&p.base_sha, &p.head_sha)
                    .len()
            },
            |_| 1,
        );
        m.insert("merged".into(), json!(p.merged));
        m.insert("mergeable".into(), json!(mergeable));
        m.insert("rebaseable".into(), json!(rebaseable));
        m.insert("mergeable_state".into(), json!(detail.state));
        m.insert(
            "merged_by".into(),
            p.merged_by
                .map_or(Value::Null, |id| identity(base, world, id)),
        );
        m.insert("comments".into(), json!(comments));
        m.insert("review_comments".into(), json!(0));
        m.insert("maintainer_can_modify".into(), json!(false));
        m.insert("commits".into(), json!(commits));
        m.insert("additions".into(), json!(diff.additions));
        m.insert("deletions".into(), json!(diff.deletions));
        m.insert("changed_files".into(), json!(diff.changed_files));
    }
    v
}

/// A pull request review.
pub fn review(base: &str, world: &World, r: &Repo, p: &Pull, rv: &Review) -> Value {
    let full = r.full_name();
    let html = format!(
        "{base}/{full}/pull/{}#pullrequestreview-{}",
        p.number, rv.id
    );
    let pr_url = format!("{base}/repos/{full}/pulls/{}", p.number);
    json!({
        "id": rv.id,
        "node_id": node_id("PullRequestReview", rv.id),
        "user": identity(base, world, rv.user),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": iso(rv.submitted_at),
        "commit_id": rv.commit_id.hex(),
        "author_association": world.author_association(r, rv.user),
    })
}

/// A check run.
pub fn check_run(base: &str, world: &World, r: &Repo, c: &CheckRun) -> Value {
    let u = format!("{base}/repos/{}", r.full_name());
    let prs: Vec<Value> = r
        .pulls
        .iter()
        .filter(|p| p.head_sha == c.head_sha && p.state == PullState::Open)
        .map(|p| mini_pull(base, r, p))
        .collect();
    json!({
        "id": c.id,
        "name": c.name,
        "node_id": node_id("CheckRun", c.id),
        "head_sha": c.head_sha.hex(),
        "external_id": c.external_id.clone().unwrap_or_default(),
        "url": format!("{u}/check-runs/{}", c.id),
        "html_url": format!("{base}/{}/runs/{}", r.full_name(), c.id),
        "details_url": c.details_url.clone().unwrap_or_else(|| format!("{base}/{}/runs/{}", r.full_name(), c.id)),
        "status": c.status,
        "conclusion": c.conclusion,
        "started_at": iso(c.started_at),
        "completed_at": c.completed_at.map(iso),
        "output": {
            "title": c.title, "summary": c.summary, "text": c.text,
            "annotations_count": 0, "annotations_url": format!("{u}/check-runs/{}/annotations", c.id)
        },
        "check_suite": {"id": c.suite_id},
        "app": app(base, world, r, c.app),
        "pull_requests": prs,
    })
}

fn mini_pull(base: &str, r: &Repo, p: &Pull) -> Value {
    let u = format!("{base}/repos/{}", r.full_name());
    let mini_repo = json!({"id": r.id, "url": u, "name": r.name});
    json!({
        "url": format!("{u}/pulls/{}", p.number),
        "id": p.id,
        "number": p.number,
        "head": {"ref": p.head_ref, "sha": p.head_sha.hex(), "repo": mini_repo},
        "base": {"ref": p.base_ref, "sha": p.base_sha.hex(), "repo": mini_repo},
    })
}

/// Status and conclusion of a suite, aggregated from its runs.
pub fn suite_status(r: &Repo, s: &CheckSuite) -> (&'static str, Option<String>) {
    let runs: Vec<&CheckRun> = r.check_runs.iter().filter(|c| c.suite_id == s.id).collect();
    if runs.iter().any(|c| c.status != "completed") {
        let started = runs.iter().any(|c| c.status == "in_progress");
        return (if started { "in_progress" } else { "queued" }, None);
    }
    let order = [
        "action_required",
        "cancelled",
        "timed_out",
        "failure",
        "neutral",
        "skipped",
        "success",
    ];
    let conclusion = order
        .iter()
        .find(|o| runs.iter().any(|c| c.conclusion.as_deref() == Some(**o)))
        .map(|s| (*s).to_owned());
    ("completed", conclusion)
}

/// A check suite.
pub fn check_suite(base: &str, world: &World, r: &Repo, s: &CheckSuite) -> Value {
    let u = format!("{base}/repos/{}", r.full_name());
    let (status, conclusion) = suite_status(r, s);
    let head = world.objects.commit(&s.head_sha);
    let before = head
        .and_then(|c| c.parents.first())
        .map_or_else(|| "0".repeat(40), Sha::hex);
    let prs: Vec<Value> = r
        .pulls
        .iter()
        .filter(|p| p.head_sha == s.head_sha && p.state == PullState::Open)
        .map(|p| mini_pull(base, r, p))
        .collect();
    json!({
        "id": s.id,
        "node_id": node_id("CheckSuite", s.id),
        "head_branch": s.head_branch,
        "head_sha": s.head_sha.hex(),
        "status": status,
        "conclusion": conclusion,
        "url": format!("{u}/check-suites/{}", s.id),
        "before": before,
        "after": s.head_sha.hex(),
        "pull_requests": prs,
        "app": app(base, world, r, s.app),
        "repository": repo(base, world, r, None),
        "created_at": iso(s.created_at),
        "updated_at": iso(s.updated_at),
        "head_commit": head.map_or(Value::Null, |c| json!({
            "id": s.head_sha.hex(),
            "tree_id": c.tree.hex(),
            "message": c.message,
            "timestamp": iso(c.committer.time),
            "author": {"name": &*c.author.name, "email": &*c.author.email},
            "committer": {"name": &*c.committer.name, "email": &*c.committer.email},
        })),
        "latest_check_runs_count": r.check_runs.iter().filter(|c| c.suite_id == s.id).count(),
        "check_runs_url": format!("{u}/check-suites/{}/check-runs", s.id),
        "rerequestable": true,
        "runs_rerequestable": true,
    })
}

/// A commit status.
pub fn status(base: &str, world: &World, r: &Repo, s: &CommitStatus, with_creator: bool) -> Value {
    let mut v = json!({
        "url": format!("{base}/repos/{}/statuses/{}", r.full_name(), s.sha),
        "avatar_url": format!("{base}/_avatars/u/{}?v=4", s.creator),
        "id": s.id,
        "node_id": node_id("StatusContext", s.id),
        "state": s.state,
        "description": s.description,
        "target_url": s.target_url,
        "context": s.context,
        "created_at": iso(s.created_at),
        "updated_at": iso(s.created_at),
    });
    if let (true, Value::Object(m)) = (with_creator, &mut v) {
        m.insert("creator".into(), identity(base, world, s.creator));
    }
    v
}

/// A release.
pub fn release(base: &str, world: &World, r: &Repo, rel: &Release) -> Value {
    let full = r.full_name();
    let u = format!("{base}/repos/{full}/releases/{}", rel.id);
    json!({
        "url": u,
        "assets_url": format!("{u}/assets"),
        "upload_url": format!("{base}/repos/{full}/releases/{}/assets{{?name,label}}", rel.id),
        "html_url": format!("{base}/{full}/releases/tag/{}", rel.tag_name),
        "id": rel.id,
        "author": identity(base, world, rel.author),
        "node_id": node_id("Release", rel.id),
        "tag_name": rel.tag_name,
        "target_commitish": rel.target_commitish,
        "name": rel.name,
        "draft": rel.draft,
        "prerelease": rel.prerelease,
        "immutable": false,
        "created_at": iso(rel.created_at),
        "published_at": rel.published_at.map(iso),
        "assets": r
            .release_assets
            .iter()
            .filter(|a| a.release_id == rel.id)
            .map(|a| release_asset(base, world, r, rel, a))
            .collect::<Vec<_>>(),
        "tarball_url": format!("{base}/repos/{full}/tarball/{}", rel.tag_name),
        "zipball_url": format!("{base}/repos/{full}/zipball/{}", rel.tag_name),
        "body": rel.body,
    })
}

/// A release asset; `browser_download_url` is the web download route of a published release.
pub fn release_asset(
    base: &str,
    world: &World,
    r: &Repo,
    rel: &Release,
    a: &ReleaseAsset,
) -> Value {
    let full = r.full_name();
    json!({
        "url": format!("{base}/repos/{full}/releases/assets/{}", a.id),
        "browser_download_url": format!("{base}/{full}/releases/download/{}/{}", rel.tag_name, a.name),
        "id": a.id,
        "node_id": node_id("ReleaseAsset", a.id),
        "name": a.name,
        "label": a.label.clone().unwrap_or_default(),
        "state": "uploaded",
        "content_type": a.content_type,
        "size": a.bytes.len(),
        "digest": format!("sha256:{}", a.sha256),
        "download_count": a.download_count,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "uploader": identity(base, world, a.uploader),
    })
}
