// Deployments, deployment statuses and environments driven by octokit (@octokit/rest with its
// paginate plugin) against a running github-sim: create, paginate, statuses with auto-inactive,
// delete refused while active, environments created by a deployment.
// Usage: node octokit_deployments.mjs BASE_URL   (world: world.yaml beside this file)
import assert from "node:assert/strict";
import { Octokit } from "@octokit/rest";
import { failure } from "./expect.mjs";

const base = process.argv[2];
const client = (auth) => new Octokit({ auth, baseUrl: base, log: { debug() {}, info() {}, warn() {}, error() {} } });
const app = client("app-token");
const owner = "acme";
const repo = "service";

const ids = [];
for (let n = 0; n < 5; n++) {
  const { status, data } = await app.rest.repos.createDeployment({
    owner, repo, ref: "v1.0.0", environment: "qa", required_contexts: [], auto_merge: false,
    payload: JSON.stringify({ n }), transient_environment: n === 4,
  });
  assert.equal(status, 201);
  assert.equal(data.environment, "qa");
  assert.equal(data.production_environment, false);
  assert.equal(data.transient_environment, n === 4);
  ids.push(data.id);
}
const prod = await app.rest.repos.createDeployment({ owner, repo, ref: "main", required_contexts: [] });
assert.equal(prod.data.environment, "production");
assert.equal(prod.data.production_environment, true);

// Pagination through Link headers; filters.
const all = await app.paginate(app.rest.repos.listDeployments, { owner, repo, environment: "qa", per_page: 2 });
assert.deepEqual(all.map((d) => d.id), [...ids].reverse());
const pages = [];
for await (const page of app.paginate.iterator(app.rest.repos.listDeployments, { owner, repo, per_page: 2 })) {
  pages.push(page.data.length);
}
assert.deepEqual(pages, [2, 2, 2]);

// Statuses: success makes earlier non-transient deployments of the environment inactive.
await app.rest.repos.createDeploymentStatus({ owner, repo, deployment_id: ids[0], state: "success" });
await app.rest.repos.createDeploymentStatus({ owner, repo, deployment_id: ids[4], state: "success" });
await app.rest.repos.createDeploymentStatus({ owner, repo, deployment_id: ids[2], state: "failure", description: "rolled back" });
const { data: s } = await app.rest.repos.createDeploymentStatus({
  owner, repo, deployment_id: ids[3], state: "success",
  log_url: "https://ci/run/9", environment_url: "https://qa.acme",
});
assert.equal(s.target_url, "https://ci/run/9");
const latest = async (id) => (await app.rest.repos.listDeploymentStatuses({ owner, repo, deployment_id: id })).data[0]?.state;
assert.equal(await latest(ids[0]), "inactive");
assert.equal(await latest(ids[1]), "inactive");
assert.equal(await latest(ids[2]), "inactive");
assert.equal(await latest(ids[3]), "success");
assert.equal(await latest(ids[4]), "success", "a later deployment is not replaced");
const one = await app.rest.repos.getDeploymentStatus({ owner, repo, deployment_id: ids[3], status_id: s.id });
assert.equal(one.data.environment_url, "https://qa.acme");

// Delete: refused while active, done once inactive.
const refused = await failure(app.rest.repos.deleteDeployment({ owner, repo, deployment_id: ids[3] }));
assert.equal(refused.status, 422);
assert.equal((await app.rest.repos.deleteDeployment({ owner, repo, deployment_id: ids[0] })).status, 204);
assert.equal((await failure(app.rest.repos.getDeployment({ owner, repo, deployment_id: ids[0] }))).status, 404);

// Environments.
const envs = await app.rest.repos.getAllEnvironments({ owner, repo });
assert.equal(envs.data.total_count, 2);
assert.deepEqual(envs.data.environments.map((e) => e.name), ["qa", "production"]);
const put = await app.rest.repos.createOrUpdateEnvironment({ owner, repo, environment_name: "qa", wait_timer: 1 });
assert.equal(put.data.protection_rules[0].type, "wait_timer");
assert.equal((await app.rest.repos.deleteAnEnvironment({ owner, repo, environment_name: "qa" })).status, 204);
assert.equal((await failure(app.rest.repos.getEnvironment({ owner, repo, environment_name: "qa" }))).status, 404);

console.log("DEPLOYMENTS OK");
