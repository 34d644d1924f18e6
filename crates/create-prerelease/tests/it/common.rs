//! A world with one repository and three identities, and a way to run the action against it.

use gantry_testkit::{ActionRun, Transcript};
use github_sim::{SimHandle, World};

pub const REPO: &str = "acme/service";
/// The bot's token; a canary: it must never appear in anything the step prints or writes.
pub const BOT_TOKEN: &str = "ghp_CANARYbot0123456789abcdef";
pub const WORKFLOW_TOKEN: &str = "ghs_workflowtoken0123456789";
pub const READ_TOKEN: &str = "ghp_readonly0123456789";

const WORLD: &str = r"
identities:
  - login: release-bot
    kind: bot
    tokens: [ghp_CANARYbot0123456789abcdef]
    permissions: {acme/service: {contents: write}}
  - login: github-actions[bot]
    kind: github_token
    tokens: [ghs_workflowtoken0123456789]
    permissions: {acme/service: {contents: write}}
  - login: reader
    kind: user
    tokens: [ghp_readonly0123456789]
    permissions: {acme/service: {contents: read}}
repos:
  - name: acme/service
    branches:
      main:
        files: {README.md: 'hello'}
        message: initial
    tags:
      v1.2.3: main
      v1.3.0-rc.1: main
      not-a-version: main
      api-v2.4.0rc1: main
      api-v2.4.0: main
";

pub fn sim() -> SimHandle {
    SimHandle::spawn(World::from_yaml(WORLD).expect("world parses")).expect("simulator starts")
}

/// The action on a push of `tag`, with the bot token.
pub fn action(sim: &SimHandle, tag: &str) -> ActionRun {
    ActionRun::new(env!("CARGO_BIN_EXE_create-prerelease"))
        .env("GITHUB_API_URL", sim.url())
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_REF", format!("refs/tags/{tag}"))
        .env("GITHUB_REF_NAME", tag)
        .env("GITHUB_REF_TYPE", "tag")
        .env("GITHUB_RUN_ID", "777")
        .env("GITHUB_WORKFLOW", "release")
        .input("token", BOT_TOKEN)
}

/// Releases of the repository, as the simulator holds them.
pub fn releases(sim: &SimHandle) -> Vec<github_sim::world::Release> {
    sim.world(|world| world.repos[REPO].releases.clone())
}

/// API requests made so far (the admin API excluded).
pub fn api_requests(sim: &SimHandle) -> Vec<String> {
    sim.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/repos/"))
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect()
}

/// Asserts success and the secret's absence.
pub fn assert_success(run: &Transcript) {
    assert_eq!(run.code, 0, "{}", run.render());
    run.assert_never_shows(BOT_TOKEN);
}
