//! GitHub REST client layer, shared by every action that talks to GitHub. It knows nothing of
//! action inputs (but the three every deploy is recorded with, [`record::from_inputs`]): actions
//! build a [`ClientConfig`] and [`Token`]s and call typed methods.
//!
//! Retries live here and nowhere else ([`transport`]), and so does the pacing of writes under
//! GitHub's secondary limits ([`budget`]); tokens are identities ([`token`]); errors
//! name the request, GitHub's message and request id ([`error`]).

mod budget;
mod checks;
mod client;
mod commits;
pub mod config;
pub mod deployments;
pub mod error;
mod git;
pub mod history;
pub mod http;
pub mod models;
pub mod origin;
pub mod path;
mod pulls;
mod queue;
pub mod record;
pub mod token;
mod transport;

pub use budget::{RateLimitLog, RateLimitWait};
pub use client::{Client, Pages};
pub use config::ClientConfig;
pub use deployments::{
    Deployment, DeploymentFields, DeploymentFilter, DeploymentState, DeploymentStatus,
    DeploymentStatusFields,
};
pub use error::{GithubError, GraphqlError};
pub use models::{
    PullQueueState, QueueEntry, QueueEntryState, QueueOutcome, QueueRemoval, RepoName,
};
pub use origin::Origin;
pub use token::{Approver, BotToken, Identity, Token, Workflow, WorkflowToken};
pub use transport::Stats;
