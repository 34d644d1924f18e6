//! `actions/install-binary.sh` against a local HTTP server: a verified download is cached, and what
//! runs is always a private, verified copy in the job's `RUNNER_TEMP` (never the shared tool cache);
//! a bad checksum stops the step and leaves nothing behind, local builds and `bin-dir` win.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

const BINARY: &[u8] = b"#!/bin/sh\necho prebuilt ticgen\n";
const ASSET: &str = "ticgen-x86_64-unknown-linux-musl";

/// A release server for `o/r` holding assets by path, counting requests.
struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

fn serve(assets: Vec<(String, Vec<u8>)>) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let assets: Arc<Mutex<HashMap<String, Vec<u8>>>> =
        Arc::new(Mutex::new(assets.into_iter().collect()));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let (assets, counter) = (assets.clone(), counter.clone());
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            match assets.lock().unwrap().get(uri.path()) {
                Some(bytes) => Ok(bytes.clone()),
                None => Err(axum::http::StatusCode::NOT_FOUND),
            }
        }
    });
    runtime.spawn(async move { axum::serve(listener, app).await });
    Server {
        url,
        hits,
        _runtime: runtime,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A checkout of this repository at a release: the installer plus RELEASE and SHA256SUMS.
    fn release(checksum: &str) -> Self {
        let fixture = Self::checkout();
        let actions = fixture.actions();
        std::fs::write(actions.join("RELEASE"), "v1.2.3\n").unwrap();
        std::fs::write(
            actions.join("SHA256SUMS"),
            format!("{checksum}  {ASSET}\n{}  other-asset\n", "0".repeat(64)),
        )
        .unwrap();
        fixture
    }

    /// A development checkout: only the installer.
    fn checkout() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/actions")).unwrap();
        std::fs::create_dir_all(dir.path().join("cache")).unwrap();
        std::fs::create_dir_all(dir.path().join("runner_temp")).unwrap();
        std::fs::copy(
            xtask::repo_root().join("actions/install-binary.sh"),
            dir.path().join("repo/actions/install-binary.sh"),
        )
        .unwrap();
        Self { dir }
    }

    fn actions(&self) -> PathBuf {
        self.dir.path().join("repo/actions")
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn cached(&self) -> PathBuf {
        self.cache()
            .join("gantry/v1.2.3/x86_64-unknown-linux-musl/ticgen")
    }

    fn runner_temp(&self) -> PathBuf {
        self.dir.path().join("runner_temp")
    }

    fn run(&self, server_url: &str, extra: &[(&str, &str)]) -> (i32, String, Option<PathBuf>) {
        let output = self.dir.path().join("github_output");
        std::fs::write(&output, "").unwrap();
        let mut command = Command::new("bash");
        command
            .arg(self.actions().join("install-binary.sh"))
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("GANTRY_BINARY", "ticgen")
            .env("GANTRY_ACTION_REPOSITORY", "o/r")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_SERVER_URL", server_url)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", self.cache())
            .env("RUNNER_TEMP", self.runner_temp());
        for (key, value) in extra {
            command.env(key, value);
        }
        let result = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&result.stdout).into_owned()
            + &String::from_utf8_lossy(&result.stderr);
        let written = std::fs::read_to_string(&output).unwrap();
        let path = written
            .strip_prefix("path=")
            .map(|p| PathBuf::from(p.trim_end()));
        (result.status.code().unwrap_or(-1), stdout, path)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn asset_path() -> String {
    format!("/o/r/releases/download/v1.2.3/{ASSET}")
}

/// What the step runs: a private copy in this job's `RUNNER_TEMP`, never the shared cache entry.
fn assert_private_copy(fixture: &Fixture, path: &Path) {
    assert!(
        path.starts_with(fixture.runner_temp()),
        "{} is not under RUNNER_TEMP",
        path.display()
    );
    let directory = path.parent().unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(directory).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o700, "the copy's directory is private");
    assert_eq!(std::fs::read(path).unwrap(), BINARY);
    assert_eq!(
        Command::new(path).output().unwrap().stdout,
        b"prebuilt ticgen\n",
        "executable"
    );
}

#[test]
fn a_verified_download_is_cached_and_a_private_copy_runs() {
    let server = serve(vec![(asset_path(), BINARY.to_vec())]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let (code, log, path) = fixture.run(&server.url, &[]);
    assert_eq!(code, 0, "{log}");
    let path = path.expect("path output");
    assert_private_copy(&fixture, &path);
    assert_eq!(
        std::fs::read(fixture.cached()).unwrap(),
        BINARY,
        "cached for the next job"
    );
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);

    let (code, log, again) = fixture.run(&server.url, &[]);
    assert_eq!(code, 0, "{log}");
    let again = again.expect("path output");
    assert_ne!(again, path, "every step gets its own copy");
    assert_private_copy(&fixture, &again);
    assert_eq!(
        server.hits.load(Ordering::SeqCst),
        1,
        "the cached, re-verified binary is used"
    );
}

#[test]
fn rewriting_the_cache_after_the_check_changes_nothing_the_step_runs() {
    let server = serve(vec![(asset_path(), BINARY.to_vec())]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    assert_eq!(
        fixture.run(&server.url, &[]).0,
        0,
        "first job fills the cache"
    );
    let (code, log, path) = fixture.run(&server.url, &[]);
    assert_eq!(code, 0, "{log}");
    let path = path.expect("path output");
    // Another repository's job on the same self-hosted runner swaps the cache entry between this
    // step's check and its use.
    std::fs::write(fixture.cached(), "#!/bin/sh\necho evil\n").unwrap();
    assert_private_copy(&fixture, &path);
}

#[test]
fn a_bad_checksum_stops_the_step_and_leaves_nothing_behind() {
    let server = serve(vec![(asset_path(), b"tampered".to_vec())]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let (code, log, path) = fixture.run(&server.url, &[]);
    assert_eq!(code, 2, "{log}");
    assert_eq!(path, None);
    assert!(log.contains("::error title=ticgen install failed::checksum mismatch for ticgen-x86_64-unknown-linux-musl"), "{log}");
    assert_eq!(
        files_under(&fixture.cache()),
        Vec::<PathBuf>::new(),
        "nothing reaches the cache"
    );
    assert_eq!(
        std::fs::read_dir(fixture.runner_temp()).unwrap().count(),
        0,
        "no partial download left in RUNNER_TEMP"
    );
}

#[test]
fn a_tampered_cache_entry_is_not_trusted() {
    let server = serve(vec![(asset_path(), BINARY.to_vec())]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    std::fs::create_dir_all(fixture.cached().parent().unwrap()).unwrap();
    std::fs::write(fixture.cached(), "evil").unwrap();
    let (code, log, path) = fixture.run(&server.url, &[]);
    assert_eq!(code, 0, "{log}");
    assert_private_copy(&fixture, &path.expect("path output"));
    assert_eq!(server.hits.load(Ordering::SeqCst), 1, "downloaded again");
    assert_eq!(
        std::fs::read(fixture.cached()).unwrap(),
        BINARY,
        "replaced by the verified download"
    );
}

#[test]
fn a_tool_cache_that_cannot_be_written_costs_only_the_cache() {
    let server = serve(vec![(asset_path(), BINARY.to_vec())]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let blocked = fixture.dir.path().join("blocked");
    std::fs::write(&blocked, "a file where the cache directory should be").unwrap();
    let (code, log, path) = fixture.run(
        &server.url,
        &[("RUNNER_TOOL_CACHE", blocked.to_str().unwrap())],
    );
    assert_eq!(code, 0, "{log}");
    assert_private_copy(&fixture, &path.expect("path output"));
    assert!(
        log.contains("is not writable; the next job downloads"),
        "{log}"
    );
}

#[test]
fn a_binary_mode_checksum_line_is_read_and_a_second_line_for_the_asset_is_refused() {
    let server = serve(vec![(asset_path(), BINARY.to_vec())]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let sums = fixture.actions().join("SHA256SUMS");
    std::fs::write(&sums, format!("{} *{ASSET}", sha256_hex(BINARY))).unwrap();
    let (code, log, path) = fixture.run(&server.url, &[]);
    assert_eq!(code, 0, "`sha256sum -b` form, no final newline: {log}");
    assert!(path.is_some(), "{log}");

    let ambiguous = tempfile::tempdir().unwrap();
    let fixture = Fixture::release(&sha256_hex(BINARY));
    std::fs::write(
        fixture.actions().join("SHA256SUMS"),
        format!(
            "{}  {ASSET}\n{}  {ASSET}\n",
            sha256_hex(BINARY),
            "1".repeat(64)
        ),
    )
    .unwrap();
    let (code, log, path) = fixture.run(
        &server.url,
        &[("RUNNER_TOOL_CACHE", ambiguous.path().to_str().unwrap())],
    );
    assert_eq!((code, path), (2, None), "{log}");
    assert!(
        log.contains("::error title=ticgen install failed::actions/SHA256SUMS has more than one checksum for ticgen-x86_64-unknown-linux-musl"),
        "{log}"
    );
    assert_eq!(files_under(ambiguous.path()), Vec::<PathBuf>::new());
}

#[test]
fn a_missing_asset_is_a_clear_error() {
    let server = serve(vec![]);
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let (code, log, _) = fixture.run(&server.url, &[]);
    assert_eq!(code, 2);
    assert!(
        log.contains("could not download http://127.0.0.1:"),
        "{log}"
    );
    assert_eq!(files_under(&fixture.cache()), Vec::<PathBuf>::new());
}

#[test]
fn an_unsupported_platform_names_what_is_supported() {
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let (code, log, _) = fixture.run("http://127.0.0.1:9", &[("RUNNER_OS", "Windows")]);
    assert_eq!(code, 2);
    assert!(
        log.contains("no prebuilt ticgen for Windows/X64; supported: Linux and macOS"),
        "{log}"
    );
}

#[test]
fn a_development_ref_without_checksums_refuses_to_download() {
    let fixture = Fixture::checkout();
    let (code, log, _) = fixture.run("http://127.0.0.1:9", &[]);
    assert_eq!(code, 2);
    assert!(
        log.contains("this ref is not a release (no actions/SHA256SUMS)"),
        "{log}"
    );
}

#[test]
fn a_local_build_in_the_checkout_wins_over_downloading() {
    let fixture = Fixture::release(&sha256_hex(BINARY));
    let release_dir = fixture.dir.path().join("repo/target/release");
    std::fs::create_dir_all(&release_dir).unwrap();
    let local = release_dir.join("ticgen");
    std::fs::write(&local, BINARY).unwrap();
    std::fs::set_permissions(&local, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, log, path) = fixture.run("http://127.0.0.1:9", &[]);
    assert_eq!((code, path), (0, Some(local)), "{log}");
}

#[test]
fn bin_dir_wins_and_must_hold_the_binary() {
    let fixture = Fixture::checkout();
    let bin_dir = fixture.dir.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let bin_dir_text = bin_dir.to_str().unwrap();
    let (code, log, _) = fixture.run("http://127.0.0.1:9", &[("GANTRY_BIN_DIR", bin_dir_text)]);
    assert_eq!(code, 2);
    assert!(
        log.contains("input bin-dir: no executable ticgen in"),
        "{log}"
    );
    let exe = bin_dir.join("ticgen");
    std::fs::write(&exe, BINARY).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, log, path) = fixture.run("http://127.0.0.1:9", &[("GANTRY_BIN_DIR", bin_dir_text)]);
    assert_eq!((code, path), (0, Some(exe)), "{log}");
}
