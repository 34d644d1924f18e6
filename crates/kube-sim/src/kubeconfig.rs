//! The kubeconfig that points kubectl and kube-rs at a running simulator.

/// A kubeconfig with one cluster, one token user and one current context.
pub fn render(url: &str, token: &str, namespace: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-sim
  cluster:
    server: {url}
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
