//! A real forwarding proxy for tests: Debian's `tinyproxy`, started on 127.0.0.1 with its own
//! configuration and log in a temp dir, stopped when dropped. The log says which `CONNECT`s it
//! tunnelled, so a test proves a client went through the proxy rather than around it.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running tinyproxy.
pub struct Tinyproxy {
    child: Child,
    log: PathBuf,
    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY` or a kubeconfig's `proxy-url`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    /// Starts tinyproxy (which must be installed: `.ci/install` installs it) and waits until it
    /// accepts connections. Every port may be tunnelled (no `ConnectPort` line).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let log = dir.path().join("tinyproxy.log");
        let conf = dir.path().join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 60\nLogFile \"{}\"\nLogLevel Connect\nMaxClients 50\nAllow 127.0.0.1\nDisableViaHeader Yes\n",
                log.display()
            ),
        )
        .expect("write tinyproxy.conf");
        // tinyproxy may drop privileges to `nobody`, who must be able to write the log.
        let _ = Command::new("chmod")
            .args(["0777", &dir.path().display().to_string()])
            .status();
        let mut command = Command::new("tinyproxy");
        crate::hermetic(&mut command);
        let child = command
            .arg("-d")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tinyproxy runs (apt-get install tinyproxy; .ci/install does)");
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < until,
                "tinyproxy did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            log,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// The `host:port` of every `CONNECT` tunnel the proxy was asked for, in order.
    pub fn connects(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|request| request.strip_prefix("CONNECT "))
            .map(str::to_owned)
            .collect()
    }

    /// Every request the proxy was asked to forward, as `METHOD target` (`CONNECT host:port`,
    /// `GET http://host:port/path`), in order.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                line.split_once("Request (file descriptor ")
                    .map(|(_, rest)| rest)
            })
            .filter_map(|rest| rest.split_once("): ").map(|(_, request)| request))
            .filter_map(|rest| {
                let mut words = rest.split_whitespace();
                let (method, target) = (words.next()?, words.next()?);
                let http = words.next()?;
                http.starts_with("HTTP/")
                    .then(|| format!("{method} {target}"))
            })
            .collect()
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
