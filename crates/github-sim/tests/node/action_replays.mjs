// Replays the request sequences five popular actions send (written from reading their sources,
// not copied): softprops/action-gh-release, hmarr/auto-approve-action,
// fountainhead/action-wait-for-check, poseidon/wait-for-status-checks, pascalgn/automerge-action.
// Usage: node action_replays.mjs BASE_URL   (world: world.yaml beside this file)
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";

const base = process.argv[2];
const client = (auth) => new Octokit({ auth, baseUrl: base, log: { debug() {}, info() {}, warn() {}, error() {} } });
const alice = client("alice-token");
const bob = client("bob-token");
const app = client("app-token");
const workflow = client("workflow-token");
const owner = "acme";
const repo = "allowed";

// softprops/action-gh-release: find the release by tag (drafts only show in the list), create it
// as a draft, then publish it with make_latest; a re-run finds and updates the same release.
async function ghRelease(octokit, tag) {
  let existing;
  try {
    existing = (await octokit.rest.repos.getReleaseByTag({ owner, repo, tag })).data;
  } catch (e) {
    if (e.status !== 404) throw e;
    for await (const page of octokit.paginate.iterator(octokit.rest.repos.listReleases.endpoint.merge({ owner, repo, per_page: 100 }))) {
      existing ??= page.data.find((r) => r.tag_name === tag && r.draft);
    }
  }
  if (existing) {
    return (await octokit.rest.repos.updateRelease({ owner, repo, release_id: existing.id, tag_name: tag, name: tag, body: "notes", draft: false, prerelease: false, make_latest: undefined })).data;
  }
  const draft = (await octokit.rest.repos.createRelease({ owner, repo, tag_name: tag, name: tag, body: "notes", draft: true, prerelease: false, target_commitish: "main", make_latest: undefined, generate_release_notes: false })).data;
  return (await octokit.rest.repos.updateRelease({ owner, repo, release_id: draft.id, draft: false, make_latest: "true", discussion_category_name: undefined })).data;
}

// hmarr/auto-approve-action: who am I (a 403 means a workflow token), the pull request and its
// reviews, then an approval unless this login already approved.
async function autoApprove(octokit, target, number) {
  let login;
  try {
    login = (await octokit.rest.users.getAuthenticated()).data.login;
  } catch (e) {
    if (e.status !== 403) throw e;
    login = "github-actions[bot]";
  }
  const [{ data: pr }, { data: reviews }] = await Promise.all([
    octokit.rest.pulls.get({ owner, repo: target, pull_number: number }),
    octokit.rest.pulls.listReviews({ owner, repo: target, pull_number: number }),
  ]);
  assert.equal(pr.head.sha.length, 40);
  const mine = [...reviews].reverse().find((r) => r.user?.login === login);
  if (mine?.state === "APPROVED" && !pr.requested_reviewers?.some((r) => r.login === login)) return "already";
  await octokit.rest.pulls.createReview({ owner, repo: target, pull_number: number, event: "APPROVE" });
  return "approved";
}

// fountainhead/action-wait-for-check: the check runs of one name on a ref, until one completes.
async function waitForCheck(octokit, ref, checkName, onEachPoll) {
  for (let polls = 0; polls < 5; polls++) {
    const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref, check_name: checkName });
    const done = data.check_runs.find((r) => r.status === "completed");
    if (done) return done.conclusion;
    await onEachPoll();
  }
  return "timed_out";
}

// poseidon/wait-for-status-checks: every check run on the ref, page by page until total_count,
// the latest per name, the job's own run left out; all completed and none failed.
async function waitForStatusChecks(octokit, ref, ownName) {
  let all = [];
  let total = 0;
  let page = 1;
  do {
    const { data } = await octokit.rest.checks.listForRef({ owner, repo, ref, per_page: 2, page });
    total = data.total_count;
    all = all.concat(data.check_runs);
    page += 1;
  } while (total > all.length);
  const latest = new Map();
  for (const run of all) {
    const seen = latest.get(run.name);
    if (!seen || new Date(run.started_at) > new Date(seen.started_at)) latest.set(run.name, run);
  }
  const watched = [...latest.values()].filter((r) => r.name !== ownName);
  const failed = watched.filter((r) => r.status === "completed" && !["success", "skipped", "neutral"].includes(r.conclusion));
  if (failed.length) return "failure";
  return watched.every((r) => r.status === "completed") ? "success" : "pending";
}

// pascalgn/automerge-action: re-read the pull request without a cache until its mergeable_state
// is clean, merge pinned to the head, then delete the head branch unless it is protected.
async function automerge(octokit, number) {
  let pr;
  for (let tries = 0; tries < 3; tries++) {
    pr = (await octokit.rest.pulls.get({ owner, repo, pull_number: number, headers: { "If-None-Match": "" } })).data;
    if (pr.mergeable_state === "clean") break;
  }
  assert.equal(pr.mergeable_state, "clean");
  const merged = await octokit.rest.pulls.merge({ owner, repo, pull_number: number, sha: pr.head.sha, merge_method: "squash" });
  assert.equal(merged.data.merged, true);
  const { data: branch } = await octokit.rest.repos.getBranch({ owner, repo, branch: pr.head.ref });
  if (!branch.protected) {
    await octokit.git.deleteRef({ owner, repo, ref: `heads/${branch.name}` });
  }
}

// The release: exactly one, published and latest, across a re-run.
const first = await ghRelease(alice, "v2.0.0");
assert.equal(first.draft, false);
const rerun = await ghRelease(alice, "v2.0.0");
assert.equal(rerun.id, first.id);
const all = await alice.paginate(alice.rest.repos.listReleases, { owner, repo });
assert.equal(all.length, 1);
assert.equal((await alice.rest.repos.getLatestRelease({ owner, repo })).data.tag_name, "v2.0.0");

// A pull request opened by the workflow token (allowed in this repository), approved by it too.
const pr = (await workflow.rest.pulls.create({ owner, repo, title: "Bump", head: "acme:bump", base: "main" })).data;
assert.equal(await autoApprove(bob, repo, pr.number), "approved");
assert.equal(await autoApprove(bob, repo, pr.number), "already");
await assert.rejects(autoApprove(workflow, repo, pr.number), (e) => e.status === 422 && /your own/.test(e.message));
// Where the repository allows it, the workflow token approves someone else's pull request.
const docs = (await alice.rest.pulls.create({ owner, repo, title: "Docs", head: "acme:docs", base: "main" })).data;
assert.equal(await autoApprove(workflow, repo, docs.number), "approved");
assert.equal(await autoApprove(workflow, repo, docs.number), "already");
// Where the repository does not allow it, the workflow token cannot approve.
const elsewhere = (await alice.rest.pulls.create({ owner, repo: "service", title: "Feature", head: "acme:feature", base: "main" })).data;
await assert.rejects(autoApprove(workflow, "service", elsewhere.number), (e) => e.status === 422);

// Checks: a name that needs URL encoding, in progress, then completed.
const run = (await app.rest.checks.create({ owner, repo, name: "test (ubuntu, 3.11)", head_sha: pr.head.sha, status: "in_progress" })).data;
const own = (await app.rest.checks.create({ owner, repo, name: "wait", head_sha: pr.head.sha, status: "in_progress" })).data;
await app.rest.checks.create({ owner, repo, name: "lint", head_sha: pr.head.sha, status: "completed", conclusion: "success" });
assert.equal(await waitForStatusChecks(bob, "bump", "wait"), "pending");
let polls = 0;
const conclusion = await waitForCheck(bob, "bump", "test (ubuntu, 3.11)", async () => {
  polls += 1;
  await app.rest.checks.update({ owner, repo, check_run_id: run.id, status: "completed", conclusion: "success" });
});
assert.equal(conclusion, "success");
assert.equal(polls, 1);
assert.equal(await waitForStatusChecks(bob, "bump", "wait"), "success");
await app.rest.checks.update({ owner, repo, check_run_id: own.id, status: "completed", conclusion: "success" });

await automerge(alice, pr.number);
assert.equal((await alice.rest.pulls.get({ owner, repo, pull_number: pr.number })).data.merged, true);
await assert.rejects(alice.rest.repos.getBranch({ owner, repo, branch: "bump" }), (e) => e.status === 404);

console.log("ALL REPLAYS OK");
