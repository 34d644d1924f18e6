// A merge queue driven by octokit: `octokit.graphql` enqueues and reads the queue (variables,
// aliases, fragments), the REST merge is refused, and a failed merge_group check dequeues.
// Usage: node octokit_merge_queue.mjs BASE_URL   (world: world.yaml beside this file, patched)
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import { failure } from "./expect.mjs";

const base = process.argv[2];
const client = (auth) => new Octokit({ auth, baseUrl: base, log: { debug() {}, info() {}, warn() {}, error() {} } });
const alice = client("alice-token");
const bob = client("bob-token");
const owner = "acme";
const repo = "queued";
const sim = (path, body) => fetch(`${base}/_sim/${path}`, { method: body ? "POST" : "GET", body: body && JSON.stringify(body) });

const patched = await fetch(`${base}/_sim/world`, {
  method: "PATCH",
  body: JSON.stringify({
    repos: [{
      name: `${owner}/${repo}`,
      branches: { main: { files: { "README.md": "q\n" } }, one: { files: { "one.txt": "1\n" } }, two: { files: { "two.txt": "2\n" } } },
      protection: { main: { required_checks: ["build"], required_approvals: 1, merge_queue: { merge_method: "squash" } } },
    }],
    ci: [{ repo: `${owner}/${repo}`, base: "main", on: ["pull_request", "merge_group"],
           checks: [{ name: "build", after_ms: 1000 }] }],
  }),
});
assert.equal(patched.status, 200, await patched.text());

async function ready(branch) {
  const pr = await alice.rest.pulls.create({ owner, repo, head: branch, base: "main", title: `Add ${branch}` });
  await bob.rest.pulls.createReview({ owner, repo, pull_number: pr.data.number, event: "APPROVE" });
  return pr.data;
}
const one = await ready("one");
const two = await ready("two");
await sim("advance", { ms: 2000 });

const refused = await failure(alice.rest.pulls.merge({ owner, repo, pull_number: one.number, sha: one.head.sha }));
assert.equal(refused.status, 405);
assert.equal(refused.response.data.message, "Changes must be made through the merge queue");

const enqueue = `mutation($id: ID!, $head: GitObjectID) {
  enqueuePullRequest(input: {pullRequestId: $id, expectedHeadOid: $head}) {
    entry: mergeQueueEntry { id position state headCommit { oid } pullRequest { number } }
  }
}`;
const first = await alice.graphql(enqueue, { id: one.node_id, head: one.head.sha });
assert.deepEqual(
  { position: first.enqueuePullRequest.entry.position, number: first.enqueuePullRequest.entry.pullRequest.number },
  { position: 1, number: one.number },
);
assert.equal(first.enqueuePullRequest.entry.headCommit.oid, one.head.sha);
const second = await alice.graphql(enqueue, { id: two.node_id });
assert.equal(second.enqueuePullRequest.entry.position, 2);

const queue = await alice.graphql(`query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    mergeQueue(branch: "main") { entries { nodes { ...entry } } }
  }
}
fragment entry on MergeQueueEntry { position state pullRequest { number } }`, { owner, name: repo });
assert.deepEqual(queue.repository.mergeQueue.entries.nodes.map((e) => [e.position, e.state]), [[1, "AWAITING_CHECKS"], [2, "AWAITING_CHECKS"]]);

// The first group's build fails: only it leaves the queue; the second is rebuilt and lands.
const events = await (await sim("events")).json();
const group = events.find((e) => e.event === "merge_group" && e.action === "checks_requested").payload.merge_group;
assert.match(group.head_ref, new RegExp(`^refs/heads/gh-readonly-queue/main/pr-${one.number}-${one.head.sha}$`));
const runs = await alice.rest.checks.listForRef({ owner, repo, ref: group.head_sha });
const build = runs.data.check_runs.find((r) => r.name === "build");
assert.equal((await sim(`repos/${owner}/${repo}/check-runs/${build.id}/complete`, { conclusion: "failure" })).status, 200);
await sim("advance", { ms: 0 }); // the queue sees the failure and rebuilds the second entry
await sim("advance", { ms: 2000 }); // its build passes

const state = await alice.graphql(`query($owner: String!, $name: String!, $a: Int!, $b: Int!) {
  repository(owner: $owner, name: $name) {
    a: pullRequest(number: $a) { state mergeQueueEntry { position }
      timelineItems(itemTypes: [REMOVED_FROM_MERGE_QUEUE_EVENT], last: 1) {
        nodes { __typename ... on RemovedFromMergeQueueEvent { reason } } } }
    b: pullRequest(number: $b) { state merged mergeCommit { oid } }
  }
}`, { owner, name: repo, a: one.number, b: two.number });
assert.equal(state.repository.a.state, "OPEN");
assert.equal(state.repository.a.mergeQueueEntry, null);
assert.deepEqual(state.repository.a.timelineItems.nodes, [{ __typename: "RemovedFromMergeQueueEvent", reason: "CI_FAILURE" }]);
assert.equal(state.repository.b.state, "MERGED");
const main = await alice.rest.repos.getBranch({ owner, repo, branch: "main" });
assert.equal(state.repository.b.mergeCommit.oid, main.data.commit.sha);
assert.equal(main.data.commit.commit.message, `Add two (#${two.number})`);

// octokit turns GraphQL errors into a GraphqlResponseError carrying GitHub's messages.
const unknown = await alice.graphql(`{ repository(owner: "acme", name: "queued") { bogus } }`).then(
  () => assert.fail("an unknown field must fail"),
  (e) => e,
);
assert.equal(unknown.name, "GraphqlResponseError");
assert.equal(unknown.errors[0].message, "Field 'bogus' doesn't exist on type 'Repository'");

console.log("MERGE QUEUE OK");
