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

use crate::clock::http_date;
use crate::error::ApiError;
use crate::faults::{FaultAction, Faults};
use crate::jwt::{self, JwtError};
use crate::limits::{self, Refusal, SecondaryLimiter};
use crate::log::LoggedRequest;
use crate::paginate::paginate;
use crate::ratelimit::{Budget, RateLimiter};
use crate::routes::{self, Auth, Ctx, Reply};
use crate::world::{Identity, World};

/// The request log keeps this many most recent requests (long benchmarks must not grow it forever).
pub const LOG_CAPACITY: usize = 20_000;

/// State shared by the server tasks and the control API.
pub struct Shared {
    pub world: Mutex<World>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub faults: Mutex<Faults>,
    pub limiter: Mutex<RateLimiter>,
    pub secondary: Mutex<SecondaryLimiter>,
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
            secondary: Mutex::new(SecondaryLimiter::default()),
            cache: Mutex::new(ResponseCache::default()),
            base,
            next_request: AtomicU64::new(1),
        }
    }
}

/// Where connections come from: plain TCP, or TLS over it (`sim_tls`).
pub enum Listener {
    Plain(TcpListener),
    Tls(sim_tls::TlsListener),
}

/// Accepts connections until `stop` flips to true.
pub async fn serve(mut listener: Listener, shared: Arc<Shared>, stop: watch::Receiver<bool>) {
    let mut stopped = stop.clone();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            () = accept_into(&mut listener, &shared, &stop) => {}
        }
    }
}

/// Accepts one connection (a failed accept is skipped) and serves it on its own task.
async fn accept_into(listener: &mut Listener, shared: &Arc<Shared>, stop: &watch::Receiver<bool>) {
    match listener {
        Listener::Plain(tcp) => {
            let Ok((stream, _)) = tcp.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(connection(stream, Arc::clone(shared), stop.clone()));
        }
        Listener::Tls(tls) => {
            let (stream, _) = tls.accept().await;
            tokio::spawn(connection(stream, Arc::clone(shared), stop.clone()));
        }
    }
}

/// Serves one connection's requests until it closes or the simulator stops.
async fn connection<S: Socket>(stream: S, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = ResettableIo {
        inner: stream,
        reset: Arc::clone(&reset),
        replacing: None,
    };
    let svc = service_fn(move |req| handle(Arc::clone(&shared), Arc::clone(&reset), req));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(io), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {}
    }
}

/// A connection's byte stream and the TCP socket under it (for the reset).
trait Socket: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    fn tcp(&self) -> &TcpStream;
}

impl Socket for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl Socket for tokio_rustls::server::TlsStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref().0
    }
}

/// A TCP stream that is closed with a reset (RST, via `SO_LINGER` 0) when a fault asks for it,
/// and that gives hyper's bare 400 for an unparsable request (e.g. raw spaces in the request
/// line) an error body, as GitHub's front end does.
struct ResettableIo<S: Socket> {
    inner: S,
    reset: Arc<AtomicBool>,
    /// A replacement being written: the bytes, how many are written, and the length of the
    /// original write to report once done.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

/// Hyper's own answer to a request it cannot parse: a 400 with no body.
fn is_bare_parse_error(buf: &[u8]) -> bool {
    buf.starts_with(b"HTTP/1.1 400 Bad Request\r\n")
        && buf
            .windows(b"\r\ncontent-length: 0\r\n".len())
            .any(|w| w == b"\r\ncontent-length: 0\r\n")
}

/// The answer that replaces it.
fn parse_error_response() -> Vec<u8> {
    let body = ApiError::new(
        StatusCode::BAD_REQUEST,
        "Bad Request: the request line could not be parsed; percent-encode spaces and other \
         reserved characters in the path and query",
    )
    .body()
    .to_string();
    format!(
        "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json; \
         charset=utf-8\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

impl<S: Socket> AsyncRead for ResettableIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: Socket> AsyncWrite for ResettableIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() && is_bare_parse_error(buf) {
            this.replacing = Some((parse_error_response(), 0, buf.len()));
        }
        let Some((data, written, original)) = &mut this.replacing else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        while *written < data.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &data[*written..]) {
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let original = *original;
        this.replacing = None;
        Poll::Ready(Ok(original))
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

impl<S: Socket> Drop for ResettableIo<S> {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // A zero linger makes close() send RST at once; it never blocks.
            #[expect(
                deprecated,
                reason = "SO_LINGER 0 is exactly the reset we want; it cannot block"
            )]
            let _ = self.inner.tcp().set_linger(Some(Duration::ZERO));
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
            let mut a = Answer::error(&limits::error(status, request_id));
            a.headers
                .push((header::RETRY_AFTER, retry_after.to_string()));
            a
        }
        FaultAction::Status { status } | FaultAction::StatusAfterApply { status } => {
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

/// Replaces the answer to a request that was applied: only the answer is lost (a gateway timing
/// out after the backend committed), so a client that retries blindly duplicates the write.
fn lose_answer(mut applied: Answer, action: &FaultAction, request_id: &str) -> Answer {
    let mut lost = fault_answer(action, request_id);
    lost.headers.extend(
        applied
            .headers
            .into_iter()
            .filter(|(n, _)| n.as_str().starts_with("x-ratelimit-")),
    );
    lost.identity = applied.identity.take();
    lost
}

/// A request id shaped like GitHub's `x-github-request-id`.
fn request_id(n: u64) -> String {
    format!(
        "51A0:{n:06X}:{:07X}:{n:07X}:00000000",
        n.wrapping_mul(7919) & 0x0FFF_FFFF
    )
}

/// One request counted against its identity's concurrent limit until dropped.
struct InFlight {
    shared: Arc<Shared>,
    who: String,
    refused: Option<Refusal>,
}

impl InFlight {
    /// Counts a request with a known token (App JWTs are counted when admitted, not here);
    /// admin and raw-file requests are not counted.
    fn enter(shared: &Arc<Shared>, headers: &HeaderMap, uncounted: bool) -> Option<InFlight> {
        if uncounted {
            return None;
        }
        let token = credentials(headers)?;
        let world = lock(&shared.world);
        let who = world.identity_by_token(&token)?.login;
        let limits = world.limits;
        drop(world);
        let refused = lock(&shared.secondary).enter(&who, &limits).err();
        Some(InFlight {
            shared: Arc::clone(shared),
            who,
            refused,
        })
    }
}

impl InFlight {
    /// The answer when this request is one too many in flight.
    fn refusal(&self, shared: &Shared, headers: &HeaderMap, request_id: &str) -> Option<Answer> {
        let rate = peek_rate_headers(shared, headers);
        let mut a = limit_answer(shared, rate, self.refused?, request_id);
        a.identity = Some(self.who.clone());
        Some(a)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.shared.secondary).leave(&self.who);
    }
}

/// The secondary-limit answer to a refused request, in the style the fault switch chose.
fn limit_answer(
    shared: &Shared,
    rate: Vec<(HeaderName, String)>,
    refusal: Refusal,
    request_id: &str,
) -> Answer {
    let world = lock(&shared.world);
    let (now, scale) = (world.clock.now_secs(), world.clock.scale());
    drop(world);
    let style = lock(&shared.faults).limit_answer;
    let wait = limits::real_seconds(refusal.wait_ms, scale);
    limits::answer(style, wait, now, request_id, rate)
}

/// Appends to the request log, dropping the oldest tenth when it is full.
fn record(shared: &Shared, entry: LoggedRequest) {
    let mut log = lock(&shared.log);
    if log.len() >= LOG_CAPACITY {
        log.drain(..LOG_CAPACITY / 10);
    }
    log.push(entry);
}

#[expect(
    clippy::too_many_lines,
    reason = "the pipeline reads best as one sequence of stages"
)]
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
    let request_id = request_id(n);
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
            let token = credentials(&parts.headers)?;
            lock(&shared.world)
                .identity_by_token(&token)
                .map(|i| i.login)
        }),
        status: 0,
        conditional,
        fault: fault.as_ref().map(FaultAction::label),
        at: lock(&shared.world).clock.now_secs(),
    };
    let mut cut_body = false;
    let mut after_apply = None;
    let in_flight = InFlight::enter(
        &shared,
        &parts.headers,
        admin || path.starts_with(crate::raw::PREFIX),
    );
    let answer = match fault {
        Some(FaultAction::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        Some(FaultAction::ConnectionReset) => {
            record(&shared, entry);
            reset.store(true, Ordering::SeqCst);
            return Err(Dropped);
        }
        Some(action @ (FaultAction::Status { .. } | FaultAction::SecondaryRateLimit { .. })) => {
            let mut a = fault_answer(&action, &request_id);
            a.headers.extend(peek_rate_headers(&shared, &parts.headers));
            Some(a)
        }
        Some(action @ FaultAction::StatusAfterApply { .. }) => {
            after_apply = Some(action);
            None
        }
        Some(FaultAction::CloseMidBody) => {
            cut_body = true;
            None
        }
        None => in_flight
            .as_ref()
            .and_then(|f| f.refusal(&shared, &parts.headers, &request_id)),
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
        None if path.starts_with(crate::raw::PREFIX) => {
            crate::raw::serve(&shared, &path, credentials(&parts.headers).as_deref())
        }
        None => web(&shared, &parts.method, &path).unwrap_or_else(|| {
            api(
                &shared,
                &parts.method,
                &path,
                &query_str,
                &parts.headers,
                &body,
                &request_id,
            )
        }),
    };
    if let Some(action) = after_apply {
        answer = lose_answer(answer, &action, &request_id);
    }
    answer
        .headers
        .push((HeaderName::from_static("x-github-request-id"), request_id));
    // GitHub's own clock: clients correct their JWTs' iat/exp by it.
    answer.headers.push((header::DATE, http_date(entry.at)));
    if let Some(who) = answer.identity.take() {
        entry.identity = Some(who);
    }
    entry.status = answer.status.as_u16();
    let api_version =
        (!admin && !path.starts_with(crate::raw::PREFIX)).then(|| selected_version(&parts.headers));
    if !admin {
        record(&shared, entry);
    }
    drop(in_flight);
    Ok(into_response(answer, cut_body, api_version))
}

fn into_response(
    answer: Answer,
    cut_body: bool,
    api_version: Option<&'static str>,
) -> Response<Body> {
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
    if let Some(version) = api_version {
        h.insert(
            HeaderName::from_static("x-github-api-version-selected"),
            HeaderValue::from_static(version),
        );
        h.insert(
            HeaderName::from_static("x-github-media-type"),
            HeaderValue::from_static("github.v3; format=json"),
        );
    }
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

/// The token of `Authorization: token X`, `Bearer X` or `Basic base64(user:X)` (GitHub accepts
/// a token as the Basic password, or as the user name with an empty or `x-oauth-basic` password).
fn credentials(headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, value) = v.split_once(' ')?;
    let value = value.trim();
    if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        return Some(value.to_owned());
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (user, password) = pair.split_once(':').unwrap_or((&pair, ""));
    let token = if password.is_empty() || password == "x-oauth-basic" {
        user
    } else {
        password
    };
    Some(token.to_owned())
}

/// Whether the credential came as `Authorization: Bearer …`.
fn bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
}

/// REST API versions the simulator answers, newest first (`X-GitHub-Api-Version`).
const API_VERSIONS: [&str; 2] = ["2026-03-10", "2022-11-28"];
/// The version selected when a request names none.
const DEFAULT_API_VERSION: &str = "2022-11-28";

/// The version a request selects, `None` when it names one GitHub does not support.
fn requested_version(headers: &HeaderMap) -> Option<&'static str> {
    match headers.get("x-github-api-version") {
        None => Some(DEFAULT_API_VERSION),
        Some(v) => API_VERSIONS
            .into_iter()
            .find(|known| v.as_bytes() == known.as_bytes()),
    }
}

/// The version echoed in `x-github-api-version-selected`.
fn selected_version(headers: &HeaderMap) -> &'static str {
    requested_version(headers).unwrap_or(DEFAULT_API_VERSION)
}

/// GitHub's 400 for an `X-GitHub-Api-Version` it does not support.
fn unsupported_version(headers: &HeaderMap) -> Option<ApiError> {
    if requested_version(headers).is_some() {
        return None;
    }
    let given = headers
        .get("x-github-api-version")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let supported = API_VERSIONS
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if i == 0 {
                format!("\"{v}\" (most recent)")
            } else {
                format!("\"{v}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    Some(
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "The version you specified in the \"X-GitHub-Api-Version\" request header, \"{given}\", \
                 is not a supported version. The following versions are currently supported: {supported}."
            ),
        )
        .doc("https://docs.github.com/rest/about-the-rest-api/api-versions"),
    )
}

/// The budget an unauthenticated caller has per hour (GitHub: 60 per IP address).
const ANONYMOUS_LIMIT: u32 = 60;
/// The limiter key of unauthenticated requests (one budget: every caller here is 127.0.0.1).
const ANONYMOUS: &str = "\0anonymous";

/// Rate headers of the caller's current window, without spending (for fault answers).
fn peek_rate_headers(shared: &Shared, headers: &HeaderMap) -> Vec<(HeaderName, String)> {
    let world = lock(&shared.world);
    let now = world.clock.now_secs();
    let (key, limit) = match credentials(headers)
        .and_then(|t| world.identity_by_token(&t).map(|i| (t, i.rate_limit)))
    {
        Some(found) => found,
        None => (ANONYMOUS.to_owned(), ANONYMOUS_LIMIT),
    };
    drop(world);
    let budget = lock(&shared.limiter).peek(&key, limit, now);
    rate_headers(&budget)
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

/// The `/rate_limit` body: every resource GitHub reports; `core` (and the deprecated `rate`)
/// is the caller's real window, the others are full budgets (nothing here spends them).
fn rate_limit_body(core: &Budget, who: &Identity) -> Value {
    let window = |limit: u32, reset: i64, used: u32| json!({"limit": limit, "used": used, "remaining": limit.saturating_sub(used), "reset": reset});
    let hour = core.reset;
    let minute = core.reset - 3600 + 60;
    let graphql = if who.kind == crate::spec::IdentityKind::GithubToken {
        1_000
    } else {
        5_000
    };
    let c = window(core.limit, core.reset, core.used);
    let mut rate = c.clone();
    if let Value::Object(m) = &mut rate {
        m.insert("resource".into(), json!("core"));
    }
    json!({
        "resources": {
            "core": c,
            "search": window(30, minute, 0),
            "graphql": window(graphql, hour, 0),
            "integration_manifest": window(5_000, hour, 0),
            "source_import": window(100, minute, 0),
            "code_scanning_upload": window(1_000, hour, 0),
            "code_scanning_autofix": window(10, minute, 0),
            "actions_runner_registration": window(10_000, hour, 0),
            "scim": window(15_000, hour, 0),
            "dependency_snapshots": window(100, minute, 0),
            "dependency_sbom": window(100, hour, 0),
            "audit_log": window(1_750, hour, 0),
            "audit_log_streaming": window(15, minute, 0),
            "code_search": window(10, minute, 0),
        },
        "rate": rate,
    })
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
        Ok(Reply::Redirect(location)) => Answer {
            status: StatusCode::FOUND,
            headers: vec![(header::LOCATION, location)],
            body: Vec::new(),
            identity: None,
        },
        Ok(Reply::Download { name, bytes }) => Answer {
            status: StatusCode::OK,
            headers: vec![
                (header::CONTENT_TYPE, "application/octet-stream".into()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename={name}"),
                ),
            ],
            body: bytes.to_vec(),
            identity: None,
        },
        Err(e) => Answer::error(&e),
    }
}

/// The non-empty segments of a request path, percent-decoded.
fn decoded_segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect()
}

/// The unauthenticated web routes (release downloads), outside the API's auth and rate limit.
fn web(shared: &Shared, method: &Method, path: &str) -> Option<Answer> {
    let decoded = decoded_segments(path);
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let route = routes::release_assets::WebRoute::parse(method, &segs)?;
    let mut world = lock(&shared.world);
    let outcome = route.serve(&mut world, &shared.base);
    world.touch();
    drop(world);
    Some(to_answer(outcome, "", &BTreeMap::new()))
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

/// GitHub's 401 with `message`, spending the unauthenticated budget.
fn unauthenticated(shared: &Shared, message: &str, now: i64) -> Answer {
    let mut limiter = lock(&shared.limiter);
    limiter.peek(ANONYMOUS, ANONYMOUS_LIMIT, now);
    let budget = limiter.spend(ANONYMOUS).unwrap_or(Budget {
        limit: ANONYMOUS_LIMIT,
        used: 0,
        reset: now + 3600,
    });
    let mut a = Answer::error(&ApiError::new(StatusCode::UNAUTHORIZED, message));
    a.headers.extend(rate_headers(&budget));
    a
}

/// An answer given before routing (version, rate limit): the caller's rate headers and login.
fn before_routing(mut answer: Answer, budget: &Budget, login: String) -> Answer {
    answer.headers.extend(rate_headers(budget));
    answer.identity = Some(login);
    answer
}

/// The authenticated REST pipeline.
#[expect(
    clippy::too_many_lines,
    reason = "the pipeline reads best as one sequence of stages"
)]
fn api(
    shared: &Shared,
    method: &Method,
    path: &str,
    query_str: &str,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let credential = credentials(headers);
    let decoded = decoded_segments(path);
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let mut world = lock(&shared.world);
    world.tick();
    let now = world.clock.now_secs();
    let (who, auth, key) = match sign_in(&world, credential.as_deref(), bearer(headers), &segs) {
        Ok(signed_in) => signed_in,
        Err(message) => {
            drop(world);
            return unauthenticated(shared, &message, now);
        }
    };
    let mut limiter = lock(&shared.limiter);
    let budget = limiter.peek(&key, who.rate_limit, now);
    if let Some(e) = unsupported_version(headers) {
        return before_routing(Answer::error(&e), &budget, who.login);
    }
    let query = parse_query(query_str);
    // HEAD answers exactly as GET (hyper sends no body) and costs the same.
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let admitted = lock(&shared.secondary).admit(
        &who.login,
        method,
        path,
        world.clock.now_ms(),
        &world.limits,
    );
    if let Err(refusal) = admitted {
        drop((world, limiter));
        let a = limit_answer(shared, rate_headers(&budget), refusal, request_id);
        return Answer {
            identity: Some(who.login),
            ..a
        };
    }
    if path == "/rate_limit" && method == Method::GET {
        let body = rate_limit_body(&budget, &who);
        return before_routing(Answer::json(StatusCode::OK, &body), &budget, who.login);
    }
    if budget.remaining() == 0 {
        let e = ApiError::new(
            StatusCode::FORBIDDEN,
            format!("API rate limit exceeded for user ID {}.", who.id),
        )
        .doc("https://docs.github.com/rest/overview/rate-limits-for-the-rest-api");
        return before_routing(Answer::error(&e), &budget, who.login);
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ctx = Ctx {
        base: &shared.base,
        method,
        query: &query,
        body,
        who: &who,
        auth,
        accept,
        content_type,
    };
    let cache_key = (method == Method::GET).then(|| format!("{key}\n{path}?{query_str}\n{accept}"));
    let cached = cache_key
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
            if let (Some(k), true) = (cache_key, before == after) {
                lock(&shared.cache).put(k, after, &a);
            }
        }
        a
    };
    answer.identity = Some(who.login);
    finish(answer, headers, &mut limiter, &key, budget)
}

/// Who a request signs in as, how, and the key of its rate-limit window and cached answers:
/// an App by its JWT (sent as `Bearer`, as GitHub requires), or an identity by its token (a
/// token on a route that takes a JWT is refused as GitHub refuses it). `Err` holds GitHub's 401
/// message.
fn sign_in<'a>(
    world: &World,
    credential: Option<&'a str>,
    bearer: bool,
    segs: &[&str],
) -> Result<(Identity, Auth<'a>, String), String> {
    let Some(credential) = credential else {
        return Err("Requires authentication".into());
    };
    if bearer && jwt::looks_like_jwt(credential) {
        let app = world
            .authenticate_app(credential)
            .map_err(|e| e.to_string())?;
        let bot = world.identities.get(&app.bot).cloned();
        return bot
            .map(|who| (who, Auth::App(app.id), format!("\0app:{}", app.id)))
            .ok_or_else(|| JwtError::UnknownIntegration.to_string());
    }
    if routes::apps::needs_jwt(segs) {
        return Err(JwtError::Undecodable.to_string());
    }
    world
        .identity_by_token(credential)
        .map(|who| (who, Auth::Token(credential), credential.to_owned()))
        .ok_or_else(|| "Bad credentials".into())
}
