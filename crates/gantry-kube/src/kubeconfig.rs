//! Loading a kubeconfig given as file content, as base64 of it, or as a path, and finding the
//! credentials inside it so the caller can mask them. The kubeconfig is a secret: no error quotes it.

use std::path::Path;

use base64::Engine as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Why a kubeconfig could not be loaded. Messages never contain the kubeconfig's text.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error(
        "is neither kubeconfig YAML, base64 of kubeconfig YAML, nor the path of a readable file"
    )]
    Unrecognised,
    #[error("names a file that cannot be read: {0}")]
    Unreadable(#[source] std::io::Error),
    #[error("is not valid YAML (line {line}, column {column})")]
    Yaml { line: usize, column: usize },
    #[error("is not a usable kubeconfig: {0}")]
    Invalid(String),
    #[error("has no context `{0}`")]
    NoContext(String),
    #[error("cannot be used for in-cluster access: {0}")]
    InCluster(String),
}

/// A loaded cluster configuration and the secret values found in the kubeconfig.
pub struct Loaded {
    pub config: kube::Config,
    /// Tokens, passwords and private keys of every user, to be masked before anything is printed.
    pub credentials: Vec<String>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("cluster_url", &self.config.cluster_url)
            .field("credentials", &self.credentials.len())
            .finish()
    }
}

/// Turns the `kubeconfig` value into YAML text: the text itself when it looks like YAML, the decoded
/// text when it is base64, or the file's contents when it names a file.
pub fn resolve_text(value: &str) -> Result<String, KubeconfigError> {
    let value = value.trim();
    if looks_like_yaml(value) {
        return Ok(value.to_owned());
    }
    let compact: String = value.split_whitespace().collect();
    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
        && let Ok(text) = String::from_utf8(bytes)
        && looks_like_yaml(&text)
    {
        return Ok(text);
    }
    let path = Path::new(value);
    if !value.contains('\n') && path.is_file() {
        return std::fs::read_to_string(path).map_err(KubeconfigError::Unreadable);
    }
    Err(KubeconfigError::Unrecognised)
}

fn looks_like_yaml(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with('{')
        || text
            .lines()
            .any(|line| line.starts_with("clusters:") || line.starts_with("apiVersion:"))
}

/// Loads a kubeconfig (see [`resolve_text`]), selecting `context` or the current context.
pub async fn load(value: &str, context: Option<&str>) -> Result<Loaded, KubeconfigError> {
    let text = resolve_text(value)?;
    let tree: serde_yaml::Value = serde_yaml::from_str(&text).map_err(|error| {
        let location = error.location();
        KubeconfigError::Yaml {
            line: location.as_ref().map_or(0, serde_yaml::Location::line),
            column: location.as_ref().map_or(0, serde_yaml::Location::column),
        }
    })?;
    let credentials = credentials(&tree);
    let redact = |message: String| {
        credentials
            .iter()
            .fold(message, |message, secret| message.replace(secret, "***"))
    };
    let kubeconfig = Kubeconfig::from_yaml(&text)
        .map_err(|error| KubeconfigError::Invalid(redact(error.to_string())))?;
    if let Some(context) = context
        && !kubeconfig
            .contexts
            .iter()
            .any(|named| named.name == context)
    {
        return Err(KubeconfigError::NoContext(context.to_owned()));
    }
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|error| KubeconfigError::Invalid(redact(error.to_string())))?;
    Ok(Loaded {
        config,
        credentials,
    })
}

/// The in-cluster configuration (service account token and CA of the pod).
pub fn in_cluster() -> Result<Loaded, KubeconfigError> {
    let config =
        kube::Config::incluster().map_err(|error| KubeconfigError::InCluster(error.to_string()))?;
    Ok(Loaded {
        config,
        credentials: Vec::new(),
    })
}

/// Every `users[].user` token, password and private key (inline data, not file paths).
fn credentials(tree: &serde_yaml::Value) -> Vec<String> {
    let users = tree
        .get("users")
        .and_then(serde_yaml::Value::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut found: Vec<String> = users
        .iter()
        .filter_map(|user| user.get("user"))
        .flat_map(|user| {
            ["token", "password", "client-key-data"]
                .into_iter()
                .filter_map(|field| user.get(field).and_then(serde_yaml::Value::as_str))
        })
        .filter(|value| !value.trim().is_empty())
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: 'http://127.0.0.1:1'}
users:
- name: u
  user: {token: sekret-token, password: pw}
contexts:
- name: ctx
  context: {cluster: c, user: u, namespace: prod}
current-context: ctx
";

    #[test]
    fn content_base64_and_path_are_recognised() {
        assert_eq!(resolve_text(YAML).unwrap(), YAML.trim());
        let encoded = base64::engine::general_purpose::STANDARD.encode(YAML);
        let wrapped = encoded
            .as_bytes()
            .chunks(60)
            .map(|chunk| std::str::from_utf8(chunk).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(resolve_text(&wrapped).unwrap(), YAML);
        let dir = std::env::temp_dir().join(format!("gantry-kube-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(&path, YAML).unwrap();
        assert_eq!(resolve_text(path.to_str().unwrap()).unwrap(), YAML);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn garbage_is_rejected_without_quoting_it() {
        let error = resolve_text("not-a-kubeconfig-sekret").unwrap_err();
        assert!(!error.to_string().contains("sekret"));
    }

    #[tokio::test]
    async fn credentials_are_found_and_the_context_applies() {
        let loaded = load(YAML, Some("ctx")).await.unwrap();
        assert_eq!(loaded.credentials, ["pw", "sekret-token"]);
        assert_eq!(loaded.config.default_namespace, "prod");
        let missing = load(YAML, Some("nope")).await.unwrap_err();
        assert_eq!(missing.to_string(), "has no context `nope`");
    }

    #[tokio::test]
    async fn broken_yaml_reports_only_the_location() {
        let error = load("apiVersion: v1\nclusters: [sekret", None)
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("is not valid YAML"), "{message}");
        assert!(!message.contains("sekret"), "{message}");
    }
}
