//! GitHub Apps in the world: each App's key and installations, the installation tokens minted
//! from them (narrowed to repositories and permissions, expiring after an hour of simulated time)
//! and the identity such a token acts as: the App's bot, `<slug>[bot]`.

use std::collections::BTreeMap;

use rand::Rng as _;

use crate::jwt::{AppKey, Issuer, Jwt, JwtError};
use crate::spec::{
    Access, AccountType, AppSpec, IdentityKind, InstallationSpec, Level, RepoPermissions,
    RepoSelection,
};
use crate::world::{Identity, Repo, World, WorldError};

/// A GitHub App.
#[derive(Clone, Debug)]
pub struct App {
    pub id: u64,
    pub client_id: String,
    pub slug: String,
    pub name: String,
    pub owner: String,
    pub key: AppKey,
    /// The identity of its bot, `<slug>[bot]`: what its installation tokens act as.
    pub bot: u64,
    pub created_at: i64,
}

/// An App installed on an account.
#[derive(Clone, Debug)]
pub struct Installation {
    pub id: u64,
    pub app: u64,
    pub account: String,
    pub account_type: AccountType,
    /// `None`: every repository of the account; otherwise these full names.
    pub repositories: Option<Vec<String>>,
    /// Always holds `metadata: read`.
    pub permissions: BTreeMap<String, Level>,
    pub created_at: i64,
}

/// A minted installation token.
#[derive(Clone, Debug)]
pub struct Grant {
    pub installation: u64,
    pub permissions: BTreeMap<String, Level>,
    /// `None`: every repository the installation reaches; otherwise these full names.
    pub repositories: Option<Vec<String>>,
    pub expires_ms: i64,
}

/// How long an installation token lives (GitHub: one hour).
pub const TOKEN_LIFETIME_MS: i64 = 3_600_000;

/// The level of a permission name in a permission map, as the sim enforces it.
fn access(permissions: &BTreeMap<String, Level>, name: &str) -> Access {
    match permissions.get(name) {
        Some(Level::Write | Level::Admin) => Access::Write,
        Some(Level::Read) => Access::Read,
        None => Access::None,
    }
}

/// The repository permissions the sim models, from an App permission map.
fn repo_permissions(permissions: &BTreeMap<String, Level>) -> RepoPermissions {
    RepoPermissions {
        contents: access(permissions, "contents"),
        pull_requests: access(permissions, "pull_requests"),
        checks: access(permissions, "checks"),
        statuses: access(permissions, "statuses"),
        deployments: access(permissions, "deployments"),
        administration: access(permissions, "administration"),
    }
}

fn union(a: RepoPermissions, b: RepoPermissions) -> RepoPermissions {
    RepoPermissions {
        contents: a.contents.max(b.contents),
        pull_requests: a.pull_requests.max(b.pull_requests),
        checks: a.checks.max(b.checks),
        statuses: a.statuses.max(b.statuses),
        deployments: a.deployments.max(b.deployments),
        administration: a.administration.max(b.administration),
    }
}

/// What anyone may read of a public repository.
const PUBLIC_READ: RepoPermissions = RepoPermissions {
    contents: Access::Read,
    pull_requests: Access::Read,
    checks: Access::Read,
    statuses: Access::Read,
    deployments: Access::Read,
    administration: Access::None,
};

impl World {
    /// Adds or replaces an App (by id) and its installations (by installation id), and makes
    /// sure its bot identity `<slug>` exists.
    pub(crate) fn upsert_app(&mut self, spec: &AppSpec) -> Result<(), WorldError> {
        if spec.id == 0 || spec.slug.is_empty() {
            return Err(WorldError::BadApp(format!(
                "app {:?} needs an `id` above 0 and a `slug`",
                spec.slug
            )));
        }
        let key = AppKey::from_pem(&spec.key).map_err(|source| WorldError::AppKey {
            app: spec.slug.clone(),
            source,
        })?;
        let bot = self.bot_identity(&spec.slug);
        let now = self.clock.now_secs();
        let owner = spec
            .owner
            .clone()
            .or_else(|| spec.installations.first().map(|i| i.account.clone()))
            .unwrap_or_else(|| "github".into());
        let created_at = self.apps.get(&spec.id).map_or(now, |a| a.created_at);
        self.apps.insert(
            spec.id,
            App {
                id: spec.id,
                client_id: spec
                    .client_id
                    .clone()
                    .unwrap_or_else(|| format!("Iv1.{:016x}", spec.id)),
                slug: spec.slug.clone(),
                name: spec.name.clone().unwrap_or_else(|| spec.slug.clone()),
                owner,
                key,
                bot,
                created_at,
            },
        );
        for inst in &spec.installations {
            self.upsert_installation(spec.id, inst)?;
        }
        Ok(())
    }

    /// The bot identity of an App: the identity with that login (made an app identity), or a
    /// new one.
    fn bot_identity(&mut self, slug: &str) -> u64 {
        if let Some(id) = self.identity_by_login(slug).map(|i| i.id) {
            if let Some(i) = self.identities.get_mut(&id) {
                i.kind = IdentityKind::App;
            }
            return id;
        }
        let id = self.next_id();
        self.identities.insert(
            id,
            Identity {
                id,
                login: slug.to_owned(),
                kind: IdentityKind::App,
                rate_limit: 5000,
                permissions: Some(BTreeMap::new()),
            },
        );
        id
    }

    fn upsert_installation(&mut self, app: u64, spec: &InstallationSpec) -> Result<(), WorldError> {
        let id = match spec.id {
            Some(id) => id,
            None => self.next_id(),
        };
        if self.installations.get(&id).is_some_and(|i| i.app != app) {
            return Err(WorldError::BadApp(format!(
                "installation {id} belongs to another app"
            )));
        }
        if spec.account.is_empty() || spec.account.contains('/') {
            return Err(WorldError::BadApp(format!(
                "installation {id} needs an `account` login, not {:?}",
                spec.account
            )));
        }
        let repositories = match &spec.repositories {
            RepoSelection::All => None,
            RepoSelection::Selected(names) => Some(
                names
                    .iter()
                    .map(|name| {
                        self.canonical_repo(&format!("{}/{name}", spec.account))
                            .ok_or_else(|| {
                                WorldError::BadApp(format!(
                                    "installation {id} selects unknown repository {}/{name}",
                                    spec.account
                                ))
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let mut permissions = spec.permissions.clone();
        permissions.entry("metadata".into()).or_insert(Level::Read);
        let now = self.clock.now_secs();
        let created_at = self.installations.get(&id).map_or(now, |i| i.created_at);
        self.installations.insert(
            id,
            Installation {
                id,
                app,
                account: spec.account.clone(),
                account_type: spec.account_type,
                repositories,
                permissions,
                created_at,
            },
        );
        Ok(())
    }

    /// Gives every App's bot the union of what its installations allow, so its repository
    /// roles follow them (call after repositories or installations change).
    pub(crate) fn refresh_app_bots(&mut self) {
        let mut granted: BTreeMap<u64, BTreeMap<String, RepoPermissions>> = BTreeMap::new();
        for inst in self.installations.values() {
            let Some(bot) = self.apps.get(&inst.app).map(|a| a.bot) else {
                continue;
            };
            let perms = repo_permissions(&inst.permissions);
            let map = granted.entry(bot).or_default();
            for repo in self.installation_repos(inst) {
                let entry = map.entry(repo).or_default();
                *entry = union(*entry, perms);
            }
        }
        for app in self.apps.values() {
            if let Some(i) = self.identities.get_mut(&app.bot) {
                i.permissions = Some(granted.remove(&app.bot).unwrap_or_default());
            }
        }
    }

    /// The full names of the repositories an installation reaches now.
    pub fn installation_repos(&self, inst: &Installation) -> Vec<String> {
        match &inst.repositories {
            Some(names) => names
                .iter()
                .filter(|n| self.repos.contains_key(*n))
                .cloned()
                .collect(),
            None => self
                .repos
                .values()
                .filter(|r| r.owner.eq_ignore_ascii_case(&inst.account))
                .map(Repo::full_name)
                .collect(),
        }
    }

    /// The App a JWT signs in as, checked on the simulator's clock.
    pub fn authenticate_app(&self, token: &str) -> Result<&App, JwtError> {
        let jwt = Jwt::parse(token)?;
        let app = match jwt.issuer()? {
            Issuer::Id(id) => self.apps.get(&id),
            Issuer::ClientId(client) => self.apps.values().find(|a| a.client_id == client),
        }
        .ok_or(JwtError::UnknownIntegration)?;
        jwt.verify(&app.key, self.clock.now_secs())?;
        Ok(app)
    }

    /// Mints an installation token; `repositories: None` reaches all the installation reaches.
    pub fn mint_installation_token(
        &mut self,
        installation: u64,
        repositories: Option<Vec<String>>,
        permissions: BTreeMap<String, Level>,
    ) -> (String, Grant) {
        self.touch();
        let suffix: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(36)
            .map(char::from)
            .collect();
        let token = format!("ghs_{suffix}");
        let grant = Grant {
            installation,
            permissions,
            repositories,
            expires_ms: self.clock.now_ms() + TOKEN_LIFETIME_MS,
        };
        self.grants.insert(token.clone(), grant.clone());
        (token, grant)
    }

    /// Revokes an installation token (minted, or declared for an app or `github_token`
    /// identity); false when `token` is no such token.
    pub fn revoke_installation_token(&mut self, token: &str) -> bool {
        self.touch();
        if self.grants.remove(token).is_some() {
            return true;
        }
        let is_app = self.identity_by_token(token).is_some_and(|i| i.is_app());
        is_app && self.tokens.remove(token).is_some()
    }

    /// The identity a minted installation token acts as, with exactly its permissions: the
    /// granted ones on its repositories (at least read on public ones), read on every other
    /// public repository, nothing on other private ones. `None` once it has expired.
    pub(crate) fn installation_token_identity(&self, token: &str) -> Option<Identity> {
        let grant = self.grants.get(token)?;
        if self.clock.now_ms() >= grant.expires_ms {
            return None;
        }
        let inst = self.installations.get(&grant.installation)?;
        let app = self.apps.get(&inst.app)?;
        let mut identity = self.identities.get(&app.bot)?.clone();
        let reach = grant
            .repositories
            .clone()
            .unwrap_or_else(|| self.installation_repos(inst));
        let granted = repo_permissions(&grant.permissions);
        let permissions = self
            .repos
            .values()
            .filter_map(|r| {
                let name = r.full_name();
                let perms = match (reach.contains(&name), r.private) {
                    (true, false) => union(granted, PUBLIC_READ),
                    (true, true) => granted,
                    (false, false) => PUBLIC_READ,
                    (false, true) => return None,
                };
                Some((name, perms))
            })
            .collect();
        identity.permissions = Some(permissions);
        Some(identity)
    }

    /// The installation of `app` on `account` (case-insensitive).
    pub fn installation_on(&self, app: u64, account: &str) -> Option<&Installation> {
        self.installations
            .values()
            .find(|i| i.app == app && i.account.eq_ignore_ascii_case(account))
    }
}
