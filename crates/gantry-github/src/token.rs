//! Tokens as identities. The workflow token and the bot token are different types, and the calls
//! that only one of them may make (approve and merge: the bot; everything else: the workflow) exist
//! only on a client holding that type, so code cannot hand the wrong token to the wrong call.

use std::marker::PhantomData;

use gantry_runner::Secret;

mod sealed {
    pub trait Sealed {}
}

/// A role a token plays. Sealed: the two roles below are all there is.
pub trait Identity: sealed::Sealed + Send + Sync + 'static {
    /// How logs and errors name the role (never the token).
    const ROLE: &'static str;
}

/// The workflow's own identity (`GITHUB_TOKEN` or a PAT): reads, creates releases and branches,
/// opens pull requests, reports checks.
#[derive(Debug)]
pub enum Workflow {}

/// The bot identity: approves and merges pull requests the workflow identity opened.
#[derive(Debug)]
pub enum Approver {}

impl sealed::Sealed for Workflow {}
impl sealed::Sealed for Approver {}

impl Identity for Workflow {
    const ROLE: &'static str = "workflow token";
}

impl Identity for Approver {
    const ROLE: &'static str = "bot token";
}

/// A token bound to a role. It prints as `Token(workflow token)`, never its value.
pub struct Token<I: Identity> {
    secret: Secret,
    role: PhantomData<I>,
}

impl<I: Identity> Token<I> {
    /// Binds an (already masked) secret to this role.
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            role: PhantomData,
        }
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// True when the token looks like a workflow's own `GITHUB_TOKEN` (`ghs_…`, an installation
    /// token): releases it creates fire no `on: release` workflows.
    pub fn is_installation_token(&self) -> bool {
        self.secret.expose().starts_with("ghs_")
    }
}

impl<I: Identity> std::fmt::Debug for Token<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({})", I::ROLE)
    }
}

/// The workflow's token.
pub type WorkflowToken = Token<Workflow>;
/// The bot's token.
pub type BotToken = Token<Approver>;
