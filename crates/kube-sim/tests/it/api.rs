//! Raw API semantics over HTTP: discovery, Status errors, create/update/patch/delete, dry-run,
//! selectors, Tables, watch resume/410/bookmarks, faults and the request log.

use std::time::Duration;

use kube_sim::{Config, Fault, KubeSim, Resource, Verb};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{deployment_yaml, get, http, start};

const DEPLOY: &str = "/apis/apps/v1/namespaces/prod/deployments";

fn lines(body: &str) -> Vec<Value> {
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("watch line is JSON"))
        .collect()
}

#[tokio::test]
async fn discovery_and_loud_errors() {
    let sim = start(1.0, "").await;
    assert_eq!(
        get(&sim, "/version").await.json()["gitVersion"],
        "v1.33.0+kube-sim"
    );
    assert_eq!(get(&sim, "/api").await.json()["versions"], json!(["v1"]));
    assert_eq!(get(&sim, "/apis").await.json()["groups"][0]["name"], "apps");
    let apps = get(&sim, "/apis/apps/v1").await.json();
    let names: Vec<&str> = apps["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for want in [
        "deployments",
        "deployments/status",
        "deployments/scale",
        "replicasets",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    let core = get(&sim, "/api/v1").await.json();
    assert!(
        core["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["name"] == "pods" && r["shortNames"] == json!(["po"]))
    );

    let unknown = get(&sim, "/apis/batch/v1/namespaces/prod/jobs").await;
    assert_eq!(unknown.status, 404);
    let s = unknown.json();
    assert_eq!(
        (
            s["kind"].as_str(),
            s["status"].as_str(),
            s["reason"].as_str(),
            s["code"].as_i64()
        ),
        (Some("Status"), Some("Failure"), Some("NotFound"), Some(404))
    );
    let nf = get(&sim, "/apis/apps/v1/namespaces/default/deployments/nope").await;
    assert_eq!(nf.status, 404);
    assert_eq!(nf.json()["message"], "deployments.apps \"nope\" not found");
    assert_eq!(
        nf.json()["details"],
        json!({"name": "nope", "group": "apps", "kind": "deployments"})
    );
    let post_named = http(
        &sim,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments/x",
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(post_named.status, 405);
    assert_eq!(post_named.json()["reason"], "MethodNotAllowed");
}

#[tokio::test]
async fn create_validate_dry_run_and_delete_cascades() {
    let sim = start(
        100.0,
        &deployment_yaml("prod", "web", 2, "registry.example/app:1.0", ""),
    )
    .await;
    let body = |name: &str, label: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": label}}, "spec": {"containers": [{"name": "c", "image": "registry.example/app:1.0"}]}}}})
        .to_string()
    };
    let dup = http(&sim, "POST", DEPLOY, "application/json", &body("web", "x")).await;
    assert_eq!(
        (dup.status, dup.json()["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    let invalid = http(&sim, "POST", DEPLOY, "application/json", &body("bad", "y")).await;
    assert_eq!(
        (invalid.status, invalid.json()["reason"].as_str()),
        (422, Some("Invalid"))
    );
    assert!(
        invalid.json()["message"]
            .as_str()
            .expect("message")
            .starts_with("Deployment.apps \"bad\" is invalid: spec.template.metadata.labels"),
        "{}",
        invalid.body
    );
    let no_ns = http(
        &sim,
        "POST",
        "/apis/apps/v1/namespaces/ghost/deployments",
        "application/json",
        &body("a", "x"),
    )
    .await;
    assert_eq!(no_ns.status, 404);
    assert_eq!(no_ns.json()["message"], "namespaces \"ghost\" not found");

    let dry = http(
        &sim,
        "POST",
        &format!("{DEPLOY}?dryRun=All"),
        "application/json",
        &body("dry", "x"),
    )
    .await;
    assert_eq!(dry.status, 201);
    let d = dry.json();
    assert_eq!(
        d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%",
        "defaults applied"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert_eq!(
        get(&sim, &format!("{DEPLOY}/dry")).await.status,
        404,
        "dry-run stores nothing"
    );

    let created = http(&sim, "POST", DEPLOY, "application/json", &body("api", "x")).await;
    assert_eq!(created.status, 201);
    let c = created.json();
    assert_eq!(c["metadata"]["generation"], 1);
    assert!(c["metadata"]["uid"].as_str().is_some_and(|u| u.len() == 36));
    assert!(
        sim.wait_until(Duration::from_secs(10), |s| s
            .list::<k8s_openapi::api::core::v1::Pod>(Some("prod"))
            .len()
            == 3)
            .await
    );

    let del = http(
        &sim,
        "DELETE",
        &format!("{DEPLOY}/web"),
        "application/json",
        "",
    )
    .await;
    assert_eq!(
        (del.status, del.json()["status"].as_str()),
        (200, Some("Success"))
    );
    let pods = get(&sim, "/api/v1/namespaces/prod/pods?labelSelector=app%3Dweb")
        .await
        .json();
    assert!(
        pods["items"].as_array().is_some_and(|p| p
            .iter()
            .all(|p| p["metadata"]["deletionTimestamp"].is_string())),
        "pods deleted with their deployment turn Terminating: {pods}"
    );
    let rs = get(&sim, "/apis/apps/v1/namespaces/prod/replicasets")
        .await
        .json();
    assert_eq!(
        rs["items"].as_array().map(Vec::len),
        Some(1),
        "only api's ReplicaSet is left"
    );
    assert_eq!(rs["kind"], "ReplicaSetList");
    assert!(
        rs["items"][0].get("kind").is_none(),
        "list items carry no kind, as the real server"
    );
}

#[tokio::test]
async fn update_conflicts_and_patch_flavours() {
    let sim = start(
        100.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    )
    .await;
    let cur = get(&sim, &format!("{DEPLOY}/web")).await.json();
    let mut stale = cur.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    let put = http(
        &sim,
        "PUT",
        &format!("{DEPLOY}/web"),
        "application/json",
        &stale.to_string(),
    )
    .await;
    assert_eq!(
        (put.status, put.json()["reason"].as_str()),
        (409, Some("Conflict"))
    );

    let sp = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}]}]}}}});
    let r = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/strategic-merge-patch+json",
        &sp.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = r.json();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example/app:1.0"
    );
    assert_eq!(d["metadata"]["generation"], 2);
    // A merge patch replaces lists wholesale.
    let mp = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:1.1"}]}}}});
    let d = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/merge-patch+json",
        &mp.to_string(),
    )
    .await
    .json();
    assert!(
        d["spec"]["template"]["spec"]["containers"][0]
            .get("env")
            .is_none()
    );
    let jp = json!([{"op": "test", "path": "/spec/replicas", "value": 7}]);
    let r = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/json-patch+json",
        &jp.to_string(),
    )
    .await;
    assert_eq!(r.status, 422);
    let jp = json!([{"op": "test", "path": "/spec/replicas", "value": 1}, {"op": "replace", "path": "/spec/replicas", "value": 2}]);
    let r = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/json-patch+json",
        &jp.to_string(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["spec"]["replicas"].as_i64()),
        (200, Some(2))
    );
    let r = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/apply-patch+yaml",
        "{}",
    )
    .await;
    assert_eq!(r.status, 415);
    // Scale subresource, as `kubectl scale` uses it.
    let r = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web/scale"),
        "application/merge-patch+json",
        r#"{"spec":{"replicas":3}}"#,
    )
    .await;
    assert_eq!((r.status, r.json()["kind"].as_str()), (200, Some("Scale")));
    assert_eq!(
        get(&sim, &format!("{DEPLOY}/web")).await.json()["spec"]["replicas"],
        3
    );
    // Status writes leave the spec alone and do not bump generation.
    let before = get(&sim, &format!("{DEPLOY}/web")).await.json();
    let mut st = before.clone();
    st["spec"]["replicas"] = json!(9);
    st["metadata"]["resourceVersion"] = Value::Null;
    let r = http(
        &sim,
        "PUT",
        &format!("{DEPLOY}/web/status"),
        "application/json",
        &st.to_string(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["spec"]["replicas"], 3);
    assert_eq!(
        r.json()["metadata"]["generation"],
        before["metadata"]["generation"]
    );
}

#[tokio::test]
async fn selectors_and_tables() {
    let sim = start(
        100.0,
        &deployment_yaml("prod", "web", 2, "registry.example/app:1.0", ""),
    )
    .await;
    sim.apply_manifests(&deployment_yaml(
        "prod",
        "api",
        1,
        "registry.example/app:1.0",
        "",
    ))
    .expect("apply");
    assert!(
        sim.wait_until(Duration::from_secs(10), |s| s
            .list::<k8s_openapi::api::core::v1::Pod>(Some("prod"))
            .len()
            == 3)
            .await
    );
    let all = get(&sim, "/api/v1/pods").await.json();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3));
    let web = get(
        &sim,
        "/api/v1/namespaces/prod/pods?labelSelector=app%20in%20(web)",
    )
    .await
    .json();
    assert_eq!(web["items"].as_array().map(Vec::len), Some(2));
    let not_web = get(
        &sim,
        "/api/v1/namespaces/prod/pods?labelSelector=app!%3Dweb",
    )
    .await
    .json();
    assert_eq!(not_web["items"].as_array().map(Vec::len), Some(1));
    let by_name = get(
        &sim,
        "/apis/apps/v1/namespaces/prod/deployments?fieldSelector=metadata.name%3Dapi",
    )
    .await
    .json();
    assert_eq!(by_name["items"][0]["metadata"]["name"], "api");

    let mut s = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect");
    let req = format!(
        "GET {DEPLOY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = String::new();
    s.read_to_string(&mut buf).await.expect("read");
    let table: Value =
        serde_json::from_str(buf.split_once("\r\n\r\n").expect("body").1).expect("table json");
    assert_eq!(table["kind"], "Table");
    let cols: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .expect("cols")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        cols,
        [
            "Name",
            "Ready",
            "Up-to-date",
            "Available",
            "Age",
            "Containers",
            "Images",
            "Selector"
        ]
    );
    assert_eq!(table["rows"].as_array().map(Vec::len), Some(2));
    assert_eq!(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

#[tokio::test]
async fn watch_resumes_expires_and_bookmarks() {
    let sim = KubeSim::start(Config {
        time_scale: 100.0,
        images: crate::common::images(),
        manifests: deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        bookmark_interval: Duration::from_millis(200),
        ..Config::default()
    })
    .await
    .expect("start");
    let rv = get(&sim, DEPLOY).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    let mp = json!({"spec": {"replicas": 2}});
    assert_eq!(
        http(
            &sim,
            "PATCH",
            &format!("{DEPLOY}/web"),
            "application/merge-patch+json",
            &mp.to_string()
        )
        .await
        .status,
        200
    );
    let w = get(
        &sim,
        &format!(
            "{DEPLOY}?watch=true&resourceVersion={rv}&timeoutSeconds=1&allowWatchBookmarks=true"
        ),
    )
    .await;
    assert_eq!(w.status, 200);
    let evs = lines(&w.body);
    assert!(
        evs.iter()
            .any(|e| e["type"] == "MODIFIED" && e["object"]["spec"]["replicas"] == 2),
        "{evs:?}"
    );
    assert!(
        evs.iter().all(|e| e["type"] != "ADDED"),
        "resuming replays only later changes"
    );
    assert!(
        evs.iter()
            .any(|e| e["type"] == "BOOKMARK" && e["object"]["kind"] == "Deployment"),
        "{evs:?}"
    );
    // Without a resourceVersion, a watch starts with the current state.
    let w = get(
        &sim,
        &format!("{DEPLOY}?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dweb"),
    )
    .await;
    assert_eq!(lines(&w.body)[0]["type"], "ADDED");
    // After compaction, resuming from the old version is 410 Gone.
    sim.compact();
    let w = get(
        &sim,
        &format!("{DEPLOY}?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let evs = lines(&w.body);
    assert_eq!(evs.len(), 1);
    assert_eq!(
        (
            evs[0]["type"].as_str(),
            evs[0]["object"]["code"].as_i64(),
            evs[0]["object"]["reason"].as_str()
        ),
        (Some("ERROR"), Some(410), Some("Expired"))
    );
}

#[tokio::test]
async fn injected_faults_and_request_log() {
    let sim = start(
        100.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    )
    .await;
    sim.add_fault(
        Fault::status(503)
            .on(Verb::Patch)
            .resource(Resource::Deployments)
            .times(1),
    );
    sim.add_fault(Fault::status(500).on(Verb::Get).named("web").times(1));
    sim.add_fault(
        Fault::latency(Duration::from_millis(150))
            .on(Verb::List)
            .times(1),
    );
    let mp = r#"{"spec":{"replicas":2}}"#;
    let r = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/merge-patch+json",
        mp,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (503, Some("ServiceUnavailable"))
    );
    assert_eq!(
        http(
            &sim,
            "PATCH",
            &format!("{DEPLOY}/web"),
            "application/merge-patch+json",
            mp
        )
        .await
        .status,
        200,
        "fires once"
    );
    assert_eq!(get(&sim, &format!("{DEPLOY}/web")).await.status, 500);
    let t = std::time::Instant::now();
    assert_eq!(get(&sim, DEPLOY).await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));

    // A concurrent writer makes a PUT carrying the resourceVersion it read conflict.
    sim.add_fault(Fault::concurrent_write().on(Verb::Update).times(1));
    let cur = get(&sim, &format!("{DEPLOY}/web")).await.json();
    let r = http(
        &sim,
        "PUT",
        &format!("{DEPLOY}/web"),
        "application/json",
        &cur.to_string(),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (409, Some("Conflict"))
    );
    let cur = get(&sim, &format!("{DEPLOY}/web")).await.json();
    assert_eq!(
        cur["metadata"]["annotations"]["kube-sim/concurrent-writes"],
        "1"
    );
    assert_eq!(
        http(
            &sim,
            "PUT",
            &format!("{DEPLOY}/web"),
            "application/json",
            &cur.to_string()
        )
        .await
        .status,
        200
    );

    assert_eq!(
        sim.count_requests(Verb::Patch, Some(Resource::Deployments)),
        2
    );
    assert_eq!(sim.count_requests(Verb::Update, None), 2);
    assert!(
        sim.requests()
            .iter()
            .any(|r| r.status == 503 && r.path.ends_with("/deployments/web"))
    );
}

#[tokio::test]
async fn label_selector_watches_see_objects_enter_and_leave() {
    let sim = start(
        100.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    )
    .await;
    let rv = get(&sim, DEPLOY).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    for tier in ["gold", "silver"] {
        let mp = json!({"metadata": {"labels": {"tier": tier}}});
        assert_eq!(
            http(
                &sim,
                "PATCH",
                &format!("{DEPLOY}/web"),
                "application/merge-patch+json",
                &mp.to_string()
            )
            .await
            .status,
            200
        );
    }
    let w = get(
        &sim,
        &format!(
            "{DEPLOY}?watch=true&resourceVersion={rv}&timeoutSeconds=1&labelSelector=tier%3Dgold"
        ),
    )
    .await;
    let kinds: Vec<String> = lines(&w.body)
        .iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(kinds, ["ADDED", "DELETED"], "{}", w.body);
}

#[tokio::test]
async fn invalid_specs_and_unsupported_field_selectors_are_refused() {
    let sim = start(
        100.0,
        &deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
    )
    .await;
    let deployment = |name: &str, change: &Value| {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}}}});
        kube_sim::patch::apply(kube_sim::patch::PatchType::Merge, &d, change)
            .expect("merge")
            .to_string()
    };
    let cases = [
        (
            "surge",
            json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": "0%"}}}}),
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0",
        ),
        (
            "label",
            json!({"metadata": {"labels": {"team": "a b"}}}),
            "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string",
        ),
        (
            "container",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "App_1", "image": "registry.example/app:1.0"}]}}}}),
            "spec.template.spec.containers[0].name: Invalid value: \"App_1\": a lowercase RFC 1123 label must consist of",
        ),
        (
            "deadline",
            json!({"spec": {"minReadySeconds": 30, "progressDeadlineSeconds": 30}}),
            "spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds",
        ),
    ];
    for (name, change, want) in cases {
        let r = http(
            &sim,
            "POST",
            DEPLOY,
            "application/json",
            &deployment(name, &change),
        )
        .await;
        assert_eq!(
            (r.status, r.json()["reason"].as_str()),
            (422, Some("Invalid")),
            "{name}: {}",
            r.body
        );
        let message = r.json()["message"].as_str().expect("message").to_owned();
        assert!(
            message.starts_with(&format!("Deployment.apps \"{name}\" is invalid: {want}")),
            "{name}: {message}"
        );
    }
    assert!(
        sim.list::<k8s_openapi::api::apps::v1::Deployment>(Some("prod"))
            .len()
            == 1
    );

    let bad = get(&sim, &format!("{DEPLOY}?fieldSelector=spec.replicas%3D3")).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["reason"], "BadRequest");
    assert_eq!(
        bad.json()["message"],
        "field label not supported: spec.replicas"
    );
    let watch = get(
        &sim,
        &format!("{DEPLOY}?watch=true&fieldSelector=status.replicas%3D1"),
    )
    .await;
    assert_eq!(watch.status, 400, "watches check the field too");
    let ok = get(
        &sim,
        "/api/v1/namespaces/prod/pods?fieldSelector=status.phase%3DRunning",
    )
    .await;
    assert_eq!(ok.status, 200);
    let events = get(
        &sim,
        "/api/v1/namespaces/prod/events?fieldSelector=involvedObject.kind%3DPod,reason%3DScheduled",
    )
    .await;
    assert_eq!(events.status, 200);
}

#[tokio::test]
async fn watch_history_is_kept_per_resource_type() {
    let sim = KubeSim::start(Config {
        time_scale: 0.000_001,
        images: crate::common::images(),
        manifests: deployment_yaml("prod", "web", 1, "registry.example/app:1.0", ""),
        watch_history: 16,
        ..Config::default()
    })
    .await
    .expect("start");
    sim.settle();
    let rv = get(&sim, DEPLOY).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_owned();
    // One scale-up: a few Deployment changes, and far more than 16 pod changes.
    let mp = json!({"spec": {"replicas": 10}});
    let patched = http(
        &sim,
        "PATCH",
        &format!("{DEPLOY}/web"),
        "application/merge-patch+json",
        &mp.to_string(),
    )
    .await;
    assert_eq!(patched.status, 200);
    sim.advance(Duration::from_secs(10));
    let deployments = get(
        &sim,
        &format!("{DEPLOY}?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let evs = lines(&deployments.body);
    assert!(evs.iter().all(|e| e["type"] == "MODIFIED"), "{evs:?}");
    assert!(
        evs.iter()
            .any(|e| e["object"]["status"]["availableReplicas"] == 10),
        "{evs:?}"
    );
    let pods = get(
        &sim,
        &format!("/api/v1/namespaces/prod/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1"),
    )
    .await;
    let evs = lines(&pods.body);
    assert_eq!(
        (evs[0]["type"].as_str(), evs[0]["object"]["code"].as_i64()),
        (Some("ERROR"), Some(410)),
        "the pods' own history has moved on: {evs:?}"
    );
}

#[tokio::test]
async fn pod_logs_come_from_the_image_catalogue() {
    let images = kube_sim::ImageCatalogue::new(vec![
        kube_sim::ImageSpec::ok("registry.example/app:1.*").logs(&["listening on :8080"], &[]),
        kube_sim::ImageSpec::crashing("registry.example/app:crash")
            .logs(&["starting"], &["panic: no database configured"]),
    ]);
    let sim = KubeSim::start(Config {
        time_scale: 0.000_001,
        images,
        manifests: deployment_yaml("prod", "web", 1, "registry.example/app:1.0", "")
            + "---\n"
            + deployment_yaml("prod", "bad", 1, "registry.example/app:crash", "")
                .split_once("---\n")
                .expect("two documents")
                .1,
        ..Config::default()
    })
    .await
    .expect("start");
    let pod_of = |app: &str| {
        sim.list::<k8s_openapi::api::core::v1::Pod>(Some("prod"))
            .into_iter()
            .find(|p| p.metadata.labels.as_ref().is_some_and(|l| l["app"] == app))
            .and_then(|p| p.metadata.name)
            .expect("pod")
    };
    sim.settle();
    let web = pod_of("web");
    let log = |pod: &str, query: &str| {
        let path = format!("/api/v1/namespaces/prod/pods/{pod}/log{query}");
        let sim = &sim;
        async move { get(sim, &path).await }
    };
    let waiting = log(&web, "").await;
    assert_eq!(waiting.status, 400);
    assert_eq!(
        waiting.json()["message"],
        format!("container \"app\" in pod \"{web}\" is waiting to start: ContainerCreating")
    );
    sim.advance(Duration::from_secs(10));
    let running = log(&web, "").await;
    assert_eq!(
        (running.status, running.body.as_str()),
        (200, "listening on :8080\n")
    );
    let stamped = log(&web, "?timestamps=true").await.body;
    assert!(stamped.ends_with("Z listening on :8080\n"), "{stamped}");
    let none = log(&web, "?previous=true").await;
    assert_eq!(none.status, 400);
    assert_eq!(
        none.json()["message"],
        format!("previous terminated container \"app\" in pod \"{web}\" not found")
    );
    assert_eq!(log(&web, "?container=sidecar").await.status, 400);
    assert_eq!(log("ghost", "").await.status, 404);

    let bad = pod_of("bad");
    let last_words = "starting\npanic: no database configured\n";
    let previous = log(&bad, "?previous=true").await;
    assert_eq!((previous.status, previous.body.as_str()), (200, last_words));
    let tail = log(&bad, "?previous=true&tailLines=1").await;
    assert_eq!(tail.body, "panic: no database configured\n");
}
