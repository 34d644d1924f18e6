//! Who wrote a commit: the author and committer GitHub records for commits this action writes with
//! its token: learned from the lock commit (`lock`) and checked on every commit of the deploy branch
//! (`guard`).

use gantry_github::models::{GitActor, RepoCommit, WrittenCommit};

/// The signature GitHub gives commits this action writes with its token, learned from a commit
/// this run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    author: Option<GitActor>,
    committer: Option<GitActor>,
}

impl Signer {
    pub fn of(commit: &WrittenCommit) -> Self {
        Self {
            author: commit.author.clone(),
            committer: commit.committer.clone(),
        }
    }

    pub fn signed(&self, commit: &RepoCommit) -> bool {
        self.author.is_some()
            && commit.commit.author == self.author
            && commit.commit.committer == self.committer
    }
}
