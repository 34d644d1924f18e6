//! The declaration of an action's inputs and outputs: the single source of truth from which the
//! binary's CLI, its input resolution and its `action.yml` are all derived.

/// What an action is and which inputs and outputs it has.
#[derive(Debug)]
pub struct ActionSpec {
    /// Binary and directory name, e.g. `ticgen`.
    pub name: &'static str,
    /// Human title for `action.yml`'s `name:`.
    pub title: &'static str,
    /// One-paragraph description for `action.yml` and `--help`.
    pub description: &'static str,
    pub inputs: &'static [InputSpec],
    pub outputs: &'static [OutputSpec],
}

/// One input, as `with:` in a workflow and `--name` on the command line.
#[derive(Debug)]
pub struct InputSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// Required inputs have no default; an empty value counts as missing.
    pub required: bool,
    /// The value used when the input is not given (also written to `action.yml`).
    pub default: Option<&'static str>,
    /// Secrets are masked the moment they are read and never echoed.
    pub secret: bool,
}

/// One output, written to `GITHUB_OUTPUT` when the action succeeds.
#[derive(Debug)]
pub struct OutputSpec {
    pub name: &'static str,
    pub description: &'static str,
}

impl InputSpec {
    /// An optional input with a default value.
    pub const fn optional(
        name: &'static str,
        default: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            description,
            required: false,
            default: Some(default),
            secret: false,
        }
    }

    /// A required input.
    pub const fn required(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            description,
            required: true,
            default: None,
            secret: false,
        }
    }

    /// An optional secret input (a token); masked when read.
    pub const fn secret(
        name: &'static str,
        default: &'static str,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            description,
            required: false,
            default: Some(default),
            secret: true,
        }
    }

    /// The default outside `action.yml`: an expression default such as `${{ github.token }}` only
    /// means something to the runner, so on the command line the input has no default.
    pub fn cli_default(&self) -> Option<&'static str> {
        self.default
            .filter(|default| !default.trim_start().starts_with("${{"))
    }

    /// The environment variable the runner sets for this input: `INPUT_` + upper-cased name with
    /// spaces turned into `_` (hyphens are kept).
    pub fn env_name(&self) -> String {
        input_env_name(self.name)
    }
}

impl OutputSpec {
    pub const fn new(name: &'static str, description: &'static str) -> Self {
        Self { name, description }
    }
}

impl ActionSpec {
    /// Looks up a declared input.
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// Looks up a declared output.
    pub fn output(&self, name: &str) -> Option<&OutputSpec> {
        self.outputs.iter().find(|output| output.name == name)
    }
}

/// `INPUT_` + the name with ASCII spaces replaced by `_`, upper-cased, exactly as the runner does.
pub fn input_env_name(name: &str) -> String {
    format!(
        "{}{}",
        crate::env_vars::INPUT_PREFIX,
        name.replace(' ', "_").to_uppercase()
    )
}
