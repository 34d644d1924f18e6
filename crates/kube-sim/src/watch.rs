//! Watch streams: `?watch=true` from a `resourceVersion` (replayed from the store's history, or
//! a 410 Expired ERROR event when it is too old), then live changes as a chunked stream of JSON
//! lines, with BOOKMARK events when asked and the injected early-close faults.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
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
#[expect(
    clippy::too_many_lines,
    reason = "snapshot under the lock, then the streaming loop"
)]
pub fn serve(inner: &Arc<Inner>, opts: WatchOptions) -> Response<axum::body::Body> {
    let (mut tx, rx) = futures::channel::mpsc::channel::<Bytes>(1024);
    let clock = inner.clock();
    let bookmark_every = inner.bookmark_interval;
    let mut shutdown = inner.shutdown_rx();
    let (initial, mut live, close_after, start_rv, error) = {
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
            match w.store.changes_since(rv) {
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
                        w.store.compacted_rv() + 1
                    )));
                }
            }
        }
        (initial, live, close_after, current, error)
    };
    tokio::spawn(async move {
        if let Some(e) = error {
            let _ = tx
                .send(line(&json!({"type": "ERROR", "object": e.status()})))
                .await;
            return;
        }
        let mut sent = 0usize;
        let mut last_rv = start_rv;
        let done = |sent: usize| close_after.is_some_and(|n| sent >= n);
        if done(0) {
            return;
        }
        for ev in initial {
            if tx.send(ev).await.is_err() {
                return;
            }
            sent += 1;
            if done(sent) {
                return;
            }
        }
        if opts.send_initial_events
            && opts.bookmarks
            && tx.send(bookmark(&opts, last_rv, true)).await.is_err()
        {
            return;
        }
        let deadline = opts.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut ticker = tokio::time::interval(bookmark_every);
        ticker.tick().await;
        loop {
            tokio::select! {
                msg = live.recv() => match msg {
                    Ok(change) => {
                        last_rv = change.rv;
                        if let Some(kind) = opts.event_type(&change) {
                            if tx.send(encode_change(&opts, &clock, &change, kind)).await.is_err() {
                                return;
                            }
                            sent += 1;
                            if done(sent) {
                                return;
                            }
                        }
                    }
                    Err(RecvError::Lagged(_) | RecvError::Closed) => return,
                },
                _ = ticker.tick(), if opts.bookmarks => {
                    if tx.send(bookmark(&opts, last_rv, false)).await.is_err() {
                        return;
                    }
                }
                () = async {
                    match deadline {
                        Some(d) => tokio::time::sleep_until(d).await,
                        None => futures::future::pending::<()>().await,
                    }
                } => return,
                _ = shutdown.changed() => return,
            }
        }
    });
    stream_body(rx.map(Ok::<Bytes, std::convert::Infallible>))
}
