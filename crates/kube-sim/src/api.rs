//! HTTP routes: resource paths parsed by hand into (resource, namespace, name, subresource),
//! verbs dispatched onto the world, content negotiation for Tables, faults and the request log.
//! Anything unknown gets a loud 404/405 with a `Status` body.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};

use crate::discovery;
use crate::error::ApiError;
use crate::faults::{FaultKind, Verb};
use crate::patch::PatchType;
use crate::resources::Resource;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::sim::Inner;
use crate::store::meta_str;
use crate::table::{self, IncludeObject};
use crate::watch;
use crate::world::{Propagation, RequestRecord};

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(handle).with_state(inner)
}

fn json_response(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(http::header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// A parsed resource path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub resource: Resource,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

enum Route {
    Doc(Value),
    Resource(Target),
}

fn parse_path(path: &str, server: &str) -> Result<Route, ApiError> {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let unknown = || ApiError::not_found_route(path);
    let (group, rest) = match segs.as_slice() {
        ["version"] => return Ok(Route::Doc(discovery::version())),
        ["api"] => return Ok(Route::Doc(discovery::core_versions(server))),
        ["apis"] => return Ok(Route::Doc(discovery::group_list())),
        ["apis", "apps"] => return Ok(Route::Doc(discovery::apps_group_doc())),
        ["api", "v1"] => return Ok(Route::Doc(discovery::resource_list(""))),
        ["apis", "apps", "v1"] => return Ok(Route::Doc(discovery::resource_list("apps"))),
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", "apps", "v1", rest @ ..] => ("apps", rest),
        _ => return Err(unknown()),
    };
    let (namespace, rest): (Option<String>, &[&str]) = match rest {
        ["namespaces", ns, r, tail @ ..] if !matches!(*r, "status" | "finalize") => {
            (Some((*ns).to_owned()), &rest[2..=2 + tail.len()])
        }
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some((*n).to_owned()), None),
        [p, n, s] => (*p, Some((*n).to_owned()), Some((*s).to_owned())),
        _ => return Err(unknown()),
    };
    let resource = Resource::from_plural(group, plural).ok_or_else(unknown)?;
    if namespace.is_some() && !resource.namespaced() {
        return Err(unknown());
    }
    if let Some(s) = &sub {
        let ok = match s.as_str() {
            "status" => !matches!(resource, Resource::Events | Resource::Endpoints),
            "scale" => matches!(resource, Resource::Deployments | Resource::ReplicaSets),
            "log" => resource == Resource::Pods,
            _ => false,
        };
        if !ok {
            return Err(unknown());
        }
    }
    Ok(Route::Resource(Target {
        resource,
        namespace,
        name,
        subresource: sub,
    }))
}

impl ApiError {
    pub fn not_found_route(path: &str) -> Self {
        ApiError::new(404, "NotFound", format!("the server could not find the requested resource (kube-sim does not serve {path})"))
            .with_details(json!({"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]}))
    }
}

fn verb_of(method: &Method, target: &Target, query: &HashMap<String, String>) -> Option<Verb> {
    Some(match *method {
        Method::GET if query.get("watch").is_some_and(|w| w == "true" || w == "1") => Verb::Watch,
        Method::GET if target.name.is_some() => Verb::Get,
        Method::GET => Verb::List,
        Method::POST if target.name.is_none() => Verb::Create,
        Method::PUT if target.name.is_some() => Verb::Update,
        Method::PATCH if target.name.is_some() => Verb::Patch,
        Method::DELETE if target.name.is_some() => Verb::Delete,
        _ => return None,
    })
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("as=Table"))
}

fn include_object(query: &HashMap<String, String>) -> IncludeObject {
    match query.get("includeObject").map(String::as_str) {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    }
}

fn is_dry_run(query: &HashMap<String, String>) -> Result<bool, ApiError> {
    match query.get("dryRun").map(String::as_str) {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: {other}; supported values: [\"All\"]"
        ))),
    }
}

fn scale_of(obj: &Value) -> Value {
    let sel = table::cells(Resource::Deployments, obj, time::OffsetDateTime::UNIX_EPOCH)
        .get(7)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta_str(obj, "name"), "namespace": meta_str(obj, "namespace"), "uid": meta_str(obj, "uid"),
            "resourceVersion": meta_str(obj, "resourceVersion"), "creationTimestamp": meta_str(obj, "creationTimestamp"),
        },
        "spec": {"replicas": obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0))},
        "status": {"replicas": obj.pointer("/status/replicas").cloned().unwrap_or(json!(0)), "selector": sel},
    })
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let full = uri
        .path_and_query()
        .map_or_else(|| path.clone(), ToString::to_string);
    let grant = match crate::auth::authenticate(&inner.tokens, &headers) {
        Ok(grant) => grant,
        Err(e) => return refuse(&inner, &method, full, None, None, e),
    };
    let route = match parse_path(&path, &inner.server_addr()) {
        Ok(r) => r,
        Err(e) => {
            if matches!(path.as_str(), "/healthz" | "/readyz" | "/livez") {
                return (StatusCode::OK, "ok").into_response();
            }
            return refuse(&inner, &method, full, None, None, e);
        }
    };
    let target = match route {
        Route::Doc(doc) => {
            if method != Method::GET {
                return ApiError::method_not_allowed(format!(
                    "the server does not allow this method on {path}"
                ))
                .into_response();
            }
            return json_response(StatusCode::OK, &doc);
        }
        Route::Resource(t) => t,
    };
    let Some(verb) = verb_of(&method, &target, &query) else {
        let e = ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method} {path})"
        ));
        return refuse(&inner, &method, full, None, Some(&target), e);
    };
    if let Some(grant) = grant
        && !grant.access.allows(&crate::auth::Request {
            verb,
            resource: target.resource,
            subresource: target.subresource.as_deref(),
            namespace: target.namespace.as_deref(),
            name: target.name.as_deref(),
        })
    {
        let e = crate::auth::forbidden(
            &grant.user,
            verb,
            target.resource,
            target.subresource.as_deref(),
            target.namespace.as_deref(),
            target.name.as_deref(),
        );
        return refuse(&inner, &method, full, Some(verb), Some(&target), e);
    }
    // Faults: latency first, then injected statuses and concurrent writers.
    let (latency, fault) = {
        let mut w = inner.lock();
        let latency = w.take_fault(verb, Some(target.resource), target.name.as_deref(), |k| {
            matches!(k, FaultKind::Latency(_))
        });
        let fault = w.take_fault(verb, Some(target.resource), target.name.as_deref(), |k| {
            matches!(
                k,
                FaultKind::Status(_) | FaultKind::ConcurrentWrite | FaultKind::ConcurrentPatch(_)
            )
        });
        (latency, fault)
    };
    if let Some(FaultKind::Latency(d)) = latency {
        tokio::time::sleep(d).await;
    }
    let result = match fault {
        Some(FaultKind::Status(code)) => Err(injected(code)),
        Some(FaultKind::ConcurrentWrite) => {
            concurrent_write(&inner, &target, None);
            serve(&inner, verb, &target, &query, &headers, &body)
        }
        Some(FaultKind::ConcurrentPatch(patch)) => {
            concurrent_write(&inner, &target, Some(&patch));
            serve(&inner, verb, &target, &query, &headers, &body)
        }
        _ => serve(&inner, verb, &target, &query, &headers, &body),
    };
    let (status, response) = match result {
        Ok((code, resp)) => (code, resp),
        Err(e) => (e.code, e.into_response()),
    };
    inner.log(RequestRecord {
        method: method.to_string(),
        path: full,
        verb: Some(verb),
        resource: Some(target.resource),
        namespace: target.namespace.clone(),
        name: target.name.clone(),
        status,
    });
    response
}

/// Logs a request refused before it reached a route, and answers with the error.
fn refuse(
    inner: &Inner,
    method: &Method,
    path: String,
    verb: Option<Verb>,
    target: Option<&Target>,
    e: ApiError,
) -> Response {
    inner.log(RequestRecord {
        method: method.to_string(),
        path,
        verb,
        resource: target.map(|t| t.resource),
        namespace: target.and_then(|t| t.namespace.clone()),
        name: target.and_then(|t| t.name.clone()),
        status: e.code,
    });
    e.into_response()
}

fn injected(code: u16) -> ApiError {
    match code {
        503 => ApiError::new(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request (injected fault)",
        ),
        429 => ApiError::new(
            429,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later (injected fault)",
        ),
        409 => ApiError::new(
            409,
            "Conflict",
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected fault)",
        ),
        410 => ApiError::gone("too old resource version (injected fault)"),
        504 => ApiError::new(
            504,
            "Timeout",
            "the server was unable to return a response in the time allotted (injected fault)",
        ),
        c => ApiError::new(
            c,
            "InternalError",
            format!("Internal error occurred: injected fault ({c})"),
        ),
    }
}

/// A second writer changes the object, bumping its resourceVersion: it applies `patch` (a JSON
/// merge patch), or else counts itself in the `kube-sim/concurrent-writes` annotation.
fn concurrent_write(inner: &Inner, target: &Target, patch: Option<&Value>) {
    let (Some(name), ns) = (&target.name, target.namespace.as_deref().unwrap_or("")) else {
        return;
    };
    let mut w = inner.lock();
    let Some(obj) = w.get(target.resource, ns, name) else {
        return;
    };
    let counted;
    let patch = if let Some(patch) = patch {
        patch
    } else {
        let n = obj
            .pointer("/metadata/annotations/kube-sim~1concurrent-writes")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        counted =
            json!({"metadata": {"annotations": {"kube-sim/concurrent-writes": n.to_string()}}});
        &counted
    };
    if let Err(e) = w.patch(
        target.resource,
        ns,
        name,
        PatchType::Merge,
        patch,
        false,
        false,
    ) {
        tracing::warn!(error = %e, "concurrent write failed");
    }
    drop(w);
    inner.notify.notify_one();
}

type Served = Result<(u16, Response), ApiError>;

/// The object in a create or update body: JSON, YAML, or the protobuf subset typed clients send.
fn request_object(r: Resource, headers: &HeaderMap, body: &Bytes) -> Result<Value, ApiError> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    match media {
        crate::protobuf::MEDIA_TYPE => crate::protobuf::decode(r, body),
        "" | "application/json" | "application/yaml" | "*/*" => parse_body(body),
        other => Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, {} (got {other:?})",
                crate::protobuf::MEDIA_TYPE
            ),
        )),
    }
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .or_else(|_| serde_yaml::from_slice::<Value>(body))
        .map_err(|e| {
            ApiError::bad_request(format!(
                "the body of the request was in an unknown format: {e}"
            ))
        })
}

#[expect(
    clippy::too_many_lines,
    reason = "one match arm per verb reads best side by side"
)]
fn serve(
    inner: &Arc<Inner>,
    verb: Verb,
    t: &Target,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Served {
    let r = t.resource;
    let ns = t.namespace.clone().unwrap_or_default();
    if r.namespaced() && t.namespace.is_none() && !matches!(verb, Verb::List | Verb::Watch) {
        return Err(ApiError::not_found_route("(namespace required)"));
    }
    let name = t.name.clone().unwrap_or_default();
    let table = wants_table(headers);
    let scale = t.subresource.as_deref() == Some("scale");
    let status_only = t.subresource.as_deref() == Some("status");
    if t.subresource.as_deref() == Some("log") {
        if verb != Verb::Get {
            return Err(ApiError::method_not_allowed(format!(
                "the server does not allow this method on the requested resource ({verb:?} pods/log)"
            )));
        }
        let w = inner.lock();
        let pod = w
            .get(r, &ns, &name)
            .ok_or_else(|| ApiError::not_found(r.plural(), r.group(), &name))?;
        let text = crate::logs::read(pod, &w.images, query)?;
        let response = (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "text/plain")],
            text,
        )
            .into_response();
        return Ok((200, response));
    }
    match verb {
        Verb::Watch => {
            let labels =
                LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))?;
            let mut fields =
                FieldSelector::parse_for(r, query.get("fieldSelector").map_or("", String::as_str))?;
            if let Some(n) = &t.name {
                fields = FieldSelector::parse(&format!("metadata.name={n}"))?;
            }
            let opts = watch::WatchOptions {
                resource: r,
                namespace: t.namespace.clone(),
                labels,
                fields,
                resource_version: query.get("resourceVersion").cloned().unwrap_or_default(),
                bookmarks: query
                    .get("allowWatchBookmarks")
                    .is_some_and(|v| v == "true"),
                send_initial_events: query.get("sendInitialEvents").is_some_and(|v| v == "true"),
                timeout: query
                    .get("timeoutSeconds")
                    .and_then(|s| s.parse::<u64>().ok())
                    .map(Duration::from_secs),
                table: table.then(|| include_object(query)),
            };
            Ok((200, watch::serve(inner, opts)))
        }
        Verb::List => {
            let labels =
                LabelSelector::parse(query.get("labelSelector").map_or("", String::as_str))?;
            let fields =
                FieldSelector::parse_for(r, query.get("fieldSelector").map_or("", String::as_str))?;
            let w = inner.lock();
            let items: Vec<&Value> = w
                .store
                .list(r, t.namespace.as_deref())
                .into_iter()
                .filter(|o| labels.matches(o) && fields.matches(o))
                .collect();
            let rv = w.store.current_rv();
            if table {
                return Ok((
                    200,
                    json_response(
                        StatusCode::OK,
                        &table::table(r, &items, rv, w.clock.now(), include_object(query), true),
                    ),
                ));
            }
            let items: Vec<Value> = items
                .into_iter()
                .map(|o| {
                    let mut o = o.clone();
                    if let Value::Object(m) = &mut o {
                        m.remove("apiVersion");
                        m.remove("kind");
                    }
                    o
                })
                .collect();
            let list = json!({"kind": format!("{}List", r.kind()), "apiVersion": r.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items});
            Ok((200, json_response(StatusCode::OK, &list)))
        }
        Verb::Get => {
            let w = inner.lock();
            let obj = w
                .get(r, &ns, &name)
                .ok_or_else(|| ApiError::not_found(r.plural(), r.group(), &name))?;
            if scale {
                return Ok((200, json_response(StatusCode::OK, &scale_of(obj))));
            }
            if table {
                return Ok((
                    200,
                    json_response(
                        StatusCode::OK,
                        &table::table(
                            r,
                            &[obj],
                            w.store.current_rv(),
                            w.clock.now(),
                            include_object(query),
                            true,
                        ),
                    ),
                ));
            }
            Ok((200, json_response(StatusCode::OK, obj)))
        }
        Verb::Create => {
            let dry = is_dry_run(query)?;
            let obj = request_object(r, headers, body)?;
            let created = inner.lock().create(r, &ns, obj, dry)?;
            inner.notify.notify_one();
            Ok((201, json_response(StatusCode::CREATED, &created)))
        }
        Verb::Update => {
            let dry = is_dry_run(query)?;
            let obj = if scale {
                parse_body(body)?
            } else {
                request_object(r, headers, body)?
            };
            let out = if scale {
                let replicas = obj.pointer("/spec/replicas").cloned().unwrap_or(json!(0));
                let mut w = inner.lock();
                let mut cur = w
                    .get(r, &ns, &name)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found(r.plural(), r.group(), &name))?;
                let rv = meta_str(&obj, "resourceVersion");
                if !rv.is_empty() && rv != meta_str(&cur, "resourceVersion") {
                    return Err(ApiError::conflict(r.plural(), r.group(), &name));
                }
                cur["spec"]["replicas"] = replicas;
                scale_of(&w.update(r, &ns, &name, cur, false, dry)?)
            } else {
                inner.lock().update(r, &ns, &name, obj, status_only, dry)?
            };
            inner.notify.notify_one();
            Ok((200, json_response(StatusCode::OK, &out)))
        }
        Verb::Patch => {
            let dry = is_dry_run(query)?;
            let ct = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = PatchType::from_content_type(ct).ok_or_else(|| {
                ApiError::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {ct:?})"))
            })?;
            let patch = parse_body(body)?;
            let out = if scale {
                let mut w = inner.lock();
                let cur = w
                    .get(r, &ns, &name)
                    .cloned()
                    .ok_or_else(|| ApiError::not_found(r.plural(), r.group(), &name))?;
                let patched = crate::patch::apply(kind, &scale_of(&cur), &patch)?;
                let mut obj = cur;
                obj["spec"]["replicas"] = patched
                    .pointer("/spec/replicas")
                    .cloned()
                    .unwrap_or(json!(0));
                scale_of(&w.update(r, &ns, &name, obj, false, dry)?)
            } else {
                inner
                    .lock()
                    .patch(r, &ns, &name, kind, &patch, status_only, dry)?
            };
            inner.notify.notify_one();
            Ok((200, json_response(StatusCode::OK, &out)))
        }
        Verb::Delete => {
            let dry = is_dry_run(query)?;
            let opts = parse_body(body).unwrap_or(Value::Null);
            let propagation = Propagation::from_request(
                query.get("propagationPolicy").map(String::as_str),
                &opts,
            );
            let grace = query
                .get("gracePeriodSeconds")
                .and_then(|g| g.parse::<i64>().ok())
                .or_else(|| opts.get("gracePeriodSeconds").and_then(Value::as_i64));
            let removed = inner
                .lock()
                .delete_with_grace(r, &ns, &name, propagation, dry, grace)?;
            inner.notify.notify_one();
            let pending = removed
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|v| !v.is_null());
            // Pods and Services (`ReturnDeletedObject` in their registries) answer with the object.
            if matches!(r, Resource::Pods | Resource::Services) || pending {
                return Ok((200, json_response(StatusCode::OK, &removed)));
            }
            let status = json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": r.group(), "kind": r.plural(), "uid": meta_str(&removed, "uid")},
            });
            Ok((200, json_response(StatusCode::OK, &status)))
        }
    }
}

/// An empty chunked body helper for streams.
pub fn stream_body<S>(s: S) -> Response
where
    S: futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
{
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(s))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
