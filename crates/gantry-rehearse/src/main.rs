//! The `gantry` command: `gantry rehearse` (also the default) plays a release through the real
//! actions against in-process simulators and says whether every expectation held; `gantry dora`
//! prints the four DORA keys of an environment from its deployment records.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use gantry_rehearse::{Binaries, Layout, Progress, Sources, Stage, dora, rehearse, report};

fn cli() -> Command {
    let rehearse = Command::new("rehearse")
        .about("Rehearse a release, good and bad, through the real actions against github-sim and kube-sim")
        .arg(file_arg("world", "Rehearsal world (layout, tokens, releases and the github-sim world); default: the embedded one"))
        .arg(file_arg("manifests", "kube-sim manifests holding the Deployment; default: the embedded ones"))
        .arg(file_arg("images", "kube-sim image catalogue (the bad version must fail to start); default: the embedded one"))
        .arg(
            Arg::new("report")
                .long("report")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .default_value(report::DEFAULT_HTML_PATH)
                .help("Where to write the HTML report"),
        )
        .arg(
            Arg::new("time-scale")
                .long("time-scale")
                .value_name("N")
                .value_parser(value_parser!(f64))
                .help("Simulated seconds per real second for both simulators (default: the world's clock.scale)"),
        )
        .arg(
            Arg::new("keep")
                .long("keep")
                .action(ArgAction::SetTrue)
                .help("Leave both simulators running afterwards and print their URLs, a kubeconfig and a token (Ctrl-C stops)"),
        );
    Command::new("gantry")
        .about("gantry: gated CI and verified delivery to Kubernetes")
        .subcommand(rehearse.clone())
        .subcommand(dora_command())
        .args(rehearse.get_arguments().cloned().collect::<Vec<_>>())
}

fn dora_command() -> Command {
    let text = |name: &'static str, value: &'static str, help: &'static str| {
        Arg::new(name).long(name).value_name(value).help(help)
    };
    Command::new("dora")
        .about("The four DORA keys of one environment, from its GitHub deployment records")
        .after_help("Token: GH_TOKEN, else GITHUB_TOKEN. Exit codes: 0 printed, 1 the records could not be read, 2 bad input (options, token, unknown repository).")
        .arg(text("repo", "OWNER/NAME", "Repository whose deployments to read").required(true))
        .arg(text("environment", "NAME", "Deployment environment").default_value("production"))
        .arg(text("since", "DATE", "Start of the period: YYYY-MM-DD (00:00 UTC) or an RFC 3339 time"))
        .arg(text("until", "DATE", "End of the period, excluded (default: now)"))
        .arg(text("days", "N", "Length of the period in days (default 30, ending at --until)"))
        .arg(text("api-url", "URL", "GitHub REST API base URL").default_value(dora::GITHUB_API))
        .arg(text("per-page", "N", "Items per page of each list read (1 to 100; default 100)"))
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("Print JSON instead of the text table"),
        )
        .arg(file_arg("html", "Also write an HTML page with a chart"))
}

fn file_arg(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name)
        .long(name)
        .value_name("FILE")
        .value_parser(value_parser!(PathBuf))
        .help(help)
}

fn main() -> ExitCode {
    let matches = cli().get_matches();
    if let Some(matches) = matches.subcommand_matches("dora") {
        return run_dora(matches);
    }
    let matches = matches.subcommand_matches("rehearse").unwrap_or(&matches);
    let progress = Progress::stdout();
    match run(matches, &progress) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            progress.line(&format!("error: {error:#}"));
            ExitCode::from(2)
        }
    }
}

/// `gantry dora`: progress on stderr, the keys on stdout.
fn run_dora(matches: &ArgMatches) -> ExitCode {
    let text = |name: &str| matches.get_one::<String>(name).cloned();
    let options = dora::Options {
        repo: text("repo").unwrap_or_default(),
        environment: text("environment").unwrap_or_default(),
        since: text("since"),
        until: text("until"),
        days: text("days"),
        api_url: text("api-url").unwrap_or_default(),
        per_page: text("per-page"),
        json: matches.get_flag("json"),
        html: matches.get_one::<PathBuf>("html").cloned(),
        deadline: std::time::Duration::from_secs(600),
    };
    let progress = Progress::stderr();
    let env = gantry_runner::Env::from_process();
    let now = time::OffsetDateTime::now_utc();
    match dora::run(&options, &env, now, &progress, &mut std::io::stdout()) {
        Ok(()) => ExitCode::from(dora::EXIT_OK),
        Err(error) => {
            progress.line(&format!("error: {error}"));
            ExitCode::from(error.exit_code())
        }
    }
}

/// Runs the rehearsal; `Ok(false)` when an expectation did not hold.
fn run(matches: &ArgMatches, progress: &Progress) -> anyhow::Result<bool> {
    let path = |name: &str| matches.get_one::<PathBuf>(name).map(PathBuf::as_path);
    let layout = Layout::load(&Sources {
        world: path("world"),
        manifests: path("manifests"),
        images: path("images"),
    })?;
    let binaries = Binaries::next_to_current_exe(&mut |line| progress.line(line))?;
    let stage = Stage::start(&layout, matches.get_one::<f64>("time-scale").copied())?;
    progress.line(&format!(
        "rehearsing {} → {} ({}) → {}/{} · time ×{}",
        layout.service,
        layout.landing_zone,
        layout.env_file,
        layout.namespace,
        layout.deployment,
        stage.time_scale
    ));
    let report = rehearse(&layout, &stage, &binaries, progress)?;
    progress.line("");
    progress.line(&report::timeline_text(&report));
    let file = path("report").context("--report has a default")?;
    report::write_html(
        file,
        &report::html(&report, &format!("gantry rehearsal of {}", layout.service)),
    )
    .with_context(|| format!("failed to write the report to {}", file.display()))?;
    let failed: Vec<_> = report.expectations.iter().filter(|e| !e.held).collect();
    let held = report.expectations.len() - failed.len();
    progress.line(&format!(
        "{held} of {} expectations held; report: {}",
        report.expectations.len(),
        std::fs::canonicalize(file)
            .unwrap_or_else(|_| file.to_owned())
            .display()
    ));
    for expectation in &failed {
        progress.line(&format!(
            "✗ expected {}; found {}",
            expectation.what, expectation.found
        ));
    }
    if matches.get_flag("keep") {
        keep(&stage, &layout, progress)?;
    }
    Ok(failed.is_empty())
}

/// Prints how to reach both simulators and waits for Ctrl-C.
fn keep(stage: &Stage, layout: &Layout, progress: &Progress) -> anyhow::Result<()> {
    progress.line(&format!(
        "\nthe simulators stay up until Ctrl-C:\n  github-sim  {url}  token {token}\n              curl -H 'Authorization: token {token}' '{url}/repos/{lz}/pulls?state=all'\n  kube-sim    {kube}  kubeconfig {kubeconfig}\n              KUBECONFIG={kubeconfig} kubectl -n {ns} rollout history deploy/{deploy}\n  service     {endpoint}",
        url = stage.github.url(),
        token = layout.tokens.developer,
        lz = layout.landing_zone,
        kube = stage.cluster.url(),
        kubeconfig = stage.kubeconfig.display(),
        ns = layout.namespace,
        deploy = layout.deployment,
        endpoint = stage.endpoint.url,
    ));
    stage
        .runtime
        .block_on(tokio::signal::ctrl_c())
        .context("failed to wait for Ctrl-C")
}
