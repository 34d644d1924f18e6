//! The control surface under `/_sim/` (no auth): load or patch the world, read the request log and
//! events, add or clear faults, read the secondary-limit counters, complete a check run, advance simulated time. The same operations
//! exist in Rust on [`crate::Control`].

use std::collections::BTreeMap;
use std::time::Duration;

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Control;
use crate::clock::iso;
use crate::error::ApiError;
use crate::faults::Fault;
use crate::http::{Answer, Shared};
use crate::limits::LimitAnswer;
use crate::spec::WorldSpec;

#[derive(Deserialize)]
struct Advance {
    ms: u64,
}

#[derive(Deserialize)]
struct Complete {
    conclusion: Option<String>,
}

/// Answers one admin request.
pub fn handle(
    shared: &std::sync::Arc<Shared>,
    method: &Method,
    path: &str,
    _query: &BTreeMap<String, String>,
    body: &[u8],
) -> Answer {
    let control = Control::from_shared(std::sync::Arc::clone(shared));
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match route(&control, method, &segs, body) {
        Ok((status, v)) => Answer::json(status, &v),
        Err(e) => Answer::error(&e),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_json(&e.to_string()))
}

fn spec(body: &[u8]) -> Result<WorldSpec, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_json("body is not UTF-8"))?;
    if text.trim().is_empty() {
        return Ok(WorldSpec::default());
    }
    WorldSpec::from_yaml(text).map_err(|e| ApiError::unprocessable(format!("invalid world: {e}")))
}

fn route(
    control: &Control,
    method: &Method,
    segs: &[&str],
    body: &[u8],
) -> Result<(StatusCode, Value), ApiError> {
    let ok = |v: Value| Ok((StatusCode::OK, v));
    let m = method.clone();
    match segs {
        ["_sim", "health"] => ok(json!({"ok": true, "base_url": control.url()})),
        ["_sim", "requests"] if m == Method::GET => ok(json!(control.requests())),
        ["_sim", "requests"] if m == Method::DELETE => {
            control.clear_requests();
            ok(json!({"cleared": true}))
        }
        ["_sim", "events"] if m == Method::GET => ok(json!(control.events())),
        ["_sim", "events"] if m == Method::DELETE => {
            control.world(|w| w.events.clear());
            ok(json!({"cleared": true}))
        }
        ["_sim", "events", n, "webhook"] if m == Method::GET => {
            let n: usize = n.parse().map_err(|_| ApiError::not_found())?;
            control
                .webhook_payload(n)
                .map_or_else(|| Err(ApiError::not_found()), ok)
        }
        ["_sim", "faults"] if m == Method::GET => ok(json!(control.faults())),
        ["_sim", "faults"] if m == Method::POST => {
            let fault: Fault = parse(body)?;
            control.add_fault(fault);
            Ok((StatusCode::CREATED, json!(control.faults())))
        }
        ["_sim", "faults", "secondary-limit"] if m == Method::GET => {
            ok(json!(control.limits().answer))
        }
        ["_sim", "faults", "secondary-limit"] if m == Method::PUT => {
            let answer: LimitAnswer = parse(body)?;
            if ![403, 429].contains(&answer.status) {
                return Err(ApiError::unprocessable(
                    "a secondary limit is answered with status 403 or 429",
                ));
            }
            control.set_limit_answer(answer);
            ok(json!(answer))
        }
        ["_sim", "limits"] if m == Method::GET => ok(json!(control.limits())),
        ["_sim", "limits"] if m == Method::DELETE => {
            control.clear_limits();
            ok(json!({"cleared": true}))
        }
        ["_sim", "faults"] if m == Method::DELETE => {
            control.clear_faults();
            ok(json!([]))
        }
        ["_sim", "world"] if m == Method::PUT || m == Method::POST => {
            control
                .load_spec(&spec(body)?)
                .map_err(|e| ApiError::unprocessable(format!("invalid world: {e}")))?;
            ok(json!({"loaded": true}))
        }
        ["_sim", "world"] if m == Method::PATCH => {
            control
                .patch_spec(&spec(body)?)
                .map_err(|e| ApiError::unprocessable(format!("invalid world: {e}")))?;
            ok(json!({"patched": true}))
        }
        ["_sim", "time"] if m == Method::GET => {
            let ms = control.now_ms();
            ok(json!({"unix_ms": ms, "iso": iso(ms.div_euclid(1000))}))
        }
        ["_sim", "advance"] if m == Method::POST => {
            let a: Advance = parse(body)?;
            control.advance(Duration::from_millis(a.ms));
            let ms = control.now_ms();
            ok(json!({"unix_ms": ms, "iso": iso(ms.div_euclid(1000))}))
        }
        ["_sim", "repos", owner, name, "check-runs", id, "complete"] if m == Method::POST => {
            let c: Complete = parse(body)?;
            let id: u64 = id.parse().map_err(|_| ApiError::not_found())?;
            let conclusion = c.conclusion.unwrap_or_else(|| "success".into());
            if control.complete_check_run(&format!("{owner}/{name}"), id, &conclusion) {
                ok(json!({"id": id, "conclusion": conclusion}))
            } else {
                Err(ApiError::not_found())
            }
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("github-sim has no admin route {method} /{}", segs.join("/")),
        )),
    }
}
