//! The command line every action binary gets from its spec: one `--<input>` flag per input, plus
//! `--json` and `--help`, so each action is also a usable CLI outside Actions.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command, error::ErrorKind};

use crate::error::ActionError;
use crate::spec::ActionSpec;

/// The suite's version, shown by `--version` and sent in user agents.
pub const SUITE_VERSION: &str = "0.1.0";

pub(crate) enum Parsed {
    Run(Flags),
    /// `--help` or `--version`: print this and exit 0.
    Print(String),
}

pub(crate) struct Flags {
    pub flags: BTreeMap<&'static str, OsString>,
    pub json: bool,
}

pub(crate) fn command(spec: &ActionSpec) -> Command {
    let mut command = Command::new(spec.name)
        .version(SUITE_VERSION)
        .about(spec.title)
        .long_about(spec.description)
        .after_help("Every flag can also be given as the INPUT_<NAME> environment variable, as GitHub Actions does.")
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Outside GitHub Actions, print the outputs as one JSON object instead of name=value lines"),
        );
    // An action may have an input called `version` (k8s-deploy's image tag); the input wins.
    if spec.input("version").is_some() {
        command = command.disable_version_flag(true);
    }
    for input in spec.inputs {
        let mut help = input.description.to_owned();
        if let Some(default) = input.default.filter(|d| !d.is_empty()) {
            let _ = write!(help, " [default: {default}]");
        }
        if input.required {
            help.push_str(" [required]");
        }
        command = command.arg(
            Arg::new(input.name)
                .long(input.name)
                .value_name("VALUE")
                .value_parser(clap::builder::OsStringValueParser::new())
                .action(ArgAction::Set)
                .help(help),
        );
    }
    command
}

pub(crate) fn parse(
    spec: &'static ActionSpec,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Parsed, ActionError> {
    let matches = match command(spec).try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            return Ok(Parsed::Print(error.render().to_string()));
        }
        Err(error) => {
            let message = error.render().to_string();
            let first = message
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_owned();
            return Err(ActionError::input(
                "command line",
                format!("{first}; see --help"),
            ));
        }
    };
    let flags = spec
        .inputs
        .iter()
        .filter_map(|input| {
            matches
                .get_one::<OsString>(input.name)
                .map(|value| (input.name, value.clone()))
        })
        .collect();
    Ok(Parsed::Run(Flags {
        flags,
        json: matches.get_flag("json"),
    }))
}
