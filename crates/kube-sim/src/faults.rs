//! Fault switches: injected errors, latency, watch streams that close early or answer 410 on
//! resume, concurrent writers (touching the object, or applying a given patch) that cause real
//! 409s, and scheduled second actors.

use std::time::Duration;

use serde_json::Value;

use crate::resources::Resource;

/// The API verb of a request, as Kubernetes audit logs name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// What a fault does when it fires.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer with this HTTP status and a `Status` body (500 InternalError, 503 ServiceUnavailable, …).
    Status(u16),
    /// Delay the response by this much real time, then serve it normally.
    Latency(Duration),
    /// Close a watch stream after this many events.
    WatchCloseAfter(usize),
    /// A watch that resumes from a resourceVersion gets a 410 Expired ERROR event.
    WatchGone,
    /// Another writer updates the object just before this write, so a write carrying a
    /// `resourceVersion` precondition gets a genuine 409 Conflict.
    ConcurrentWrite,
    /// As [`FaultKind::ConcurrentWrite`], the other writer applying this JSON merge patch (a
    /// second deploy racing between a client's read and its write).
    ConcurrentPatch(Value),
}

/// One injected fault, matched against each request.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    pub verb: Option<Verb>,
    pub resource: Option<Resource>,
    pub name: Option<String>,
    /// How many more times it fires; `None` is forever.
    pub remaining: Option<u32>,
}

impl Fault {
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            verb: None,
            resource: None,
            name: None,
            remaining: None,
        }
    }

    pub fn status(code: u16) -> Self {
        Self::new(FaultKind::Status(code))
    }

    pub fn latency(d: Duration) -> Self {
        Self::new(FaultKind::Latency(d))
    }

    pub fn watch_close_after(events: usize) -> Self {
        Self::new(FaultKind::WatchCloseAfter(events)).on(Verb::Watch)
    }

    pub fn watch_gone() -> Self {
        Self::new(FaultKind::WatchGone).on(Verb::Watch)
    }

    pub fn concurrent_write() -> Self {
        Self::new(FaultKind::ConcurrentWrite)
    }

    pub fn concurrent_patch(patch: Value) -> Self {
        Self::new(FaultKind::ConcurrentPatch(patch))
    }

    #[must_use]
    pub fn on(mut self, verb: Verb) -> Self {
        self.verb = Some(verb);
        self
    }

    #[must_use]
    pub fn resource(mut self, r: Resource) -> Self {
        self.resource = Some(r);
        self
    }

    #[must_use]
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    pub fn matches(&self, verb: Verb, resource: Option<Resource>, name: Option<&str>) -> bool {
        self.remaining != Some(0)
            && self.verb.is_none_or(|v| v == verb)
            && self.resource.is_none_or(|r| Some(r) == resource)
            && self.name.as_deref().is_none_or(|n| Some(n) == name)
    }
}

/// Something a second actor does to the world.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `kubectl set image deployment/<deployment> <container>=<image>` by someone else.
    SetImage {
        namespace: String,
        deployment: String,
        container: String,
        image: String,
    },
    /// A JSON merge patch applied to any object.
    MergePatch {
        resource: Resource,
        namespace: String,
        name: String,
        patch: Value,
    },
}

/// When a scheduled action fires.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// After this much simulated time from now.
    After(Duration),
    /// This much simulated time after the named Deployment's next spec change (a rollout start).
    AfterRolloutStart {
        namespace: String,
        deployment: String,
        delay: Duration,
    },
}
