//! Bad input, each case through the real binary: exit 2, one `::error` naming the input and the
//! problem, and nothing written (no outputs, no summary, no decision file).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;

use gantry_testkit::Transcript;

use crate::common::{action, needs_json, render};

fn assert_rejected(transcript: &Transcript, expected: &str) {
    assert_eq!(transcript.code, 2, "{}", transcript.render());
    assert_eq!(transcript.errors(), [expected], "{}", transcript.render());
    assert!(transcript.outputs.is_empty(), "{}", transcript.render());
    assert_eq!(transcript.summary, "", "{}", transcript.render());
}

#[test]
fn each_malformed_jobs_value_is_named_and_explained() {
    let run = |jobs: &str| action().input("jobs", jobs).run();
    for (jobs, expected) in [
        (
            r#"{"build": {"result": "success"}"#,
            "input `jobs`: is not valid JSON (EOF while parsing an object at line 1 column 31); pass `${{ toJSON(needs) }}`",
        ),
        (
            "${{ toJSON(needs) }}",
            "input `jobs`: is not valid JSON (expected value at line 1 column 1); pass `${{ toJSON(needs) }}`",
        ),
        (
            r#"["build"]"#,
            "input `jobs`: must be the JSON object `${{ toJSON(needs) }}` renders, not an array",
        ),
        (
            "null",
            "input `jobs`: must be the JSON object `${{ toJSON(needs) }}` renders, not null",
        ),
        (
            "{}",
            "input `jobs`: is an empty object: the job running this step has no `needs:`; list every job the gate must judge under `needs:`",
        ),
        (
            r#"{"build": "success"}"#,
            "input `jobs`: job `build` must be an object with a `result`, not a string",
        ),
        (
            r#"{"build": {"outputs": {}}}"#,
            "input `jobs`: job `build` has no `result`",
        ),
        (
            r#"{"build": {"result": "neutral"}}"#,
            "input `jobs`: job `build` has result `neutral`; expected success, failure, cancelled or skipped",
        ),
        (
            r#"{"build": {"result": "Success"}}"#,
            "input `jobs`: job `build` has result `Success`; expected success, failure, cancelled or skipped",
        ),
        (
            r#"{"build": {"result": true}}"#,
            "input `jobs`: job `build` has a `result` that is a boolean, not a string",
        ),
    ] {
        assert_rejected(&run(jobs), expected);
    }
}

#[test]
fn unknown_job_names_and_bad_globs_are_input_errors_not_silent_passes() {
    let jobs = needs_json(&[("build", "success"), ("deploy", "skipped")]);
    for (input, value, expected) in [
        (
            "allowed-skips",
            "deploi",
            "input `allowed-skips`: `deploi` matches no job in needs; jobs are: build, deploy",
        ),
        (
            "allowed-failures",
            r#"["build", "lint"]"#,
            "input `allowed-failures`: `lint` matches no job in needs; jobs are: build, deploy",
        ),
        (
            "allowed-cancels",
            "test-*",
            "input `allowed-cancels`: `test-*` matches no job in needs; jobs are: build, deploy",
        ),
        (
            "allowed-skips",
            "[",
            "input `allowed-skips`: `[` is not a valid glob pattern (Pattern syntax error near position 0: invalid range pattern); jobs are: build, deploy",
        ),
        (
            "allowed-failures",
            r#"[{"name": "build"}]"#,
            r#"input `allowed-failures`: the JSON list holds `{"name":"build"}`; list job names as strings"#,
        ),
    ] {
        let transcript = action().input("jobs", &jobs).input(input, value).run();
        assert_rejected(&transcript, expected);
    }
}

#[test]
fn bad_booleans_and_policies_are_rejected() {
    let jobs = needs_json(&[("build", "success")]);
    for (input, value, expected) in [
        (
            "summary",
            "yes",
            "input `summary`: `yes` is not a boolean; use true or false (also True, TRUE, False, FALSE)",
        ),
        (
            "all-skipped",
            "Pass",
            "input `all-skipped`: `Pass` is not a policy; use `fail` or `pass`",
        ),
    ] {
        let transcript = action().input("jobs", &jobs).input(input, value).run();
        assert_rejected(&transcript, expected);
    }
}

#[test]
fn non_utf8_values_are_rejected_naming_the_input() {
    let jobs = needs_json(&[("build", "success")]);
    let invalid = || OsString::from_vec(b"{\"build\xff\": {}}".to_vec());
    assert_rejected(
        &action().input("jobs", invalid()).run(),
        "input `jobs`: is not valid UTF-8; pass text only",
    );
    assert_rejected(
        &action()
            .input("jobs", &jobs)
            .input("allowed-skips", invalid())
            .run(),
        "input `allowed-skips`: is not valid UTF-8; pass text only",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("needs.json");
    std::fs::write(&file, b"{\"b\xffuild\": {\"result\": \"success\"}}").unwrap();
    let transcript = action().input("jobs-file", &file).run();
    assert_rejected(
        &transcript,
        &format!(
            "input `jobs-file`: `{}` is not valid UTF-8; it must hold the JSON of `${{{{ toJSON(needs) }}}}`",
            file.display()
        ),
    );
}

#[test]
fn exactly_one_of_jobs_and_jobs_file() {
    assert_rejected(
        &action().run(),
        "input `jobs`: is required: set it to `${{ toJSON(needs) }}`, or set `jobs-file` to a file holding that JSON",
    );
    assert_rejected(
        &action().input("jobs", "  \n ").run(),
        "input `jobs`: is required: set it to `${{ toJSON(needs) }}`, or set `jobs-file` to a file holding that JSON",
    );
    assert_rejected(
        &action()
            .input("jobs", needs_json(&[("build", "success")]))
            .input("jobs-file", "needs.json")
            .run(),
        "input `jobs-file`: is set together with `jobs`; set exactly one of them",
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let transcript = action().input("jobs-file", &missing).run();
    assert_eq!(transcript.code, 2);
    assert_eq!(
        render(&transcript, dir.path()),
        "exit: 2\n--- stdout\n::error title=required-ci-check%3A bad input::input `jobs-file`: cannot read `[TMP]/missing.json`: No such file or directory (os error 2)\n--- outputs\n"
    );
}

#[test]
fn an_unwritable_decision_file_is_bad_input_and_no_outputs_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let transcript = action()
        .input("jobs", needs_json(&[("build", "failure")]))
        .input("decision-file", blocker.join("decision.json"))
        .run();
    assert_eq!(transcript.code, 2, "{}", transcript.render());
    assert!(transcript.outputs.is_empty());
    assert_eq!(transcript.summary, "");
    insta::assert_snapshot!("unwritable_decision_file", render(&transcript, dir.path()));
}
