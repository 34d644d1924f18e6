//! Which Deployment an operation concerns: the name every request, message and error carries.

use std::fmt;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;

/// Which Deployment: namespace and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl Target {
    pub fn api(&self, client: &kube::Client) -> Api<Deployment> {
        Api::namespaced(client.clone(), &self.namespace)
    }
}
