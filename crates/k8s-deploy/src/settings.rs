//! Phase two of input parsing: the raw inputs, the env file and the run's context turned into
//! typed settings, every problem reported against the input that caused it before any request.

use std::collections::BTreeMap;
use std::time::Duration;

use gantry_kube::rollout::PodPolicy;
use gantry_kube::source::{Source, parse_sequence};
use gantry_runner::{ActionError, GithubContext, Inputs, NetworkSettings, Secret, Step};

use crate::envfile;
use crate::names::{is_container_name, is_dns_subdomain};
use crate::record::Record;
use crate::strategy::Strategy;

/// Annotation prefix of the provenance annotations.
pub const PROVENANCE_PREFIX: &str = "gantry.dev/";

/// How a dry-run tries the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// The server validates the patch and stores nothing (`dryRun=All`): needs `patch` rights.
    Server,
    /// The live Deployment is read and the change applied to it locally: needs only `get`.
    Client,
}

impl DryRun {
    /// How logs and the summary name the diff.
    pub fn diff_label(self) -> &'static str {
        match self {
            Self::Server => "server-side dry-run",
            Self::Client => "client-side diff",
        }
    }

    /// What the diff does not show.
    pub fn caveat(self) -> Option<&'static str> {
        match self {
            Self::Server => None,
            Self::Client => Some(
                "computed locally from the live Deployment; what the server would add or refuse (admission, defaulting, validation) is not checked",
            ),
        }
    }
}

/// Everything the deploy needs, validated.
#[derive(Debug)]
pub struct Settings {
    pub kubeconfig: Option<Secret>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// The Deployments rolled out as one, each with the container to update when named.
    pub deployments: Vec<Named>,
    pub image: String,
    /// `None`: deploy.
    pub dry_run: Option<DryRun>,
    /// The landing-zone commit the values came from; the deploy never goes back past a newer one.
    pub source: Option<Source>,
    pub timeout: Duration,
    pub fail_fast: bool,
    /// When pod states fail the rollout (with `fail_fast`).
    pub pods: PodPolicy,
    pub rollback: bool,
    pub soak: Option<Duration>,
    /// Annotations written with the image: provenance and `kubernetes.io/change-cause`.
    pub annotations: BTreeMap<String, String>,
    /// Why the rollback happened, for `kubernetes.io/change-cause` on the rollback.
    pub run_url: Option<String>,
    /// The runner's proxy, for the Kubernetes API.
    pub network: NetworkSettings,
    pub strategy: Strategy,
    /// The Service named by the `service` input.
    pub service: Option<String>,
    /// Where the deploy is recorded as a GitHub deployment; `None`: not recorded.
    pub record: Option<Record>,
}

/// The env-file keys that name the Deployments, in order of preference.
const DEPLOYMENT_KEYS: [&str; 4] = ["DEPLOYMENTS", "DEPLOYMENT_NAME", "DEPLOYMENT", "NAME"];

impl Settings {
    pub fn from_step(step: &mut Step<'_>) -> Result<Self, ActionError> {
        let inputs = &step.inputs;
        let env_file = read_env_file(inputs.get("env-file"))?;
        let from_file = |name: &str| env_file.get(name).filter(|v| !v.is_empty()).cloned();
        let given = |input: &'static str, key: &str| {
            inputs
                .get(input)
                .map(|value| Given::input(input, value))
                .or_else(|| from_file(key).map(|value| Given::env_file(key, value)))
        };
        let version_key = version_key(inputs)?;
        let image = match inputs.get("image") {
            Some(full) => image(
                Some(full),
                inputs
                    .get("image-name")
                    .map(|v| Given::input("image-name", v)),
                inputs.get("version").map(|v| Given::input("version", v)),
            )?,
            // Inputs win over the env file, part by part.
            None => image(
                None,
                given("image-name", "IMAGE_NAME"),
                given("version", version_key),
            )?,
        };
        let container = given("container", "CONTAINER");
        if let Some(container) = &container {
            container.check_with(is_container_name, CONTAINER_NAME)?;
        }
        let deployments = DEPLOYMENT_KEYS
            .iter()
            .find_map(|key| given("deployment", key))
            .ok_or_else(|| {
                ActionError::input(
                    "deployment",
                    "is required; set it, or pass an env-file with DEPLOYMENTS or DEPLOYMENT_NAME",
                )
            })?;
        let deployments = deployment_list(
            &deployments,
            container.as_ref().map(|given| given.value.as_str()),
        )?;
        let namespace = given("namespace", "NAMESPACE");
        if let Some(namespace) = &namespace {
            namespace.check_with(
                is_dns_subdomain,
                "a namespace name (lower-case letters, digits, `-` and `.`)",
            )?;
        }
        let namespace = namespace.map(|given| given.value);
        let timeout = inputs
            .duration("timeout")?
            .unwrap_or(Duration::from_secs(600));
        let soak = inputs.duration("soak")?;
        let fail_fast = inputs.flag("fail-fast")?;
        let pods = pod_policy(inputs)?;
        let rollback = inputs.flag("rollback")?;
        let provenance = inputs.flag("provenance")?;
        let kubeconfig = inputs.secret("kubeconfig").cloned();
        let context = given("context", "KUBE_CONTEXT").map(|given| given.value);
        let change_cause = inputs.get("change-cause").map(str::to_owned);
        let source = source(inputs.get("source-sequence"), inputs.get("source-revision"))?;
        let dry_run_input = inputs.get("dry-run").unwrap_or("auto").to_owned();
        let env_file_input = inputs.get("env-file").map(str::to_owned);
        let (strategy, service) = Strategy::from_step_inputs(inputs, deployments.len() > 1)?;
        let network = NetworkSettings::from_env(step.env())?;
        let github = step.context()?.clone();
        let dry_run = dry_run(&dry_run_input, github.is_pull_request())?;
        let run_url = github.run_url();
        let annotations = annotations(&github, &image, change_cause, provenance);
        let record = Record::from_inputs(
            &step.inputs,
            env_file_input.as_deref(),
            &github,
            network.clone(),
            dry_run.is_some(),
        )?;
        Ok(Self {
            kubeconfig,
            context,
            namespace,
            deployments,
            image,
            dry_run,
            source,
            timeout,
            fail_fast,
            pods,
            rollback,
            soak,
            annotations,
            run_url,
            network,
            strategy,
            service,
            record,
        })
    }
}

/// `version-key`: the env-file variable holding the version.
fn version_key(inputs: &Inputs) -> Result<&str, ActionError> {
    let key = inputs.get("version-key").unwrap_or("IMAGE_VERSION");
    if envfile::is_name(key) {
        return Ok(key);
    }
    Err(ActionError::input(
        "version-key",
        format!(
            "`{key}` is not an env-file variable name (letters, digits and `_`, not starting with a digit)"
        ),
    ))
}

/// When pod states fail the rollout: `unschedulable-grace`.
fn pod_policy(inputs: &Inputs) -> Result<PodPolicy, ActionError> {
    Ok(PodPolicy {
        unschedulable_grace: inputs
            .duration("unschedulable-grace")?
            .unwrap_or(PodPolicy::default().unschedulable_grace),
        ..PodPolicy::default()
    })
}

/// A Deployment of the set, and the container to update in it when one is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    pub container: Option<String>,
}

const CONTAINER_NAME: &str = "a container name (lower-case letters, digits and `-`)";

/// `NAME[:CONTAINER][,NAME[:CONTAINER]]...`, spaces around items allowed; `container` (the input
/// or CONTAINER) applies to the items that name none. Names are unique.
fn deployment_list(list: &Given, container: Option<&str>) -> Result<Vec<Named>, ActionError> {
    let mut named: Vec<Named> = Vec::new();
    for item in list.value.split(',').map(str::trim) {
        let (name, own) = match item.split_once(':') {
            Some((name, own)) => (name.trim(), Some(own.trim())),
            None => (item, None),
        };
        let problem = if item.is_empty() {
            Some(format!(
                "`{}` has an empty item; write NAME or NAME:CONTAINER, separated by commas",
                list.value
            ))
        } else if !is_dns_subdomain(name) {
            Some(format!(
                "`{name}` is not a Deployment name (lower-case letters, digits, `-` and `.`)"
            ))
        } else if let Some(own) = own.filter(|own| !is_container_name(own)) {
            Some(format!("`{own}` (after `{name}:`) is not {CONTAINER_NAME}"))
        } else if named.iter().any(|other| other.name == name) {
            Some(format!("names `{name}` twice"))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ActionError::input(
                list.input,
                format!("{}{problem}", list.place),
            ));
        }
        named.push(Named {
            name: name.to_owned(),
            container: own.or(container).map(str::to_owned),
        });
    }
    Ok(named)
}

/// `dry-run`: `false`, `true` or `server`, `client`, or `auto` (`server` on pull requests).
fn dry_run(text: &str, pull_request: bool) -> Result<Option<DryRun>, ActionError> {
    match text {
        "auto" if pull_request => Ok(Some(DryRun::Server)),
        "auto" => Ok(None),
        "server" => Ok(Some(DryRun::Server)),
        "client" => Ok(Some(DryRun::Client)),
        _ => match gantry_runner::inputs::parse_bool(text) {
            Some(true) => Ok(Some(DryRun::Server)),
            Some(false) => Ok(None),
            None => Err(ActionError::input(
                "dry-run",
                format!(
                    "`{text}` is not one of false, true (or server: a server-side dry-run, needs patch rights), client (a client-side diff, needs only get) or auto"
                ),
            )),
        },
    }
}

/// `source-sequence` and `source-revision`, given together or not at all.
fn source(sequence: Option<&str>, revision: Option<&str>) -> Result<Option<Source>, ActionError> {
    let (sequence, revision) = match (sequence, revision) {
        (None, None) => return Ok(None),
        (Some(sequence), Some(revision)) => (sequence, revision),
        (Some(_), None) => {
            return Err(ActionError::input(
                "source-revision",
                "is required with source-sequence; pass the landing-zone commit SHA the env file was read from",
            ));
        }
        (None, Some(_)) => {
            return Err(ActionError::input(
                "source-sequence",
                "is required with source-revision; pass `git rev-list --count --first-parent HEAD` of that commit",
            ));
        }
    };
    let sequence = parse_sequence(sequence).ok_or_else(|| {
        ActionError::input(
            "source-sequence",
            format!(
                "`{sequence}` is not a non-negative integer; pass `git rev-list --count --first-parent HEAD` of the landing zone's base branch"
            ),
        )
    })?;
    let is_sha =
        matches!(revision.len(), 40 | 64) && revision.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_sha {
        return Err(ActionError::input(
            "source-revision",
            format!(
                "`{revision}` is not a commit SHA (40 or 64 hexadecimal digits); pass `git rev-parse HEAD` of the landing zone's base branch"
            ),
        ));
    }
    Ok(Some(Source {
        sequence,
        revision: revision.to_ascii_lowercase(),
    }))
}

fn read_env_file(path: Option<&str>) -> Result<BTreeMap<String, String>, ActionError> {
    let Some(path) = path else {
        return Ok(BTreeMap::new());
    };
    let text = std::fs::read_to_string(path).map_err(|error| {
        ActionError::input("env-file", format!("cannot read `{path}`: {error}"))
    })?;
    envfile::parse(&text)
        .map_err(|error| ActionError::input("env-file", format!("`{path}`: {error}")))
}

/// `kubernetes.io/change-cause` and, with `provenance`, the `gantry.dev/` annotations.
fn annotations(
    github: &GithubContext,
    image: &str,
    change_cause: Option<String>,
    provenance: bool,
) -> BTreeMap<String, String> {
    let run_url = github.run_url();
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "kubernetes.io/change-cause".to_owned(),
        change_cause.unwrap_or_else(|| match &run_url {
            Some(url) => format!("k8s-deploy set {image} ({url})"),
            None => format!("k8s-deploy set {image}"),
        }),
    );
    if provenance {
        let values = [
            ("run-url", run_url),
            ("source-sha", github.sha.clone()),
            ("source-ref", github.ref_name.clone()),
            ("image", Some(image.to_owned())),
        ];
        for (key, value) in values {
            if let Some(value) = value {
                annotations.insert(format!("{PROVENANCE_PREFIX}{key}"), value);
            }
        }
    }
    annotations
}

/// A part of the image reference and where the user set it, so an error names that place.
struct Given {
    value: String,
    /// The input that carries it: the part's own input, or `env-file`.
    input: &'static str,
    /// How the message refers to it: empty for an input, `IMAGE_NAME in the env file` otherwise.
    place: String,
}

impl Given {
    fn input(input: &'static str, value: &str) -> Self {
        Self {
            value: value.to_owned(),
            input,
            place: String::new(),
        }
    }

    /// Checks the value with `valid`, which it must be: `what`.
    fn check_with(&self, valid: fn(&str) -> bool, what: &str) -> Result<(), ActionError> {
        if valid(&self.value) {
            return Ok(());
        }
        Err(ActionError::input(
            self.input,
            format!("{}`{}` is not {what}", self.place, self.value),
        ))
    }

    fn env_file(key: &str, value: String) -> Self {
        Self {
            value,
            input: "env-file",
            place: format!("{key} "),
        }
    }

    /// Checks the value with `check`, reporting a failure against the place it came from.
    fn check(
        &self,
        check: fn(&str) -> Result<(), gantry_image::ImageRefError>,
        example: &str,
    ) -> Result<(), ActionError> {
        check(&self.value).map_err(|error| {
            ActionError::input(
                self.input,
                format!(
                    "{}`{}` {error}; write it like {example}",
                    self.place, self.value
                ),
            )
        })
    }
}

/// `image`, or `image-name` + `version` (either may come from the env file), never both; every
/// part checked against the image reference grammar, reported under the input that set it.
fn image(
    full: Option<&str>,
    name: Option<Given>,
    version: Option<Given>,
) -> Result<String, ActionError> {
    match (full, name, version) {
        (Some(full), None, None) => {
            gantry_image::parse(full).map_err(|error| {
                ActionError::input(
                    "image",
                    format!("`{full}` {error}; write it like registry.example/app:1.2.3"),
                )
            })?;
            Ok(full.to_owned())
        }
        (Some(_), _, _) => Err(ActionError::input(
            "image",
            "conflicts with image-name and version; give one or the other",
        )),
        (None, Some(name), Some(version)) => {
            name.check(gantry_image::check_name, "registry.example/app")?;
            version.check(
                gantry_image::check_version,
                "1.2.3 or sha256:<64 hex digits>",
            )?;
            let separator = if version.value.contains(':') {
                '@'
            } else {
                ':'
            };
            Ok(format!("{}{separator}{}", name.value, version.value))
        }
        (None, Some(_), None) => Err(ActionError::input(
            "version",
            "is required with image-name (or IMAGE_VERSION in env-file)",
        )),
        (None, None, Some(_)) => Err(ActionError::input(
            "image-name",
            "is required with version (or IMAGE_NAME in env-file)",
        )),
        (None, None, None) => Err(ActionError::input(
            "image",
            "is required; set image, image-name and version, or env-file",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn input(name: &'static str, value: &str) -> Given {
        Given::input(name, value)
    }

    fn refused_input(result: Result<String, ActionError>) -> String {
        match result {
            Err(ActionError::Input { input, .. }) => input,
            other => panic!("expected bad input, got {other:?}"),
        }
    }

    #[test]
    fn image_from_parts_or_whole() {
        assert_eq!(image(Some("r/app:1"), None, None).unwrap(), "r/app:1");
        assert_eq!(
            image(
                None,
                Some(input("image-name", "r/app")),
                Some(input("version", "1.2"))
            )
            .unwrap(),
            "r/app:1.2"
        );
        assert_eq!(
            image(
                None,
                Some(input("image-name", "r/app")),
                Some(input("version", SHA))
            )
            .unwrap(),
            format!("r/app@{SHA}")
        );
        assert!(image(Some("r/app:1"), Some(input("image-name", "r/app")), None).is_err());
        assert!(image(None, Some(input("image-name", "r/app")), None).is_err());
        assert!(image(Some("r/app:"), None, None).is_err());
    }

    #[test]
    fn a_bad_part_is_reported_under_the_input_that_set_it() {
        let name = || Some(input("image-name", "registry.example/app"));
        assert_eq!(
            refused_input(image(Some("registry.example/App:1.1"), None, None)),
            "image"
        );
        assert_eq!(
            refused_input(image(
                None,
                name(),
                Some(input("version", "1.1##[add-mask]registry.example/app"))
            )),
            "version"
        );
        assert_eq!(
            refused_input(image(
                None,
                Some(input("image-name", "Registry.example/App")),
                Some(input("version", "1"))
            )),
            "image-name"
        );
        assert_eq!(
            refused_input(image(None, name(), Some(input("version", "sha256:ab")))),
            "version"
        );
        let from_file = Some(Given::env_file("IMAGE_VERSION", "v1 2".to_owned()));
        let error = image(None, name(), from_file).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("input `env-file`: IMAGE_VERSION `v1 2` has an invalid tag"),
            "{error}"
        );
    }

    #[test]
    fn dry_run_modes() {
        assert_eq!(dry_run("auto", true).unwrap(), Some(DryRun::Server));
        assert_eq!(dry_run("auto", false).unwrap(), None);
        assert_eq!(dry_run("true", false).unwrap(), Some(DryRun::Server));
        assert_eq!(dry_run("server", false).unwrap(), Some(DryRun::Server));
        assert_eq!(dry_run("client", true).unwrap(), Some(DryRun::Client));
        assert_eq!(dry_run("False", true).unwrap(), None);
        for bad in ["Client", "yes", "", "server-side"] {
            let Err(ActionError::Input { input, .. }) = dry_run(bad, false) else {
                panic!("{bad:?} accepted");
            };
            assert_eq!(input, "dry-run");
        }
    }

    #[test]
    fn a_source_is_both_values_checked() {
        let sha = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(
            source(Some("0042"), Some(sha)).unwrap(),
            Some(Source {
                sequence: 42,
                revision: sha.to_ascii_lowercase()
            })
        );
        assert_eq!(source(None, None).unwrap(), None);
        let not_hex = sha.replace('0', "g");
        let refused = |sequence, revision| match source(sequence, revision) {
            Err(ActionError::Input { input, .. }) => input,
            other => panic!("expected bad input, got {other:?}"),
        };
        assert_eq!(refused(Some("-1"), Some(sha)), "source-sequence");
        assert_eq!(refused(Some("1.5"), Some(sha)), "source-sequence");
        assert_eq!(refused(Some("12"), Some("abc123")), "source-revision");
        assert_eq!(refused(Some("12"), Some(&not_hex)), "source-revision");
        assert_eq!(refused(Some("12"), None), "source-revision");
        assert_eq!(refused(None, Some(sha)), "source-sequence");
    }

    #[test]
    fn a_deployment_list_is_names_with_optional_containers() {
        let list = |text: &str, container: Option<&str>| {
            deployment_list(&input("deployment", text), container)
        };
        let named = |name: &str, container: Option<&str>| Named {
            name: name.to_owned(),
            container: container.map(str::to_owned),
        };
        assert_eq!(list("web", None).unwrap(), [named("web", None)]);
        assert_eq!(
            list(" api-web:app , api-grpc", Some("main")).unwrap(),
            [
                named("api-web", Some("app")),
                named("api-grpc", Some("main"))
            ]
        );
        for bad in ["", "a,", "a:", "a:b.c", "a,a:x", "A", "a:b:c"] {
            assert!(list(bad, None).is_err(), "{bad:?} accepted");
        }
        let from_file = Given::env_file("DEPLOYMENTS", "web,Web".to_owned());
        let Err(ActionError::Input { input, .. }) = deployment_list(&from_file, None) else {
            panic!("accepted");
        };
        assert_eq!(input, "env-file");
    }
}
