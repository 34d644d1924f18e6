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

#[test]
fn a_comparison_and_releases_are_read_page_by_page() {
    let sim = sim();
    let base = sim.world(|w| w.repos["acme/service"].branch("main").unwrap().to_string());
    let added: Vec<String> = (1..=5)
        .map(|n| {
            let name = format!("f{n}");
            sim.world(|w| {
                w.push_files("acme/service", "main", &[(&name, Some("x"))], &name, None)
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    let config = ClientConfig {
        api_url: sim.url().to_owned(),
        page_size: 2,
        ..ClientConfig::default()
    };
    let client = client(config).unwrap();
    let runtime = runtime();
    let range = runtime
        .block_on(client.commit_range(&repo(), &base, "main"))
        .unwrap();
    assert_eq!(range.status, "ahead");
    let shas: Vec<&str> = range.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, added, "every commit, oldest first, over 3 pages");
    assert!(
        range
            .commits
            .iter()
            .all(|c| c.committed_at.starts_with("20") && c.committed_at.ends_with('Z')),
        "each with its committer date: {:?}",
        range.commits
    );
    let compares = sim
        .requests()
        .iter()
        .filter(|r| r.path.contains("/compare/"))
        .count();
    assert_eq!(compares, 3);

    for tag in ["v1.0.0", "v1.1.0", "v1.2.0"] {
        let fields = gantry_github::models::ReleaseFields {
            tag_name: Some(tag.to_owned()),
            target_commitish: Some("main".to_owned()),
            ..Default::default()
        };
        runtime
            .block_on(client.create_release(&repo(), &fields))
            .unwrap();
    }
    let mut pages = Vec::new();
    let releases = runtime
        .block_on(client.releases(&repo(), |page| pages.push(page.len())))
        .unwrap();
    assert_eq!(pages, [2, 1]);
    let mut tags: Vec<String> = releases.into_iter().map(|r| r.tag_name).collect();
    tags.sort();
    assert_eq!(tags, ["v1.0.0", "v1.1.0", "v1.2.0"]);
}
