//! Whole runs of the binary as the runner starts it, as stories with transcript snapshots:
//! a pass, a refusal that still reports, the all-skipped policy, the decision file, a file input,
//! a run outside Actions, and hostile job names.

use crate::common::{action, needs_json, render};

#[test]
fn a_passing_gate_reports_every_job_and_writes_the_decision_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reports/decision.json");
    let transcript = action()
        .input(
            "jobs",
            needs_json(&[
                ("build", "success"),
                ("docs", "skipped"),
                ("nightly", "failure"),
                ("deploy-preview", "cancelled"),
            ]),
        )
        .input("allowed-failures", "nightly")
        .input("allowed-skips", "docs")
        .input("allowed-cancels", "deploy-*")
        .input("decision-file", &file)
        .run();
    assert_eq!(transcript.code, 0, "{}", transcript.render());
    insta::assert_snapshot!("passing_gate", render(&transcript, dir.path()));
    let written = std::fs::read_to_string(&file).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        parsed,
        serde_json::from_str::<serde_json::Value>(transcript.output("decision")).unwrap(),
        "the file holds the `decision` output, pretty-printed"
    );
    insta::assert_snapshot!("passing_gate_decision_file", written);
    let leftovers: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["decision.json"], "no temp file is left behind");
}

#[test]
fn a_failing_gate_still_writes_outputs_file_and_summary_then_fails_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("decision.json");
    let transcript = action()
        .input(
            "jobs",
            needs_json(&[
                ("build", "success"),
                ("lint", "failure"),
                ("test", "cancelled"),
                ("docs", "failure"),
            ]),
        )
        .input("allowed-skips", "docs")
        .input("decision-file", &file)
        .run();
    assert_eq!(transcript.code, 1, "{}", transcript.render());
    assert_eq!(transcript.output("result"), "failure");
    assert_eq!(
        transcript.output("blocking-jobs"),
        r#"["docs","lint","test"]"#
    );
    assert_eq!(transcript.errors().len(), 1);
    assert!(
        transcript
            .stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("::error "),
        "the one error comes last"
    );
    assert!(file.exists(), "the decision file is written on failure too");
    insta::assert_snapshot!("failing_gate", render(&transcript, dir.path()));
}

#[test]
fn all_skipped_fails_by_default_and_passes_when_asked() {
    let jobs = needs_json(&[("build", "skipped"), ("test", "skipped")]);
    let default = action()
        .input("jobs", &jobs)
        .input("allowed-skips", "*")
        .run();
    assert_eq!(default.code, 1, "{}", default.render());
    insta::assert_snapshot!("all_skipped_fail", default.render());
    let pass = action()
        .input("jobs", &jobs)
        .input("all-skipped", "pass")
        .run();
    assert_eq!(pass.code, 0, "{}", pass.render());
    assert_eq!(pass.output("result"), "success");
    assert_eq!(pass.output("skipped-jobs"), r#"["build","test"]"#);
}

#[test]
fn jobs_can_come_from_a_file_and_the_summary_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("needs.json");
    std::fs::write(&file, needs_json(&[("build", "success")])).unwrap();
    let transcript = action()
        .input("jobs-file", &file)
        .input("summary", "false")
        .run();
    assert_eq!(transcript.code, 0, "{}", transcript.render());
    assert_eq!(transcript.output("success"), "true");
    assert_eq!(transcript.output("failure"), "false");
    assert_eq!(transcript.summary, "");
}

#[test]
fn outside_actions_the_outputs_are_printed_as_json() {
    let transcript = action()
        .outside_actions()
        .arg("--json")
        .arg("--jobs")
        .arg(needs_json(&[("build", "success"), ("lint", "failure")]))
        .arg("--allowed-failures")
        .arg("lint")
        .run();
    assert_eq!(transcript.code, 0, "{}", transcript.render());
    insta::assert_snapshot!("outside_actions_json", transcript.render());
}

#[test]
fn identical_input_gives_byte_identical_outputs_and_file() {
    let jobs = needs_json(&[("b", "failure"), ("a", "success"), ("c", "skipped")]);
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let file = dir.path().join(name);
        let transcript = action()
            .input("jobs", &jobs)
            .input("allowed-skips", "c")
            .input("decision-file", &file)
            .run();
        (
            transcript.outputs,
            transcript.summary,
            std::fs::read(file).unwrap(),
        )
    };
    assert_eq!(run("one.json"), run("two.json"));
}

/// Job names are attacker-shaped text here (GitHub job ids cannot hold these characters, but the
/// JSON could come from anywhere): none may forge a workflow command, break the summary table
/// or change what the outputs say.
#[test]
fn hostile_job_names_come_out_escaped_everywhere() {
    let names = [
        "::error::forged",
        "a%0Ab",
        "line\n::warning::forged",
        "$(touch /tmp/pwned)",
        "`rm -rf /`",
        "x``y",
        "pipe|cell",
        "::add-mask::build",
    ];
    let jobs: Vec<(&str, &str)> = names.iter().map(|name| (*name, "failure")).collect();
    let transcript = action()
        .input("jobs", needs_json(&jobs))
        .input("allowed-failures", r#"["::error::forged", "a%0Ab"]"#)
        .input("allowed-skips", "$(touch /tmp/pwned)")
        .run();
    assert_eq!(transcript.code, 1, "{}", transcript.render());
    let commands: Vec<_> = transcript
        .commands()
        .into_iter()
        .map(|command| command.command)
        .collect();
    assert_eq!(
        commands,
        ["group", "endgroup", "group", "endgroup", "error"],
        "only the runner's own commands: {}",
        transcript.render()
    );
    let error = &transcript.errors()[0];
    assert!(
        error.contains("`line\n::warning::forged` failed"),
        "{error}"
    );
    let rows = transcript
        .summary
        .lines()
        .filter(|line| line.starts_with("| "))
        .count();
    assert_eq!(rows, 1 + names.len(), "{}", transcript.summary);
    let mut sorted = names.map(str::to_owned);
    sorted.sort();
    let failed: Vec<String> = serde_json::from_str(transcript.output("failed-jobs")).unwrap();
    assert_eq!(failed, sorted);
    insta::assert_snapshot!("hostile_names", transcript.render());
}

#[test]
fn job_names_cannot_run_legacy_or_carriage_return_commands() {
    let names = [
        "build ##[set-output name=x;]PWNED",
        "1.1##[add-mask]registry.example/app",
        "##[error]forged",
        "x\r::set-output name=pwned::yes",
        "y\r##[set-output name=x;]PWNED",
    ];
    let jobs: Vec<(&str, &str)> = names.iter().map(|name| (*name, "failure")).collect();
    let transcript = action().input("jobs", needs_json(&jobs)).run();
    assert_eq!(transcript.code, 1, "{}", transcript.render());
    let commands: Vec<_> = transcript
        .commands()
        .into_iter()
        .map(|command| command.command)
        .collect();
    assert_eq!(
        commands,
        ["group", "endgroup", "group", "endgroup", "error"],
        "only the runner's own commands: {}",
        transcript.render()
    );
    assert!(transcript.stdout.contains("## [set-output name=x;]PWNED"));
}
