//! `cargo xtask demo`: the suite's main CI job on an embedded example, run in process exactly as
//! the runner would run the actions: `ticgen` for a pull request and for a release tag, then
//! `required-ci-check` over the job results of that workflow.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use gantry_runner::{ActionSpec, Env, RunFn, file_command, run_with};

const PYPROJECT: &str = include_str!("demo/pyproject.toml");
const NEEDS: &str = include_str!("demo/needs.json");
const HEAD_SHA: &str = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f";

/// One step: its title, the action, and the environment the runner would give it.
type DemoStep<'a> = (&'a str, &'static ActionSpec, RunFn, Vec<(&'a str, &'a str)>);

/// Runs the demo, writing the transcript to `out`; returns the exit codes of the three steps.
pub fn run(out: &mut dyn Write) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile_dir()?;
    let project = dir.join("service");
    std::fs::create_dir_all(&project)?;
    std::fs::write(project.join("pyproject.toml"), PYPROJECT)?;
    let pull_request = serde_json::json!({
        "number": 42,
        "pull_request": {"number": 42, "head": {"sha": HEAD_SHA, "ref": "feature/login"}, "base": {"ref": "main"}},
    });
    let event_path = dir.join("event.json");
    std::fs::write(&event_path, pull_request.to_string())?;
    let project_text = project.to_string_lossy().into_owned();
    let event_text = event_path.to_string_lossy().into_owned();

    let common = [
        ("GITHUB_REPOSITORY", "acme/service"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "1001"),
        ("SOURCE_DATE_EPOCH", "1767225600"),
        ("INPUT_PATH", project_text.as_str()),
        ("INPUT_IMAGE", "ghcr.io/acme/service"),
    ];
    let pr = [
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event_text.as_str()),
        ("GITHUB_REF", "refs/pull/42/merge"),
        ("GITHUB_REF_NAME", "42/merge"),
        ("GITHUB_REF_TYPE", "branch"),
        ("GITHUB_SHA", "0000000000000000000000000000000000000042"),
    ];
    let tag = [
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REF", "refs/tags/v1.4.0rc2"),
        ("GITHUB_REF_NAME", "v1.4.0rc2"),
        ("GITHUB_REF_TYPE", "tag"),
        ("GITHUB_SHA", HEAD_SHA),
    ];
    let mut codes = Vec::new();
    let steps: [DemoStep<'_>; 3] = [
        (
            "ticgen on pull request #42",
            &ticgen::SPEC,
            ticgen::run,
            [&common[..], &pr[..]].concat(),
        ),
        (
            "ticgen on tag v1.4.0rc2",
            &ticgen::SPEC,
            ticgen::run,
            [&common[..], &tag[..]].concat(),
        ),
        (
            "required-ci-check over the workflow's needs (docs-preview may fail, publish may be skipped)",
            &required_ci_check::SPEC,
            required_ci_check::run,
            vec![
                ("INPUT_JOBS", NEEDS),
                ("INPUT_ALLOWED-FAILURES", "docs-preview"),
                ("INPUT_ALLOWED-SKIPS", "publish"),
            ],
        ),
    ];
    for (index, (title, spec, run, vars)) in steps.into_iter().enumerate() {
        let step_dir = dir.join(format!("step{index}"));
        std::fs::create_dir_all(&step_dir)?;
        codes.push(run_step(out, &step_dir, title, spec, run, &vars)?);
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(codes)
}

fn run_step(
    out: &mut dyn Write,
    dir: &Path,
    title: &str,
    spec: &'static ActionSpec,
    run: RunFn,
    vars: &[(&str, &str)],
) -> anyhow::Result<u8> {
    let (output, summary) = (dir.join("github_output"), dir.join("step_summary"));
    let mut env = Env::from_pairs(vars.iter().copied());
    env.set("GITHUB_ACTIONS", "true");
    env.set("GITHUB_OUTPUT", &output);
    env.set("GITHUB_STEP_SUMMARY", &summary);
    writeln!(out, "\n━━━ {title}\n")?;
    let code = run_with(spec, env, [OsString::from(spec.name)], out, run);
    let outputs = file_command::parse(&std::fs::read_to_string(&output).unwrap_or_default())?;
    writeln!(
        out,
        "\n  exit code {code}; {} outputs in GITHUB_OUTPUT, read back as the runner reads them",
        outputs.len()
    )?;
    let summary = std::fs::read_to_string(&summary).unwrap_or_default();
    writeln!(
        out,
        "\n  step summary:\n    {}",
        summary.trim_end().replace('\n', "\n    ")
    )?;
    Ok(code)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("gantry-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
