//! Watch streams: `?watch=true` from a `resourceVersion` (replayed from the store's history, or
//! a 410 Expired ERROR event when it is too old), then live changes as a chunked stream of JSON
//! lines, with BOOKMARK events when asked and the injected early-close faults.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::api::stream_body;
use crate::clock::SimClock;
use crate::error::ApiError;
use crate::faults::{FaultKind, Verb};
use crate::resources::Resource;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::Inner;
use crate::store::Change;
use crate::table::{self, IncludeObject};

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub resource: Resource,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub resource_version: String,
    pub bookmarks: bool,
    pub send_initial_events: bool,
    pub timeout: Option<Duration>,
    pub table: Option<IncludeObject>,
}

impl WatchOptions {
    /// The event type this watch reports for `c`, if any: a MODIFIED object that enters the
    /// label selection is ADDED, one that leaves it is DELETED.
    fn event_type(&self, c: &Change) -> Option<&'static str> {
        if c.key.resource != self.resource
            || self
                .namespace
                .as_ref()
                .is_some_and(|ns| *ns != c.key.namespace)
            || !(self.fields.is_empty() || self.fields.matches(&c.object()))
        {
            return None;
        }
        let now = self.labels.matches_labels(&c.labels);
        let before = c
            .prev_labels
            .as_ref()
            .map(|l| self.labels.matches_labels(l));
        match (now, before) {
            (true, Some(false)) => Some("ADDED"),
            (false, Some(true)) => Some("DELETED"),
            (true, _) => Some(c.kind.as_str()),
            (false, _) => None,
        }
    }
}

fn line(v: &Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

fn encode(opts: &WatchOptions, clock: &SimClock, kind: &str, obj: &Value, rv: u64) -> Bytes {
    let object = match opts.table {
        Some(include) => table::table(opts.resource, &[obj], rv, clock.now(), include, true),
        None => obj.clone(),
    };
    line(&json!({"type": kind, "object": object}))
}

/// A change as a watch line, reusing its serialised form unless a Table is wanted.
fn encode_change(opts: &WatchOptions, clock: &SimClock, c: &Change, kind: &str) -> Bytes {
    if opts.table.is_some() {
        return encode(opts, clock, kind, &c.object(), c.rv);
    }
    let mut out = Vec::with_capacity(c.json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(&c.json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(opts: &WatchOptions, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        &json!({"type": "BOOKMARK", "object": {"kind": opts.resource.kind(), "apiVersion": opts.resource.api_version(), "metadata": meta}}),
    )
}

/// Starts a watch and returns the streaming response.
pub(crate) fn serve(inner: &Arc<Inner>, opts: WatchOptions) -> Response<axum::body::Body> {
    let clock = inner.clock();
    let bookmark_every = inner.bookmark_interval;
    let shutdown = inner.shutdown_rx();
    let (initial, live, close_after, start_rv, error) = {
        let mut w = inner.lock();
        let close_after = match w.take_fault(Verb::Watch, Some(opts.resource), None, |k| {
            matches!(k, FaultKind::WatchCloseAfter(_))
        }) {
            Some(FaultKind::WatchCloseAfter(n)) => Some(n),
            _ => None,
        };
        let live = w.store.subscribe();
        let current = w.store.current_rv();
        let rv = opts.resource_version.parse::<u64>().unwrap_or(0);
        let mut error = None;
        let mut initial = Vec::new();
        if rv == 0 || opts.send_initial_events {
            for obj in w.store.list(opts.resource, opts.namespace.as_deref()) {
                if opts.labels.matches(obj) && opts.fields.matches(obj) {
                    initial.push(encode(&opts, &clock, "ADDED", obj, current));
                }
            }
        } else if w
            .take_fault(Verb::Watch, Some(opts.resource), None, |k| {
                matches!(k, FaultKind::WatchGone)
            })
            .is_some()
        {
            error = Some(ApiError::gone(format!(
                "too old resource version: {rv} ({current})"
            )));
        } else {
            match w.store.changes_since(opts.resource, rv) {
                Some(changes) => {
                    for c in &changes {
                        if let Some(kind) = opts.event_type(c) {
                            initial.push(encode_change(&opts, &clock, c, kind));
                        }
                    }
                }
                None => {
                    error = Some(ApiError::gone(format!(
                        "too old resource version: {rv} ({})",
                        w.store.compacted_rv(opts.resource) + 1
                    )));
                }
            }
        }
        (initial, live, close_after, current, error)
    };
    let mut queue: VecDeque<Bytes> = initial.into();
    let finish_after_queue = error.is_some();
    if let Some(e) = error {
        queue = VecDeque::from([line(&json!({"type": "ERROR", "object": e.status()}))]);
    }
    let initial_end = (opts.send_initial_events && opts.bookmarks && !finish_after_queue)
        .then(|| bookmark(&opts, start_rv, true));
    let state = WatchState {
        deadline: opts.timeout.map(|t| tokio::time::Instant::now() + t),
        ticker: tokio::time::interval_at(
            tokio::time::Instant::now() + bookmark_every,
            bookmark_every,
        ),
        opts,
        clock,
        queue,
        initial_end,
        finish_after_queue,
        live,
        shutdown,
        sent: 0,
        close_after,
        last_rv: start_rv,
    };
    // The response body polls the broadcast receiver itself: no task or channel in between.
    let stream = futures::stream::unfold(state, |mut st| async move {
        let chunk = st.next_chunk().await?;
        Some((Ok::<Bytes, std::convert::Infallible>(chunk), st))
    });
    stream_body(stream)
}

/// The state of one watch stream.
struct WatchState {
    opts: WatchOptions,
    clock: Arc<SimClock>,
    queue: VecDeque<Bytes>,
    initial_end: Option<Bytes>,
    finish_after_queue: bool,
    live: tokio::sync::broadcast::Receiver<Arc<Change>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    ticker: tokio::time::Interval,
    deadline: Option<tokio::time::Instant>,
    sent: usize,
    close_after: Option<usize>,
    last_rv: u64,
}

impl WatchState {
    /// The next line of the stream, or `None` when it ends.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        if self.close_after.is_some_and(|n| self.sent >= n) {
            return None;
        }
        if let Some(b) = self.queue.pop_front() {
            self.sent += 1;
            return Some(b);
        }
        if self.finish_after_queue {
            return None;
        }
        if let Some(b) = self.initial_end.take() {
            return Some(b);
        }
        loop {
            let deadline = self.deadline;
            tokio::select! {
                msg = self.live.recv() => match msg {
                    Ok(change) => {
                        self.last_rv = change.rv;
                        if let Some(kind) = self.opts.event_type(&change) {
                            self.sent += 1;
                            return Some(encode_change(&self.opts, &self.clock, &change, kind));
                        }
                    }
                    Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
                },
                _ = self.ticker.tick(), if self.opts.bookmarks => {
                    return Some(bookmark(&self.opts, self.last_rv, false));
                }
                () = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => futures::future::pending::<()>().await,
                    }
                } => return None,
                _ = self.shutdown.changed() => return None,
            }
        }
    }
}
