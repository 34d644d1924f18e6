//! Lists longer than a page are read to the end through GitHub's `Link: rel="next"` headers.

use gantry_github::ClientConfig;

use crate::{client, repo, runtime, sim};

#[test]
fn every_page_of_a_list_is_read() {
    let sim = sim();
    let head = sim.world(|world| {
        let app = world.identity_by_login("ci-app").unwrap().id;
        let head = world.repos["acme/service"].branch("main").unwrap();
        for name in ["lint", "test", "build", "docs", "audit"] {
            world.create_check_run("acme/service", app, name, head, None, "queued");
        }
        head
    });
    let config = ClientConfig {
        api_url: sim.url().to_owned(),
        page_size: 2,
        ..ClientConfig::default()
    };
    let client = client(config).unwrap();
    let runs = runtime()
        .block_on(client.check_runs(&repo(), &head.to_string()))
        .unwrap();
    let mut names: Vec<String> = runs.check_runs.into_iter().map(|run| run.name).collect();
    names.sort();
    assert_eq!(names, ["audit", "build", "docs", "lint", "test"]);
    let pages = sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/check-runs"))
        .count();
    assert_eq!(pages, 3, "5 runs at 2 per page");
    assert_eq!(client.stats().requests, 3);
}
