//! The one place requests are sent and retried. Every request first books its place in the write
//! budget (GitHub's secondary limits, [`crate::budget`]). Transient failures (5xx, resets, timeouts)
//! are retried with jittered exponential backoff inside one overall deadline, rate limits as GitHub
//! says (`retry-after`, else `x-ratelimit-reset`, else a minute, doubling), each such wait logged;
//! requests that cannot succeed are not. A create (POST) whose outcome is unknown is never blindly
//! re-sent: the caller's reconcile read runs first (one refused by a rate limit was not applied).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::budget::{
    Budget, LimitAnswer, LimitWait, Limits, RateLimitLog, RateLimitWait, limit_wait,
};

use backon::BackoffBuilder as _;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::ClientConfig;
use crate::error::{GithubError, RequestLine};
use gantry_runner::Secret;

/// How a request may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A read: always safe to repeat.
    Read,
    /// A read that is polled: sent with `If-None-Match`, a 304 returns the cached body for free.
    Polled,
    /// A write that has the same effect however often it is applied (PUT, PATCH, DELETE).
    Idempotent,
    /// A write that could apply twice (POST create): after an unknown outcome, reconcile first.
    Create,
}

impl Mode {
    fn mutates(self) -> bool {
        matches!(self, Self::Idempotent | Self::Create)
    }
}

/// A response with a success (or 304) status.
#[derive(Clone)]
pub(crate) struct Reply {
    pub body: Vec<u8>,
    /// The `Link: <…>; rel="next"` URL of a paginated list, if there is a next page.
    pub next: Option<String>,
}

impl Reply {
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        request: &RequestLine,
    ) -> Result<T, GithubError> {
        serde_json::from_slice(&self.body).map_err(|error| GithubError::Decode {
            request: request.clone(),
            message: error.to_string(),
        })
    }
}

/// Request counts, for logs and benchmarks.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Every HTTP attempt made.
    pub requests: u32,
    /// Attempts answered 304 Not Modified (free against the rate limit).
    pub not_modified: u32,
}

pub(crate) struct Transport {
    client: reqwest::Client,
    base: String,
    authorization: HeaderValue,
    config: ClientConfig,
    started: Instant,
    etags: Mutex<HashMap<String, (HeaderValue, Reply)>>,
    budget: Mutex<Budget>,
    waits: RateLimitLog,
    requests: AtomicU32,
    not_modified: AtomicU32,
}

/// One failed attempt, classified.
enum Failure {
    /// Worth another attempt after `wait` (when given) or the next backoff delay, or after what
    /// a rate-limit answer says.
    Retry {
        error: GithubError,
        wait: Option<Duration>,
        may_have_applied: bool,
        limit: Option<LimitAnswer>,
    },
    /// Will not succeed however often it is sent.
    Final(GithubError),
}

/// Why `send_with` stopped without a reply.
enum Stopped {
    /// A create whose outcome is unknown: the caller must read the state before re-sending.
    Ambiguous(GithubError),
    /// No further attempt will be made.
    Final(GithubError),
}

impl Stopped {
    fn into_error(self) -> GithubError {
        match self {
            Self::Ambiguous(error) | Self::Final(error) => error,
        }
    }
}

/// The retry bookkeeping of one logical call.
struct Attempts {
    backoff: backon::ExponentialBackoff,
    count: u32,
    /// Answers that were a rate limit.
    limited: u32,
}

impl Transport {
    pub(crate) fn new(config: ClientConfig, token: &Secret) -> Result<Self, GithubError> {
        let setup = |message: String| GithubError::Setup(message);
        let client = crate::http::client(&config)?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| {
                setup("the token contains characters that cannot be sent in a header".to_owned())
            })?;
        authorization.set_sensitive(true);
        let base = config.api_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(setup(format!("API URL `{base}` is not an http(s) URL")));
        }
        Ok(Self {
            client,
            base,
            authorization,
            config,
            started: Instant::now(),
            etags: Mutex::default(),
            budget: Mutex::new(Budget::new(Limits::GITHUB)),
            waits: RateLimitLog::default(),
            requests: AtomicU32::new(0),
            not_modified: AtomicU32::new(0),
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn rate_limit_log(&self) -> RateLimitLog {
        self.waits.clone()
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base
    }

    /// The path of a URL of this API (a pagination link); `None` when it points elsewhere, which
    /// would send the token to another host.
    pub(crate) fn path_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(self.base.as_str())
            .filter(|path| path.starts_with('/'))
    }

    /// Items per page for paginated lists.
    pub(crate) fn page_size(&self) -> u32 {
        self.config.page_size
    }

    /// Sends a request, retrying what is worth retrying, and returns the successful reply.
    /// Not for `Mode::Create`: use [`Transport::create`].
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        mode: Mode,
    ) -> Result<Reply, GithubError> {
        debug_assert!(mode != Mode::Create, "creates go through Transport::create");
        let mut attempts = Self::attempts();
        self.send_with(&mut attempts, &method, path, body, mode)
            .await
            .map_err(Stopped::into_error)
    }

    /// Sends a create. When its outcome is unknown (a 5xx, a reset or a timeout after the request
    /// left), `reconcile` reads the state: if the object exists it is returned, otherwise the
    /// create is sent again, all within the deadline.
    pub(crate) async fn create<T, F, Fut>(
        &self,
        path: &str,
        body: &Value,
        reconcile: F,
    ) -> Result<T, GithubError>
    where
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<T>, GithubError>>,
    {
        let request = RequestLine {
            method: "POST".to_owned(),
            path: path.to_owned(),
        };
        let mut attempts = Self::attempts();
        loop {
            match self
                .send_with(&mut attempts, &Method::POST, path, Some(body), Mode::Create)
                .await
            {
                Ok(reply) => return reply.json(&request),
                Err(Stopped::Ambiguous(error)) => {
                    if let Some(existing) = reconcile().await? {
                        return Ok(existing);
                    }
                    let wait = attempts.backoff.next().unwrap_or(Duration::from_secs(1));
                    self.wait_or_give_up(&request, &attempts, wait, error)
                        .await?;
                }
                Err(Stopped::Final(error)) => return Err(error),
            }
        }
    }

    fn attempts() -> Attempts {
        let backoff = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(20))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build();
        Attempts {
            backoff,
            count: 0,
            limited: 0,
        }
    }

    async fn send_with(
        &self,
        attempts: &mut Attempts,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        mode: Mode,
    ) -> Result<Reply, Stopped> {
        let request = RequestLine {
            method: method.to_string(),
            path: path.to_owned(),
        };
        loop {
            attempts.count += 1;
            self.pace(&request, mode).await.map_err(Stopped::Final)?;
            let failure = match self.attempt(&request, method, path, body, mode).await {
                Ok(reply) => return Ok(reply),
                Err(failure) => failure,
            };
            match failure {
                Failure::Final(error) => return Err(Stopped::Final(error)),
                Failure::Retry {
                    error,
                    may_have_applied: true,
                    ..
                } if mode == Mode::Create => {
                    return Err(Stopped::Ambiguous(error));
                }
                Failure::Retry {
                    error, wait, limit, ..
                } => {
                    let wait = match limit {
                        Some(answer) => {
                            attempts.limited += 1;
                            self.limited(&request, limit_wait(answer, attempts.limited))
                        }
                        None => wait.unwrap_or_else(|| {
                            attempts.backoff.next().unwrap_or(Duration::from_secs(1))
                        }),
                    };
                    self.wait_or_give_up(&request, attempts, wait, error)
                        .await
                        .map_err(Stopped::Final)?;
                }
            }
        }
    }

    /// Sleeps before the next attempt, or fails when that attempt would start after the deadline.
    async fn wait_or_give_up(
        &self,
        request: &RequestLine,
        attempts: &Attempts,
        wait: Duration,
        last: GithubError,
    ) -> Result<(), GithubError> {
        let elapsed = self.started.elapsed();
        if elapsed + wait >= self.config.deadline {
            return Err(GithubError::Deadline {
                request: request.clone(),
                attempts: attempts.count,
                elapsed,
                deadline: self.config.deadline,
                last: Box::new(last),
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Waits until the write budget lets this request start; fails when that is after the
    /// deadline.
    async fn pace(&self, request: &RequestLine, mode: Mode) -> Result<(), GithubError> {
        let now = self.started.elapsed();
        let start = self
            .budget
            .lock()
            .expect("write budget")
            .reserve(now, mode.mutates());
        let ahead = start.saturating_sub(now);
        if ahead.is_zero() {
            return Ok(());
        }
        if start >= self.config.deadline {
            return Err(GithubError::Deadline {
                request: request.clone(),
                attempts: 0,
                elapsed: now,
                deadline: self.config.deadline,
                last: Box::new(GithubError::Transport {
                    request: request.clone(),
                    message: format!(
                        "not sent: GitHub's secondary limits on writes (80 a minute, 500 an hour) \
                         let it start only in {:.0}s",
                        ahead.as_secs_f64()
                    ),
                }),
            });
        }
        tokio::time::sleep(ahead).await;
        Ok(())
    }

    /// A rate-limit answer: holds every request of this client for the wait and logs it (unless
    /// the wait would end after the deadline: then the caller gives up). Returns the wait.
    fn limited(&self, request: &RequestLine, wait: LimitWait) -> Duration {
        let now = self.started.elapsed();
        if now + wait.wait < self.config.deadline {
            self.budget
                .lock()
                .expect("write budget")
                .hold(now + wait.wait);
            self.waits.push(RateLimitWait::new(request, wait));
        }
        wait.wait
    }

    async fn attempt(
        &self,
        request: &RequestLine,
        method: &Method,
        path: &str,
        body: Option<&Value>,
        mode: Mode,
    ) -> Result<Reply, Failure> {
        let url = url_of(&self.base, path);
        let mut builder = self
            .client
            .request(method.clone(), &url)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        let cached_etag = if mode == Mode::Polled {
            self.etags
                .lock()
                .expect("etag cache")
                .get(path)
                .map(|(etag, _)| etag.clone())
        } else {
            None
        };
        if let Some(etag) = &cached_etag {
            builder = builder.header(header::IF_NONE_MATCH, etag.clone());
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = builder
            .send()
            .await
            .map_err(|error| transport_failure(request, &error, mode, &self.config))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| transport_failure(request, &error, mode, &self.config))?;
        if status == StatusCode::NOT_MODIFIED {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
            if let Some((_, cached)) = self.etags.lock().expect("etag cache").get(path) {
                return Ok(cached.clone());
            }
        }
        if status.is_success() {
            let reply = Reply {
                body: bytes.to_vec(),
                next: next_link(&headers),
            };
            if let Some(etag) = headers.get(header::ETAG).filter(|_| mode == Mode::Polled) {
                self.etags
                    .lock()
                    .expect("etag cache")
                    .insert(path.to_owned(), (etag.clone(), reply.clone()));
            }
            return Ok(reply);
        }
        Err(classify(request, status, &headers, &bytes))
    }
}

/// The request path of GitHub's GraphQL endpoint (see [`url_of`]).
pub(crate) const GRAPHQL: &str = "/graphql";

/// The URL of `path` under the REST base `base`. GraphQL is `{base}/graphql` on github.com
/// (`https://api.github.com/graphql`), but on GitHub Enterprise Server, whose REST base is
/// `https://HOST/api/v3`, it is `https://HOST/api/graphql`.
fn url_of(base: &str, path: &str) -> String {
    match base.strip_suffix("/api/v3") {
        Some(host) if path == GRAPHQL => format!("{host}/api/graphql"),
        _ => format!("{base}{path}"),
    }
}

/// The `rel="next"` URL of a `Link` header, as GitHub paginates lists.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|param| param.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

fn transport_failure(
    request: &RequestLine,
    error: &reqwest::Error,
    mode: Mode,
    config: &ClientConfig,
) -> Failure {
    if let Some(message) = crate::http::certificate_refused(error, config) {
        return Failure::Final(GithubError::Transport {
            request: request.clone(),
            message,
        });
    }
    let message = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the connection failed before a complete response arrived"
    };
    let source = std::error::Error::source(error)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    let error_text = format!("{message}{source}");
    // A refused connection never reached GitHub; anything later might have been applied.
    let may_have_applied = mode.mutates() && !error.is_connect();
    Failure::Retry {
        error: GithubError::Transport {
            request: request.clone(),
            message: error_text,
        },
        wait: None,
        may_have_applied,
        limit: None,
    }
}

/// Sorts an error status into retry-worthy or final, with the wait GitHub asked for.
fn classify(
    request: &RequestLine,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Failure {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed["message"].as_str().map_or_else(
        || status.canonical_reason().unwrap_or("error").to_owned(),
        str::to_owned,
    );
    let errors = parsed["errors"]
        .as_array()
        .map(|errors| errors.iter().map(describe_validation_error).collect())
        .unwrap_or_default();
    let error = GithubError::Api {
        request: request.clone(),
        status: status.as_u16(),
        message: message.clone(),
        errors,
        documentation_url: parsed["documentation_url"].as_str().map(str::to_owned),
        request_id: header_text(headers, "x-github-request-id").map(str::to_owned),
    };
    let retry_after = header_text(headers, "retry-after")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let exhausted = header_text(headers, "x-ratelimit-remaining") == Some("0");
    let reset = header_text(headers, "x-ratelimit-reset")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|_| exhausted)
        .map(|reset| Duration::from_secs(reset.saturating_sub(server_now(headers)) + 1));
    let secondary = message
        .to_ascii_lowercase()
        .contains("secondary rate limit");
    let limit = LimitAnswer {
        retry_after,
        reset,
        secondary,
    };
    let rate_limited = match status.as_u16() {
        429 => true,
        403 => retry_after.is_some() || exhausted || secondary,
        _ => false,
    };
    if rate_limited {
        return Failure::Retry {
            error,
            wait: None,
            may_have_applied: false,
            limit: Some(limit),
        };
    }
    if status.is_server_error() {
        return Failure::Retry {
            error,
            wait: retry_after,
            may_have_applied: true,
            limit: None,
        };
    }
    Failure::Final(error)
}

/// GitHub's clock as its `Date` header gives it (a reset time is on that clock), else ours.
fn server_now(headers: &HeaderMap) -> u64 {
    header_text(headers, "date")
        .and_then(unix_of_http_date)
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs()
        })
}

/// Unix seconds of an HTTP `Date` (`Thu, 01 Jan 2026 00:00:00 GMT`, the only form GitHub sends).
fn unix_of_http_date(date: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = date.split_once(", ")?.1.split(' ');
    let day: u64 = parts.next()?.parse().ok()?;
    let name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == name)?;
    let year: u64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(|n| n.parse::<u64>().ok());
    let (h, m, sec) = (clock.next()??, clock.next()??, clock.next()??);
    if parts.next() != Some("GMT") || year < 1970 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm, March-based years).
    let month = month as u64 + 1;
    let (y, mp) = if month > 2 {
        (year, month - 3)
    } else {
        (year - 1, month + 9)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

fn describe_validation_error(error: &Value) -> String {
    if let Some(text) = error.as_str() {
        return text.to_owned();
    }
    let part = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
    let subject = [part("resource"), part("field")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    let detail = [part("message"), part("code")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [subject, detail]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::{GRAPHQL, unix_of_http_date, url_of};

    #[test]
    fn http_dates() {
        assert_eq!(unix_of_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            unix_of_http_date("Tue, 10 Oct 2017 16:00:00 GMT"),
            Some(1_507_651_200)
        );
        assert_eq!(
            unix_of_http_date("Thu, 01 Jan 2026 00:00:00 GMT"),
            Some(1_767_225_600)
        );
        assert_eq!(
            unix_of_http_date("Sun, 29 Feb 2032 23:59:59 GMT"),
            Some(1_961_711_999)
        );
        assert_eq!(unix_of_http_date("yesterday"), None);
    }

    #[test]
    fn graphql_lives_beside_the_rest_base_on_github_enterprise_server() {
        assert_eq!(
            url_of("https://api.github.com", GRAPHQL),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            url_of("https://ghe.example.com/api/v3", GRAPHQL),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            url_of("https://ghe.example.com/api/v3", "/repos/a/b"),
            "https://ghe.example.com/api/v3/repos/a/b"
        );
    }
}
