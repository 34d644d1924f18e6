//! Retries on transient failures (5xx, 429, broken connections): for requests that are safe to
//! repeat, and the backoff of the watch streams (short, so a fault costs seconds, not minutes).

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder, Retryable as _};
use kube::runtime::utils::Backoff;

fn builder() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(2))
        .with_jitter()
}

/// Whether an error may go away on its own (a refused certificate does not).
pub fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || status.code == 429,
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            gantry_runner::certificate::problem(error).is_none()
        }
        _ => false,
    }
}

/// Runs `call`, repeating it up to five times while it fails transiently.
pub async fn transient<T, F, Fut>(call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    call.retry(builder().with_max_times(5))
        .when(is_transient)
        .await
}

/// The backoff between attempts to re-establish a watch: 100 ms doubling to 2 s, reset by
/// every event that arrives.
pub struct WatchBackoff {
    current: backon::ExponentialBackoff,
}

impl WatchBackoff {
    pub fn new() -> Self {
        Self {
            current: builder().without_max_times().build(),
        }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.current.next()
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        *self = Self::new();
    }
}
