//! Workflow-command injection: every vector from actions/runner, the legacy `##[` syntax and lines
//! split by a lone `\r`, pushed through every way a value reaches stdout, read back with the model
//! of the runner ([`command::obeyed`]).

use std::ffi::OsString;

use gantry_runner::console::break_legacy_commands;
use gantry_runner::{
    ActionError, ActionSpec, Annotation, Env, InputSpec, OutputSpec, Outputs, Step, command,
    run_with,
};

static SPEC: ActionSpec = ActionSpec {
    name: "echo",
    title: "Echo",
    description: "Logs a value every way an action can.",
    inputs: &[InputSpec::required("value", "The value to echo")],
    outputs: &[OutputSpec::new("echo", "The value")],
};

/// Logs the value as text, in a group title, an annotation title and message, a debug line, an
/// output printed outside Actions, and the final error.
fn echo(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let value = step.inputs.required("value")?.to_owned();
    step.console.info(&value);
    step.console.info(&format!("Deploying {value}"));
    step.console.info(&format!("   {value}"));
    step.console.group(&format!("group {value}"));
    step.console.end_group();
    step.console.warning(
        &format!("careful {value}"),
        &Annotation::titled(value.clone()),
    );
    step.console.debug(&value);
    let mut outputs = Outputs::new();
    outputs.set("echo", value.clone());
    Err(ActionError::refused(
        outputs,
        anyhow::anyhow!("refused {value}"),
    ))
}

fn run(value: &str) -> String {
    let env = Env::from_pairs([("INPUT_VALUE", value), ("RUNNER_DEBUG", "1")]);
    let mut out = Vec::new();
    let code = run_with(&SPEC, env, [OsString::from("echo")], &mut out, echo);
    assert_eq!(code, 1);
    String::from_utf8(out).unwrap()
}

/// The runner's own vectors (with a command it obeys), the legacy syntax, `\r` splits, and
/// characters its culture-sensitive matching ignores.
fn vectors() -> Vec<String> {
    let text = include_str!("../data/workflow-commands-and-file-commands-vectors.json");
    let data: serde_json::Value = serde_json::from_str(text).unwrap();
    let mut vectors: Vec<String> = data["command_parse_v2_runner"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            case["line"]
                .as_str()
                .unwrap()
                .replace("do-something", "set-output")
        })
        .collect();
    assert!(vectors.len() >= 8);
    vectors.extend(
        [
            "::set-output name=pwned::yes",
            "::SET-OUTPUT name=pwned::yes",
            "::stop-commands::abc",
            "v1.2.3\r::set-output name=pwned::yes",
            "v1.2.3\r\r::add-mask::registry.example",
            "x\r\n::error::forged",
            "envs/prod.env\r::add-mask::acme",
            "##[set-output name=x;]PWNED",
            "change ##[set-output name=x;]PWNED",
            "1.1##[add-mask]registry.example/app",
            "##[error]forged",
            "##[group]forged",
            "##[SET-OUTPUT name=x;]PWNED",
            "##[stop-commands]abc",
            "###[set-output name=x;]PWNED",
            "#\u{200B}#[set-output name=x;]PWNED",
            "##\u{200B}[set-output name=x;]PWNED",
            "##\u{1}[add-mask]app",
            "a\r##[set-output name=x;]PWNED",
            "\u{200B}::set-output name=x::y",
            "\u{FEFF}::error::forged",
            ":\u{200D}:set-output name=x::y",
        ]
        .map(str::to_owned),
    );
    vectors
}

#[test]
fn no_logged_value_runs_a_command_in_either_syntax() {
    for value in vectors() {
        let stdout = run(&value);
        let obeyed: Vec<String> = command::obeyed(&stdout)
            .into_iter()
            .map(|c| c.command)
            .collect();
        assert_eq!(
            obeyed,
            ["group", "endgroup", "warning", "debug", "error"],
            "{value:?} ran a command:\n{stdout}"
        );
        let shown = visible(&break_legacy_commands(value.trim()));
        assert!(
            command::obeyed(&stdout)
                .last()
                .is_some_and(|error| visible(&error.data) == format!("refused {shown}")),
            "{value:?}: the final error shows the value:\n{stdout}"
        );
    }
}

fn visible(text: &str) -> String {
    text.chars()
        .filter(|c| !command::is_ignorable(*c))
        .collect()
}

#[test]
fn lines_split_where_the_runner_splits_them() {
    assert_eq!(
        command::runner_lines("a\rb\nc\r\nd\r\re"),
        ["a", "b", "c", "d", "", "e"]
    );
    assert_eq!(command::runner_lines("one\n"), ["one"]);
    assert!(command::runner_lines("").is_empty());
}

#[test]
fn the_legacy_parser_finds_its_prefix_anywhere_in_a_line() {
    let parsed = command::parse_v1("deploying 1.1##[set-output name=x;k=a%3Bb]PWNED%5D").unwrap();
    assert_eq!(parsed.command, "set-output");
    assert_eq!(parsed.properties["name"], "x");
    assert_eq!(parsed.properties["k"], "a;b");
    assert_eq!(parsed.data, "PWNED]");
    assert_eq!(command::parse_v1("## [set-output name=x;]y"), None);
    assert_eq!(command::parse_v1("##[set-output no bracket"), None);
}

#[test]
fn stop_commands_pauses_both_syntaxes_until_its_token() {
    let stdout =
        "::stop-commands::t0k\n::error::a\n##[set-output name=x;]b\n##[T0K]\n::warning::c\n";
    let obeyed = command::obeyed(stdout);
    assert_eq!(obeyed.len(), 1, "{obeyed:?}");
    assert_eq!(obeyed[0].command, "warning");
}

#[test]
fn breaking_the_legacy_prefix_leaves_none_behind() {
    assert_eq!(
        break_legacy_commands("1.1##[add-mask]x"),
        "1.1## [add-mask]x"
    );
    assert_eq!(break_legacy_commands("##[a]##[b]"), "## [a]## [b]");
    assert_eq!(break_legacy_commands("# [x] #[y] [z]"), "# [x] #[y] [z]");
    for tricky in ["###[x]", "#\u{200B}#[x]", "##\u{7}[x]", "##[##[x]"] {
        let broken = break_legacy_commands(tricky);
        assert!(
            !visible(&broken).contains("##["),
            "{tricky:?} -> {broken:?}"
        );
    }
}
