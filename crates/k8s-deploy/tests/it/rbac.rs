//! The RBAC rules actions/k8s-deploy/README.md documents, read from its "Permissions (RBAC)" table
//! and granted as Roles in kube-sim, are exactly what the step needs: a deploy, a failed rollout
//! that rolls back, and both dry-runs succeed with their column's rules, and together they use
//! every verb the table lists (so a verb the code stops or starts needing fails this test).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use kube_sim::{Access, Config, KubeSim, SimHandle, TokenGrant};
use serde_json::json;

use crate::common::{
    GOOD, NEXT, TOKEN, UNPULLABLE, action, assert_exit, image, images, manifests, rolled_out,
};

/// `(resource, verb)` pairs.
type Grants = BTreeSet<(String, String)>;

/// The columns of the README's table: `deploy`, `server`, `client`.
fn documented() -> BTreeMap<&'static str, Grants> {
    let readme = include_str!("../../../../actions/k8s-deploy/README.md");
    let table = readme
        .split("## Permissions (RBAC)")
        .nth(1)
        .expect("the README has a Permissions (RBAC) section");
    let mut columns: BTreeMap<&'static str, Grants> = BTreeMap::new();
    let rows = table
        .lines()
        .skip_while(|line| !line.starts_with("| resource"))
        .skip(2)
        .take_while(|line| line.starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let resource = cells[0].trim_matches('`').to_owned();
        for (column, cell) in ["deploy", "server", "client"].into_iter().zip(&cells[1..]) {
            let grants = columns.entry(column).or_default();
            for verb in cell
                .split(',')
                .map(str::trim)
                .filter(|verb| !verb.is_empty() && *verb != "—")
            {
                grants.insert((resource.clone(), verb.to_owned()));
            }
        }
    }
    assert_eq!(columns.len(), 3, "three columns in {table}");
    columns
}

/// A Role in `prod` with the column's rules (`apps` for `deployments` and `replicasets`, the core group
/// for Pods and Events, as the README says).
fn role(grants: &Grants) -> Access {
    let mut rules = Vec::new();
    for (resource, verb) in grants {
        let group = if matches!(resource.as_str(), "deployments" | "replicasets") {
            "apps"
        } else {
            ""
        };
        rules.push(format!(
            "- apiGroups: [\"{group}\"]\n  resources: [{resource}]\n  verbs: [{verb}]\n"
        ));
    }
    Access::from_yaml(&format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: k8s-deploy, namespace: prod}}\nrules:\n{}",
        rules.concat()
    ))
    .expect("a valid Role")
}

const DEPLOY: &str = "kube-CANARY-rbac-deploy-1a2b";
const SERVER: &str = "kube-CANARY-rbac-server-3c4d";
const CLIENT: &str = "kube-CANARY-rbac-client-5e6f";

fn secured(columns: &BTreeMap<&str, Grants>) -> SimHandle {
    let sim = KubeSim::spawn(Config {
        time_scale: 40.0,
        images: images(),
        manifests: manifests("", ""),
        token: TOKEN.to_owned(),
        tls: Some(sim_tls::Identity::self_made("kube-sim").expect("certificates")),
        tokens: vec![
            TokenGrant::new(TOKEN, "admin", Access::admin()),
            TokenGrant::new(
                DEPLOY,
                "system:serviceaccount:ci:deploy",
                role(&columns["deploy"]),
            ),
            TokenGrant::new(
                SERVER,
                "system:serviceaccount:ci:server",
                role(&columns["server"]),
            ),
            TokenGrant::new(
                CLIENT,
                "system:serviceaccount:ci:client",
                role(&columns["client"]),
            ),
        ],
        ..Config::default()
    })
    .expect("simulator starts");
    assert!(sim.wait_until_blocking(Duration::from_secs(20), rolled_out));
    sim
}

/// The `(resource, verb)` pairs the step used since `from` requests; every one allowed.
fn used(sim: &KubeSim, from: usize) -> Grants {
    let requests = sim.requests();
    let mut used = Grants::new();
    for request in &requests[from..] {
        assert!(request.status < 400, "refused: {request:?}");
        assert!(
            !request.path.ends_with("/status") && !request.path.ends_with("/scale"),
            "a subresource: {request:?}"
        );
        let (Some(verb), Some(resource)) = (request.verb, request.resource) else {
            continue;
        };
        used.insert((resource.plural().to_owned(), verb.as_str().to_owned()));
    }
    used
}

#[test]
fn the_documented_rules_are_exactly_what_each_mode_needs() {
    let columns = documented();
    let sim = secured(&columns);

    // The deploy column: a deploy that succeeds, then a failed rollout that rolls back.
    let from = sim.requests().len();
    let run = action(&sim, NEXT)
        .input("kubeconfig", sim.kubeconfig_for(DEPLOY))
        .run();
    assert_exit(&run, 0);
    assert_eq!(run.output("result"), "deployed", "{}", run.render());
    let run = action(&sim, UNPULLABLE)
        .input("kubeconfig", sim.kubeconfig_for(DEPLOY))
        .run();
    assert_exit(&run, 1);
    assert_eq!(run.output("result"), "rolled-back", "{}", run.render());
    assert_eq!(image(&sim), NEXT);
    assert_eq!(used(&sim, from), columns["deploy"], "the deploy column");

    // The dry-run columns: each changes nothing and needs no more than its column.
    for (mode, token, column) in [("server", SERVER, "server"), ("client", CLIENT, "client")] {
        let from = sim.requests().len();
        let run = action(&sim, GOOD)
            .event("pull_request", &json!({"number": 7}))
            .input("kubeconfig", sim.kubeconfig_for(token))
            .input("dry-run", mode)
            .run();
        assert_exit(&run, 0);
        assert_eq!(run.output("result"), "dry-run", "{mode}: {}", run.render());
        assert_eq!(used(&sim, from), columns[column], "the {column} column");
    }
    assert_eq!(image(&sim), NEXT);
}
