//! A two-repository world (the service with a tagged prerelease, the landing zone with env files,
//! protection and simulated CI), a verify server, and a way to run the action against them.

use std::sync::Arc;

use gantry_testkit::{ActionRun, Transcript};
use github_sim::world::Release;
use github_sim::{SimHandle, World};

pub const SOURCE: &str = "acme/service";
pub const LZ: &str = "acme/landing-zone";
pub const WORKFLOW_TOKEN: &str = "ghs_workflow0123456789";
/// The bot's token; a canary: it must never appear in anything the step prints or writes.
pub const BOT_TOKEN: &str = "ghp_CANARYdeploybot0123456789";
pub const BOT: &str = "deploy-bot";
/// The GitHub App that runs create-prerelease: the one identity allowed to author releases.
pub const RELEASE_APP: &str = "release-bot";
/// How the API shows the App as a release's author, and what release-authors names.
pub const RELEASE_AUTHOR: &str = "release-bot[bot]";
/// A person with write access to the service, who could also write a release.
pub const PERSON: &str = "mallory";
/// A branch of the service off main with one commit of its own, tagged v2.0.0.
pub const SIDE: &str = "release/2.x";
pub const WORKFLOW: &str = "github-actions[bot]";
pub const PREPROD: &str = "deploy/preprod.env";
pub const PROD: &str = "deploy/prod.env";

/// The landing zone's CI: (name, conclusion, simulated ms until it completes).
pub type Ci<'a> = &'a [(&'a str, &'a str, u64)];
pub const PASSING: Ci<'static> = &[("lint", "success", 2000), ("test", "success", 6000)];

/// A world whose landing-zone env files hold `preprod` and `prod`, with simulated time running
/// ten times faster than real time.
pub fn sim_with(preprod: &str, prod: &str, ci: Ci<'_>) -> SimHandle {
    sim_serving(preprod, prod, ci, None)
}

/// The usual world, served over HTTPS with `tls`'s certificate.
pub fn sim_over_tls(tls: sim_tls::Identity) -> SimHandle {
    sim_serving(PREPROD_FILE, PROD_FILE, PASSING, Some(tls))
}

fn sim_serving(preprod: &str, prod: &str, ci: Ci<'_>, tls: Option<sim_tls::Identity>) -> SimHandle {
    let checks: Vec<String> = ci
        .iter()
        .map(|(name, conclusion, ms)| {
            format!("      - {{ name: {name}, conclusion: {conclusion}, after_ms: {ms} }}")
        })
        .collect();
    let world = format!(
        r"
clock: {{ scale: 10 }}
identities:
  - login: github-actions
    kind: github_token
    tokens: [{WORKFLOW_TOKEN}]
  - login: {BOT}
    kind: bot
    tokens: [{BOT_TOKEN}]
  - login: {RELEASE_APP}
    kind: app
    tokens: [ghs_releaseapp0123456789]
  - login: {PERSON}
    kind: user
repos:
  - name: {SOURCE}
    branches:
      main:
        files: {{ README.md: 'service' }}
      {SIDE}:
        from: main
        files: {{ README.md: 'service 2' }}
    tags:
      v1.3.0: main
      v1.4.0: main
      v1.5.0: main
      v2.0.0: {SIDE}
  - name: {LZ}
    # The deploy pull request is opened with the workflow's GITHUB_TOKEN, which GitHub allows
    # only where the repository lets GitHub Actions create and approve pull requests.
    actions: {{ can_approve_pull_request_reviews: true }}
    branches:
      main:
        files:
          {PREPROD}: {preprod}
          {PROD}: {prod}
    protection:
      main:
        required_checks: [lint, test]
        required_approvals: 1
ci:
  - repo: {LZ}
    base: main
    checks:
{}
",
        checks.join("\n"),
        preprod = serde_json::to_string(preprod).unwrap(),
        prod = serde_json::to_string(prod).unwrap(),
    );
    let sim = SimHandle::spawn_with(World::from_yaml(&world).expect("world parses"), tls)
        .expect("sim starts");
    for tag in ["v1.3.0", "v1.4.0", "v1.5.0"] {
        prerelease(&sim, tag, true);
    }
    sim
}

pub const PREPROD_FILE: &str = "# pre-production\nexport IMAGE_NAME=acme/service\nexport IMAGE_VERSION=v1.3.0  # bumped by auto-deploy\nexport NAME=\"service\"\n";
pub const PROD_FILE: &str = "export IMAGE_NAME=acme/service\nexport IMAGE_VERSION='v1.2.0'\n";

pub fn sim() -> SimHandle {
    sim_with(PREPROD_FILE, PROD_FILE, PASSING)
}

/// Adds the release of `tag` by the release App, made by create-prerelease (`automated`) or by
/// hand.
pub fn prerelease(sim: &SimHandle, tag: &str, automated: bool) {
    prerelease_by(sim, tag, automated, RELEASE_APP);
}

/// Adds the release of `tag` as `author` wrote it, with the origin marker when `automated`.
pub fn prerelease_by(sim: &SimHandle, tag: &str, automated: bool, author: &str) {
    prerelease_in(sim, SOURCE, tag, automated, author);
}

/// Adds the release of `tag` in `repo` as `author` wrote it, with the origin marker when
/// `automated`.
pub fn prerelease_in(sim: &SimHandle, repo: &str, tag: &str, automated: bool, author: &str) {
    sim.world(|w| {
        let sha = w.repos[repo]
            .resolve(&w.objects, tag)
            .expect("tag exists")
            .hex();
        let origin = gantry_github::Origin {
            tool: "create-prerelease".to_owned(),
            repository: repo.to_owned(),
            sha,
            run_id: Some("1".to_owned()),
            workflow: None,
        };
        let body = if automated {
            origin.append_to("Notes")
        } else {
            "typed by hand".to_owned()
        };
        let id = w.next_id();
        let author = w.identity_by_login(author).expect("author").id;
        let now = w.clock.now_secs();
        let repo = w.repos.get_mut(repo).expect("source repo");
        repo.releases.retain(|r| r.tag_name != tag);
        repo.releases.push(Release {
            id,
            tag_name: tag.to_owned(),
            target_commitish: "main".to_owned(),
            name: Some(tag.to_owned()),
            body: Some(body),
            draft: false,
            prerelease: true,
            author,
            created_at: now,
            published_at: Some(now),
        });
    });
}

/// The action deploying `tag`, both tokens set.
pub fn action(sim: &SimHandle, tag: &str) -> ActionRun {
    action_run_by(env!("CARGO_BIN_EXE_auto-deploy"), sim, tag)
}

/// As [`action`], started by `program` (a wrapper that ends by running the action binary).
pub fn action_run_by(
    program: impl Into<std::path::PathBuf>,
    sim: &SimHandle,
    tag: &str,
) -> ActionRun {
    ActionRun::new(program)
        .env("GITHUB_API_URL", sim.url())
        .env("GITHUB_SERVER_URL", "https://github.example")
        .env("GITHUB_REPOSITORY", SOURCE)
        .env("GITHUB_RUN_ID", "4242")
        .input("token", WORKFLOW_TOKEN)
        .input("bot-token", BOT_TOKEN)
        .input("landing-zone-repo", LZ)
        .input("tag", tag)
        .input("release-authors", RELEASE_AUTHOR)
        .input("timeout", "90s")
}

/// A file on a branch of the landing zone, as bytes.
pub fn lz_file(sim: &SimHandle, branch: &str, path: &str) -> Option<Vec<u8>> {
    sim.world(|w| {
        let head = w.repos[LZ].branch(branch)?;
        let blob = *w.objects.commit_files(&head).get(path)?;
        w.objects.blob(&blob).map(<[u8]>::to_vec)
    })
}

pub fn lz_text(sim: &SimHandle, path: &str) -> String {
    String::from_utf8(lz_file(sim, "main", path).expect("file on main")).unwrap()
}

/// Landing-zone branches other than main.
pub fn lz_branches(sim: &SimHandle) -> Vec<String> {
    sim.world(|w| {
        w.repos[LZ]
            .refs
            .keys()
            .filter_map(|r| r.strip_prefix("refs/heads/"))
            .filter(|b| *b != "main")
            .map(str::to_owned)
            .collect()
    })
}

/// (number, open, merged, head branch) of every landing-zone pull request.
pub fn pulls(sim: &SimHandle) -> Vec<(u64, bool, bool, String)> {
    sim.world(|w| {
        w.repos[LZ]
            .pulls
            .iter()
            .map(|p| {
                (
                    p.number,
                    p.state == github_sim::world::PullState::Open,
                    p.merged,
                    p.head_ref.clone(),
                )
            })
            .collect()
    })
}

/// Whether the release of `tag` is still a prerelease.
pub fn is_prerelease(sim: &SimHandle, tag: &str) -> bool {
    sim.world(|w| {
        w.repos[SOURCE]
            .releases
            .iter()
            .find(|r| r.tag_name == tag)
            .expect("release")
            .prerelease
    })
}

/// (name, status, conclusion) of the check runs on the source repository's main commit.
pub fn mirrored(sim: &SimHandle) -> Vec<(String, String, Option<String>)> {
    sim.world(|w| {
        let head = w.repos[SOURCE].branch("main").unwrap();
        let mut runs: Vec<_> = w.repos[SOURCE]
            .check_runs
            .iter()
            .filter(|c| c.head_sha == head)
            .map(|c| (c.name.clone(), c.status.clone(), c.conclusion.clone()))
            .collect();
        runs.sort();
        runs
    })
}

/// `METHOD path` of every API request made with `login`'s token.
pub fn calls_by(sim: &SimHandle, login: &str) -> Vec<String> {
    sim.requests()
        .into_iter()
        .filter(|r| r.identity.as_deref() == Some(login))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Asserts the identities kept to their roles: the bot changed nothing but approvals and merges
/// (it may read, to reconcile its own requests), and the workflow token never approved or merged.
pub fn assert_roles(sim: &SimHandle) {
    for call in calls_by(sim, BOT) {
        assert!(
            call.starts_with("GET ")
                || call.starts_with("POST /repos/acme/landing-zone/pulls/")
                    && call.ends_with("/reviews")
                || call.starts_with("PUT /repos/acme/landing-zone/pulls/")
                    && call.ends_with("/merge"),
            "the bot token made {call}"
        );
    }
    for call in calls_by(sim, WORKFLOW) {
        assert!(
            !(call.ends_with("/reviews") && call.starts_with("POST")
                || call.ends_with("/merge") && call.starts_with("PUT")),
            "the workflow token made {call}"
        );
    }
}

/// Asserts that nothing was written to either repository: every request was a read.
pub fn assert_no_writes(sim: &SimHandle) {
    let writes: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "wrote: {writes:?}");
}

/// Every write other than taking and releasing the env file's lock (its branch is created with
/// `POST git/refs`, so callers also check that no other branch appeared).
pub fn writes_beyond_the_lock(sim: &SimHandle) -> Vec<String> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .filter(|call| {
            !(call == "POST /repos/acme/landing-zone/git/refs"
                || call == "PUT /repos/acme/landing-zone/contents/.gantry-lock.json"
                || call.starts_with("DELETE /repos/acme/landing-zone/git/refs/heads/gantry-lock/"))
        })
        .collect()
}

/// How many pull requests the simulator saw merged.
pub fn merges(sim: &SimHandle) -> usize {
    sim.events()
        .iter()
        .filter(|e| {
            e.event == "pull_request"
                && e.action.as_deref() == Some("closed")
                && e.payload["merged"] == true
        })
        .count()
}

/// How many times a release became a full release.
pub fn promotions(sim: &SimHandle) -> usize {
    sim.events()
        .iter()
        .filter(|e| e.event == "release" && e.action.as_deref() == Some("released"))
        .count()
}

/// Asserts success, and that the bot's token never shows.
pub fn assert_deployed(run: &Transcript) {
    assert_eq!(run.code, 0, "{}", run.render());
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    run.assert_never_shows(BOT_TOKEN);
    run.assert_never_shows(WORKFLOW_TOKEN);
}

/// Runs independent stories at once, each on a thread named after it. A full deploy mostly waits
/// (on simulated checks and polls), so the default two test threads would serialise what can
/// overlap; a failing story still names itself in its panic.
pub fn concurrently<'a>(stories: Vec<(String, Box<dyn FnOnce() + Send + 'a>)>) {
    std::thread::scope(|scope| {
        for (name, story) in stories {
            std::thread::Builder::new()
                .name(name)
                .spawn_scoped(scope, story)
                .expect("spawn a story");
        }
    });
}

/// A story for [`concurrently`].
pub fn story<'a>(
    name: impl Into<String>,
    body: impl FnOnce() + Send + 'a,
) -> (String, Box<dyn FnOnce() + Send + 'a>) {
    (name.into(), Box::new(body))
}

/// One `#[test]` that runs the named story functions concurrently.
#[macro_export]
macro_rules! stories {
    ($($story:ident),* $(,)?) => {
        #[test]
        fn stories() {
            $crate::common::concurrently(vec![$($crate::common::story(stringify!($story), $story)),*]);
        }
    };
}

/// A tiny HTTP service standing in for the deployed application: `/version` answers what `body`
/// returns at the time of the request.
pub struct Service {
    pub url: String,
    _runtime: tokio::runtime::Runtime,
}

pub fn service(body: impl Fn() -> String + Send + Sync + 'static) -> Service {
    service_over(None, body)
}

/// As [`service`], over HTTPS with `tls`'s certificate when given.
pub fn service_over(
    tls: Option<sim_tls::Identity>,
    body: impl Fn() -> String + Send + Sync + 'static,
) -> Service {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let body = Arc::new(body);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/version", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/version",
        axum::routing::get(move || {
            let body = Arc::clone(&body);
            async move { body() }
        }),
    );
    match tls {
        Some(tls) => {
            let acceptor = tls.acceptor().expect("the certificate serves");
            let _guard = runtime.enter();
            let listener = sim_tls::TlsListener::new(listener, acceptor).unwrap();
            runtime.spawn(async move { axum::serve(listener, app).await });
        }
        None => {
            runtime.spawn(async move { axum::serve(listener, app).await });
        }
    }
    Service {
        url,
        _runtime: runtime,
    }
}

/// A service that reports the `IMAGE_VERSION` of the pre-production env file on the landing
/// zone's main branch, as a real deployment would after the merge.
pub fn following_service(sim: &SimHandle) -> Service {
    following_service_as(sim, str::to_owned)
}

/// As [`following_service`], reporting the version as `spell` writes it.
pub fn following_service_as(
    sim: &SimHandle,
    spell: impl Fn(&str) -> String + Send + Sync + 'static,
) -> Service {
    following_service_over(sim, None, spell)
}

/// As [`following_service`], over HTTPS with `tls`'s certificate.
pub fn following_service_tls(sim: &SimHandle, tls: sim_tls::Identity) -> Service {
    following_service_over(sim, Some(tls), str::to_owned)
}

fn following_service_over(
    sim: &SimHandle,
    tls: Option<sim_tls::Identity>,
    spell: impl Fn(&str) -> String + Send + Sync + 'static,
) -> Service {
    let control: github_sim::Control = (**sim).clone();
    service_over(tls, move || {
        let text = control.world(|w| {
            let head = w.repos[LZ].branch("main").unwrap();
            let blob = *w.objects.commit_files(&head).get(PREPROD).unwrap();
            String::from_utf8(w.objects.blob(&blob).unwrap().to_vec()).unwrap()
        });
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("export IMAGE_VERSION="))
            .map(|v| {
                v.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .trim_matches(['"', '\''])
                    .to_owned()
            })
            .unwrap_or_default();
        serde_json::json!({ "version": spell(&version) }).to_string()
    })
}
