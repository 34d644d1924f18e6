// Core flows and the differences independent clients found, driven by octokit (@octokit/rest
// with its paginate plugin) against a running github-sim.
// Usage: node octokit_flow.mjs BASE_URL   (world: world.yaml beside this file)
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import { failure } from "./expect.mjs";

const base = process.argv[2];
const client = (auth) => new Octokit({ auth, baseUrl: base, log: { debug() {}, info() {}, warn() {}, error() {} } });
const alice = client("alice-token");
const bob = client("bob-token");
const app = client("app-token");
const workflow = client("workflow-token");
const owner = "acme";
const repo = "service";

async function status(promise) {
  try {
    const r = await promise;
    return r.status;
  } catch (e) {
    if (e.status === undefined) throw e;
    return e.status;
  }
}

// Case-insensitive lookup, canonical answer; API version echoed.
const got = await alice.rest.repos.get({ owner: "ACME", repo: "Service", headers: { "x-github-api-version": "2022-11-28" } });
assert.equal(got.data.full_name, "acme/service");
assert.equal(got.headers["x-github-api-version-selected"], "2022-11-28");
const badVersion = await failure(alice.rest.repos.get({ owner, repo, headers: { "x-github-api-version": "2099-01-01" } }));
assert.equal(badVersion.status, 400);
assert.match(badVersion.message, /"2099-01-01", is not a supported version/);

// HEAD answers as GET, without a body.
const head = await alice.request("HEAD /repos/{owner}/{repo}", { owner, repo });
assert.equal(head.status, 200);
assert.ok(head.headers.etag);

// An installation or workflow token is not a user.
assert.equal((await failure(workflow.rest.users.getAuthenticated())).status, 403);
assert.equal((await alice.rest.users.getAuthenticated()).data.login, "alice");

// Branches and tags, paginated.
const branches = await alice.paginate(alice.rest.repos.listBranches, { owner, repo, per_page: 1 });
assert.deepEqual(branches.map((b) => b.name), ["feature", "main"]);
const tags = await alice.paginate(alice.rest.repos.listTags, { owner, repo });
assert.deepEqual(tags.map((t) => t.name), ["v1.0.0"]);
const main = branches.find((b) => b.name === "main").commit.sha;

// Check runs whose name needs encoding, paginated one per page through the Link header.
for (let i = 0; i < 3; i++) {
  await app.rest.checks.create({ owner, repo, name: "test (ubuntu, 3.11)", head_sha: main, status: "completed", conclusion: "success" });
}
const runs = await alice.paginate(alice.rest.checks.listForRef, { owner, repo, ref: main, check_name: "test (ubuntu, 3.11)", filter: "all", per_page: 1 });
assert.equal(runs.length, 3);
assert.ok(runs.every((r) => r.name === "test (ubuntu, 3.11)"));
assert.equal(runs[0].app.permissions.metadata, "read");

// Contents, and the file behind download_url.
const file = await alice.rest.repos.getContent({ owner, repo, path: "deploy/env" });
const raw = await fetch(file.data.download_url);
assert.equal(raw.status, 200);
assert.equal(await raw.text(), "export IMAGE_VERSION=1.0.0\n");

// A wrongly typed field is 422 naming it.
const typed = await failure(alice.rest.repos.createRelease({ owner, repo, tag_name: "v9", make_latest: true }));
assert.equal(typed.status, 422);
assert.match(typed.message, /For 'properties\/make_latest', true is not a string/);

// A pull request: head filter needs owner:, computed counts, one pending review, approval.
const pr = (await alice.rest.pulls.create({ owner, repo, title: "Add feature", head: "feature", base: "main" })).data;
assert.equal((await alice.rest.pulls.list({ owner, repo, head: "acme:feature" })).data.length, 1);
assert.equal((await alice.rest.pulls.list({ owner, repo, head: "acme:nothing" })).data.length, 0);
assert.equal((await alice.rest.pulls.list({ owner, repo, head: "nothing" })).data.length, 1, "head without owner: ignored");
await bob.rest.issues.createComment({ owner, repo, issue_number: pr.number, body: "looks good" });
await alice.rest.pulls.get({ owner, repo, pull_number: pr.number }); // mergeable is computed on the next read
const detail = (await alice.rest.pulls.get({ owner, repo, pull_number: pr.number })).data;
assert.deepEqual(
  [detail.additions, detail.deletions, detail.changed_files, detail.comments, detail.rebaseable],
  [1, 0, 1, 1, true],
);
await bob.rest.pulls.createReview({ owner, repo, pull_number: pr.number, body: "draft" });
const second = await failure(bob.rest.pulls.createReview({ owner, repo, pull_number: pr.number, body: "again" }));
assert.equal(second.status, 422);
assert.equal((await failure(workflow.rest.pulls.createReview({ owner, repo, pull_number: pr.number, event: "APPROVE" }))).status, 422);
assert.equal(await status(alice.rest.pulls.createReview({ owner, repo, pull_number: pr.number, event: "APPROVE" })), 422);

// Releases: make_latest defaults to true, "false" leaves the latest alone.
await alice.rest.repos.createRelease({ owner, repo, tag_name: "v1.1.0", make_latest: "true" });
await alice.rest.repos.createRelease({ owner, repo, tag_name: "v1.2.0" });
assert.equal((await alice.rest.repos.getLatestRelease({ owner, repo })).data.tag_name, "v1.2.0");
await alice.rest.repos.createRelease({ owner, repo, tag_name: "v1.3.0", make_latest: "false" });
assert.equal((await alice.rest.repos.getLatestRelease({ owner, repo })).data.tag_name, "v1.2.0");
const releases = await alice.paginate(alice.rest.repos.listReleases, { owner, repo, per_page: 2 });
assert.equal(releases.length, 3);

// Rate limit: every resource, and headers on a 401.
const limits = (await alice.rest.rateLimit.get()).data.resources;
for (const name of ["core", "search", "graphql", "integration_manifest", "code_search"]) {
  assert.equal(typeof limits[name].remaining, "number", name);
}
const anonymous = await failure(client("wrong-token").rest.repos.get({ owner, repo }));
assert.equal(anonymous.status, 401);
assert.equal(anonymous.response.headers["x-ratelimit-limit"], "60");

console.log("ALL FLOWS OK");
