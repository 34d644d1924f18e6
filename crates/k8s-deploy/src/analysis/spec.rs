//! The `analysis` document (YAML, kebab-case keys), read and checked in one go: every mistake is
//! named by its key with what to write instead, before the deploy changes anything.

use std::time::Duration;

use serde::Deserialize;

use super::condition::Condition;
use super::vars;

/// Where measurements come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Provider {
    /// An instant query through Prometheus's HTTP API (`GET {address}/api/v1/query`).
    Prometheus { address: String, query: String },
    /// A GET of `url`: the status must be `status`; with `json_pointer`, the value it points at
    /// in the JSON body is the `result`.
    Http {
        url: String,
        status: u16,
        json_pointer: Option<String>,
    },
}

/// An analysis, like Argo Rollouts' `AnalysisTemplate` with one metric.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawSpec")]
#[expect(
    clippy::unsafe_derive_deserialize,
    reason = "the only unsafe is inside tokio::select! in `run`; every value is checked by `try_from`"
)]
pub struct AnalysisSpec {
    pub provider: Provider,
    /// Must hold for a measurement to be successful; `None` only for an HTTP probe without a
    /// JSON pointer (the status check alone).
    pub success_condition: Option<Condition>,
    /// Time between measurements.
    pub interval: Duration,
    /// Measurements taken (at least 1).
    pub count: u32,
    /// Failed measurements tolerated; one more fails the analysis at once.
    pub failure_limit: u32,
    /// Inconclusive measurements (no data) tolerated; one more fails the analysis at once.
    pub inconclusive_limit: u32,
    /// Measurement errors in a row tolerated (Prometheus or the endpoint unreachable, an error
    /// answer); one more fails the analysis.
    pub consecutive_error_limit: u32,
    /// Wait before the first measurement (for data of the new pods to exist).
    pub initial_delay: Duration,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawSpec {
    prometheus: Option<RawPrometheus>,
    http: Option<RawHttp>,
    success_condition: Option<String>,
    interval: Option<String>,
    count: Option<u32>,
    failure_limit: Option<u32>,
    inconclusive_limit: Option<u32>,
    consecutive_error_limit: Option<u32>,
    initial_delay: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawPrometheus {
    address: String,
    query: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawHttp {
    url: String,
    status: Option<u16>,
    json_pointer: Option<String>,
}

/// Argo Rollouts' default for `consecutiveErrorLimit`.
const CONSECUTIVE_ERROR_LIMIT: u32 = 4;

fn duration(key: &str, text: Option<&str>) -> Result<Option<Duration>, String> {
    text.map(|t| {
        humantime::parse_duration(t.trim()).map_err(|e| {
            format!(
                "analysis `{key}`: {t:?} is not a duration ({e}); write it like 30s, 2m or 1m 30s"
            )
        })
    })
    .transpose()
}

fn http_url(key: &str, url: &str) -> Result<String, String> {
    let url = url.trim();
    vars::check(url).map_err(|e| format!("analysis `{key}` {e}"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(format!(
            "analysis `{key}`: {url:?} is not an http:// or https:// URL; write the full URL, e.g. http://prometheus.monitoring:9090"
        ));
    }
    Ok(url.to_owned())
}

impl TryFrom<RawSpec> for AnalysisSpec {
    type Error = String;

    fn try_from(raw: RawSpec) -> Result<Self, String> {
        let condition = raw
            .success_condition
            .as_deref()
            .map(|text| {
                Condition::parse(text).map_err(|e| {
                    format!("analysis `success-condition` {text:?}: {e}; write e.g. result < 0.01 (see the k8s-deploy README)")
                })
            })
            .transpose()?;
        let provider = match (raw.prometheus, raw.http) {
            (Some(p), None) => {
                vars::check(&p.query).map_err(|e| format!("analysis `prometheus.query` {e}"))?;
                if p.query.trim().is_empty() {
                    return Err("analysis `prometheus.query` is empty; write the PromQL whose result the success-condition checks".to_owned());
                }
                if condition.is_none() {
                    return Err("analysis `success-condition` is missing; a prometheus query needs one, e.g. result < 0.01".to_owned());
                }
                Provider::Prometheus {
                    address: http_url("prometheus.address", &p.address)?
                        .trim_end_matches('/')
                        .to_owned(),
                    query: p.query,
                }
            }
            (None, Some(h)) => {
                let status = h.status.unwrap_or(200);
                if !(100..=599).contains(&status) {
                    return Err(format!(
                        "analysis `http.status`: {status} is not an HTTP status; write the expected status, e.g. 200"
                    ));
                }
                if let Some(pointer) = &h.json_pointer
                    && !pointer.is_empty()
                    && !pointer.starts_with('/')
                {
                    return Err(format!(
                        "analysis `http.json-pointer`: {pointer:?} is not a JSON pointer; write it like /status or /checks/0/ok"
                    ));
                }
                if h.json_pointer.is_some() && condition.is_none() {
                    return Err("analysis `success-condition` is missing; with `http.json-pointer` it says what the pointed value must be, e.g. result == \"ok\"".to_owned());
                }
                if h.json_pointer.is_none() && condition.is_some() {
                    return Err("analysis `success-condition` needs `http.json-pointer` (the value it checks); without one the probe checks the status alone".to_owned());
                }
                Provider::Http {
                    url: http_url("http.url", &h.url)?,
                    status,
                    json_pointer: h.json_pointer,
                }
            }
            (Some(_), Some(_)) => {
                return Err(
                    "analysis has both `prometheus` and `http`; keep one of them per analysis"
                        .to_owned(),
                );
            }
            (None, None) => {
                return Err("analysis needs `prometheus` (address, query) or `http` (url, status, json-pointer)".to_owned());
            }
        };
        let count = raw.count.unwrap_or(1);
        if count == 0 {
            return Err("analysis `count` is 0; take at least 1 measurement".to_owned());
        }
        let interval = duration("interval", raw.interval.as_deref())?;
        if count > 1 && interval.is_none_or(|i| i.is_zero()) {
            return Err(format!(
                "analysis `interval` is missing; with count {count} set the time between measurements, e.g. interval: 30s"
            ));
        }
        Ok(Self {
            provider,
            success_condition: condition,
            interval: interval.unwrap_or_default(),
            count,
            failure_limit: raw.failure_limit.unwrap_or(0),
            inconclusive_limit: raw.inconclusive_limit.unwrap_or(0),
            consecutive_error_limit: raw
                .consecutive_error_limit
                .unwrap_or(CONSECUTIVE_ERROR_LIMIT),
            initial_delay: duration("initial-delay", raw.initial_delay.as_deref())?
                .unwrap_or_default(),
        })
    }
}

impl AnalysisSpec {
    /// Reads one analysis from YAML; the error names the key and what to write.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        serde_yaml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMETHEUS: &str = r#"
prometheus:
  address: http://prometheus.monitoring:9090/
  query: sum(rate(http_requests_total{deployment="{{canary}}",code=~"5.."}[1m])) / sum(rate(http_requests_total{deployment="{{canary}}"}[1m]))
success-condition: result < 0.01
interval: 30s
count: 5
failure-limit: 1
initial-delay: 1m
"#;

    #[test]
    fn reads_a_prometheus_analysis() {
        let spec = AnalysisSpec::from_yaml(PROMETHEUS).unwrap();
        let Provider::Prometheus { address, query } = &spec.provider else {
            panic!("{spec:?}")
        };
        assert_eq!(address, "http://prometheus.monitoring:9090");
        assert!(query.starts_with("sum(rate("));
        assert_eq!(spec.success_condition.unwrap().to_string(), "result < 0.01");
        assert_eq!(spec.interval, Duration::from_secs(30));
        assert_eq!((spec.count, spec.failure_limit), (5, 1));
        assert_eq!(spec.inconclusive_limit, 0);
        assert_eq!(spec.consecutive_error_limit, 4);
        assert_eq!(spec.initial_delay, Duration::from_secs(60));
    }

    #[test]
    fn reads_an_http_probe_with_defaults() {
        let spec = AnalysisSpec::from_yaml(
            "http:\n  url: https://web.example/healthz\n  json-pointer: /status\nsuccess-condition: result == \"ok\"\n",
        )
        .unwrap();
        assert_eq!(
            spec.provider,
            Provider::Http {
                url: "https://web.example/healthz".into(),
                status: 200,
                json_pointer: Some("/status".into())
            }
        );
        assert_eq!((spec.count, spec.failure_limit), (1, 0));
        assert_eq!(spec.initial_delay, Duration::ZERO);
        let bare = AnalysisSpec::from_yaml("http:\n  url: http://web/healthz\n  status: 204\n");
        assert!(bare.unwrap().success_condition.is_none());
    }

    #[test]
    fn mistakes_name_the_key_and_the_fix() {
        let cases = [
            ("success-condition: result < 1\n", "needs `prometheus`"),
            (
                "prometheus: {address: http://p:9090, query: up}\nhttp: {url: http://x/y}\nsuccess-condition: result < 1\n",
                "keep one of them",
            ),
            (
                "prometheus: {address: http://p:9090, query: up}\n",
                "`success-condition` is missing",
            ),
            (
                "prometheus: {address: http://p:9090, query: up}\nsuccess-condition: result << 1\n",
                "`success-condition` \"result << 1\"",
            ),
            (
                "prometheus: {address: p:9090, query: up}\nsuccess-condition: result < 1\n",
                "`prometheus.address`",
            ),
            (
                "prometheus: {address: http://p:9090, query: 'up{pod=\"{{pod}}\"}'}\nsuccess-condition: result < 1\n",
                "unknown placeholder {{pod}}",
            ),
            (
                "prometheus: {address: http://p:9090, query: up}\nsuccess-condition: result < 1\ncount: 3\n",
                "`interval` is missing",
            ),
            (
                "prometheus: {address: http://p:9090, query: up}\nsuccess-condition: result < 1\ncount: 3\ninterval: soon\n",
                "`interval`: \"soon\" is not a duration",
            ),
            (
                "prometheus: {address: http://p:9090, query: up}\nsuccess-condition: result < 1\ncount: 0\n",
                "`count` is 0",
            ),
            (
                "http: {url: http://x/y, json-pointer: status}\nsuccess-condition: result == 1\n",
                "`http.json-pointer`",
            ),
            ("http: {url: http://x/y, status: 99}\n", "`http.status`"),
            (
                "http: {url: http://x/y}\nsuccess-condition: result == 1\n",
                "needs `http.json-pointer`",
            ),
            (
                "prometheus: {address: http://p:9090, query: up}\nsuccess-condition: result < 1\nfailure_limit: 1\n",
                "unknown field `failure_limit`",
            ),
        ];
        for (yaml, says) in cases {
            let error = AnalysisSpec::from_yaml(yaml).expect_err(yaml);
            assert!(error.contains(says), "{yaml}: {error}");
        }
    }
}
