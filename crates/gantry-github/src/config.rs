//! How to reach GitHub: base URL (GitHub Enterprise Server works unchanged), proxy, an extra CA
//! bundle for corporate runners, timeouts and the overall deadline. Filled in by the action from the
//! runner's environment; this crate never reads the environment itself.

use std::path::PathBuf;
use std::time::Duration;

/// Client settings. `Default` gives public GitHub with the suite's standard timeouts.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// REST base URL, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// Sent as `User-Agent`, e.g. `gantry-create-prerelease/0.1.0`.
    pub user_agent: String,
    /// Proxy for every request (`HTTPS_PROXY`); `None` connects directly.
    pub proxy: Option<String>,
    /// Hosts that bypass the proxy (`NO_PROXY` syntax).
    pub no_proxy: Option<String>,
    /// The trust store the platform verifier reads (`SSL_CERT_FILE`, which replaces the system
    /// roots); its certificates are added explicitly so a bad file is an error naming it.
    pub extra_ca_file: Option<PathBuf>,
    /// Budget for one HTTP attempt.
    pub request_timeout: Duration,
    /// Budget for everything this client does, retries and waits included.
    pub deadline: Duration,
    /// Items per page of a paginated list (GitHub allows at most 100); every page is read.
    pub page_size: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_url: "https://api.github.com".to_owned(),
            user_agent: format!("gantry/{}", gantry_runner::SUITE_VERSION),
            proxy: None,
            no_proxy: None,
            extra_ca_file: None,
            request_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(300),
            page_size: 100,
        }
    }
}

impl ClientConfig {
    /// Settings for an action step: the run's API URL, the runner's proxy and CA settings, a user
    /// agent naming the tool, and the step's overall deadline.
    pub fn for_step(
        api_url: &str,
        network: gantry_runner::NetworkSettings,
        tool: &str,
        deadline: Duration,
    ) -> Self {
        Self {
            api_url: api_url.to_owned(),
            user_agent: format!("gantry-{tool}/{}", gantry_runner::SUITE_VERSION),
            proxy: network.https_proxy,
            no_proxy: network.no_proxy,
            extra_ca_file: network.extra_ca_file.map(PathBuf::from),
            deadline,
            ..Self::default()
        }
    }
}
