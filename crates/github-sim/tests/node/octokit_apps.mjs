// GitHub App sign-in driven by octokit (@octokit/rest, which sends a JWT as `bearer`) against a
// running github-sim: the App's key is made for this run with node:crypto and declared through
// the admin API by its public half; JWTs are signed on the simulator's clock.
// Usage: node octokit_apps.mjs BASE_URL   (world: world.yaml beside this file)
import assert from "node:assert/strict";
import { createSign, generateKeyPairSync } from "node:crypto";
import { Octokit } from "@octokit/rest";
import { failure } from "./expect.mjs";

const base = process.argv[2];
const client = (auth) => new Octokit({ auth, baseUrl: base, log: { debug() {}, info() {}, warn() {}, error() {} } });
const owner = "acme";

const { publicKey, privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
});
const patched = await fetch(`${base}/_sim/world`, {
  method: "PATCH",
  body: JSON.stringify({
    apps: [{
      id: 4242, slug: "gantry-deployer", client_id: "Iv23liGantry", key: publicKey,
      installations: [{ id: 77, account: owner, repositories: ["service", "allowed"],
                        permissions: { contents: "write", checks: "write", pull_requests: "read" } }],
    }],
  }),
});
assert.equal(patched.status, 200, await patched.text());

const b64url = (text) => Buffer.from(text).toString("base64url");
function jwt(claims) {
  const signed = `${b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${signed}.${createSign("RSA-SHA256").update(signed).sign(privateKey).toString("base64url")}`;
}
const now = Math.floor((await (await fetch(`${base}/_sim/time`)).json()).unix_ms / 1000);
const app = client(jwt({ iss: "Iv23liGantry", iat: now - 30, exp: now + 570 }));

const me = await app.rest.apps.getAuthenticated();
assert.equal(me.data.slug, "gantry-deployer");
assert.equal(me.data.client_id, "Iv23liGantry");
const installation = await app.rest.apps.getRepoInstallation({ owner, repo: "service" });
assert.equal(installation.data.id, 77);
assert.equal(installation.data.repository_selection, "selected");
assert.equal((await app.rest.apps.getOrgInstallation({ org: owner })).data.id, 77);
assert.equal((await app.rest.apps.getUserInstallation({ username: owner })).data.id, 77);
assert.equal((await app.rest.apps.getInstallation({ installation_id: 77 })).data.app_slug, "gantry-deployer");
const all = await app.paginate(app.rest.apps.listInstallations);
assert.deepEqual(all.map((i) => i.id), [77]);
assert.equal((await failure(app.rest.apps.getRepoInstallation({ owner, repo: "other" }))).status, 404);

const minted = await app.rest.apps.createInstallationAccessToken({
  installation_id: 77, repositories: ["service"], permissions: { contents: "read", checks: "write" },
});
assert.equal(minted.status, 201);
assert.deepEqual(minted.data.permissions, { checks: "write", contents: "read", metadata: "read" });
assert.deepEqual(minted.data.repositories.map((r) => r.full_name), ["acme/service"]);
const refused = await failure(app.rest.apps.createInstallationAccessToken({ installation_id: 77, repositories: ["nope"] }));
assert.equal(refused.status, 422);
assert.match(refused.message, /not accessible to the parent installation/);

const bot = client(minted.data.token);
const main = (await bot.rest.repos.getBranch({ owner, repo: "service", branch: "main" })).data.commit.sha;
const run = await bot.rest.checks.create({ owner, repo: "service", name: "deploy", head_sha: main });
assert.equal(run.data.app.id, 4242);
assert.equal(run.data.app.slug, "gantry-deployer");
const outside = await failure(bot.rest.repos.createOrUpdateFileContents({
  owner, repo: "allowed", path: "x", message: "x", content: Buffer.from("x").toString("base64"),
}));
assert.equal(outside.status, 403);
assert.equal(outside.response.data.message, "Resource not accessible by integration");

const revoked = await bot.rest.apps.revokeInstallationAccessToken();
assert.equal(revoked.status, 204);
assert.equal((await failure(bot.rest.repos.get({ owner, repo: "service" }))).status, 401);

const stale = await failure(client(jwt({ iss: 4242, iat: now - 700, exp: now - 100 })).rest.apps.getAuthenticated());
assert.equal(stale.status, 401);
assert.match(stale.message, /'Expiration time' claim \('exp'\) must be a numeric value/);
console.log("APPS OK");
