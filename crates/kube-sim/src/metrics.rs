//! The exporter: the pods' traffic counters (`traffic`) in the Prometheus text exposition format
//! (version 0.0.4), served at `GET /metrics` on a listener of its own, so that a real Prometheus
//! can scrape the simulated cluster as it would a service's pods.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::sim::Inner;
use crate::traffic::{PodIdentity, PodTraffic};

/// The content type Prometheus expects for the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let inner = Arc::clone(&inner);
            async move {
                let body = render(&inner.lock().traffic());
                ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
            }
        }),
    )
}

/// The exposition of every tracked pod's counters.
pub fn render(pods: &[PodTraffic]) -> String {
    let mut out = String::new();
    out.push_str("# HELP http_requests_total Requests the pod served, by status code.\n");
    out.push_str("# TYPE http_requests_total counter\n");
    for p in pods {
        let labels = labels(&p.identity);
        for (code, n) in [("200", p.ok), ("500", p.errors)] {
            // As client libraries do, a code's series appears with its first request.
            if n > 0 {
                let _ = writeln!(out, "http_requests_total{{{labels},code=\"{code}\"}} {n}");
            }
        }
    }
    out.push_str("# HELP http_request_duration_seconds Latency of the requests the pod served.\n");
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for p in pods {
        let count = p.ok + p.errors;
        if count == 0 {
            continue;
        }
        let labels = labels(&p.identity);
        for (le, n) in &p.buckets {
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{{labels}}} {}",
            p.latency_sum
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{{labels}}} {count}"
        );
    }
    out
}

/// `namespace="…",pod="…",deployment="…",replicaset="…",image="…"` and the pod's labels as
/// `label_<name>` (as kube-state-metrics names them: characters outside `[a-zA-Z0-9_]` become
/// `_`; of two labels that then collide, the first in name order is kept).
fn labels(id: &PodIdentity) -> String {
    let mut out = String::new();
    for (name, value) in [
        ("namespace", &id.namespace),
        ("pod", &id.pod),
        ("deployment", &id.deployment),
        ("replicaset", &id.replicaset),
        ("image", &id.image),
    ] {
        push_label(&mut out, name, value);
    }
    let mut taken = BTreeSet::new();
    for (name, value) in &id.labels {
        let name: String = format!("label_{name}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if taken.insert(name.clone()) {
            push_label(&mut out, &name, value);
        }
    }
    out
}

fn push_label(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    let _ = write!(out, "{name}=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::images::TrafficSpec;
    use crate::traffic::served;

    #[test]
    fn renders_series_with_escaped_labels() {
        let id = PodIdentity {
            namespace: "prod".into(),
            pod: "web-1".into(),
            deployment: "web".into(),
            replicaset: "web-abc".into(),
            image: "app:\"1\"\\".into(),
            labels: BTreeMap::from([
                ("app.kubernetes.io/name".into(), "web".into()),
                ("app_kubernetes_io_name".into(), "other".into()),
            ]),
        };
        let spec = TrafficSpec {
            error_ratio: 0.5,
            ..TrafficSpec::default()
        };
        let text = render(&[served(&id, spec, Duration::from_secs(2))]);
        let labels = r#"namespace="prod",pod="web-1",deployment="web",replicaset="web-abc",image="app:\"1\"\\",label_app_kubernetes_io_name="web""#;
        assert!(
            text.contains(&format!(
                "http_requests_total{{{labels},code=\"500\"}} 10\n"
            )),
            "{text}"
        );
        assert!(text.contains(&format!(
            "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 20\n"
        )));
        assert!(text.contains(&format!(
            "http_request_duration_seconds_count{{{labels}}} 20\n"
        )));
        assert!(!text.contains("other"));
        // Nothing served yet: no series, only the metadata.
        let empty = render(&[served(&id, spec, Duration::ZERO)]);
        assert!(!empty.contains("web-1"));
    }
}
