//! Merge queues, which only GitHub's GraphQL API drives: enqueue a pull request (the bot
//! identity, as it merges) and read where a pull request stands with the queue (any identity),
//! each in one GraphQL request through the same transport as REST.

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Client, request_line};
use crate::error::{GithubError, GraphqlError, RequestLine};
use crate::models::{PullQueueState, QueueEntry, QueueEntryState, QueueRemoval, RepoName};
use crate::token::{Approver, Identity};
use crate::transport::{GRAPHQL, Mode};

const ENTRY_FRAGMENT: &str = "
fragment entry on MergeQueueEntry { id position state enqueuedAt headCommit { oid } pullRequest { number } }";

const PULL_FRAGMENT: &str = "
fragment queueState on PullRequest {
  id number state merged headRefOid
  mergeCommit { oid }
  mergeQueueEntry { ...entry }
  timelineItems(itemTypes: [REMOVED_FROM_MERGE_QUEUE_EVENT], last: 1) {
    nodes { ... on RemovedFromMergeQueueEvent { reason createdAt } }
  }
}";

const STATE_QUERY: &str = "query PullQueueState($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { ...queueState } }
}";

const NODE_QUERY: &str = "query PullQueueStateById($id: ID!) {
  node(id: $id) { ... on PullRequest { ...queueState } }
}";

const ENQUEUE: &str = "mutation EnqueuePullRequest($id: ID!, $head: GitObjectID!) {
  enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $head}) { mergeQueueEntry { ...entry } }
}";

/// A GraphQL response: `data`, and `errors` when something failed.
#[derive(Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

impl<T> Envelope<T> {
    fn into_data(self, request: &RequestLine) -> Result<T, GithubError> {
        if !self.errors.is_empty() {
            return Err(GithubError::Graphql {
                request: request.clone(),
                errors: self.errors,
            });
        }
        self.data.ok_or_else(|| GithubError::Decode {
            request: request.clone(),
            message: "a GraphQL response without data or errors".to_owned(),
        })
    }
}

#[derive(Deserialize)]
struct Oid {
    oid: String,
}

#[derive(Deserialize)]
struct Number {
    number: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    id: String,
    position: u32,
    state: QueueEntryState,
    enqueued_at: String,
    head_commit: Oid,
    pull_request: Number,
}

impl From<RawEntry> for QueueEntry {
    fn from(raw: RawEntry) -> QueueEntry {
        QueueEntry {
            id: raw.id,
            position: raw.position,
            state: raw.state,
            enqueued_at: raw.enqueued_at,
            head_sha: raw.head_commit.oid,
            number: raw.pull_request.number,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRemoval {
    reason: Option<String>,
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct RawTimeline {
    nodes: Vec<RawRemoval>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPull {
    id: String,
    number: u64,
    state: String,
    merged: bool,
    head_ref_oid: String,
    merge_commit: Option<Oid>,
    merge_queue_entry: Option<RawEntry>,
    timeline_items: RawTimeline,
}

impl From<RawPull> for PullQueueState {
    fn from(raw: RawPull) -> PullQueueState {
        let last_removal = raw.timeline_items.nodes.into_iter().last().and_then(|r| {
            r.created_at.map(|at| QueueRemoval {
                reason: r.reason,
                at,
            })
        });
        PullQueueState {
            node_id: raw.id,
            number: raw.number,
            head_sha: raw.head_ref_oid,
            merged: raw.merged,
            merge_commit_sha: raw.merge_commit.map(|c| c.oid),
            state: raw.state,
            entry: raw.merge_queue_entry.map(QueueEntry::from),
            last_removal,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryData {
    repository: Option<PullRequestData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PullRequestData {
    pull_request: Option<RawPull>,
}

#[derive(Deserialize)]
struct NodeData {
    node: Option<RawPull>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnqueueData {
    enqueue_pull_request: Option<EnqueuePayload>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EnqueuePayload {
    merge_queue_entry: Option<RawEntry>,
}

/// How errors name a GraphQL request: `POST /graphql` and the operation.
fn graphql_request(operation: &str) -> RequestLine {
    request_line(&Method::POST, &format!("{GRAPHQL} {operation}"))
}

fn missing(request: &RequestLine, what: &str) -> GithubError {
    GithubError::Decode {
        request: request.clone(),
        message: format!("the response has no {what}"),
    }
}

impl<I: Identity> Client<I> {
    /// A GraphQL read (safe to repeat): its `data`, or GitHub's errors as
    /// [`GithubError::Graphql`].
    async fn graphql_read<T: DeserializeOwned>(
        &self,
        operation: &str,
        query: &str,
        variables: Value,
    ) -> Result<T, GithubError> {
        let body = json!({"query": query, "variables": variables, "operationName": operation});
        let request = graphql_request(operation);
        let reply = self
            .send(Method::POST, GRAPHQL, Some(&body), Mode::Read)
            .await?;
        reply.json::<Envelope<T>>(&request)?.into_data(&request)
    }

    /// Where pull request `number` stands with its base's merge queue: merged (and at which
    /// commit), its entry (position and state) while queued, and its latest removal. One query.
    pub async fn pull_queue_state(
        &self,
        repo: &RepoName,
        number: u64,
    ) -> Result<PullQueueState, GithubError> {
        let query = format!("{STATE_QUERY}{PULL_FRAGMENT}{ENTRY_FRAGMENT}");
        let variables = json!({"owner": repo.owner, "name": repo.name, "number": number});
        let data: RepositoryData = self
            .graphql_read("PullQueueState", &query, variables)
            .await?;
        data.repository
            .and_then(|r| r.pull_request)
            .map(PullQueueState::from)
            .ok_or_else(|| missing(&graphql_request("PullQueueState"), "pull request"))
    }

    /// [`Client::pull_queue_state`] of the pull request with GraphQL node id `node_id`.
    pub async fn pull_queue_state_by_id(
        &self,
        node_id: &str,
    ) -> Result<PullQueueState, GithubError> {
        let query = format!("{NODE_QUERY}{PULL_FRAGMENT}{ENTRY_FRAGMENT}");
        let data: NodeData = self
            .graphql_read("PullQueueStateById", &query, json!({"id": node_id}))
            .await?;
        data.node
            .map(PullQueueState::from)
            .ok_or_else(|| missing(&graphql_request("PullQueueStateById"), "pull request"))
    }
}

impl Client<Approver> {
    /// Adds the pull request with GraphQL node id `node_id` (its REST `node_id`) to its base
    /// branch's merge queue, only if its head is still `expected_head_sha`; what
    /// `gh pr merge --auto` does for a base that requires a merge queue. After an unknown
    /// outcome, an entry of the pull request at that head is it (nothing is sent twice).
    pub async fn enqueue_pull_request(
        &self,
        node_id: &str,
        expected_head_sha: &str,
    ) -> Result<QueueEntry, GithubError> {
        let request = graphql_request("EnqueuePullRequest");
        let body = json!({
            "query": format!("{ENQUEUE}{ENTRY_FRAGMENT}"),
            "variables": {"id": node_id, "head": expected_head_sha},
            "operationName": "EnqueuePullRequest",
        });
        let envelope: Envelope<EnqueueData> = self
            .create(GRAPHQL, &body, || async {
                let state = self.pull_queue_state_by_id(node_id).await?;
                Ok(state
                    .entry
                    .filter(|e| e.head_sha == expected_head_sha)
                    .map(|e| Envelope {
                        data: Some(EnqueueData {
                            enqueue_pull_request: Some(EnqueuePayload {
                                merge_queue_entry: Some(RawEntry {
                                    id: e.id,
                                    position: e.position,
                                    state: e.state,
                                    enqueued_at: e.enqueued_at,
                                    head_commit: Oid { oid: e.head_sha },
                                    pull_request: Number { number: e.number },
                                }),
                            }),
                        }),
                        errors: Vec::new(),
                    }))
            })
            .await?;
        envelope
            .into_data(&request)?
            .enqueue_pull_request
            .and_then(|p| p.merge_queue_entry)
            .map(QueueEntry::from)
            .ok_or_else(|| missing(&request, "merge queue entry"))
    }
}
