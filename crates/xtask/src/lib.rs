//! Generated files: every `actions/<name>/action.yml` (composite), `actions/<name>/docker/action.yml`
//! (Docker form) and the reference tables in the action READMEs come from the actions' `SPEC`s, so
//! the public interface cannot drift from the binaries. The pin checks and `cargo xtask pin` live in
//! [`uses`], [`third_party`] and [`self_pins`].

pub mod self_pins;
pub mod third_party;
pub mod uses;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use gantry_runner::{ActionSpec, summary};
use serde_yaml::{Mapping, Value};

/// Every action of the suite, in the order the README lists them.
pub const ACTIONS: &[&ActionSpec] = &[
    &ticgen::SPEC,
    &required_ci_check::SPEC,
    &create_prerelease::SPEC,
    &auto_deploy::SPEC,
    &k8s_deploy::SPEC,
];

/// The input every generated `action.yml` adds: where a prebuilt binary lives.
pub const BIN_DIR_INPUT: &str = "bin-dir";

const BIN_DIR_DESCRIPTION: &str = "Directory holding a prebuilt binary of this action. Empty: use this repository's own target/release when it was built there, otherwise download the release asset and verify its SHA-256.";

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask lives two levels down")
        .to_path_buf()
}

/// The `inputs:` of an action.yml: the spec's inputs, as declared.
fn inputs_mapping(spec: &ActionSpec) -> Mapping {
    let mut inputs = Mapping::new();
    for input in spec.inputs {
        let mut entry = Mapping::new();
        entry.insert("description".into(), input.description.into());
        entry.insert("required".into(), input.required.into());
        if let Some(default) = input.default {
            entry.insert("default".into(), default.into());
        }
        inputs.insert(input.name.into(), entry.into());
    }
    inputs
}

/// The image reference of the Docker actions until a release commit pins it (`release/commit.sh
/// --image REPOSITORY@sha256:DIGEST` replaces it with the pushed image, by digest): a tag nobody
/// publishes, which says what it is when a pull fails.
pub const DOCKER_IMAGE_PLACEHOLDER: &str = "docker://ghcr.io/OWNER/gantry:not-a-release";

/// The line the development form of a Docker action carries under the generated-file header, and
/// which the release commit removes.
pub const DOCKER_DEVELOPMENT_NOTE: &str = "# Development form: not a released image. A development commit has no image; use a release tag, whose commit pins the released image by digest.";

/// The Docker form of an action (`actions/<name>/docker/action.yml`): the same inputs, which the
/// runner passes as `INPUT_*` variables, and the action's binary as the image's entrypoint.
pub fn docker_action_yml(spec: &ActionSpec) -> String {
    let mut outputs = Mapping::new();
    for output in spec.outputs {
        outputs.insert(
            output.name.into(),
            mapping([("description", output.description)]).into(),
        );
    }
    let runs = mapping([
        ("using", Value::from("docker")),
        ("image", DOCKER_IMAGE_PLACEHOLDER.into()),
        ("entrypoint", format!("/usr/local/bin/{}", spec.name).into()),
    ]);
    let document = generated_action(
        spec,
        format!("gantry {} (Docker)", spec.name),
        inputs_mapping(spec),
        outputs,
        runs,
    );
    let (header, yaml) = document
        .split_once('\n')
        .expect("the generated header is one line");
    format!("{header}\n{DOCKER_DEVELOPMENT_NOTE}\n{yaml}")
}

/// The composite `action.yml` for an action: inputs reach the binary only through `env:`.
pub fn action_yml(spec: &ActionSpec) -> String {
    let mut inputs = inputs_mapping(spec);
    let mut bin_dir = Mapping::new();
    bin_dir.insert("description".into(), BIN_DIR_DESCRIPTION.into());
    bin_dir.insert("required".into(), false.into());
    bin_dir.insert("default".into(), "".into());
    inputs.insert(BIN_DIR_INPUT.into(), bin_dir.into());

    let mut outputs = Mapping::new();
    for output in spec.outputs {
        let mut entry = Mapping::new();
        entry.insert("description".into(), output.description.into());
        entry.insert(
            "value".into(),
            format!("${{{{ steps.run.outputs.{} }}}}", output.name).into(),
        );
        outputs.insert(output.name.into(), entry.into());
    }

    let install_env = mapping([
        ("GANTRY_BINARY", spec.name.to_owned()),
        (
            "GANTRY_BIN_DIR",
            format!("${{{{ inputs.{BIN_DIR_INPUT} }}}}"),
        ),
        (
            "GANTRY_ACTION_REPOSITORY",
            "${{ github.action_repository }}".to_owned(),
        ),
    ]);
    let install = mapping([
        ("name", Value::from(format!("Install {}", spec.name))),
        ("id", "install".into()),
        ("shell", "bash".into()),
        ("env", install_env.into()),
        (
            "run",
            "bash \"$GITHUB_ACTION_PATH/../install-binary.sh\"".into(),
        ),
    ]);
    let mut run_env = Mapping::new();
    run_env.insert(
        "GANTRY_EXE".into(),
        "${{ steps.install.outputs.path }}".into(),
    );
    for input in spec.inputs {
        run_env.insert(
            input.env_name().into(),
            format!("${{{{ inputs.{} }}}}", input.name).into(),
        );
    }
    let run = mapping([
        ("name", Value::from(format!("Run {}", spec.name))),
        ("id", "run".into()),
        ("shell", "bash".into()),
        ("env", run_env.into()),
        // `exec`: the runner signals the step's bash, which does not forward SIGINT/SIGTERM to a
        // child it waits for; exec'd, the binary is that process and sees the cancellation.
        ("run", "exec \"$GANTRY_EXE\"".into()),
    ]);
    let runs = mapping([
        ("using", Value::from("composite")),
        ("steps", Value::Sequence(vec![install.into(), run.into()])),
    ]);
    generated_action(spec, format!("gantry {}", spec.name), inputs, outputs, runs)
}

/// An `action.yml` document named `name`, under the header that says it is generated.
fn generated_action(
    spec: &ActionSpec,
    name: String,
    inputs: Mapping,
    outputs: Mapping,
    runs: Mapping,
) -> String {
    let document = mapping([
        ("name", Value::from(name)),
        ("description", spec.title.into()),
        ("author", "gantry".into()),
        ("inputs", inputs.into()),
        ("outputs", outputs.into()),
        ("runs", runs.into()),
    ]);
    let yaml = serde_yaml::to_string(&document).expect("a mapping of strings serialises");
    format!(
        "# Generated from crates/{}/src (SPEC) by `cargo xtask codegen`; do not edit.\n{yaml}",
        spec.name
    )
}

fn mapping<V: Into<Value>>(entries: impl IntoIterator<Item = (&'static str, V)>) -> Mapping {
    entries
        .into_iter()
        .map(|(key, value)| (Value::from(key), value.into()))
        .collect()
}

/// The Markdown reference block (inputs and outputs tables) for an action's README.
pub fn reference_block(spec: &ActionSpec) -> String {
    let (start, _) = markers(spec);
    let mut text = format!(
        "{start}\n#### Inputs\n\n| input | required | default | description |\n|---|---|---|---|\n"
    );
    for input in spec.inputs {
        let default = input.default.map(summary::code).unwrap_or_default();
        let required = if input.required { "yes" } else { "no" };
        let secret = if input.secret {
            " (secret: masked when read)"
        } else {
            ""
        };
        let _ = writeln!(
            text,
            "| `{}` | {required} | {default} | {}{secret} |",
            input.name,
            summary::escape_cell(input.description)
        );
    }
    let _ = writeln!(text, "| `{BIN_DIR_INPUT}` | no | | {BIN_DIR_DESCRIPTION} |");
    text.push_str("\n#### Outputs\n\n| output | description |\n|---|---|\n");
    for output in spec.outputs {
        let _ = writeln!(
            text,
            "| `{}` | {} |",
            output.name,
            summary::escape_cell(output.description)
        );
    }
    text.push_str(&markers(spec).1);
    text
}

/// The comment lines around an action's generated block.
fn markers(spec: &ActionSpec) -> (String, String) {
    (
        format!(
            "<!-- generated:{}:start (cargo xtask codegen) -->",
            spec.name
        ),
        format!("<!-- generated:{}:end -->", spec.name),
    )
}

/// Replaces the generated block in a README, or appends one when there is none.
pub fn with_reference(readme: &str, spec: &ActionSpec) -> String {
    let block = reference_block(spec);
    let (start_marker, end_marker) = markers(spec);
    match (readme.find(&start_marker), readme.find(&end_marker)) {
        (Some(start), Some(end)) if start < end => {
            format!(
                "{}{block}{}",
                &readme[..start],
                &readme[end + end_marker.len()..]
            )
        }
        _ => format!("{}\n\n## Reference\n\n{block}\n", readme.trim_end()),
    }
}

/// Every generated file: its path and wanted content.
pub fn generated_files(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for spec in ACTIONS {
        let dir = root.join("actions").join(spec.name);
        files.push((dir.join("action.yml"), action_yml(spec)));
        files.push((dir.join("docker/action.yml"), docker_action_yml(spec)));
        let readme_path = dir.join("README.md");
        let readme = match std::fs::read_to_string(&readme_path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                format!("# {}\n\n{}\n", spec.name, spec.description)
            }
            Err(error) => {
                return Err(
                    anyhow::Error::new(error).context(format!("read {}", readme_path.display()))
                );
            }
        };
        files.push((readme_path, with_reference(&readme, spec)));
    }
    let root_readme = root.join("README.md");
    let mut text = std::fs::read_to_string(&root_readme).map_err(|error| {
        anyhow::Error::new(error).context(format!("read {}", root_readme.display()))
    })?;
    for spec in ACTIONS {
        text = with_reference(&text, spec);
    }
    files.push((root_readme, text));
    Ok(files)
}
