//! Loading a kubeconfig given as file content, as base64 of it, or as a path, in two steps: [`read`]
//! finds every secret-shaped value so the caller masks them at once, whatever the input form, and
//! [`Source::load`] parses. The kubeconfig is a secret: no error quotes it, only the kind and
//! location of the problem. The proxy to the cluster is the kubeconfig's `proxy-url`, else the
//! runner's `HTTPS_PROXY` unless `NO_PROXY` names the cluster's host, as kubectl chooses it.

use std::path::Path;

use base64::Engine as _;
use gantry_runner::NetworkSettings;
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
    #[error(
        "names a proxy that is not a URL ({0}); give proxy-url or HTTPS_PROXY as http://host:port"
    )]
    Proxy(&'static str),
}

/// A loaded cluster configuration.
pub struct Loaded {
    pub config: kube::Config,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("cluster_url", &self.config.cluster_url)
            .finish_non_exhaustive()
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

/// A kubeconfig's text, read but not yet parsed, and every secret-shaped value found in it, so the
/// caller can mask them before anything (a parse error included) can show them.
pub struct Source {
    text: String,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// Reads the `kubeconfig` value (see [`resolve_text`]) and finds its secrets; parses nothing yet.
pub fn read(value: &str) -> Result<Source, KubeconfigError> {
    let text = resolve_text(value)?;
    let secrets = secrets(&text);
    Ok(Source { text, secrets })
}

impl Source {
    /// Tokens, passwords, keys and every other secret-shaped value, longest first: mask them all
    /// before anything is printed.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Parses the kubeconfig and selects `context` or the current context. Errors give the kind
    /// and location of the problem, never the document's text.
    pub async fn load(
        &self,
        context: Option<&str>,
        network: &NetworkSettings,
    ) -> Result<Loaded, KubeconfigError> {
        serde_yaml::from_str::<serde_yaml::Value>(&self.text).map_err(|error| {
            let location = error.location();
            KubeconfigError::Yaml {
                line: location.as_ref().map_or(0, serde_yaml::Location::line),
                column: location.as_ref().map_or(0, serde_yaml::Location::column),
            }
        })?;
        let kubeconfig = Kubeconfig::from_yaml(&self.text)
            .map_err(|_| KubeconfigError::Invalid(structure_problem(&self.text)))?;
        if let Some(context) = context
            && !kubeconfig
                .contexts
                .iter()
                .any(|named| named.name == context)
        {
            return Err(KubeconfigError::NoContext(context.to_owned()));
        }
        let own_proxy = cluster_proxy_url(&kubeconfig, context);
        // Checked before kube reads them (it reads `HTTPS_PROXY` itself), so the error says where
        // the bad value came from.
        for (url, origin) in [
            (own_proxy.as_deref(), "proxy-url"),
            (network.https_proxy.as_deref(), "HTTPS_PROXY"),
        ] {
            if url.is_some_and(|url| url.parse::<http::Uri>().is_err()) {
                return Err(KubeconfigError::Proxy(origin));
            }
        }
        let options = KubeConfigOptions {
            context: context.map(str::to_owned),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|error| KubeconfigError::Invalid(kind_of(&error.to_string())))?;
        config.proxy_url = proxy(own_proxy, network, &config.cluster_url)?;
        Ok(Loaded { config })
    }
}

/// Where and how the document fails the kubeconfig schema, from serde's own reading of it:
/// `invalid type at line 7, column 12`. kube's parser quotes the offending source lines, so its
/// message is never used.
fn structure_problem(text: &str) -> String {
    match serde_yaml::from_str::<Kubeconfig>(text) {
        Err(error) => {
            let kind = kind_of(&error.to_string());
            match error.location() {
                Some(at) => format!("{kind} at line {}, column {}", at.line(), at.column()),
                None => kind,
            }
        }
        Ok(_) => "its structure does not match the kubeconfig format".to_owned(),
    }
}

/// The kind of an error, without anything it quotes: the message up to its first `:`, quote or
/// location (`invalid type: string "…"` becomes `invalid type`), followed by serde's path to the
/// field when the message starts with one (`users[0].user: …`).
fn kind_of(message: &str) -> String {
    let (path, rest) = match message.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && !path.contains(char::is_whitespace) => {
            (Some(path), rest)
        }
        _ => (None, message),
    };
    let end = rest.find([':', '"', '\'', '`', ',']).unwrap_or(rest.len());
    let kind = rest[..end]
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .trim();
    let kind = if kind.is_empty() { "unreadable" } else { kind };
    match path {
        Some(path) => format!("{kind} (in {path})"),
        None => kind.to_owned(),
    }
}

/// The in-cluster configuration (service account token and CA of the pod).
pub fn in_cluster(network: &NetworkSettings) -> Result<Loaded, KubeconfigError> {
    let mut config =
        kube::Config::incluster().map_err(|error| KubeconfigError::InCluster(error.to_string()))?;
    config.proxy_url = proxy(None, network, &config.cluster_url)?;
    Ok(Loaded { config })
}

/// The `proxy-url` of the cluster the chosen context (or the current one) names.
fn cluster_proxy_url(kubeconfig: &Kubeconfig, context: Option<&str>) -> Option<String> {
    let context = context.or(kubeconfig.current_context.as_deref())?;
    let cluster = kubeconfig
        .contexts
        .iter()
        .find(|named| named.name == context)?
        .context
        .as_ref()?
        .cluster
        .clone();
    kubeconfig
        .clusters
        .iter()
        .find(|named| named.name == cluster)?
        .cluster
        .as_ref()?
        .proxy_url
        .clone()
        .filter(|url| !url.is_empty())
}

/// The kubeconfig's own proxy, else the runner's for the cluster's host.
fn proxy(
    own: Option<String>,
    network: &NetworkSettings,
    cluster: &http::Uri,
) -> Result<Option<http::Uri>, KubeconfigError> {
    let (chosen, origin) = match own {
        Some(own) => (Some(own), "proxy-url"),
        None => (
            network
                .proxy_for(cluster.host().unwrap_or_default())
                .map(str::to_owned),
            "HTTPS_PROXY",
        ),
    };
    chosen
        .map(|url| url.parse().map_err(|_| KubeconfigError::Proxy(origin)))
        .transpose()
}

/// Whether a key names a secret: `token`, `id-token`, `client-secret`, `password`,
/// `client-key-data`, and anything else with one of those words in it.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["token", "secret", "password", "passwd", "key", "credential"]
        .iter()
        .any(|word| key.contains(word))
}

/// Every secret-shaped value in the kubeconfig, whether or not it parses: values of secret-named
/// keys anywhere, every value of an `auth-provider` `config` and of an `exec` `env`, and a
/// `users[].user` that is a bare string (a token pasted in the wrong place). The text is also read
/// line by line for secret-named keys, so a document that is not valid YAML is covered too.
fn secrets(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Ok(tree) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        collect(&tree, "", false, &mut found);
    }
    for line in text.lines() {
        for fragment in line.split(['{', '}', ',']) {
            let fragment = fragment.trim().trim_start_matches("- ").trim();
            if let Some((key, value)) = fragment.split_once(':')
                && is_secret_key(unquote(key))
            {
                found.push(unquote(value).to_owned());
            }
        }
    }
    found.retain(|value| {
        !matches!(
            value.trim(),
            "" | "true" | "false" | "null" | "~" | "|" | ">"
        )
    });
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found
}

fn unquote(text: &str) -> &str {
    text.trim().trim_matches(['"', '\''])
}

/// Walks the tree; under a secret (`inside`) every scalar is collected. `parent` is the key the
/// value sits under (list items keep their list's key).
fn collect(value: &serde_yaml::Value, parent: &str, inside: bool, found: &mut Vec<String>) {
    use serde_yaml::Value;
    match value {
        Value::String(text) if inside => found.push(text.clone()),
        Value::Number(number) if inside => found.push(number.to_string()),
        Value::Sequence(items) => items
            .iter()
            .for_each(|item| collect(item, parent, inside, found)),
        Value::Mapping(map) => {
            for (key, value) in map {
                let key = key.as_str().unwrap_or_default();
                let secret = inside
                    || is_secret_key(key)
                    || (parent == "users" && key == "user" && value.is_string())
                    || (parent == "auth-provider" && key == "config")
                    || (parent == "exec" && key == "env");
                collect(value, key, secret, found);
            }
        }
        Value::Tagged(tagged) => collect(&tagged.value, parent, inside, found),
        _ => {}
    }
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
        let source = read(YAML).unwrap();
        assert_eq!(source.secrets(), ["sekret-token", "pw"]);
        let loaded = source
            .load(Some("ctx"), &NetworkSettings::default())
            .await
            .unwrap();
        assert_eq!(loaded.config.default_namespace, "prod");
        let missing = source
            .load(Some("nope"), &NetworkSettings::default())
            .await
            .unwrap_err();
        assert_eq!(missing.to_string(), "has no context `nope`");
    }

    #[tokio::test]
    async fn broken_yaml_reports_only_the_location() {
        let source = read("apiVersion: v1\nclusters: [sekret").unwrap();
        let message = source
            .load(None, &NetworkSettings::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("is not valid YAML"), "{message}");
        assert!(!message.contains("sekret"), "{message}");
    }

    /// Every secret-shaped value a kubeconfig can hold, each a distinct canary.
    const EVERY_SECRET: &str = "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: 'http://127.0.0.1:1'}
users:
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        id-token: canary-id-token
        refresh-token: canary-refresh-token
        client-secret: canary-client-secret
        idp-issuer-url: https://canary-issuer.example
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      env:
      - name: CLOUD_TOKEN
        value: canary-exec-env
- name: basic
  user: {username: admin, password: canary-password, client-key-data: canary-key-data}
- name: pasted
  user: canary-pasted-token
contexts:
- name: ctx
  context: {cluster: c, user: oidc}
current-context: ctx
";

    const CANARIES: [&str; 8] = [
        "canary-id-token",
        "canary-refresh-token",
        "canary-client-secret",
        "https://canary-issuer.example",
        "canary-exec-env",
        "canary-password",
        "canary-key-data",
        "canary-pasted-token",
    ];

    #[tokio::test]
    async fn every_secret_shaped_value_is_found_and_no_error_quotes_one() {
        let source = read(EVERY_SECRET).unwrap();
        for canary in CANARIES {
            assert!(
                source.secrets().iter().any(|s| s == canary),
                "{canary} missed"
            );
        }
        for innocent in ["oidc", "c", "ctx", "admin", "get-token"] {
            assert!(
                !source.secrets().iter().any(|s| s == innocent),
                "{innocent} masked"
            );
        }
        // `user` as a bare string does not fit the schema: kube's parser would quote that line.
        let message = source
            .load(None, &NetworkSettings::default())
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "is not a usable kubeconfig: invalid type (in users[3].user) at line 27, column 9"
        );
        for canary in CANARIES {
            assert!(!message.contains(canary), "{message}");
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(EVERY_SECRET);
        assert_eq!(read(&encoded).unwrap().secrets(), source.secrets());
    }

    #[test]
    fn secrets_of_a_document_that_is_not_yaml_are_still_found() {
        let broken = "apiVersion: v1\nusers:\n- name: u\n  user: {token: canary-token, password: \"canary-pw\"\n  [unclosed";
        let source = read(broken).unwrap();
        assert!(
            source.secrets().contains(&"canary-token".to_owned()),
            "{:?}",
            source.secrets()
        );
        assert!(
            source.secrets().contains(&"canary-pw".to_owned()),
            "{:?}",
            source.secrets()
        );
    }
}
