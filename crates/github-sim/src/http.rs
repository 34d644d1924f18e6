//! The HTTP server: our own accept loop over a tokio listener serving hyper connections, so a
//! fault can drop a socket or cut a body short, and the request pipeline that every REST call
//! goes through (faults → auth → rate limit → route → ETag/304 → headers → request log).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper::body::{Body as _, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::error::ApiError;
use crate::faults::{FaultAction, Faults};
use crate::log::LoggedRequest;
use crate::paginate::paginate;
use crate::ratelimit::{Budget, RateLimiter};
use crate::routes::{self, Ctx, Reply};
use crate::world::World;

/// The request log keeps this many most recent requests (long benchmarks must not grow it forever).
pub const LOG_CAPACITY: usize = 20_000;

/// State shared by the server tasks and the control API.
pub struct Shared {
    pub world: Mutex<World>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub faults: Mutex<Faults>,
    pub limiter: Mutex<RateLimiter>,
    pub cache: Mutex<ResponseCache>,
    pub base: String,
    next_request: AtomicU64,
}

/// Successful GET answers by caller, path, query and `Accept`, valid for one world generation
/// (any change to the world starts a new generation, so a hit is always what a fresh render gives).
#[derive(Default)]
pub struct ResponseCache {
    generation: u64,
    entries: std::collections::HashMap<String, Answer>,
}

impl ResponseCache {
    const CAPACITY: usize = 4096;

    fn get(&self, key: &str, generation: u64) -> Option<Answer> {
        if generation != self.generation {
            return None;
        }
        self.entries.get(key).cloned()
    }

    fn put(&mut self, key: String, generation: u64, answer: &Answer) {
        if generation != self.generation || self.entries.len() >= Self::CAPACITY {
            self.entries.clear();
            self.generation = generation;
        }
        self.entries.insert(key, answer.clone());
    }
}

/// Locks a mutex, recovering the data if a previous holder panicked.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub fn new(world: World, base: String) -> Shared {
        let seed = world.seed;
        Shared {
            world: Mutex::new(world),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::new(seed)),
            limiter: Mutex::new(RateLimiter::default()),
            cache: Mutex::new(ResponseCache::default()),
            base,
            next_request: AtomicU64::new(1),
        }
    }
}

/// Accepts connections until `stop` flips to true.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = Arc::clone(&shared);
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let reset = Arc::new(AtomicBool::new(false));
                    let io = ResettableIo { inner: stream, reset: Arc::clone(&reset) };
                    let svc = service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&reset), req));
                    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        }
    }
}

/// A TCP stream that is closed with a reset (RST, via `SO_LINGER` 0) when a fault asks for it.
struct ResettableIo {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

impl AsyncRead for ResettableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::SeqCst) {
            // No FIN: the drop below resets the connection.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Drop for ResettableIo {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // A zero linger makes close() send RST at once; it never blocks.
            #[expect(
                deprecated,
                reason = "SO_LINGER 0 is exactly the reset we want; it cannot block"
            )]
            let _ = self.inner.set_linger(Some(Duration::ZERO));
        }
    }
}

/// The connection was dropped on purpose (a fault).
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
pub struct Dropped;

/// A response body that can stop half-way and break the connection.
pub struct Body {
    data: Option<Bytes>,
    fail_after: bool,
    /// A pause before failing, so the headers and the first half are flushed to the client.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body {
    fn full(data: Vec<u8>) -> Body {
        Body {
            data: (!data.is_empty()).then(|| Bytes::from(data)),
            fail_after: false,
            pause: None,
        }
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(d) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.pause = None;
        }
        if self.fail_after {
            self.fail_after = false;
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "fault: close mid-body",
            ))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && !self.fail_after
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.data, self.fail_after) {
            (Some(d), false) => SizeHint::with_exact(d.len() as u64),
            (None, false) => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

async fn read_body(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// A fully computed answer, before it becomes a hyper response.
#[derive(Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Vec<u8>,
    pub identity: Option<String>,
}

impl Answer {
    pub fn json(status: StatusCode, v: &Value) -> Answer {
        Answer {
            status,
            headers: vec![(
                header::CONTENT_TYPE,
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(v).unwrap_or_default(),
            identity: None,
        }
    }

    pub fn error(e: &ApiError) -> Answer {
        Answer::json(e.status, &e.body())
    }
}

/// The error answer of a status or secondary-rate-limit fault.
fn fault_answer(action: &FaultAction, request_id: &str) -> Answer {
    match *action {
        FaultAction::SecondaryRateLimit {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
            let e = ApiError::new(
                status,
                format!(
                    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. \
                     If you reach out to GitHub Support for help, please include the request ID {request_id}."
                ),
            )
            .doc("https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits");
            let mut a = Answer::error(&e);
            a.headers
                .push((header::RETRY_AFTER, retry_after.to_string()));
            a
        }
        FaultAction::Status { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let msg = status.canonical_reason().unwrap_or("Server Error");
            Answer::error(&ApiError::new(status, msg))
        }
        _ => Answer::error(&ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server Error",
        )),
    }
}

async fn handle(
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (parts, incoming) = req.into_parts();
    let body = read_body(incoming).await.map_err(|_| Dropped)?;
    let path = parts.uri.path().to_owned();
    let query_str = parts.uri.query().unwrap_or("").to_owned();
    let n = shared.next_request.fetch_add(1, Ordering::Relaxed);
    let request_id = format!(
        "51A0:{n:06X}:{:07X}:{n:07X}:00000000",
        n.wrapping_mul(7919) & 0x0FFF_FFFF
    );
    let conditional = parts.headers.contains_key(header::IF_NONE_MATCH);
    let admin = path == "/_sim" || path.starts_with("/_sim/");
    let fault = if admin {
        None
    } else {
        lock(&shared.faults).pick(parts.method.as_str(), &path)
    };
    let mut entry = LoggedRequest {
        id: n,
        method: parts.method.to_string(),
        path: path.clone(),
        query: query_str.clone(),
        identity: fault.as_ref().and_then(|_| {
            let token = bearer(&parts.headers)?;
            lock(&shared.world)
                .identity_by_token(token)
                .map(|i| i.login.clone())
        }),
        status: 0,
        conditional,
        fault: fault.as_ref().map(FaultAction::label),
        at: lock(&shared.world).clock.now_secs(),
    };
    let mut cut_body = false;
    let answer = match fault {
        Some(FaultAction::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        Some(FaultAction::ConnectionReset) => {
            lock(&shared.log).push(entry);
            reset.store(true, Ordering::SeqCst);
            return Err(Dropped);
        }
        Some(action @ (FaultAction::Status { .. } | FaultAction::SecondaryRateLimit { .. })) => {
            Some(fault_answer(&action, &request_id))
        }
        Some(FaultAction::CloseMidBody) => {
            cut_body = true;
            None
        }
        None => None,
    };
    let mut answer = match answer {
        Some(a) => a,
        None if admin => crate::admin::handle(
            &shared,
            &parts.method,
            &path,
            &parse_query(&query_str),
            &body,
        ),
        None => api(
            &shared,
            &parts.method,
            &path,
            &query_str,
            &parts.headers,
            &body,
        ),
    };
    answer
        .headers
        .push((HeaderName::from_static("x-github-request-id"), request_id));
    if let Some(who) = answer.identity.take() {
        entry.identity = Some(who);
    }
    entry.status = answer.status.as_u16();
    if !path.starts_with("/_sim") {
        let mut log = lock(&shared.log);
        if log.len() >= LOG_CAPACITY {
            log.drain(..LOG_CAPACITY / 10);
        }
        log.push(entry);
    }
    Ok(into_response(answer, cut_body))
}

fn into_response(answer: Answer, cut_body: bool) -> Response<Body> {
    let full_len = answer.body.len();
    let body = if cut_body {
        let mut data = answer.body;
        data.truncate(full_len / 2);
        Body {
            data: Some(Bytes::from(data)),
            fail_after: true,
            pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))),
        }
    } else {
        Body::full(answer.body)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = answer.status;
    let h = resp.headers_mut();
    for (name, value) in answer.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(name, v);
        }
    }
    h.insert(
        HeaderName::from_static("x-github-api-version-selected"),
        HeaderValue::from_static("2022-11-28"),
    );
    h.insert(
        HeaderName::from_static("x-github-media-type"),
        HeaderValue::from_static("github.v3; format=json"),
    );
    if cut_body {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    }
    resp
}

/// Splits `a=1&b=2` into a map, percent-decoding keys and values.
pub fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// Percent-decodes a path segment or query component.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
        {
            out.push((hi << 4) | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
        .then(|| token.trim())
}

/// `"<32 hex>"` over the body, as GitHub's quoted `ETags` look.
fn etag_of(body: &[u8]) -> String {
    let digest = Sha1::digest(body);
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in &digest[..16] {
        let _ = write!(s, "{b:02x}");
    }
    s.push('"');
    s
}

fn etag_matches(header_value: &str, etag: &str) -> bool {
    header_value
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

fn rate_headers(b: &Budget) -> Vec<(HeaderName, String)> {
    vec![
        (
            HeaderName::from_static("x-ratelimit-limit"),
            b.limit.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-remaining"),
            b.remaining().to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-used"),
            b.used.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-reset"),
            b.reset.to_string(),
        ),
        (
            HeaderName::from_static("x-ratelimit-resource"),
            "core".into(),
        ),
    ]
}

/// Turns a handler's outcome into status, headers and body (pagination happens here).
fn to_answer(outcome: routes::Outcome, url: &str, query: &BTreeMap<String, String>) -> Answer {
    match outcome {
        Ok(Reply::Json(status, v)) => {
            let mut a = Answer::json(status, &v);
            if status == StatusCode::CREATED
                && let Some(u) = v.get("url").and_then(Value::as_str)
            {
                a.headers.push((header::LOCATION, u.to_owned()));
            }
            a
        }
        Ok(Reply::Page(items, wrap)) => {
            let total = items.len();
            let page = paginate(items, url, query);
            let v = match wrap {
                Some(key) => json!({"total_count": total, key: page.items}),
                None => Value::Array(page.items),
            };
            let mut a = Answer::json(StatusCode::OK, &v);
            if let Some(link) = page.link {
                a.headers.push((header::LINK, link));
            }
            a
        }
        Ok(Reply::Linked(v, link)) => {
            let mut a = Answer::json(StatusCode::OK, &v);
            if let Some(link) = link {
                a.headers.push((header::LINK, link));
            }
            a
        }
        Ok(Reply::NoContent) => Answer {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: Vec::new(),
            identity: None,
        },
        Ok(Reply::Raw(bytes)) => Answer {
            status: StatusCode::OK,
            headers: vec![(
                header::CONTENT_TYPE,
                "application/vnd.github.raw; charset=utf-8".into(),
            )],
            body: bytes,
            identity: None,
        },
        Err(e) => Answer::error(&e),
    }
}

/// Answers 304 to a matching `If-None-Match` (free), otherwise spends budget; adds rate headers.
fn finish(
    mut answer: Answer,
    headers: &HeaderMap,
    limiter: &mut RateLimiter,
    token: &str,
    budget: Budget,
) -> Answer {
    let mut budget = budget;
    let etag = answer
        .headers
        .iter()
        .find(|(n, _)| *n == header::ETAG)
        .map(|(_, v)| v.clone());
    if let Some(etag) = etag {
        let hit = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| etag_matches(v, &etag));
        if hit {
            answer.status = StatusCode::NOT_MODIFIED;
            answer.body.clear();
            answer
                .headers
                .retain(|(n, _)| *n != header::CONTENT_TYPE && *n != header::LINK);
            answer.headers.extend(rate_headers(&budget));
            return answer;
        }
    }
    if let Some(b) = limiter.spend(token) {
        budget = b;
    }
    answer.headers.extend(rate_headers(&budget));
    answer
}

/// The authenticated REST pipeline.
fn api(
    shared: &Shared,
    method: &Method,
    path: &str,
    query_str: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Answer {
    let Some(token) = bearer(headers) else {
        return Answer::error(&ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
        ));
    };
    let mut world = lock(&shared.world);
    world.tick();
    let Some(who) = world.identity_by_token(token).cloned() else {
        return Answer::error(&ApiError::new(StatusCode::UNAUTHORIZED, "Bad credentials"));
    };
    let now = world.clock.now_secs();
    let mut limiter = lock(&shared.limiter);
    let budget = limiter.peek(token, who.rate_limit, now);
    let query = parse_query(query_str);
    if path == "/rate_limit" && method == Method::GET {
        let core = json!({"limit": budget.limit, "remaining": budget.remaining(), "reset": budget.reset, "used": budget.used, "resource": "core"});
        let mut a = Answer::json(
            StatusCode::OK,
            &json!({"resources": {"core": core}, "rate": core}),
        );
        a.headers.extend(rate_headers(&budget));
        a.identity = Some(who.login);
        return a;
    }
    if budget.remaining() == 0 {
        let e = ApiError::new(
            StatusCode::FORBIDDEN,
            format!("API rate limit exceeded for user ID {}.", who.id),
        )
        .doc("https://docs.github.com/rest/overview/rate-limits-for-the-rest-api");
        let mut a = Answer::error(&e);
        a.headers.extend(rate_headers(&budget));
        a.identity = Some(who.login);
        return a;
    }
    let decoded: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ctx = Ctx {
        base: &shared.base,
        method,
        query: &query,
        body,
        who: &who,
        accept,
    };
    let key = (method == Method::GET).then(|| format!("{}\n{path}?{query_str}\n{accept}", who.id));
    let cached = key
        .as_ref()
        .and_then(|k| lock(&shared.cache).get(k, world.generation()));
    let mut answer = if let Some(a) = cached {
        drop(world);
        a
    } else {
        let before = world.generation();
        let outcome = routes::dispatch(&mut world, &ctx, &segs);
        if method != Method::GET {
            world.touch();
        }
        let after = world.generation();
        drop(world);
        let mut a = to_answer(outcome, &format!("{}{path}", shared.base), &query);
        if method == Method::GET && a.status == StatusCode::OK {
            a.headers.push((
                header::CACHE_CONTROL,
                "private, max-age=60, s-maxage=60".into(),
            ));
            a.headers.push((
                header::VARY,
                "Accept, Authorization, Cookie, X-GitHub-OTP".into(),
            ));
            a.headers.push((header::ETAG, etag_of(&a.body)));
            if let (Some(k), true) = (key, before == after) {
                lock(&shared.cache).put(k, after, &a);
            }
        }
        a
    };
    answer.identity = Some(who.login);
    finish(answer, headers, &mut limiter, token, budget)
}
