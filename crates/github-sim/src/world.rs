//! The one stateful world: identities, repositories with real commits and refs, pull requests,
//! reviews, checks, statuses and releases, plus the side effects every change has (workflow events,
//! simulated CI, mergeability recomputation). Routes and the admin API both mutate it through here.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::apps::{App, Grant, Installation};
use crate::clock::{Clock, parse_iso_ms};
use crate::git::{Commit, Files, ObjectStore, Sha, Signature, TagObject};
use crate::spec::{
    Access, ActionsSettings, CiEvent, CiRuleSpec, IdentityKind, IdentitySpec, ProtectionSpec,
    RepoPermissions, RepoSpec, Role, TagSpec, WorldSpec,
};

/// Why a world description could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("invalid world file")]
    Parse(#[from] serde_yaml::Error),
    #[error("repository name {0:?} is not owner/name")]
    BadRepoName(String),
    #[error("branch {branch:?} of {repo} starts from unknown branch {from:?}")]
    UnknownFrom {
        repo: String,
        branch: String,
        from: String,
    },
    #[error("tag {tag:?} of {repo} points at unknown branch or commit {target:?}")]
    UnknownTagTarget {
        repo: String,
        tag: String,
        target: String,
    },
    #[error("token of {0:?} is already used by another identity")]
    DuplicateToken(String),
    #[error("clock start {0:?} is not RFC 3339")]
    BadClockStart(String),
    #[error("CI rule refers to unknown repository {0:?}")]
    UnknownCiRepo(String),
    #[error("invalid app: {0}")]
    BadApp(String),
    #[error("key of app {app:?} cannot be used")]
    AppKey {
        app: String,
        #[source]
        source: crate::jwt::KeyError,
    },
}

/// An authenticated principal.
#[derive(Clone, Debug, Serialize)]
pub struct Identity {
    pub id: u64,
    pub login: String,
    pub kind: IdentityKind,
    pub rate_limit: u32,
    /// `None` = write on every repository.
    pub permissions: Option<BTreeMap<String, RepoPermissions>>,
}

impl Identity {
    /// Permissions on `repo`, `None` when the repository is invisible to this identity.
    pub fn permissions_on(&self, repo: &str) -> Option<RepoPermissions> {
        match &self.permissions {
            None => Some(RepoPermissions::ALL),
            Some(map) => map.get(repo).copied(),
        }
    }

    /// App installations and workflow tokens authenticate as GitHub Apps.
    pub fn is_app(&self) -> bool {
        matches!(self.kind, IdentityKind::App | IdentityKind::GithubToken)
    }
}

/// Pull request open/closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PullState {
    Open,
    Closed,
}

/// A comment on a pull request's conversation.
#[derive(Clone, Debug, Serialize)]
pub struct IssueComment {
    pub id: u64,
    pub number: u64,
    pub user: u64,
    pub body: String,
    pub created_at: i64,
}

/// A pull request review.
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    pub id: u64,
    pub user: u64,
    pub state: String,
    pub body: String,
    pub commit_id: Sha,
    pub submitted_at: i64,
}

/// A pull request.
#[derive(Clone, Debug, Serialize)]
pub struct Pull {
    pub id: u64,
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub user: u64,
    pub head_ref: String,
    pub head_sha: Sha,
    pub base_ref: String,
    pub base_sha: Sha,
    pub state: PullState,
    pub draft: bool,
    pub merged: bool,
    pub merged_at: Option<i64>,
    pub merged_by: Option<u64>,
    pub merge_commit_sha: Option<Sha>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    /// Set by every change; the next GET answers `mergeable: null` and clears it.
    pub mergeable_pending: bool,
    pub reviews: Vec<Review>,
}

/// A check suite (one per app and head commit).
#[derive(Clone, Debug, Serialize)]
pub struct CheckSuite {
    pub id: u64,
    pub head_sha: Sha,
    pub head_branch: Option<String>,
    pub app: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A check run.
#[derive(Clone, Debug, Serialize)]
pub struct CheckRun {
    pub id: u64,
    pub suite_id: u64,
    pub name: String,
    pub head_sha: Sha,
    pub status: String,
    pub conclusion: Option<String>,
    pub started_at: i64,
    pub completed_at: Option<i64>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub text: Option<String>,
    pub details_url: Option<String>,
    pub external_id: Option<String>,
    pub app: u64,
}

/// A commit status.
#[derive(Clone, Debug, Serialize)]
pub struct CommitStatus {
    pub id: u64,
    pub sha: Sha,
    pub state: String,
    pub context: String,
    pub description: Option<String>,
    pub target_url: Option<String>,
    pub creator: u64,
    pub created_at: i64,
}

/// A release.
#[derive(Clone, Debug, Serialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub author: u64,
    pub created_at: i64,
    pub published_at: Option<i64>,
}

/// A file uploaded to a release.
#[derive(Clone, Debug)]
pub struct ReleaseAsset {
    pub id: u64,
    pub release_id: u64,
    pub name: String,
    pub label: Option<String>,
    pub content_type: String,
    pub bytes: bytes::Bytes,
    /// Lower-case hex SHA-256 of `bytes` (GitHub's `digest` is `sha256:` and this).
    pub sha256: String,
    pub download_count: u64,
    pub uploader: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A repository.
#[derive(Clone, Debug)]
pub struct Repo {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    /// Full ref name (`refs/heads/main`) → commit.
    pub refs: BTreeMap<String, Sha>,
    pub pulls: Vec<Pull>,
    pub check_suites: Vec<CheckSuite>,
    pub check_runs: Vec<CheckRun>,
    pub statuses: Vec<CommitStatus>,
    pub releases: Vec<Release>,
    /// Assets of every release, in upload order.
    pub release_assets: Vec<ReleaseAsset>,
    /// Comments on pull requests (issues are not simulated), oldest first.
    pub comments: Vec<IssueComment>,
    /// Release id marked latest with `make_latest: true`.
    pub latest_release: Option<u64>,
    pub protection: BTreeMap<String, ProtectionSpec>,
    pub private: bool,
    /// Declared repository roles by login (see [`RepoSpec::roles`]).
    pub roles: BTreeMap<String, Role>,
    pub actions: ActionsSettings,
    pub created_at: i64,
    pub pushed_at: i64,
    /// Deployments, oldest first.
    pub deployments: Vec<crate::deployments::Deployment>,
    /// Deployment environments, in creation order.
    pub environments: Vec<crate::deployments::Environment>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn branch(&self, name: &str) -> Option<Sha> {
        self.refs.get(&format!("refs/heads/{name}")).copied()
    }

    /// Resolves a branch, tag, full ref or 40-hex sha to a commit.
    pub fn resolve(&self, objects: &ObjectStore, rev: &str) -> Option<Sha> {
        if let Ok(sha) = rev.parse::<Sha>() {
            return objects.commit(&sha).map(|_| sha);
        }
        self.refs
            .get(rev)
            .or_else(|| self.refs.get(&format!("refs/heads/{rev}")))
            .or_else(|| self.refs.get(&format!("refs/tags/{rev}")))
            .or_else(|| self.refs.get(&format!("refs/{rev}")))
            .map(|sha| objects.peel(sha))
    }

    pub fn pull(&self, number: u64) -> Option<&Pull> {
        self.pulls.iter().find(|p| p.number == number)
    }
}

/// A workflow event a change would fire.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// `push`, `pull_request`, `release`, `check_run`.
    pub event: String,
    pub action: Option<String>,
    pub repo: String,
    pub actor: String,
    /// False when the change was made with a workflow's own `GITHUB_TOKEN`.
    pub triggers_workflows: bool,
    pub at: i64,
    /// The interesting fields: ref/before/after, number, `tag_name`, check name…
    pub payload: Value,
}

/// How mergeable a pull request is right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mergeability {
    pub conflict: bool,
    pub behind: bool,
    /// Unmet protection rules, as GitHub words them.
    pub blocked: Vec<String>,
    pub unstable: bool,
}

impl Mergeability {
    /// GitHub's `mergeable_state`.
    pub fn state(&self) -> &'static str {
        if self.conflict {
            "dirty"
        } else if self.behind {
            "behind"
        } else if !self.blocked.is_empty() {
            "blocked"
        } else if self.unstable {
            "unstable"
        } else {
            "clean"
        }
    }
}

#[derive(Clone, Debug)]
struct CiRule {
    repo: String,
    base: Option<String>,
    app: u64,
    on: Vec<CiEvent>,
    checks: Vec<CiCheck>,
}

#[derive(Clone, Debug)]
struct CiCheck {
    name: String,
    conclusion: String,
    merge_group_conclusion: String,
    after_ms: u64,
}

#[derive(Clone, Debug)]
struct Scheduled {
    due_ms: i64,
    repo: String,
    run_id: u64,
    conclusion: String,
}

/// The whole simulated GitHub.
pub struct World {
    pub clock: Clock,
    pub seed: u64,
    /// Secondary rate limits, per identity.
    pub limits: crate::limits::Limits,
    pub identities: BTreeMap<u64, Identity>,
    pub(crate) tokens: HashMap<String, u64>,
    /// GitHub Apps by App ID.
    pub apps: BTreeMap<u64, App>,
    /// App installations by installation ID.
    pub installations: BTreeMap<u64, Installation>,
    /// Minted installation tokens.
    pub(crate) grants: HashMap<String, Grant>,
    pub repos: BTreeMap<String, Repo>,
    pub objects: ObjectStore,
    pub events: Vec<Event>,
    /// Merge queues of the branches whose protection requires one.
    pub merge_queues: crate::merge_queue::Queues,
    ci: Vec<CiRule>,
    scheduled: Vec<Scheduled>,
    next_id: u64,
    /// Changes with every mutation; rendered responses are only reused within one generation.
    generation: u64,
}

/// Generations are unique across worlds, so a loaded world never matches an old cache entry.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

const BOT_EMAIL: &str = "noreply@github.com";

impl World {
    /// An empty world with a wall-clock time base.
    pub fn empty() -> World {
        World {
            clock: Clock::new(None, 1.0),
            seed: 0,
            limits: crate::limits::Limits::default(),
            identities: BTreeMap::new(),
            tokens: HashMap::new(),
            apps: BTreeMap::new(),
            installations: BTreeMap::new(),
            grants: HashMap::new(),
            repos: BTreeMap::new(),
            objects: ObjectStore::default(),
            events: Vec::new(),
            merge_queues: crate::merge_queue::Queues::default(),
            ci: Vec::new(),
            scheduled: Vec::new(),
            next_id: 1000,
            generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Builds a world from a YAML (or JSON) description.
    pub fn from_yaml(text: &str) -> Result<World, WorldError> {
        World::from_spec(&WorldSpec::from_yaml(text)?)
    }

    /// Builds a world from a parsed description.
    pub fn from_spec(spec: &WorldSpec) -> Result<World, WorldError> {
        let mut w = World::empty();
        if let Some(clock) = &spec.clock {
            let start = match &clock.start {
                Some(s) => {
                    Some(parse_iso_ms(s).ok_or_else(|| WorldError::BadClockStart(s.clone()))?)
                }
                None => None,
            };
            w.clock = Clock::new(start, clock.scale.unwrap_or(1.0));
        }
        w.seed = spec.seed.unwrap_or(0);
        w.patch(spec)?;
        Ok(w)
    }

    /// Adds what a description declares to this world: new identities (or new tokens and
    /// settings for existing logins), new repositories, new branches and files as commits, new
    /// protection and CI rules, Apps and installations (replaced by id). Nothing is removed.
    pub fn patch(&mut self, spec: &WorldSpec) -> Result<(), WorldError> {
        self.touch();
        if let Some(limits) = &spec.limits {
            self.limits.apply(limits);
        }
        for ident in &spec.identities {
            self.upsert_identity(ident)?;
        }
        for repo in &spec.repos {
            self.upsert_repo(repo)?;
        }
        for rule in &spec.ci {
            self.add_ci_rule(rule)?;
        }
        for app in &spec.apps {
            self.upsert_app(app)?;
        }
        self.refresh_app_bots();
        Ok(())
    }

    /// The current generation (see [`World::touch`]).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Marks the world changed: responses rendered before are stale. Every mutation calls it;
    /// call it after changing fields directly.
    pub fn touch(&mut self) {
        self.generation = GENERATIONS.fetch_add(1, Ordering::Relaxed);
    }

    pub fn next_id(&mut self) -> u64 {
        self.touch();
        self.next_id += 1;
        self.next_id
    }

    fn upsert_identity(&mut self, spec: &IdentitySpec) -> Result<u64, WorldError> {
        let id = match self.identity_by_login(&spec.login) {
            Some(existing) => existing.id,
            None => {
                let id = self.next_id();
                self.identities.insert(
                    id,
                    Identity {
                        id,
                        login: spec.login.clone(),
                        kind: spec.kind,
                        rate_limit: 0,
                        permissions: None,
                    },
                );
                id
            }
        };
        for token in &spec.tokens {
            if self.tokens.get(token).is_some_and(|owner| *owner != id) {
                return Err(WorldError::DuplicateToken(spec.login.clone()));
            }
            self.tokens.insert(token.clone(), id);
        }
        if let Some(ident) = self.identities.get_mut(&id) {
            ident.kind = spec.kind;
            ident.rate_limit = spec.rate_limit.unwrap_or(match spec.kind {
                IdentityKind::GithubToken => 1000,
                _ => 5000,
            });
            ident.permissions.clone_from(&spec.permissions);
        }
        Ok(id)
    }

    pub fn identity_by_login(&self, login: &str) -> Option<&Identity> {
        self.identities.values().find(|i| i.login == login)
    }

    /// The identity a token authenticates as: a declared token's identity, or the App bot a
    /// live installation token acts as, with exactly that token's permissions.
    pub fn identity_by_token(&self, token: &str) -> Option<Identity> {
        match self.tokens.get(token) {
            Some(id) => self.identities.get(id).cloned(),
            None => self.installation_token_identity(token),
        }
    }

    /// The identity with this id; a placeholder "ghost" when it was removed.
    pub fn login_of(&self, id: u64) -> &str {
        self.identities
            .get(&id)
            .map_or("ghost", |i| i.login.as_str())
    }

    fn upsert_repo(&mut self, spec: &RepoSpec) -> Result<(), WorldError> {
        let Some((owner, name)) = spec.name.split_once('/') else {
            return Err(WorldError::BadRepoName(spec.name.clone()));
        };
        if owner.is_empty() || name.is_empty() || name.contains('/') {
            return Err(WorldError::BadRepoName(spec.name.clone()));
        }
        let now = self.clock.now_secs();
        if !self.repos.contains_key(&spec.name) {
            let id = self.next_id();
            self.repos.insert(
                spec.name.clone(),
                Repo {
                    id,
                    owner: owner.to_owned(),
                    name: name.to_owned(),
                    default_branch: spec.default_branch.clone().unwrap_or_else(|| "main".into()),
                    refs: BTreeMap::new(),
                    pulls: Vec::new(),
                    check_suites: Vec::new(),
                    check_runs: Vec::new(),
                    statuses: Vec::new(),
                    releases: Vec::new(),
                    release_assets: Vec::new(),
                    comments: Vec::new(),
                    latest_release: None,
                    protection: BTreeMap::new(),
                    private: false,
                    roles: BTreeMap::new(),
                    actions: ActionsSettings::default(),
                    created_at: now,
                    pushed_at: now,
                    deployments: Vec::new(),
                    environments: Vec::new(),
                },
            );
        }
        let full = spec.name.clone();
        let default_branch = self.repos[&full].default_branch.clone();
        // The default branch first, then the others in dependency order.
        let mut pending: Vec<(&String, &crate::spec::BranchSpec)> = spec.branches.iter().collect();
        pending.sort_by_key(|(n, _)| **n != default_branch);
        if !spec.branches.contains_key(&default_branch)
            && self.repos[&full].branch(&default_branch).is_none()
        {
            self.seed_branch(&full, &default_branch, None, &BTreeMap::new(), None);
        }
        while !pending.is_empty() {
            let before = pending.len();
            let mut rest = Vec::new();
            for (branch, b) in pending {
                let from = if *branch == default_branch {
                    None
                } else {
                    Some(b.from.clone().unwrap_or_else(|| default_branch.clone()))
                };
                let exists_self = self.repos[&full].branch(branch).is_some();
                match &from {
                    Some(f) if !exists_self && self.repos[&full].branch(f).is_none() => {
                        rest.push((branch, b));
                    }
                    _ => self.seed_branch(
                        &full,
                        branch,
                        from.as_deref(),
                        &b.files,
                        b.message.as_deref(),
                    ),
                }
            }
            if rest.len() == before {
                let (branch, b) = rest[0];
                return Err(WorldError::UnknownFrom {
                    repo: full,
                    branch: branch.clone(),
                    from: b.from.clone().unwrap_or(default_branch),
                });
            }
            pending = rest;
        }
        self.seed_tags(&full, &spec.tags)?;
        if let Some(repo) = self.repos.get_mut(&full) {
            for (branch, p) in &spec.protection {
                repo.protection.insert(branch.clone(), p.clone());
            }
            if let Some(private) = spec.private {
                repo.private = private;
            }
            if let Some(actions) = spec.actions {
                repo.actions = actions;
            }
            repo.roles.extend(
                spec.roles
                    .iter()
                    .map(|(login, role)| (login.clone(), *role)),
            );
        }
        Ok(())
    }

    /// Creates the tags a world file declares (lightweight or annotated).
    fn seed_tags(
        &mut self,
        full: &str,
        tags: &BTreeMap<String, TagSpec>,
    ) -> Result<(), WorldError> {
        for (tag, tag_spec) in tags {
            let target = match tag_spec {
                TagSpec::Lightweight(t) | TagSpec::Annotated { target: t, .. } => t,
            };
            let repo = &self.repos[full];
            let sha = repo.resolve(&self.objects, target).ok_or_else(|| {
                WorldError::UnknownTagTarget {
                    repo: full.to_owned(),
                    tag: tag.clone(),
                    target: target.clone(),
                }
            })?;
            let sha = match tag_spec {
                TagSpec::Lightweight(_) => sha,
                TagSpec::Annotated {
                    message, tagger, ..
                } => {
                    let who = tagger
                        .as_deref()
                        .and_then(|l| self.identity_by_login(l))
                        .map(|i| i.id);
                    let tagger = self.signature_of(who);
                    self.objects.put_tag(TagObject {
                        object: sha,
                        tag: tag.as_str().into(),
                        tagger,
                        message: message.as_str().into(),
                    })
                }
            };
            if let Some(repo) = self.repos.get_mut(full) {
                repo.refs.insert(format!("refs/tags/{tag}"), sha);
            }
        }
        Ok(())
    }

    /// Creates or extends a branch from a description, without firing events.
    fn seed_branch(
        &mut self,
        repo: &str,
        branch: &str,
        from: Option<&str>,
        files: &BTreeMap<String, String>,
        message: Option<&str>,
    ) {
        let Some(r) = self.repos.get(repo) else {
            return;
        };
        let parent = r.branch(branch).or_else(|| from.and_then(|f| r.branch(f)));
        if parent.is_some() && files.is_empty() {
            if let (Some(sha), Some(r)) = (parent, self.repos.get_mut(repo)) {
                r.refs.insert(format!("refs/heads/{branch}"), sha);
            }
            return;
        }
        let changes: Vec<(String, Option<Vec<u8>>)> = files
            .iter()
            .map(|(p, c)| (p.clone(), Some(c.as_bytes().to_vec())))
            .collect();
        let msg = message.map_or_else(
            || {
                if parent.is_none() {
                    "Initial commit".to_owned()
                } else {
                    format!("Update {branch}")
                }
            },
            str::to_owned,
        );
        let sig = self.signature_of(None);
        let sha = self.make_commit(parent, &changes, &msg, &sig);
        if let Some(r) = self.repos.get_mut(repo) {
            r.refs.insert(format!("refs/heads/{branch}"), sha);
        }
    }

    fn add_ci_rule(&mut self, spec: &CiRuleSpec) -> Result<(), WorldError> {
        if !self.repos.contains_key(&spec.repo) {
            return Err(WorldError::UnknownCiRepo(spec.repo.clone()));
        }
        let login = spec.app.clone().unwrap_or_else(|| "github-actions".into());
        let app = match self.identity_by_login(&login) {
            Some(i) => i.id,
            None => self.upsert_identity(&IdentitySpec {
                login,
                kind: IdentityKind::App,
                ..IdentitySpec::default()
            })?,
        };
        self.ci.push(CiRule {
            repo: spec.repo.clone(),
            base: spec.base.clone(),
            app,
            on: spec
                .on
                .clone()
                .unwrap_or_else(|| vec![CiEvent::PullRequest]),
            checks: spec
                .checks
                .iter()
                .map(|c| {
                    let conclusion = c.conclusion.clone().unwrap_or_else(|| "success".into());
                    CiCheck {
                        name: c.name.clone(),
                        merge_group_conclusion: c
                            .merge_group_conclusion
                            .clone()
                            .unwrap_or_else(|| conclusion.clone()),
                        conclusion,
                        after_ms: c.after_ms,
                    }
                })
                .collect(),
        });
        Ok(())
    }

    /// Author/committer signature for an identity (or the GitHub web-flow one).
    pub fn signature_of(&self, actor: Option<u64>) -> Signature {
        let time = self.clock.now_secs();
        match actor.and_then(|a| self.identities.get(&a)) {
            Some(i) => Signature {
                name: i.login.as_str().into(),
                email: format!("{}+{}@users.noreply.github.com", i.id, i.login).into(),
                time,
            },
            None => Signature {
                name: "GitHub".into(),
                email: BOT_EMAIL.into(),
                time,
            },
        }
    }

    /// Writes a commit whose tree is `parent`'s plus `changes` (None content = delete).
    pub fn make_commit(
        &mut self,
        parent: Option<Sha>,
        changes: &[(String, Option<Vec<u8>>)],
        message: &str,
        author: &Signature,
    ) -> Sha {
        let mut files = parent
            .map(|p| self.objects.commit_files(&p))
            .unwrap_or_default();
        for (path, content) in changes {
            match content {
                Some(c) => {
                    let blob = self.objects.put_blob(c);
                    files.insert(path.clone(), blob);
                }
                None => {
                    files.remove(path);
                }
            }
        }
        self.commit_tree(&files, parent.into_iter().collect(), message, author)
    }

    /// Writes a commit with exactly these files and parents.
    pub fn commit_tree(
        &mut self,
        files: &Files,
        parents: Vec<Sha>,
        message: &str,
        author: &Signature,
    ) -> Sha {
        let tree = self.objects.write_tree(files);
        self.objects.put_commit(Commit {
            tree,
            parents,
            author: author.clone(),
            committer: author.clone(),
            message: message.into(),
        })
    }

    /// Records an event; changes by a workflow's `GITHUB_TOKEN` trigger no workflows.
    pub fn record_event(
        &mut self,
        event: &str,
        action: Option<&str>,
        repo: &str,
        actor: u64,
        payload: Value,
    ) {
        self.touch();
        let ident = self.identities.get(&actor);
        let triggers = ident.is_none_or(|i| i.kind != IdentityKind::GithubToken);
        self.events.push(Event {
            event: event.into(),
            action: action.map(str::to_owned),
            repo: repo.into(),
            actor: self.login_of(actor).to_owned(),
            triggers_workflows: triggers,
            at: self.clock.now_secs(),
            payload,
        });
    }

    /// Moves (or creates, or with `None` deletes) a ref, with every side effect: push events,
    /// pull-request synchronisation, simulated CI, mergeability recomputation.
    pub fn set_ref(&mut self, repo: &str, full_ref: &str, new: Option<Sha>, actor: u64) {
        self.touch();
        let now = self.clock.now_secs();
        let Some(r) = self.repos.get_mut(repo) else {
            return;
        };
        let before = match new {
            Some(sha) => r.refs.insert(full_ref.to_owned(), sha),
            None => r.refs.remove(full_ref),
        };
        if before == new {
            return;
        }
        r.pushed_at = now;
        let zero = "0".repeat(40);
        self.record_event(
            "push",
            None,
            repo,
            actor,
            json!({
                "ref": full_ref,
                "before": before.map_or_else(|| zero.clone(), |s| s.hex()),
                "after": new.map_or_else(|| zero.clone(), |s| s.hex()),
                "created": before.is_none(),
                "deleted": new.is_none(),
            }),
        );
        let Some(branch) = full_ref.strip_prefix("refs/heads/") else {
            return;
        };
        let mut synced = Vec::new();
        if let Some(r) = self.repos.get_mut(repo) {
            let protection = &r.protection;
            for p in r.pulls.iter_mut().filter(|p| p.state == PullState::Open) {
                if p.head_ref == branch
                    && let Some(sha) = new
                {
                    p.head_sha = sha;
                    p.updated_at = now;
                    p.mergeable_pending = true;
                    if protection
                        .get(&p.base_ref)
                        .is_some_and(|rules| rules.dismiss_stale_reviews)
                    {
                        for review in p.reviews.iter_mut().filter(|r| r.state == "APPROVED") {
                            "DISMISSED".clone_into(&mut review.state);
                        }
                    }
                    synced.push((p.number, p.base_ref.clone(), sha));
                }
                if p.base_ref == branch {
                    if let Some(sha) = new {
                        p.base_sha = sha;
                    }
                    p.mergeable_pending = true;
                }
            }
        }
        for (number, base, head) in synced {
            self.record_event(
                "pull_request",
                Some("synchronize"),
                repo,
                actor,
                json!({"number": number, "head_sha": head.hex()}),
            );
            self.run_ci(repo, &base, branch, head);
        }
    }

    /// Starts the check runs of every CI rule matching a pull request into `base`.
    pub fn run_ci(&mut self, repo: &str, base: &str, head_branch: &str, head: Sha) {
        self.run_ci_on(CiEvent::PullRequest, repo, base, head_branch, head);
    }

    /// Starts the check runs of every CI rule that runs on `event` for `base`.
    pub fn run_ci_on(
        &mut self,
        event: CiEvent,
        repo: &str,
        base: &str,
        head_branch: &str,
        head: Sha,
    ) {
        let rules: Vec<CiRule> = self
            .ci
            .iter()
            .filter(|r| r.repo == repo && r.base.as_deref().is_none_or(|b| b == base))
            .filter(|r| r.on.contains(&event))
            .cloned()
            .collect();
        let now_ms = self.clock.now_ms();
        for rule in rules {
            for check in &rule.checks {
                let run_id = self.create_check_run(
                    repo,
                    rule.app,
                    &check.name,
                    head,
                    Some(head_branch),
                    "in_progress",
                );
                let conclusion = match event {
                    CiEvent::PullRequest => &check.conclusion,
                    CiEvent::MergeGroup => &check.merge_group_conclusion,
                };
                self.scheduled.push(Scheduled {
                    due_ms: now_ms + i64::try_from(check.after_ms).unwrap_or(i64::MAX / 4),
                    repo: repo.to_owned(),
                    run_id,
                    conclusion: conclusion.clone(),
                });
            }
        }
    }

    /// Creates a check run (and its suite if needed); returns its id.
    pub fn create_check_run(
        &mut self,
        repo: &str,
        app: u64,
        name: &str,
        head: Sha,
        head_branch: Option<&str>,
        status: &str,
    ) -> u64 {
        let now = self.clock.now_secs();
        let suite_id = match self.repos.get(repo).and_then(|r| {
            r.check_suites
                .iter()
                .find(|s| s.head_sha == head && s.app == app)
                .map(|s| s.id)
        }) {
            Some(id) => id,
            None => {
                let id = self.next_id();
                if let Some(r) = self.repos.get_mut(repo) {
                    r.check_suites.push(CheckSuite {
                        id,
                        head_sha: head,
                        head_branch: head_branch.map(str::to_owned),
                        app,
                        created_at: now,
                        updated_at: now,
                    });
                }
                id
            }
        };
        let id = self.next_id();
        if let Some(r) = self.repos.get_mut(repo) {
            r.check_runs.push(CheckRun {
                id,
                suite_id,
                name: name.to_owned(),
                head_sha: head,
                status: status.to_owned(),
                conclusion: None,
                started_at: now,
                completed_at: None,
                title: None,
                summary: None,
                text: None,
                details_url: None,
                external_id: None,
                app,
            });
            for p in r.pulls.iter_mut().filter(|p| p.head_sha == head) {
                p.mergeable_pending = true;
            }
        }
        self.record_event(
            "check_run",
            Some("created"),
            repo,
            app,
            json!({"id": id, "name": name, "head_sha": head.hex()}),
        );
        id
    }

    /// Completes a check run with a conclusion (used by CI rules, the admin API and PATCH).
    pub fn complete_check_run(&mut self, repo: &str, run_id: u64, conclusion: &str) -> bool {
        self.touch();
        let now = self.clock.now_secs();
        let Some(r) = self.repos.get_mut(repo) else {
            return false;
        };
        let Some(run) = r.check_runs.iter_mut().find(|c| c.id == run_id) else {
            return false;
        };
        run.status = "completed".into();
        run.conclusion = Some(conclusion.to_owned());
        run.completed_at = Some(now);
        let (app, name, head) = (run.app, run.name.clone(), run.head_sha);
        for s in r.check_suites.iter_mut().filter(|s| s.head_sha == head) {
            s.updated_at = now;
        }
        self.scheduled
            .retain(|s| !(s.repo == repo && s.run_id == run_id));
        self.record_event(
            "check_run",
            Some("completed"),
            repo,
            app,
            json!({"id": run_id, "name": name, "conclusion": conclusion, "head_sha": head.hex()}),
        );
        true
    }

    /// Applies everything that became due by the current simulated time: check runs complete,
    /// then merge queues move (which may start checks that are due at once).
    pub fn tick(&mut self) {
        loop {
            let now = self.clock.now_ms();
            let mut due: Vec<Scheduled> = Vec::new();
            self.scheduled.retain(|s| {
                if s.due_ms <= now {
                    due.push(s.clone());
                    false
                } else {
                    true
                }
            });
            due.sort_by_key(|s| (s.due_ms, s.run_id));
            let completed = !due.is_empty();
            for s in due {
                self.complete_check_run(&s.repo, s.run_id, &s.conclusion);
            }
            if !crate::merge_queue::advance(self) && !completed {
                return;
            }
        }
    }

    /// Advances simulated time and applies what became due.
    pub fn advance(&mut self, by: Duration) {
        self.touch();
        self.clock.advance(by);
        self.tick();
    }

    /// Whether a check-run conclusion or status state counts as passing.
    pub fn passing(conclusion: &str) -> bool {
        matches!(conclusion, "success" | "neutral" | "skipped")
    }

    /// The latest result per check name / status context on a commit (`None`: not finished).
    pub fn check_results(repo: &Repo, sha: Sha) -> BTreeMap<&str, Option<&str>> {
        let mut results: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        for run in repo.check_runs.iter().filter(|c| c.head_sha == sha) {
            results.insert(&run.name, run.conclusion.as_deref());
        }
        for st in repo.statuses.iter().filter(|s| s.sha == sha) {
            let state = if st.state == "pending" {
                None
            } else {
                Some(st.state.as_str())
            };
            results.insert(&st.context, state);
        }
        results
    }

    /// Computes the mergeability of an open pull request from git, protection, checks and reviews.
    pub fn mergeability(&self, repo: &Repo, pull: &Pull) -> Mergeability {
        let base_head = repo.branch(&pull.base_ref).unwrap_or(pull.base_sha);
        let merge_base = self.objects.merge_base(&base_head, &pull.head_sha);
        let conflict = self
            .objects
            .merge_files(merge_base.as_ref(), &base_head, &pull.head_sha)
            .is_none();
        let protection = repo.protection.get(&pull.base_ref);
        let out_of_date = !self.objects.is_ancestor(&base_head, &pull.head_sha);
        let behind = protection.is_some_and(|p| p.strict) && out_of_date;
        let results = Self::check_results(repo, pull.head_sha);
        let mut blocked = Vec::new();
        let required: &[String] = protection.map_or(&[], |p| p.required_checks.as_slice());
        for name in required {
            match results.get(name.as_str()) {
                Some(Some(c)) if Self::passing(c) => {}
                Some(Some(_)) => {
                    blocked.push(format!("Required status check \"{name}\" is failing."));
                }
                _ => blocked.push(format!("Required status check \"{name}\" is expected.")),
            }
        }
        let needed = protection.map_or(0, |p| p.required_approvals);
        if needed > 0 {
            let mut latest: BTreeMap<u64, &str> = BTreeMap::new();
            for r in &pull.reviews {
                let counts = self
                    .role_of(repo, r.user)
                    .is_some_and(|role| role >= Role::Write);
                if counts && (r.state == "APPROVED" || r.state == "CHANGES_REQUESTED") {
                    latest.insert(r.user, &r.state);
                }
            }
            let approvals = latest.values().filter(|s| **s == "APPROVED").count();
            let changes_requested = latest.values().any(|s| *s == "CHANGES_REQUESTED");
            if changes_requested {
                blocked.push("Changes were requested by a reviewer with write access.".into());
            } else if approvals < needed as usize {
                blocked.push(if needed == 1 {
                    "At least 1 approving review is required by reviewers with write access.".into()
                } else {
                    format!("At least {needed} approving reviews are required by reviewers with write access.")
                });
            }
        }
        let unstable = results
            .iter()
            .any(|(name, c)| !required.iter().any(|r| r == name) && !c.is_some_and(Self::passing));
        Mergeability {
            conflict,
            behind,
            blocked,
            unstable,
        }
    }

    /// The repository role of identity `id`: declared in the world, `admin` for the owner,
    /// otherwise what its token permissions imply (contents write → write, read → read).
    pub fn role_of(&self, repo: &Repo, id: u64) -> Option<Role> {
        let who = self.identities.get(&id)?;
        if let Some(role) = repo.roles.get(&who.login) {
            return Some(*role);
        }
        if who.login == repo.owner {
            return Some(Role::Admin);
        }
        match who.permissions_on(&repo.full_name())?.contents {
            Access::Write => Some(Role::Write),
            Access::Read => Some(Role::Read),
            Access::None => None,
        }
    }

    /// GitHub's `author_association` of identity `id` with `repo`: `OWNER` for the owner,
    /// `COLLABORATOR` for a declared role, `MEMBER` for a person whose token may write (an
    /// organisation member, as the world has no organisations), `CONTRIBUTOR` for the author of
    /// a merged pull request, `NONE` otherwise (apps included).
    pub fn author_association(&self, repo: &Repo, id: u64) -> &'static str {
        let Some(who) = self.identities.get(&id) else {
            return "NONE";
        };
        if who.login == repo.owner {
            "OWNER"
        } else if repo.roles.contains_key(&who.login) {
            "COLLABORATOR"
        } else if !who.is_app() && self.role_of(repo, id).is_some_and(|r| r >= Role::Write) {
            "MEMBER"
        } else if repo.pulls.iter().any(|p| p.merged && p.user == id) {
            "CONTRIBUTOR"
        } else {
            "NONE"
        }
    }

    /// The stored name of a repository, looked up case-insensitively as GitHub does.
    pub fn canonical_repo(&self, name: &str) -> Option<String> {
        if self.repos.contains_key(name) {
            return Some(name.to_owned());
        }
        self.repos
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// Permission check helper: `Ok(perms)` or the reason it is denied.
    pub fn access(&self, identity: &Identity, repo: &str) -> Option<RepoPermissions> {
        if !self.repos.contains_key(repo) {
            return None;
        }
        identity.permissions_on(repo)
    }

    /// Commits `files` (path → content; `None` deletes) on top of `branch` as `actor` (a login;
    /// GitHub's web-flow signature when `None`) and moves the branch, with every side effect of a
    /// push (events, pull-request synchronisation, CI). The branch is created from the default
    /// branch if missing. Returns the new commit, or `None` for an unknown repository.
    pub fn push_files(
        &mut self,
        repo: &str,
        branch: &str,
        files: &[(&str, Option<&str>)],
        message: &str,
        actor: Option<&str>,
    ) -> Option<Sha> {
        let r = self.repos.get(repo)?;
        let parent = r.branch(branch).or_else(|| r.branch(&r.default_branch));
        let who = actor.and_then(|l| self.identity_by_login(l)).map(|i| i.id);
        let sig = self.signature_of(who);
        let changes: Vec<(String, Option<Vec<u8>>)> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.map(|c| c.as_bytes().to_vec())))
            .collect();
        let sha = self.make_commit(parent, &changes, message, &sig);
        self.set_ref(
            repo,
            &format!("refs/heads/{branch}"),
            Some(sha),
            who.unwrap_or(0),
        );
        Some(sha)
    }

    /// Adds `commits` commits to a new repository `owner/name` (for benchmarks and memory tests).
    pub fn add_synthetic_repo(
        &mut self,
        full_name: &str,
        commits: usize,
    ) -> Result<(), WorldError> {
        self.upsert_repo(&RepoSpec {
            name: full_name.to_owned(),
            ..RepoSpec::default()
        })?;
        let sig = self.signature_of(None);
        let mut head = self
            .repos
            .get(full_name)
            .and_then(|r| r.branch(&r.default_branch));
        for i in 1..commits {
            let content = format!("{full_name} revision {i}\n").into_bytes();
            head = Some(self.make_commit(
                head,
                &[("VERSION".into(), Some(content))],
                &format!("Commit {i}"),
                &sig,
            ));
        }
        if let (Some(r), Some(h)) = (self.repos.get_mut(full_name), head) {
            let branch = format!("refs/heads/{}", r.default_branch);
            r.refs.insert(branch, h);
        }
        Ok(())
    }
}
