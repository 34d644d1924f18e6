//! Secondary rate limits, as GitHub documents them, counted per identity (an App installation's
//! tokens all act as `<slug>[bot]`) on the simulator's clock: requests in flight, points per
//! endpoint (method and route template) per minute, content-generating requests per minute and
//! per hour. A refused request is not applied; GitHub's 403 says how long to wait in *real*
//! seconds (the simulated wait divided by the clock's scale, rounded up), so a fast clock keeps
//! tests fast.

use std::collections::{BTreeMap, HashMap, VecDeque};

use http::header::{self, HeaderName};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::Answer;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// Where GitHub's secondary-limit answers point.
const DOCS: &str = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";

/// `limits:` in the world file (and `PATCH /_sim/world`); a field left out keeps its value
/// (GitHub's documented one in a new world).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSpec {
    pub concurrent: Option<u32>,
    pub points_per_minute: Option<u32>,
    pub content_per_minute: Option<u32>,
    pub content_per_hour: Option<u32>,
}

/// The secondary limits in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Limits {
    /// Requests in flight at once.
    pub concurrent: u32,
    /// Points per endpoint per minute (GET, HEAD, OPTIONS 1; POST, PATCH, PUT, DELETE 5).
    pub points_per_minute: u32,
    /// Content-generating requests (here: every POST, PATCH, PUT, DELETE) per minute.
    pub content_per_minute: u32,
    /// Content-generating requests per hour.
    pub content_per_hour: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            concurrent: 100,
            points_per_minute: 900,
            content_per_minute: 80,
            content_per_hour: 500,
        }
    }
}

impl Limits {
    /// Takes the fields `spec` sets.
    pub fn apply(&mut self, spec: &LimitsSpec) {
        let set = |field: &mut u32, value: Option<u32>| *field = value.unwrap_or(*field);
        set(&mut self.concurrent, spec.concurrent);
        set(&mut self.points_per_minute, spec.points_per_minute);
        set(&mut self.content_per_minute, spec.content_per_minute);
        set(&mut self.content_per_hour, spec.content_per_hour);
    }
}

/// Which headers tell the client how long to wait (a fault switch: GitHub's answers vary).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitHeaders {
    /// `retry-after: <seconds>` (and the usual `x-ratelimit-*`).
    #[default]
    RetryAfter,
    /// No `retry-after`; `x-ratelimit-remaining: 0` and `x-ratelimit-reset` when it frees.
    Reset,
    /// Neither: the client must wait at least a minute, then back off.
    Neither,
}

/// The style of a secondary-limit answer (`PUT /_sim/faults/secondary-limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitAnswer {
    /// 403 (the default) or 429.
    pub status: u16,
    pub headers: WaitHeaders,
}

impl Default for LimitAnswer {
    fn default() -> LimitAnswer {
        LimitAnswer {
            status: 403,
            headers: WaitHeaders::RetryAfter,
        }
    }
}

/// The secondary limit a request ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    Concurrent,
    PointsPerMinute,
    ContentPerMinute,
    ContentPerHour,
}

/// A refused request: which limit, and simulated milliseconds until it would be admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub limit: Limit,
    pub wait_ms: i64,
}

/// What `GET /_sim/limits` reports for one identity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Usage {
    /// Requests admitted.
    pub requests: u64,
    /// Content-generating requests admitted.
    pub writes: u64,
    /// The most content-generating requests admitted within any one simulated minute.
    pub peak_writes_per_minute: u32,
    pub in_flight: u32,
    pub peak_in_flight: u32,
    /// Requests answered with a secondary limit, by limit.
    pub limited: BTreeMap<Limit, u64>,
}

/// `GET /_sim/limits`: the limits, the answer style and every identity's usage.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct LimitsReport {
    pub limits: Limits,
    pub answer: LimitAnswer,
    /// Requests answered with a secondary limit, all identities together.
    pub limited: u64,
    pub identities: BTreeMap<String, Usage>,
}

/// One identity's windows.
#[derive(Default)]
struct Windows {
    /// Simulated ms of the content-generating requests admitted in the last hour, oldest first.
    content: VecDeque<i64>,
    /// Per endpoint, the requests admitted in the last minute.
    points: HashMap<String, Points>,
    usage: Usage,
}

/// One endpoint's last minute: simulated ms and points of each request, and their sum.
#[derive(Default)]
struct Points {
    admitted: VecDeque<(i64, u64)>,
    sum: u64,
}

/// Every identity's windows and counters.
#[derive(Default)]
pub struct SecondaryLimiter {
    identities: HashMap<String, Windows>,
}

impl SecondaryLimiter {
    /// A request of `who` starts: refused when it would exceed the concurrent limit. Every call
    /// is paired with [`SecondaryLimiter::leave`], refused or not.
    pub fn enter(&mut self, who: &str, limits: &Limits) -> Result<(), Refusal> {
        let w = self.identities.entry(who.to_owned()).or_default();
        w.usage.in_flight += 1;
        w.usage.peak_in_flight = w.usage.peak_in_flight.max(w.usage.in_flight);
        if w.usage.in_flight > limits.concurrent {
            // Nothing says when another request ends: a second, as for any short request.
            return Err(w.refuse(Limit::Concurrent, 1000));
        }
        Ok(())
    }

    /// A request of `who` was answered.
    pub fn leave(&mut self, who: &str) {
        if let Some(w) = self.identities.get_mut(who) {
            w.usage.in_flight = w.usage.in_flight.saturating_sub(1);
        }
    }

    /// Admits a request of `who` at simulated `now_ms` and counts it, or refuses it (not
    /// counted: it was not applied).
    pub fn admit(
        &mut self,
        who: &str,
        method: &Method,
        path: &str,
        now_ms: i64,
        limits: &Limits,
    ) -> Result<(), Refusal> {
        let w = self.identities.entry(who.to_owned()).or_default();
        let writes = is_content(method);
        let cost: u64 = if writes { 5 } else { 1 };
        let max_points = u64::from(limits.points_per_minute);
        let endpoint = endpoint(method, path);
        while w.content.front().is_some_and(|t| *t <= now_ms - HOUR_MS) {
            w.content.pop_front();
        }
        let points = w.points.entry(endpoint).or_default();
        while let Some((_, p)) = points
            .admitted
            .front()
            .copied()
            .filter(|(t, _)| *t <= now_ms - MINUTE_MS)
        {
            points.admitted.pop_front();
            points.sum -= p;
        }
        if points.sum + cost > max_points {
            // The oldest requests leave the window until the new one fits.
            let mut left = points.sum;
            let mut until = now_ms;
            for (t, p) in &points.admitted {
                left -= p;
                until = t + MINUTE_MS;
                if left + cost <= max_points {
                    break;
                }
            }
            return Err(w.refuse(Limit::PointsPerMinute, until - now_ms));
        }
        if writes {
            let per = [
                (
                    Limit::ContentPerMinute,
                    MINUTE_MS,
                    limits.content_per_minute,
                ),
                (Limit::ContentPerHour, HOUR_MS, limits.content_per_hour),
            ];
            for (limit, window, max) in per {
                if let Some(until) = frees_at(&w.content, now_ms, window, max) {
                    return Err(w.refuse(limit, until - now_ms));
                }
            }
        }
        points.admitted.push_back((now_ms, cost));
        points.sum += cost;
        w.usage.requests += 1;
        if writes {
            w.content.push_back(now_ms);
            w.usage.writes += 1;
            let last_minute = w.content.len() - first_inside(&w.content, now_ms, MINUTE_MS);
            let last_minute = u32::try_from(last_minute).unwrap_or(u32::MAX);
            w.usage.peak_writes_per_minute = w.usage.peak_writes_per_minute.max(last_minute);
        }
        Ok(())
    }

    /// Every identity's usage.
    pub fn report(&self, limits: Limits, answer: LimitAnswer) -> LimitsReport {
        let identities: BTreeMap<String, Usage> = self
            .identities
            .iter()
            .map(|(who, w)| (who.clone(), w.usage.clone()))
            .collect();
        LimitsReport {
            limits,
            answer,
            limited: identities.values().flat_map(|u| u.limited.values()).sum(),
            identities,
        }
    }

    /// Forgets every window and counter (requests in flight stay counted).
    pub fn reset(&mut self) {
        self.identities.retain(|_, w| w.usage.in_flight > 0);
        for w in self.identities.values_mut() {
            let in_flight = w.usage.in_flight;
            *w = Windows::default();
            w.usage.in_flight = in_flight;
        }
    }
}

impl Windows {
    fn refuse(&mut self, limit: Limit, wait_ms: i64) -> Refusal {
        *self.usage.limited.entry(limit).or_default() += 1;
        Refusal {
            limit,
            wait_ms: wait_ms.max(1),
        }
    }
}

/// When `max` is reached within `window` before `now_ms`: the time the oldest request that must
/// leave the window for one more to fit leaves it; `None` when one more fits now.
fn frees_at(admitted: &VecDeque<i64>, now_ms: i64, window: i64, max: u32) -> Option<i64> {
    let first = first_inside(admitted, now_ms, window);
    let inside = admitted.len() - first;
    let max = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
    if inside < max {
        return None;
    }
    // `inside - max + 1` requests must leave; the last of them is at this index.
    Some(admitted[first + inside - max] + window)
}

/// The index of the first of the (sorted) times inside `window` before `now_ms`.
fn first_inside(admitted: &VecDeque<i64>, now_ms: i64, window: i64) -> usize {
    admitted.partition_point(|t| *t <= now_ms - window)
}

/// Whether GitHub may count the request as content-generating. It does not say which are: every
/// write counts here, so the simulator is never more lenient than GitHub.
fn is_content(method: &Method) -> bool {
    [Method::POST, Method::PATCH, Method::PUT, Method::DELETE].contains(method)
}

/// The endpoint a request counts against: its method and route template, e.g.
/// `PUT /repos/{owner}/{repo}/pulls/{number}/merge`. Names and numbers become placeholders; the
/// trailing ref, path or tag of a route that takes one (which may hold `/`) becomes one
/// placeholder. A template coarser than GitHub's only makes the limit stricter.
pub fn endpoint(method: &Method, path: &str) -> String {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = String::new();
    let mut i = 0;
    if segs.first() == Some(&"repos") && segs.len() >= 3 {
        out.push_str("/repos/{owner}/{repo}");
        i = 3;
    }
    while i < segs.len() {
        let seg = segs[i];
        let previous = if i > 0 { segs[i - 1] } else { "" };
        let before = if i > 1 { segs[i - 2] } else { "" };
        let rest_is_one = matches!(
            previous,
            "contents" | "compare" | "branches" | "matching-refs" | "environments"
        ) || (matches!(previous, "refs" | "ref") && before == "git")
            || (previous == "tags" && before == "releases");
        if rest_is_one {
            out.push_str("/{rest}");
            break;
        }
        if previous == "commits" && before != "git" {
            // `commits/{ref}` with an optional known tail; the ref may hold `/`.
            out.push_str("/{ref}");
            if let Some(tail) = segs[i + 1..]
                .last()
                .filter(|t| matches!(**t, "check-runs" | "check-suites" | "status" | "statuses"))
            {
                out.push('/');
                out.push_str(tail);
            }
            break;
        }
        let literal = seg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
            && !matches!(previous, "statuses" | "users" | "orgs" | "apps");
        if literal {
            out.push('/');
            out.push_str(seg);
        } else {
            out.push_str("/{id}");
        }
        i += 1;
    }
    format!("{method} {}", if out.is_empty() { "/" } else { &out })
}

/// Real seconds, rounded up, the client must wait for `wait_ms` simulated milliseconds on a
/// clock running `scale` times real time (a frozen clock: simulated seconds, as a test advances
/// it).
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a positive wait of at most an hour"
)]
pub fn real_seconds(wait_ms: i64, scale: f64) -> u64 {
    let sim = i64::max(wait_ms, 1) as f64 / 1000.0;
    let real = if scale > 0.0 { sim / scale } else { sim };
    (real.ceil() as u64).max(1)
}

/// GitHub's secondary-limit error for request `request_id` with this status.
pub fn error(status: StatusCode, request_id: &str) -> ApiError {
    ApiError::new(
        status,
        format!(
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try \
             again. If you reach out to GitHub Support for help, please include the request ID \
             {request_id}."
        ),
    )
    .doc(DOCS)
}

/// The answer to a refused request in `style`: `rate` are the caller's `x-ratelimit-*` headers,
/// `now_secs` the simulated `Date` (a `reset` style answer is `Date` plus the real wait).
pub fn answer(
    style: LimitAnswer,
    wait_secs: u64,
    now_secs: i64,
    request_id: &str,
    mut rate: Vec<(HeaderName, String)>,
) -> Answer {
    let status = StatusCode::from_u16(style.status)
        .ok()
        .filter(|s| *s == StatusCode::TOO_MANY_REQUESTS)
        .unwrap_or(StatusCode::FORBIDDEN);
    let mut a = Answer::error(&error(status, request_id));
    match style.headers {
        WaitHeaders::RetryAfter => a.headers.push((header::RETRY_AFTER, wait_secs.to_string())),
        WaitHeaders::Reset => {
            let reset = now_secs + i64::try_from(wait_secs).unwrap_or(i64::MAX / 2);
            for (name, value) in &mut rate {
                match name.as_str() {
                    "x-ratelimit-remaining" => *value = "0".into(),
                    "x-ratelimit-reset" => *value = reset.to_string(),
                    _ => {}
                }
            }
        }
        WaitHeaders::Neither => {}
    }
    a.headers.extend(rate);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_route_templates() {
        let e = |m: Method, p: &str| endpoint(&m, p);
        assert_eq!(
            e(Method::PUT, "/repos/o/r/pulls/3/merge"),
            "PUT /repos/{owner}/{repo}/pulls/{id}/merge"
        );
        assert_eq!(
            e(Method::PUT, "/repos/a/b/pulls/17/merge"),
            e(Method::PUT, "/repos/o/r/pulls/3/merge")
        );
        assert_eq!(
            e(Method::PATCH, "/repos/o/r/git/refs/heads/a/b"),
            "PATCH /repos/{owner}/{repo}/git/refs/{rest}"
        );
        assert_eq!(
            e(Method::PUT, "/repos/o/r/contents/deploy/prod.env"),
            "PUT /repos/{owner}/{repo}/contents/{rest}"
        );
        assert_eq!(
            e(Method::GET, "/repos/o/r/commits/feature/x/check-runs"),
            "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"
        );
        assert_eq!(
            e(Method::POST, "/repos/o/r/statuses/abc123"),
            "POST /repos/{owner}/{repo}/statuses/{id}"
        );
        assert_eq!(
            e(Method::GET, "/repos/o/r/releases/tags/v1.2.3"),
            "GET /repos/{owner}/{repo}/releases/tags/{rest}"
        );
        assert_eq!(
            e(Method::GET, "/repos/o/r/releases/latest"),
            "GET /repos/{owner}/{repo}/releases/latest"
        );
        assert_eq!(
            e(Method::POST, "/app/installations/7/access_tokens"),
            "POST /app/installations/{id}/access_tokens"
        );
    }

    #[test]
    fn content_limits_refuse_until_the_oldest_write_leaves_the_window() {
        let limits = Limits {
            content_per_minute: 2,
            ..Limits::default()
        };
        let mut l = SecondaryLimiter::default();
        let post = |l: &mut SecondaryLimiter, at| {
            l.admit("bot", &Method::POST, "/repos/o/r/pulls", at, &limits)
        };
        assert_eq!(post(&mut l, 1_000), Ok(()));
        assert_eq!(post(&mut l, 5_000), Ok(()));
        assert_eq!(
            post(&mut l, 10_000),
            Err(Refusal {
                limit: Limit::ContentPerMinute,
                wait_ms: 51_000
            })
        );
        // Reads are no content; another identity has its own windows.
        assert_eq!(
            l.admit("bot", &Method::GET, "/repos/o/r", 10_000, &limits),
            Ok(())
        );
        assert_eq!(
            l.admit("other", &Method::POST, "/repos/o/r/pulls", 10_000, &limits),
            Ok(())
        );
        assert_eq!(post(&mut l, 61_000), Ok(()));
        let report = l.report(limits, LimitAnswer::default());
        assert_eq!(report.limited, 1);
        assert_eq!(report.identities["bot"].writes, 3);
        assert_eq!(report.identities["bot"].peak_writes_per_minute, 2);
    }

    #[test]
    fn points_per_endpoint_and_hourly_content() {
        let limits = Limits {
            points_per_minute: 10,
            content_per_hour: 3,
            ..Limits::default()
        };
        let mut l = SecondaryLimiter::default();
        let merge = |l: &mut SecondaryLimiter, n: u32, at| {
            l.admit(
                "bot",
                &Method::PUT,
                &format!("/repos/o/r/pulls/{n}/merge"),
                at,
                &limits,
            )
        };
        assert_eq!(merge(&mut l, 1, 0), Ok(()));
        assert_eq!(merge(&mut l, 2, 1_000), Ok(()));
        // 15 points on one endpoint: the first merge must leave the minute.
        assert_eq!(
            merge(&mut l, 3, 2_000),
            Err(Refusal {
                limit: Limit::PointsPerMinute,
                wait_ms: 58_000
            })
        );
        assert_eq!(merge(&mut l, 3, 60_000), Ok(()));
        assert_eq!(
            merge(&mut l, 4, 200_000),
            Err(Refusal {
                limit: Limit::ContentPerHour,
                wait_ms: 3_400_000
            })
        );
    }

    #[test]
    fn concurrent_requests_and_real_seconds() {
        let limits = Limits {
            concurrent: 1,
            ..Limits::default()
        };
        let mut l = SecondaryLimiter::default();
        assert_eq!(l.enter("bot", &limits), Ok(()));
        assert_eq!(
            l.enter("bot", &limits).map_err(|r| r.limit),
            Err(Limit::Concurrent)
        );
        l.leave("bot");
        l.leave("bot");
        assert_eq!(l.enter("bot", &limits), Ok(()));
        assert_eq!(real_seconds(51_000, 1.0), 51);
        assert_eq!(real_seconds(51_000, 60.0), 1);
        assert_eq!(real_seconds(120_500, 60.0), 3);
        assert_eq!(real_seconds(51_000, 0.0), 51);
    }
}
