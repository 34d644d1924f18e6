//! GitHub's merge queue for branches whose protection requires one: entries in order, each built
//! as a group commit on top of the entries ahead (`gh-readonly-queue/{base}/pr-{n}-{head}`), the
//! `merge_group` event and simulated CI on it, and, on the simulated clock, merging in order or
//! removing an entry (failed or late required check, conflict, head moved, closed) with the
//! entries behind rebuilt without it. GraphQL (`routes::graphql`) enqueues and reads it.

use serde_json::{Value, json};

use crate::git::Sha;
use crate::spec::{CiEvent, MergeQueueSpec, QueueMergeMethod};
use crate::world::{PullState, World};

/// Why an entry left the queue without merging (`RemovedFromMergeQueueEvent.reason`).
pub mod reason {
    /// Removed by a person (`dequeuePullRequest`).
    pub const MANUAL: &str = "MANUAL";
    /// A required check failed on the entry's group commit.
    pub const CI_FAILURE: &str = "CI_FAILURE";
    /// A required check did not report within `check_response_timeout_minutes`.
    pub const CI_TIMEOUT: &str = "CI_TIMEOUT";
    /// The pull request no longer merges cleanly onto the entries ahead.
    pub const MERGE_CONFLICT: &str = "MERGE_CONFLICT";
    /// The pull request's head moved after it was queued.
    pub const HEAD_CHANGED: &str = "PULL_REQUEST_UPDATED";
    /// The pull request was closed (or merged another way).
    pub const CLOSED: &str = "PULL_REQUEST_CLOSED";
    /// The base branch no longer requires a merge queue.
    pub const QUEUE_CLEARED: &str = "QUEUE_CLEARED";
}

/// Every queue of the world.
#[derive(Clone, Debug, Default)]
pub struct Queues {
    /// Entries of every queue; a queue is the entries of one repository and base, in order.
    pub entries: Vec<Entry>,
    /// Added/removed events of every pull request, oldest first.
    pub timeline: Vec<TimelineEvent>,
}

/// One queued pull request.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u64,
    pub repo: String,
    pub base: String,
    pub number: u64,
    /// The pull request's head when it was queued.
    pub head: Sha,
    pub enqueuer: u64,
    pub enqueued_at: i64,
    pub group: Option<Group>,
}

/// An entry's built merge group.
#[derive(Clone, Debug)]
pub struct Group {
    /// The group commit: the entry ahead's group commit (or the base) merged with the pull request.
    pub sha: Sha,
    pub base_sha: Sha,
    /// The temporary branch, without `refs/heads/`.
    pub branch: String,
    pub built_ms: i64,
}

/// `AddedToMergeQueueEvent` (`removed: None`) or `RemovedFromMergeQueueEvent` with its reason.
#[derive(Clone, Debug)]
pub struct TimelineEvent {
    pub id: u64,
    pub repo: String,
    pub number: u64,
    pub actor: u64,
    pub enqueuer: u64,
    pub at: i64,
    pub removed: Option<String>,
}

/// GraphQL's `MergeQueueEntryState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryState {
    Queued,
    AwaitingChecks,
    Mergeable,
    Unmergeable,
}

impl EntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::Queued => "QUEUED",
            EntryState::AwaitingChecks => "AWAITING_CHECKS",
            EntryState::Mergeable => "MERGEABLE",
            EntryState::Unmergeable => "UNMERGEABLE",
        }
    }
}

/// Why a pull request cannot be queued (GraphQL error message).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Queues {
    /// The queued entry of a pull request.
    pub fn entry(&self, repo: &str, number: u64) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.repo == repo && e.number == number)
    }

    /// The entries of one queue, in order.
    pub fn queue<'a>(&'a self, repo: &'a str, base: &'a str) -> impl Iterator<Item = &'a Entry> {
        self.entries
            .iter()
            .filter(move |e| e.repo == repo && e.base == base)
    }

    /// 1-based position of an entry in its queue.
    pub fn position(&self, entry: &Entry) -> usize {
        self.queue(&entry.repo, &entry.base)
            .position(|e| e.id == entry.id)
            .map_or(0, |i| i + 1)
    }
}

/// The queue settings of `base`, when its protection requires a merge queue.
pub fn config(world: &World, repo: &str, base: &str) -> Option<MergeQueueSpec> {
    world
        .repos
        .get(repo)?
        .protection
        .get(base)?
        .merge_queue
        .clone()
}

/// The required checks of `base`.
fn required(world: &World, repo: &str, base: &str) -> Vec<String> {
    world
        .repos
        .get(repo)
        .and_then(|r| r.protection.get(base))
        .map(|p| p.required_checks.clone())
        .unwrap_or_default()
}

/// The state of an entry from its group commit's required checks.
pub fn state(world: &World, entry: &Entry) -> EntryState {
    let Some(group) = &entry.group else {
        return EntryState::Queued;
    };
    let Some(r) = world.repos.get(&entry.repo) else {
        return EntryState::Queued;
    };
    let results = World::check_results(r, group.sha);
    let mut pending = false;
    for name in required(world, &entry.repo, &entry.base) {
        match results.get(name.as_str()) {
            Some(Some(c)) if World::passing(c) => {}
            Some(Some(_)) => return EntryState::Unmergeable,
            _ => pending = true,
        }
    }
    if pending {
        EntryState::AwaitingChecks
    } else {
        EntryState::Mergeable
    }
}

/// Adds a pull request to its base's queue (`enqueuePullRequest`): it must be open, not a
/// draft, at `expected_head` when given, free of conflicts and otherwise mergeable (approvals,
/// required checks on its head); being behind its base does not matter. `jump` puts it first.
pub fn enqueue(
    world: &mut World,
    repo: &str,
    number: u64,
    who: u64,
    expected_head: Option<Sha>,
    jump: bool,
) -> Result<u64, Refused> {
    let r = world
        .repos
        .get(repo)
        .ok_or_else(|| Refused("Could not resolve to a Repository.".into()))?;
    let p = r
        .pull(number)
        .ok_or_else(|| Refused("Could not resolve to a PullRequest.".into()))?;
    if p.state != PullState::Open {
        return Err(Refused("Pull request is closed".into()));
    }
    if p.draft {
        return Err(Refused("Pull request is still a draft".into()));
    }
    if config(world, repo, &p.base_ref).is_none() {
        return Err(Refused(format!(
            "Merge queue is not enabled for the {} branch",
            p.base_ref
        )));
    }
    if world.merge_queues.entry(repo, number).is_some() {
        return Err(Refused("Pull request is already queued to merge".into()));
    }
    if expected_head.is_some_and(|sha| sha != p.head_sha) {
        return Err(Refused(
            "Head branch was modified. Review and try the merge again.".into(),
        ));
    }
    let m = world.mergeability(r, p);
    if m.conflict {
        return Err(Refused("Pull request has merge conflicts".into()));
    }
    if let Some(blocked) = m.blocked.first() {
        return Err(Refused(blocked.clone()));
    }
    let (base, head) = (p.base_ref.clone(), p.head_sha);
    let id = world.next_id();
    let now = world.clock.now_secs();
    let entry = Entry {
        id,
        repo: repo.to_owned(),
        base: base.clone(),
        number,
        head,
        enqueuer: who,
        enqueued_at: now,
        group: None,
    };
    let queues = &mut world.merge_queues;
    let first = queues
        .entries
        .iter()
        .position(|e| e.repo == repo && e.base == base);
    match first.filter(|_| jump) {
        Some(at) => queues.entries.insert(at, entry),
        None => queues.entries.push(entry),
    }
    timeline(world, repo, number, who, who, None);
    world.record_event(
        "pull_request",
        Some("enqueued"),
        repo,
        who,
        json!({"number": number, "head_sha": head.hex()}),
    );
    Ok(id)
}

/// Removes a pull request from its queue with `reason`, destroying its group; the groups behind
/// it no longer sit on the entry ahead and are rebuilt by [`advance`]. Returns the removed entry.
pub fn dequeue(
    world: &mut World,
    repo: &str,
    number: u64,
    actor: u64,
    reason: &str,
) -> Option<Entry> {
    let at = world
        .merge_queues
        .entries
        .iter()
        .position(|e| e.repo == repo && e.number == number)?;
    let entry = world.merge_queues.entries.remove(at);
    if let Some(group) = &entry.group {
        destroy(world, &entry, group, "dequeued");
    }
    timeline(world, repo, number, actor, entry.enqueuer, Some(reason));
    world.record_event(
        "pull_request",
        Some("dequeued"),
        repo,
        actor,
        json!({"number": number, "reason": reason}),
    );
    Some(entry)
}

fn timeline(
    world: &mut World,
    repo: &str,
    number: u64,
    actor: u64,
    enqueuer: u64,
    removed: Option<&str>,
) {
    let id = world.next_id();
    let at = world.clock.now_secs();
    world.merge_queues.timeline.push(TimelineEvent {
        id,
        repo: repo.to_owned(),
        number,
        actor,
        enqueuer,
        at,
        removed: removed.map(str::to_owned),
    });
}

/// Destroys an entry's group (with `reason`) and marks it unbuilt.
fn unbuild(world: &mut World, entry: &Entry, reason: &str) {
    let Some(group) = entry.group.clone() else {
        return;
    };
    destroy(world, entry, &group, reason);
    if let Some(e) = world
        .merge_queues
        .entries
        .iter_mut()
        .find(|e| e.id == entry.id)
    {
        e.group = None;
    }
}

/// Deletes a group's temporary branch and records `merge_group` `destroyed`.
fn destroy(world: &mut World, entry: &Entry, group: &Group, reason: &str) {
    world.set_ref(
        &entry.repo,
        &format!("refs/heads/{}", group.branch),
        None,
        entry.enqueuer,
    );
    let payload = json!({"reason": reason, "merge_group": merge_group(world, entry, group)});
    world.record_event(
        "merge_group",
        Some("destroyed"),
        &entry.repo,
        entry.enqueuer,
        payload,
    );
}

/// The `merge_group` object of the webhook payload.
fn merge_group(world: &World, entry: &Entry, group: &Group) -> Value {
    let head_commit = world.objects.commit(&group.sha).map_or(Value::Null, |c| {
        json!({
            "id": group.sha.hex(),
            "tree_id": c.tree.hex(),
            "message": &*c.message,
            "timestamp": crate::clock::iso(c.committer.time),
            "author": {"name": &*c.author.name, "email": &*c.author.email},
            "committer": {"name": &*c.committer.name, "email": &*c.committer.email},
        })
    });
    json!({
        "head_sha": group.sha.hex(),
        "head_ref": format!("refs/heads/{}", group.branch),
        "base_sha": group.base_sha.hex(),
        "base_ref": format!("refs/heads/{}", entry.base),
        "head_commit": head_commit,
    })
}

/// Moves every queue as far as the simulated clock allows; true when anything changed.
pub fn advance(world: &mut World) -> bool {
    if world.merge_queues.entries.is_empty() {
        return false;
    }
    if let Some((repo, number, reason)) = stale_entry(world) {
        dequeue(world, &repo, number, 0, reason);
        return true;
    }
    let mut queues: Vec<(String, String)> = Vec::new();
    for e in &world.merge_queues.entries {
        if !queues.iter().any(|(r, b)| *r == e.repo && *b == e.base) {
            queues.push((e.repo.clone(), e.base.clone()));
        }
    }
    let mut changed = false;
    for (repo, base) in queues {
        changed |= advance_queue(world, &repo, &base);
    }
    changed
}

/// An entry that must leave whatever its checks say: closed, head moved, queue no longer required.
fn stale_entry(world: &World) -> Option<(String, u64, &'static str)> {
    world.merge_queues.entries.iter().find_map(|e| {
        let pull = world.repos.get(&e.repo).and_then(|r| r.pull(e.number));
        let why = match pull {
            None => Some(reason::CLOSED),
            Some(p) if p.state != PullState::Open => Some(reason::CLOSED),
            Some(p) if p.head_sha != e.head => Some(reason::HEAD_CHANGED),
            Some(p) if p.base_ref != e.base => Some(reason::QUEUE_CLEARED),
            Some(_) if config(world, &e.repo, &e.base).is_none() => Some(reason::QUEUE_CLEARED),
            Some(_) => None,
        };
        why.map(|w| (e.repo.clone(), e.number, w))
    })
}

/// One queue: rebuild what the base or the entries ahead invalidated, build up to
/// `max_entries_to_build`, remove failed or late entries, merge what is green at the front.
fn advance_queue(world: &mut World, repo: &str, base: &str) -> bool {
    let Some(cfg) = config(world, repo, base) else {
        return false;
    };
    let Some(base_head) = world.repos.get(repo).and_then(|r| r.branch(base)) else {
        return false;
    };
    let entries: Vec<Entry> = world.merge_queues.queue(repo, base).cloned().collect();
    let now_ms = world.clock.now_ms();
    let timeout_ms = i64::from(cfg.check_response_timeout_minutes) * 60_000;
    let mut onto = base_head;
    let mut changed = false;
    for (i, entry) in entries.iter().enumerate() {
        let mut entry = entry.clone();
        if entry.group.as_ref().is_some_and(|g| g.base_sha != onto) {
            unbuild(world, &entry, "invalidated");
            entry.group = None;
            changed = true;
        }
        if entry.group.is_none() {
            if i >= cfg.max_entries_to_build as usize {
                break;
            }
            match build(world, &entry, onto, cfg.merge_method) {
                Some(group) => entry.group = Some(group),
                None => {
                    dequeue(world, repo, entry.number, 0, reason::MERGE_CONFLICT);
                    return true;
                }
            }
            changed = true;
        }
        let Some(group) = entry.group.clone() else {
            break;
        };
        match state(world, &entry) {
            EntryState::Unmergeable => {
                dequeue(world, repo, entry.number, 0, reason::CI_FAILURE);
                return true;
            }
            EntryState::AwaitingChecks if now_ms - group.built_ms >= timeout_ms => {
                dequeue(world, repo, entry.number, 0, reason::CI_TIMEOUT);
                return true;
            }
            _ => {}
        }
        onto = group.sha;
    }
    changed | merge_front(world, repo, base, &cfg)
}

/// Merges green entries at the front of a queue, in order, as the settings allow.
fn merge_front(world: &mut World, repo: &str, base: &str, cfg: &MergeQueueSpec) -> bool {
    let entries: Vec<Entry> = world.merge_queues.queue(repo, base).cloned().collect();
    let Some(first) = entries.first() else {
        return false;
    };
    let waited = world.clock.now_secs() - first.enqueued_at
        >= i64::from(cfg.min_entries_to_merge_wait_minutes) * 60;
    if entries.len() < cfg.min_entries_to_merge as usize && !waited {
        return false;
    }
    let mut merged = false;
    for entry in entries
        .iter()
        .take(cfg.max_entries_to_merge.max(1) as usize)
    {
        let Some(group) = &entry.group else {
            break;
        };
        if state(world, entry) != EntryState::Mergeable {
            break;
        }
        land(world, entry, group);
        merged = true;
    }
    merged
}

/// Builds an entry's group commit on `onto` and starts its `merge_group` checks; `None` on a
/// conflict.
fn build(world: &mut World, entry: &Entry, onto: Sha, method: QueueMergeMethod) -> Option<Group> {
    let r = world.repos.get(&entry.repo)?;
    let p = r.pull(entry.number)?;
    let (title, head_ref, owner) = (p.title.clone(), p.head_ref.clone(), r.owner.clone());
    let merge_base = world.objects.merge_base(&onto, &entry.head);
    let files = world
        .objects
        .merge_files(merge_base.as_ref(), &onto, &entry.head)?;
    let sig = world.signature_of(Some(entry.enqueuer));
    let number = entry.number;
    let sha = match method {
        QueueMergeMethod::Merge => {
            let message =
                format!("Merge pull request #{number} from {owner}/{head_ref}\n\n{title}");
            world.commit_tree(&files, vec![onto, entry.head], &message, &sig)
        }
        QueueMergeMethod::Squash => {
            let message = format!("{title} (#{number})");
            world.commit_tree(&files, vec![onto], &message, &sig)
        }
        QueueMergeMethod::Rebase => {
            crate::routes::pulls::rebase(world, merge_base, onto, entry.head, &sig).ok()?
        }
    };
    let branch = format!(
        "gh-readonly-queue/{}/pr-{number}-{}",
        entry.base,
        entry.head.hex()
    );
    let group = Group {
        sha,
        base_sha: onto,
        branch: branch.clone(),
        built_ms: world.clock.now_ms(),
    };
    if let Some(e) = world
        .merge_queues
        .entries
        .iter_mut()
        .find(|e| e.id == entry.id)
    {
        e.group = Some(group.clone());
    }
    world.set_ref(
        &entry.repo,
        &format!("refs/heads/{branch}"),
        Some(sha),
        entry.enqueuer,
    );
    let payload = json!({"merge_group": merge_group(world, entry, &group)});
    world.record_event(
        "merge_group",
        Some("checks_requested"),
        &entry.repo,
        entry.enqueuer,
        payload,
    );
    world.run_ci_on(CiEvent::MergeGroup, &entry.repo, &entry.base, &branch, sha);
    Some(group)
}

/// Fast-forwards the base to an entry's group commit and marks its pull request merged.
fn land(world: &mut World, entry: &Entry, group: &Group) {
    world.merge_queues.entries.retain(|e| e.id != entry.id);
    world.set_ref(
        &entry.repo,
        &format!("refs/heads/{}", entry.base),
        Some(group.sha),
        entry.enqueuer,
    );
    let now = world.clock.now_secs();
    if let Some(p) = world
        .repos
        .get_mut(&entry.repo)
        .and_then(|r| r.pulls.iter_mut().find(|p| p.number == entry.number))
    {
        p.state = PullState::Closed;
        p.merged = true;
        p.merged_at = Some(now);
        p.closed_at = Some(now);
        p.updated_at = now;
        p.merged_by = Some(entry.enqueuer);
        p.merge_commit_sha = Some(group.sha);
    }
    destroy(world, entry, group, "merged");
    world.record_event(
        "pull_request",
        Some("closed"),
        &entry.repo,
        entry.enqueuer,
        json!({"number": entry.number, "merged": true, "merge_commit_sha": group.sha.hex()}),
    );
}
