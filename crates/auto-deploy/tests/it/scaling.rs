//! The scaling benchmark (ignored by default; `benches/landing-zone.sh` runs it for
//! BENCHMARKS.md): 1, 5 and 20 services releasing at once into one landing zone, without and with
//! "require branches to be up to date", and with a merge queue, the simulator's clock at real time and GitHub's secondary
//! limits enforced per identity (all services share the workflow identity and the bot, as deploys
//! minted from one App installation do). It checks every service deployed and prints one table
//! row per landing zone.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use github_sim::SimHandle;

use crate::shared::{Shared, assert_all_deployed, deploy};

/// The landing zone's CI: one check completing 2 s after each push, as in the end-to-end chain.
const CI_MS: u64 = 2_000;

/// One deploy's numbers, from its own log line "API requests: …".
struct Deploy {
    wall: Duration,
    /// Requests that count against the rate limit (304s are free), both tokens.
    limited: u32,
}

fn requests_of(stdout: &str) -> u32 {
    let line = stdout
        .lines()
        .find_map(|line| line.split_once("API requests: ").map(|(_, rest)| rest))
        .expect("the request line");
    let number = |text: &str| -> u32 { text.trim().parse().expect("a count") };
    let (workflow, rest) = line
        .split_once(" with the workflow token (")
        .expect("workflow count");
    let (not_modified, rest) = rest.split_once(" answered 304), ").expect("304 count");
    let bot = rest.trim_end().trim_end_matches(" with the bot token");
    number(workflow) - number(not_modified) + number(bot)
}

/// The nearest-rank percentile `percent` of a sorted list.
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let rank = (percent * sorted.len())
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The most writes one identity made within any 60 s of the simulator's clock.
fn peak_writes_per_minute(sim: &SimHandle) -> (String, usize) {
    let mut writes: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for request in sim.requests() {
        if request.method != "GET" {
            writes
                .entry(request.identity.unwrap_or_default())
                .or_default()
                .push(request.at);
        }
    }
    writes
        .into_iter()
        .map(|(who, times)| {
            let peak = times
                .iter()
                .map(|start| {
                    times
                        .iter()
                        .filter(|t| (*start..*start + 60).contains(t))
                        .count()
                })
                .max()
                .unwrap_or(0);
            (who, peak)
        })
        .max_by_key(|(_, peak)| *peak)
        .unwrap_or_default()
}

#[expect(clippy::print_stderr, reason = "the benchmark reports its numbers")]
fn scenario(landing_zone: Shared, label: &str) {
    let sim = landing_zone.start();
    let started = Instant::now();
    let runs: Vec<(gantry_testkit::Transcript, Duration)> = std::thread::scope(|scope| {
        let sim = &sim;
        let handles: Vec<_> = (0..landing_zone.services)
            .map(|i| {
                scope.spawn(move || {
                    let began = Instant::now();
                    let run = deploy(sim, i).input("timeout", "20m").run();
                    (run, began.elapsed())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("deploy"))
            .collect()
    });
    let wall = started.elapsed();
    for (run, _) in &runs {
        assert_eq!(run.code, 0, "{label}: {}", run.render());
    }
    let deploys: Vec<Deploy> = runs
        .iter()
        .map(|(run, wall)| Deploy {
            wall: *wall,
            limited: requests_of(&run.stdout),
        })
        .collect();
    let mut walls: Vec<Duration> = deploys.iter().map(|d| d.wall).collect();
    walls.sort();
    let requests = sim.requests();
    let writes = requests.iter().filter(|r| r.method != "GET").count();
    let limited_answers = requests
        .iter()
        .filter(|r| matches!(r.status, 403 | 429))
        .count();
    let (who, peak) = peak_writes_per_minute(&sim);
    let n = deploys.len();
    let per_deploy = |total: u32| f64::from(total) / f64::from(u32::try_from(n).expect("count"));
    let mean_requests = per_deploy(deploys.iter().map(|d| d.limited).sum());
    let max_requests = deploys.iter().map(|d| d.limited).max().unwrap_or(0);
    let updates = runs
        .iter()
        .filter(|(run, _)| run.stdout.contains("was behind its base branch"))
        .count();
    eprintln!(
        "| {label} | {n}/{n} | {:.1} s | {:.1} s | {:.1} s | {mean_requests:.1} (max {max_requests}) | {:.1} | {peak} ({who}) | {limited_answers} | {updates} |",
        wall.as_secs_f64(),
        percentile(&walls, 50).as_secs_f64(),
        percentile(&walls, 95).as_secs_f64(),
        per_deploy(u32::try_from(writes).expect("count")),
    );
    let owned: Vec<gantry_testkit::Transcript> = runs.into_iter().map(|(run, _)| run).collect();
    assert_all_deployed(&sim, &owned);
}

/// One table row per landing zone kind for `services` services: neither strict nor queued,
/// strict ("require branches to be up to date"), and a merge queue.
fn services_at_once(services: usize) {
    for (kind, strict, merge_queue) in [
        ("not strict", false, false),
        ("strict", true, false),
        ("merge queue", false, true),
    ] {
        let landing_zone = Shared {
            strict,
            merge_queue,
            scale: 1,
            ..Shared::strict(services, CI_MS)
        };
        let label = format!(
            "{services} service{}, {kind}",
            if services == 1 { "" } else { "s" }
        );
        scenario(landing_zone, &label);
    }
}

#[test]
#[ignore = "real time; run it for BENCHMARKS.md (benches/landing-zone.sh)"]
fn bench_landing_zone_01_service() {
    services_at_once(1);
}

#[test]
#[ignore = "real time; run it for BENCHMARKS.md (benches/landing-zone.sh)"]
fn bench_landing_zone_05_services() {
    services_at_once(5);
}

#[test]
#[ignore = "minutes of real time; run it for BENCHMARKS.md (benches/landing-zone.sh)"]
fn bench_landing_zone_20_services() {
    services_at_once(20);
}
