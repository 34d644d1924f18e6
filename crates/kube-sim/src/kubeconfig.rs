//! The kubeconfig that points kubectl and kube-rs at a running simulator.

use base64::Engine as _;

/// A kubeconfig with one cluster (trusting `ca_pem` when serving TLS), one token user and one
/// current context.
pub fn render(url: &str, token: &str, namespace: &str, ca_pem: Option<&str>) -> String {
    let ca = ca_pem.map_or_else(String::new, |pem| {
        format!(
            "\n    certificate-authority-data: {}",
            base64::engine::general_purpose::STANDARD.encode(pem)
        )
    });
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-sim
  cluster:
    server: {url}{ca}
users:
- name: kube-sim
  user:
    token: {token}
contexts:
- name: kube-sim
  context:
    cluster: kube-sim
    user: kube-sim
    namespace: {namespace}
current-context: kube-sim
preferences: {{}}
"
    )
}
