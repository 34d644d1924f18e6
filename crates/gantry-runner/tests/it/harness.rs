//! The step harness end to end, in process: resolution, exit codes, outputs all-or-nothing,
//! masking, the summary and the CLI.

use std::ffi::OsString;
use std::path::Path;

use gantry_runner::{
    ActionError, ActionSpec, Env, InputSpec, OutputSpec, Outputs, RunFn, Step, file_command,
    run_with,
};

static SPEC: ActionSpec = ActionSpec {
    name: "demo",
    title: "Demo action",
    description: "Greets someone, for testing the harness.",
    inputs: &[
        InputSpec::required("who", "Who to greet"),
        InputSpec::optional("times", "1", "How often"),
        InputSpec::optional("shout", "false", "Upper-case the greeting"),
        InputSpec::optional("extra names", "", "More people, one per line"),
        InputSpec::secret("token", "", "A token that must never show"),
        InputSpec::optional("fail", "false", "Fail after computing the outputs"),
    ],
    outputs: &[
        OutputSpec::new("greeting", "The greeting"),
        OutputSpec::new("count", "How many people"),
    ],
};

fn greet(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
    let who = step.inputs.required("who")?.to_owned();
    let times: u32 = step.inputs.parse("times", "a whole number")?.unwrap_or(1);
    let shout = step.inputs.flag("shout")?;
    let extra = step.inputs.list("extra names");
    if let Some(token) = step.inputs.secret("token") {
        let leaked = format!("using token {}", token.expose());
        step.console.info(&leaked);
        step.summary.paragraph(&leaked);
    }
    let mut greeting = vec![format!("hello {who}"); times as usize].join("\n");
    if shout {
        greeting = greeting.to_uppercase();
    }
    step.summary
        .heading(2, "Greeting")
        .table(&["who", "times"], [vec![who.clone(), times.to_string()]]);
    let mut outputs = Outputs::new();
    outputs
        .set("greeting", greeting)
        .set("count", (1 + extra.len()).to_string());
    if step.inputs.flag("fail")? {
        return Err(anyhow::anyhow!("the greeting was refused")
            .context("failed to greet")
            .into());
    }
    Ok(outputs)
}

struct Run {
    code: u8,
    stdout: String,
    outputs: String,
    summary: String,
}

fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    run_env(
        dir,
        Env::from_pairs(vars.iter().map(|(k, v)| (*k, *v))),
        args,
    )
}

fn run_env(dir: &Path, env: Env, args: &[&str]) -> Run {
    run_action(dir, env, args, greet)
}

/// Runs `action` as the demo spec inside a simulated step with its own output and summary files.
fn run_action(dir: &Path, mut env: Env, args: &[&str], action: RunFn) -> Run {
    let output = dir.join("output");
    let summary = dir.join("summary");
    env.set("GITHUB_STEP_SUMMARY", &summary);
    if env.is("GITHUB_ACTIONS", "true") && env.raw("GITHUB_OUTPUT").is_none() {
        env.set("GITHUB_OUTPUT", &output);
    }
    let mut stdout = Vec::new();
    let argv = std::iter::once(OsString::from("demo")).chain(args.iter().map(OsString::from));
    let code = run_with(&SPEC, env, argv, &mut stdout, action);
    Run {
        code,
        stdout: String::from_utf8(stdout).unwrap(),
        outputs: std::fs::read_to_string(output).unwrap_or_default(),
        summary: std::fs::read_to_string(summary).unwrap_or_default(),
    }
}

const ACTIONS: (&str, &str) = ("GITHUB_ACTIONS", "true");

#[test]
fn a_successful_step_writes_every_output_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[
            ACTIONS,
            ("INPUT_WHO", "  world "),
            ("INPUT_TIMES", "2"),
            ("INPUT_EXTRA NAMES", "x"),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let outputs = file_command::parse(&run.outputs).unwrap();
    assert_eq!(outputs["greeting"], "hello world\nhello world");
    assert_eq!(
        outputs["count"], "1",
        "`extra names` maps to INPUT_EXTRA_NAMES, so INPUT_EXTRA NAMES is ignored"
    );
    assert!(run.stdout.contains("::group::Outputs"));
    assert!(run.summary.contains("| world | 2 |"), "{}", run.summary);
}

#[test]
fn echoed_output_values_cannot_run_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[ACTIONS, ("INPUT_WHO", "x\n::error::forged")],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    // Read stdout as the runner does: nothing runs between `::stop-commands::T` and `::T::`.
    let mut stopped: Option<String> = None;
    let mut commands = Vec::new();
    for line in run.stdout.lines() {
        let Some(parsed) = gantry_runner::command::parse(line) else {
            continue;
        };
        match &stopped {
            Some(token) if parsed.command == *token => stopped = None,
            Some(_) => {}
            None if parsed.command == "stop-commands" => stopped = Some(parsed.data),
            None => commands.push(parsed.command),
        }
    }
    assert!(stopped.is_none(), "commands are resumed: {}", run.stdout);
    assert_eq!(commands, ["group", "endgroup"], "{}", run.stdout);
    assert!(
        run.stdout.contains("\n::error::forged\n"),
        "the value is still shown"
    );
    assert_eq!(
        file_command::parse(&run.outputs).unwrap()["greeting"],
        "hello x\n::error::forged"
    );
}

#[test]
fn input_names_with_spaces_read_the_underscored_variable() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[
            ACTIONS,
            ("INPUT_WHO", "a"),
            ("INPUT_EXTRA_NAMES", "b\n\n c \n"),
        ],
        &[],
    );
    assert_eq!(file_command::parse(&run.outputs).unwrap()["count"], "3");
}

#[test]
fn a_failed_step_writes_no_outputs_and_one_error_with_the_cause_chain() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[ACTIONS, ("INPUT_WHO", "a"), ("INPUT_FAIL", "true")],
        &[],
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.outputs, "");
    let errors: Vec<_> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(
        errors,
        ["::error title=demo%3A failed::failed to greet: the greeting was refused"]
    );
    assert!(
        run.summary.contains("Greeting"),
        "the summary is kept on failure for diagnosis"
    );
}

#[test]
fn bad_input_exits_2_naming_the_input_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    for (vars, expected) in [
        (
            vec![ACTIONS],
            "input `who`: is required and was not supplied",
        ),
        (
            vec![ACTIONS, ("INPUT_WHO", "   ")],
            "input `who`: is required",
        ),
        (
            vec![ACTIONS, ("INPUT_WHO", "a"), ("INPUT_SHOUT", "yes")],
            "input `shout`: `yes` is not a boolean",
        ),
        (
            vec![ACTIONS, ("INPUT_WHO", "a"), ("INPUT_TIMES", "many")],
            "input `times`: `many` is not a whole number",
        ),
    ] {
        let run = run(dir.path(), &vars, &[]);
        assert_eq!(run.code, 2, "{vars:?}");
        assert_eq!(run.outputs, "");
        let error = run
            .stdout
            .lines()
            .find(|l| l.starts_with("::error"))
            .unwrap();
        assert!(
            error.starts_with("::error title=demo%3A bad input::"),
            "{error}"
        );
        assert!(
            error.contains(expected),
            "{error} should contain {expected}"
        );
        assert!(!run.summary.contains("Greeting"), "no work was done");
    }
}

#[test]
fn a_non_utf8_input_is_bad_input() {
    use std::os::unix::ffi::OsStringExt;
    let dir = tempfile::tempdir().unwrap();
    let mut env = Env::from_pairs([ACTIONS]);
    env.set("INPUT_WHO", OsString::from_vec(vec![0x66, 0xff, 0x6f]));
    let run = run_env(dir.path(), env, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .contains("::error title=demo%3A bad input::input `who`: is not valid UTF-8"),
        "{}",
        run.stdout
    );
    assert_eq!(run.outputs, "");
}

#[test]
fn inside_actions_a_missing_github_output_is_an_error_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([ACTIONS, ("INPUT_WHO", "a"), ("GITHUB_OUTPUT", "")]);
    let run = run_env(dir.path(), env, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout
            .contains("environment variable `GITHUB_OUTPUT`: is not set"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("greeting"),
        "no outputs printed as a fallback"
    );
}

#[test]
fn secrets_are_masked_before_anything_else_and_redacted_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let canary = "ghp_CANARY0123456789";
    let run = run(
        dir.path(),
        &[ACTIONS, ("INPUT_WHO", "a"), ("INPUT_TOKEN", canary)],
        &[],
    );
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout.lines().next().unwrap(),
        format!("::add-mask::{canary}")
    );
    assert_eq!(
        run.stdout.matches(canary).count(),
        1,
        "only the mask command names it: {}",
        run.stdout
    );
    assert!(run.stdout.contains("using token ***"));
    assert!(!run.summary.contains(canary) && run.summary.contains("using token ***"));
}

#[test]
fn multi_line_secrets_mask_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[
            ACTIONS,
            ("INPUT_WHO", "a"),
            ("INPUT_TOKEN", "line-one\nline-two"),
        ],
        &[],
    );
    let masks: Vec<_> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::add-mask::"))
        .collect();
    assert_eq!(
        masks,
        [
            "::add-mask::line-one%0Aline-two",
            "::add-mask::line-one",
            "::add-mask::line-two"
        ]
    );
}

#[test]
fn outside_actions_flags_work_and_outputs_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        &[("INPUT_TIMES", "5")],
        &["--who", "cli", "--times", "1", "--shout", "TRUE"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("greeting=HELLO CLI\ncount=1"),
        "{}",
        run.stdout
    );
    let json = run_env(
        dir.path(),
        Env::from_pairs([("INPUT_WHO", "j")]),
        &["--json"],
    );
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"greeting": "hello j", "count": "1"})
    );
}

#[test]
fn multi_line_outputs_outside_actions_use_an_unambiguous_heredoc() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &[], &["--who", "x", "--times", "2"]);
    assert!(
        run.stdout
            .starts_with("greeting<<EOF\nhello x\nhello x\nEOF\ncount=1"),
        "{}",
        run.stdout
    );
}

#[test]
fn help_lists_every_input_with_defaults_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &[], &["--help"]);
    assert_eq!(run.code, 0);
    for needle in [
        "--who <VALUE>",
        "[required]",
        "--times <VALUE>",
        "[default: 1]",
        "--extra names",
        "--json",
        "INPUT_<NAME>",
    ] {
        assert!(
            run.stdout.contains(needle),
            "help lacks {needle}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn an_unknown_flag_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(dir.path(), &[], &["--who", "x", "--nope"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains(
            "::error title=demo%3A bad input::input `command line`: unexpected argument '--nope'"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn debug_lines_appear_only_under_runner_debug() {
    #[expect(clippy::unnecessary_wraps, reason = "must have the RunFn signature")]
    fn debug_step(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
        step.console.debug("details");
        Ok(Outputs::new())
    }
    for (debug, expected) in [("1", true), ("0", false)] {
        let mut out = Vec::new();
        let env = Env::from_pairs([("RUNNER_DEBUG", debug), ("INPUT_WHO", "a")]);
        assert_eq!(
            run_with(&SPEC, env, [OsString::from("demo")], &mut out, debug_step),
            0
        );
        assert_eq!(
            String::from_utf8(out).unwrap().contains("::debug::details"),
            expected
        );
    }
}

#[test]
fn an_undeclared_output_is_a_bug_reported_as_failure() {
    #[expect(clippy::unnecessary_wraps, reason = "must have the RunFn signature")]
    fn sloppy(_: &mut Step<'_>) -> Result<Outputs, ActionError> {
        let mut outputs = Outputs::new();
        outputs.set("greeting", "hi").set("typo", "x");
        Ok(outputs)
    }
    let dir = tempfile::tempdir().unwrap();
    let run = run_action(
        dir.path(),
        Env::from_pairs([ACTIONS, ("INPUT_WHO", "a")]),
        &[],
        sloppy,
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("output `typo` is not declared"));
    assert_eq!(run.outputs, "");
}

#[test]
fn a_refusal_writes_its_outputs_then_fails_with_one_error_at_the_end() {
    fn gate(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
        step.console.info("deciding");
        let mut outputs = Outputs::new();
        outputs.set("greeting", "no").set("count", "0");
        Err(ActionError::refused(
            outputs,
            anyhow::anyhow!("the gate said no"),
        ))
    }
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out");
    let mut env = Env::from_pairs([ACTIONS, ("INPUT_WHO", "a")]);
    env.set("GITHUB_OUTPUT", &output);
    let mut out = Vec::new();
    assert_eq!(
        run_with(&SPEC, env, [OsString::from("demo")], &mut out, gate),
        1
    );
    let stdout = String::from_utf8(out).unwrap();
    let outputs = file_command::parse(&std::fs::read_to_string(output).unwrap()).unwrap();
    assert_eq!(outputs["greeting"], "no");
    assert_eq!(outputs["count"], "0");
    assert!(stdout.contains("::group::Outputs"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("::error")).count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("::error title=demo%3A failed::the gate said no")
    );
}

#[test]
fn a_refusal_with_an_undeclared_output_is_a_bug_and_writes_nothing() {
    fn gate(_: &mut Step<'_>) -> Result<Outputs, ActionError> {
        let mut outputs = Outputs::new();
        outputs.set("typo", "x");
        Err(ActionError::refused(outputs, anyhow::anyhow!("no")))
    }
    let dir = tempfile::tempdir().unwrap();
    let run = run_action(
        dir.path(),
        Env::from_pairs([ACTIONS, ("INPUT_WHO", "a")]),
        &[],
        gate,
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("output `typo` is not declared"));
    assert_eq!(run.outputs, "");
}

#[test]
fn an_oversized_summary_is_cut_to_one_mebibyte_with_a_note() {
    let mut summary = gantry_runner::Summary::default();
    summary.raw(&"é".repeat(700_000));
    let rendered = summary.render();
    assert!(rendered.len() <= gantry_runner::summary::SUMMARY_LIMIT_BYTES);
    assert!(rendered.ends_with("Summary truncated to GitHub's 1 MiB step limit.\n"));
}

#[test]
fn table_cells_cannot_break_the_table() {
    let mut summary = gantry_runner::Summary::default();
    summary.table(&["a"], [vec!["x|y\nz".to_owned()]]);
    assert_eq!(summary.render(), "| a |\n|---|\n| x\\|y<br>z |\n\n");
}

#[test]
fn expression_defaults_apply_only_inside_actions_yml() {
    static EXPRESSION: ActionSpec = ActionSpec {
        name: "expr",
        title: "t",
        description: "d",
        inputs: &[
            InputSpec::secret("token", "${{ github.token }}", "Token"),
            InputSpec::optional("wait", "90s", "How long"),
        ],
        outputs: &[OutputSpec::new("seen", "Whether a token was seen")],
    };
    fn seen(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
        let wait = step.inputs.duration("wait")?.unwrap();
        let mut outputs = Outputs::new();
        outputs.set(
            "seen",
            format!(
                "{} {}",
                step.inputs.secret("token").is_some(),
                wait.as_secs()
            ),
        );
        Ok(outputs)
    }
    let mut out = Vec::new();
    assert_eq!(
        run_with(
            &EXPRESSION,
            Env::default(),
            [OsString::from("expr")],
            &mut out,
            seen
        ),
        0
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "seen=false 90\n",
        "the literal expression is not a token"
    );
    let mut out = Vec::new();
    let env = Env::from_pairs([("INPUT_WAIT", "ten minutes")]);
    assert_eq!(
        run_with(&EXPRESSION, env, [OsString::from("expr")], &mut out, seen),
        2
    );
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("input `wait`: `ten minutes` is not a duration")
    );
}

#[test]
fn inline_code_fences_outrun_any_backticks_inside() {
    use gantry_runner::summary::code;
    assert_eq!(code(""), "");
    assert_eq!(code("v1"), "`v1`");
    assert_eq!(code("a`b"), "``a`b``");
    assert_eq!(code("a``b"), "```a``b```");
    assert_eq!(code("`x`"), "`` `x` ``");
    assert_eq!(code("``"), "``` `` ```");
}

#[test]
fn logged_text_cannot_smuggle_workflow_commands() {
    fn echo(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
        let who = step.inputs.required("who")?.to_owned();
        step.console.info(&format!("plain line\n::error::{who}"));
        step.console.info("nothing to fence");
        Ok(Outputs::new())
    }
    let mut out = Vec::new();
    let env = Env::from_pairs([("INPUT_WHO", "forged")]);
    assert_eq!(
        run_with(&SPEC, env, [OsString::from("demo")], &mut out, echo),
        0
    );
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let token = lines[0].strip_prefix("::stop-commands::").expect("fenced");
    assert!(token.len() >= 32, "unguessable token");
    assert_eq!(
        lines[1..4],
        ["plain line", "::error::forged", &format!("::{token}::")]
    );
    assert_eq!(lines[4], "nothing to fence");
}

#[test]
fn an_input_named_version_takes_over_the_version_flag() {
    static VERSIONED: ActionSpec = ActionSpec {
        name: "versioned",
        title: "t",
        description: "d",
        inputs: &[InputSpec::optional("version", "", "Image tag")],
        outputs: &[OutputSpec::new("seen", "The version input")],
    };
    #[expect(clippy::unnecessary_wraps, reason = "must have the RunFn signature")]
    fn seen(step: &mut Step<'_>) -> Result<Outputs, ActionError> {
        let mut outputs = Outputs::new();
        outputs.set("seen", step.inputs.get("version").unwrap_or("none"));
        Ok(outputs)
    }
    let mut out = Vec::new();
    let args = ["versioned", "--version", "1.4.0"].map(OsString::from);
    assert_eq!(
        run_with(&VERSIONED, Env::default(), args, &mut out, seen),
        0
    );
    assert_eq!(String::from_utf8(out).unwrap(), "seen=1.4.0\n");
}

#[test]
fn network_settings_read_both_spellings_upper_case_first() {
    use gantry_runner::NetworkSettings;
    let env = Env::from_pairs([
        ("https_proxy", "http://lower:3128"),
        ("no_proxy", "internal.example"),
        ("SSL_CERT_FILE", "/etc/corp-ca.pem"),
    ]);
    let settings = NetworkSettings::from_env(&env).unwrap();
    assert_eq!(settings.https_proxy.as_deref(), Some("http://lower:3128"));
    assert_eq!(settings.no_proxy.as_deref(), Some("internal.example"));
    assert_eq!(settings.extra_ca_file.as_deref(), Some("/etc/corp-ca.pem"));
    let both = Env::from_pairs([
        ("HTTPS_PROXY", "http://upper:3128"),
        ("https_proxy", "http://lower:3128"),
    ]);
    assert_eq!(
        NetworkSettings::from_env(&both)
            .unwrap()
            .https_proxy
            .as_deref(),
        Some("http://upper:3128")
    );
    assert_eq!(
        NetworkSettings::from_env(&Env::default()).unwrap(),
        NetworkSettings::default()
    );
}
