//! One measurement: ask Prometheus (an instant query through `/api/v1/query`) or probe an HTTP
//! endpoint, and judge the answer with the success condition. Never an error of the analysis: a
//! failed request is a measurement in the `Error` phase.

use std::fmt;

use super::condition::{Condition, Value};
use super::spec::Provider;

/// How one measurement came out, as Argo Rollouts names the phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Successful,
    Failed,
    /// No data to judge: an empty vector, or NaN (a ratio over no traffic).
    Inconclusive,
    /// The measurement could not be taken (unreachable, an error answer, an unusable result).
    Error,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Successful => "successful",
            Self::Failed => "failed",
            Self::Inconclusive => "inconclusive",
            Self::Error => "error",
        })
    }
}

/// The phase and what was seen (the value, or why there is none).
pub(super) async fn measure(
    client: &reqwest::Client,
    provider: &Provider,
    condition: Option<&Condition>,
    substitute: impl Fn(&str) -> String,
) -> (Phase, String) {
    let seen = match provider {
        Provider::Prometheus { address, query } => {
            prometheus(client, address, &substitute(query)).await
        }
        Provider::Http {
            url,
            status,
            json_pointer,
        } => http(client, &substitute(url), *status, json_pointer.as_deref()).await,
    };
    match seen {
        Seen::Values(values) => {
            let text = values
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            if values
                .iter()
                .any(|v| matches!(v, Value::Number(n) if n.is_nan()))
            {
                return (Phase::Inconclusive, text);
            }
            let ok = condition.is_none_or(|c| values.iter().all(|v| c.holds(v)));
            (if ok { Phase::Successful } else { Phase::Failed }, text)
        }
        Seen::Nothing(why) => (Phase::Inconclusive, why),
        Seen::Failed(why) => (Phase::Failed, why),
        Seen::Error(why) => (Phase::Error, why),
    }
}

enum Seen {
    /// Values to judge (one per series of a vector).
    Values(Vec<Value>),
    /// No data.
    Nothing(String),
    /// Failed without a condition to ask (an HTTP probe's wrong status).
    Failed(String),
    Error(String),
}

async fn prometheus(client: &reqwest::Client, address: &str, query: &str) -> Seen {
    let response = client
        .get(format!("{address}/api/v1/query"))
        .query(&[("query", query)])
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => return Seen::Error(format!("prometheus unreachable: {}", e.without_url())),
    };
    let status = response.status();
    let body: serde_json::Value = match response.json().await {
        Ok(b) => b,
        Err(_) => return Seen::Error(format!("prometheus answered {status} without JSON")),
    };
    if body["status"] != "success" {
        return Seen::Error(format!(
            "prometheus answered {status}: {} {}",
            body["errorType"].as_str().unwrap_or("error"),
            body["error"].as_str().unwrap_or_default()
        ));
    }
    let sample = |pair: &serde_json::Value| {
        pair.get(1)
            .and_then(serde_json::Value::as_str)
            .and_then(|v| v.parse::<f64>().ok())
    };
    let data = &body["data"];
    match data["resultType"].as_str() {
        Some("scalar") => sample(&data["result"]).map_or_else(
            || Seen::Error("prometheus answered a scalar without a value".to_owned()),
            |n| Seen::Values(vec![Value::Number(n)]),
        ),
        Some("string") => Seen::Values(vec![Value::Text(
            data["result"][1].as_str().unwrap_or_default().to_owned(),
        )]),
        Some("vector") => {
            let series = data["result"].as_array().cloned().unwrap_or_default();
            if series.is_empty() {
                return Seen::Nothing("no data (empty vector)".to_owned());
            }
            let values: Option<Vec<Value>> = series
                .iter()
                .map(|s| sample(&s["value"]).map(Value::Number))
                .collect();
            values.map_or_else(
                || Seen::Error("prometheus answered a vector sample without a value".to_owned()),
                Seen::Values,
            )
        }
        other => Seen::Error(format!(
            "prometheus answered a {} result; the query must give an instant vector or a scalar",
            other.unwrap_or("missing")
        )),
    }
}

async fn http(client: &reqwest::Client, url: &str, expected: u16, pointer: Option<&str>) -> Seen {
    let response = match client.get(url).send().await {
        Ok(r) => r,
        Err(e) => return Seen::Error(format!("unreachable: {}", e.without_url())),
    };
    let status = response.status().as_u16();
    if status != expected {
        return Seen::Failed(format!("status {status}, expected {expected}"));
    }
    let Some(pointer) = pointer else {
        return Seen::Values(vec![Value::Number(f64::from(status))]);
    };
    let body: serde_json::Value = match response.json().await {
        Ok(b) => b,
        Err(_) => return Seen::Failed(format!("status {status}, the body is not JSON")),
    };
    match body.pointer(pointer) {
        Some(serde_json::Value::Number(n)) => {
            Seen::Values(vec![Value::Number(n.as_f64().unwrap_or(f64::NAN))])
        }
        Some(serde_json::Value::String(s)) => Seen::Values(vec![Value::Text(s.clone())]),
        Some(serde_json::Value::Bool(b)) => Seen::Values(vec![Value::Bool(*b)]),
        Some(other) => Seen::Failed(format!(
            "{pointer} is {other}, not a number, string or boolean"
        )),
        None => Seen::Failed(format!("the body has no {pointer}")),
    }
}
