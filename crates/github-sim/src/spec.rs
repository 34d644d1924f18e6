//! The world file: the YAML (or JSON) a person writes to declare identities, repositories,
//! branch protection and simulated CI. It is only a description; `world` turns it into state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole world description. Every field is optional: an empty document is an empty world.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorldSpec {
    /// Simulated clock settings.
    pub clock: Option<ClockSpec>,
    /// Seed for probabilistic faults (reproducible runs).
    pub seed: Option<u64>,
    /// Users, bots, app installations and workflow tokens.
    pub identities: Vec<IdentitySpec>,
    /// Repositories with their branches and files.
    pub repos: Vec<RepoSpec>,
    /// Simulated CI: check runs created when pull requests open or change.
    pub ci: Vec<CiRuleSpec>,
    /// GitHub Apps: their keys (for JWT sign-in) and installations (for installation tokens).
    pub apps: Vec<AppSpec>,
    /// Secondary rate limits per identity (GitHub's documented values when absent).
    pub limits: Option<crate::limits::LimitsSpec>,
}

/// `clock:` — when simulated time starts and how fast it runs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockSpec {
    /// RFC 3339 start time; the wall clock when absent.
    pub start: Option<String>,
    /// Simulated seconds per real second (default 1; 0 freezes time).
    pub scale: Option<f64>,
}

/// What kind of principal a token belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// A person with a personal access token.
    #[default]
    User,
    /// A machine account using a personal access token (still a PAT: cannot create check runs).
    Bot,
    /// A GitHub App installation token.
    App,
    /// A workflow's own `GITHUB_TOKEN`: an app token whose changes trigger no workflows.
    GithubToken,
}

/// The level of one permission.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// No access.
    #[default]
    None,
    /// Read only.
    Read,
    /// Read and write.
    Write,
}

/// Per-repository permissions of an identity. A field left out means `none`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepoPermissions {
    pub contents: Access,
    pub pull_requests: Access,
    pub checks: Access,
    pub statuses: Access,
    /// Deployments and their statuses.
    pub deployments: Access,
    /// Repository administration (environments are configured with it).
    pub administration: Access,
}

impl RepoPermissions {
    /// Write on everything.
    pub const ALL: RepoPermissions = RepoPermissions {
        contents: Access::Write,
        pull_requests: Access::Write,
        checks: Access::Write,
        statuses: Access::Write,
        deployments: Access::Write,
        administration: Access::Write,
    };
}

/// One identity and its tokens.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentitySpec {
    pub login: String,
    pub kind: IdentityKind,
    /// Tokens that authenticate as this identity (`Authorization: token X` or `Bearer X`).
    pub tokens: Vec<String>,
    /// Requests per hour (defaults: 1,000 for `github_token`, 5,000 otherwise).
    pub rate_limit: Option<u32>,
    /// Per-repository permissions keyed by `owner/name`; when absent the identity may write
    /// everywhere. A repository missing from the map is invisible (404).
    pub permissions: Option<BTreeMap<String, RepoPermissions>>,
}

/// One repository.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepoSpec {
    /// `owner/name`.
    pub name: String,
    /// Defaults to `main`.
    pub default_branch: Option<String>,
    /// Branches by name. The default branch gets an initial commit with its files; any other
    /// branch starts `from` another branch (default: the default branch) plus its own files.
    pub branches: BTreeMap<String, BranchSpec>,
    /// Tags by name: `v1: main` (lightweight, → branch or 40-hex commit) or
    /// `v1: {target: main, message: "Release 1"}` (annotated).
    pub tags: BTreeMap<String, TagSpec>,
    /// Branch protection by branch name.
    pub protection: BTreeMap<String, ProtectionSpec>,
    /// A private repository (`private: true`, `visibility: private`; default false): raw file
    /// downloads need a token that can see it.
    pub private: Option<bool>,
    /// Repository roles by login (`read`, `triage`, `write`, `maintain`, `admin`), separate from
    /// what each token may do. Only approvals from `write` or above count toward protection. A
    /// login not listed has the role its token permissions imply (`contents: write` → `write`),
    /// and the owner is `admin`.
    pub roles: BTreeMap<String, Role>,
    /// Settings → Actions → General.
    pub actions: Option<ActionsSettings>,
}

/// A person's role on a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Read,
    Triage,
    Write,
    Maintain,
    Admin,
}

/// A repository's Actions settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionsSettings {
    /// "Allow GitHub Actions to create and approve pull requests" (off by default, as for new
    /// repositories): without it a `github_token` identity gets 403 creating a pull request and
    /// 422 approving one.
    pub can_approve_pull_request_reviews: bool,
}

/// A tag in the world file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum TagSpec {
    /// A lightweight tag: the target branch or commit.
    Lightweight(String),
    /// An annotated tag object.
    Annotated {
        target: String,
        message: String,
        /// Login of the tagger (default: GitHub).
        #[serde(default)]
        tagger: Option<String>,
    },
}

/// One branch.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BranchSpec {
    pub from: Option<String>,
    /// Path → UTF-8 content.
    pub files: BTreeMap<String, String>,
    /// Commit message of the branch's commit (default "Initial commit" / "Update <branch>").
    pub message: Option<String>,
}

/// Branch protection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProtectionSpec {
    /// Check-run names or status contexts that must succeed on the head commit.
    pub required_checks: Vec<String>,
    /// Approving reviews required.
    pub required_approvals: u32,
    /// Require the head to contain the base branch ("require branches to be up to date").
    pub strict: bool,
    /// "Dismiss stale pull request approvals when new commits are pushed": every change of the
    /// head dismisses the approvals given so far.
    pub dismiss_stale_reviews: bool,
    /// "Require merge queue": pull requests land only through the queue (`enqueuePullRequest`);
    /// the REST merge is refused. The same parameters as a ruleset's `merge_queue` rule.
    pub merge_queue: Option<MergeQueueSpec>,
}

/// A merge queue's settings, named as GitHub's ruleset `merge_queue` rule parameters.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MergeQueueSpec {
    /// How each entry's group commit is made: `merge` (default), `squash` or `rebase`.
    pub merge_method: QueueMergeMethod,
    /// Entries built (and checked) at once, each on top of the ones ahead (default 5).
    pub max_entries_to_build: u32,
    /// Entries the queue waits for before merging (default 1)…
    pub min_entries_to_merge: u32,
    /// …unless the first entry has waited this long (default 5).
    pub min_entries_to_merge_wait_minutes: u32,
    /// Entries merged in one go (default 5).
    pub max_entries_to_merge: u32,
    /// `ALLGREEN` (default) or `HEADGREEN`; every entry is built and checked on its own here.
    pub grouping_strategy: GroupingStrategy,
    /// An entry whose required checks have not all reported after this long is removed
    /// (default 60).
    pub check_response_timeout_minutes: u32,
}

impl Default for MergeQueueSpec {
    fn default() -> MergeQueueSpec {
        MergeQueueSpec {
            merge_method: QueueMergeMethod::Merge,
            max_entries_to_build: 5,
            min_entries_to_merge: 1,
            min_entries_to_merge_wait_minutes: 5,
            max_entries_to_merge: 5,
            grouping_strategy: GroupingStrategy::Allgreen,
            check_response_timeout_minutes: 60,
        }
    }
}

/// A merge queue's merge method (GitHub's ruleset values, upper case, are accepted too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMergeMethod {
    #[default]
    #[serde(alias = "MERGE")]
    Merge,
    #[serde(alias = "SQUASH")]
    Squash,
    #[serde(alias = "REBASE")]
    Rebase,
}

impl QueueMergeMethod {
    /// GraphQL's `PullRequestMergeMethod` value.
    pub fn graphql(self) -> &'static str {
        match self {
            QueueMergeMethod::Merge => "MERGE",
            QueueMergeMethod::Squash => "SQUASH",
            QueueMergeMethod::Rebase => "REBASE",
        }
    }
}

/// How a merge queue groups entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GroupingStrategy {
    #[default]
    Allgreen,
    Headgreen,
}

/// The events a simulated CI rule runs on, as a workflow's `on:` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CiEvent {
    /// A pull request opened, reopened or synchronised (checks on its head).
    PullRequest,
    /// A merge queue entry built (checks on its group commit).
    MergeGroup,
}

/// A simulated CI rule: when a pull request into `base` of `repo` is opened, reopened or its
/// head changes (`on: [pull_request]`, the default), or a merge queue entry into `base` is built
/// (`merge_group`), check runs are created on the commit and complete after a delay.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CiRuleSpec {
    pub repo: String,
    /// Base branch; any when absent.
    pub base: Option<String>,
    /// Login of the app identity that owns the check runs (created as kind `app` if missing;
    /// default `github-actions`).
    pub app: Option<String>,
    pub checks: Vec<CiCheckSpec>,
    /// The events the rule runs on (default `[pull_request]`).
    pub on: Option<Vec<CiEvent>>,
}

/// One check run a CI rule creates.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CiCheckSpec {
    pub name: String,
    /// `success` unless given (`failure`, `cancelled`, `neutral`, `skipped`, `timed_out`, …).
    pub conclusion: Option<String>,
    /// Simulated milliseconds until completion.
    pub after_ms: u64,
    /// The conclusion on a merge group commit (default: `conclusion`).
    pub merge_group_conclusion: Option<String>,
}

/// `apps[]` — a GitHub App that signs in with a JWT and mints installation tokens.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppSpec {
    /// The App ID (a JWT's `iss`, as a number or a string).
    pub id: u64,
    /// The client ID, also accepted as `iss` (default `Iv1.` and the App ID as 16 hex digits).
    pub client_id: Option<String>,
    /// The slug; the App's bot acts as `<slug>[bot]`.
    pub slug: String,
    /// The display name (default: the slug).
    pub name: Option<String>,
    /// Login of the account that owns the App (default: the first installation's account).
    pub owner: Option<String>,
    /// The App's key as PEM: its private key (`BEGIN RSA PRIVATE KEY`, as GitHub issues it, or
    /// PKCS#8 `BEGIN PRIVATE KEY`) or its public key (`BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC
    /// KEY`). Only the public half is kept: it verifies the App's JWTs.
    pub key: String,
    /// Where the App is installed.
    pub installations: Vec<InstallationSpec>,
}

/// One installation of an App on a user or organisation account.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstallationSpec {
    /// The installation ID (assigned when absent).
    pub id: Option<u64>,
    /// Login of the account the App is installed on (the owner of its repositories).
    pub account: String,
    /// `Organization` (the default, as repository owners are shown) or `User`.
    pub account_type: AccountType,
    /// `all` (the default: every repository of the account, present and future) or a list of
    /// repository names under the account.
    pub repositories: RepoSelection,
    /// Permission name → `read`/`write`/`admin`, as in GitHub's App permissions (`contents`,
    /// `pull_requests`, `checks`, `statuses`, `issues`, …); `metadata: read` is always added.
    pub permissions: BTreeMap<String, Level>,
}

/// The type of an installation's account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum AccountType {
    #[default]
    Organization,
    User,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Organization => "Organization",
            AccountType::User => "User",
        }
    }
}

/// The level of one App permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Read,
    Write,
    Admin,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::Admin => "admin",
        }
    }

    /// Parses `read`, `write` or `admin`.
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "read" => Some(Level::Read),
            "write" => Some(Level::Write),
            "admin" => Some(Level::Admin),
            _ => None,
        }
    }
}

/// Which repositories of its account an installation (or a token) reaches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "SelectionText", into = "SelectionText")]
pub enum RepoSelection {
    /// Every repository of the account.
    #[default]
    All,
    /// These repository names.
    Selected(Vec<String>),
}

/// How a selection is written: the word `all` or a list of names.
#[derive(Clone, Deserialize, Serialize)]
#[serde(untagged)]
enum SelectionText {
    Word(String),
    Names(Vec<String>),
}

impl TryFrom<SelectionText> for RepoSelection {
    type Error = String;
    fn try_from(t: SelectionText) -> Result<RepoSelection, String> {
        match t {
            SelectionText::Word(w) if w == "all" => Ok(RepoSelection::All),
            SelectionText::Word(w) => Err(format!(
                "repositories must be `all` or a list of repository names, not {w:?}"
            )),
            SelectionText::Names(names) => Ok(RepoSelection::Selected(names)),
        }
    }
}

impl From<RepoSelection> for SelectionText {
    fn from(s: RepoSelection) -> SelectionText {
        match s {
            RepoSelection::All => SelectionText::Word("all".into()),
            RepoSelection::Selected(names) => SelectionText::Names(names),
        }
    }
}

impl WorldSpec {
    /// Parses YAML (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<WorldSpec, serde_yaml::Error> {
        serde_yaml::from_str(text)
    }
}
