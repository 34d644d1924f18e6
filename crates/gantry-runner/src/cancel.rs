//! Cancellation as the runner delivers it: a cancelled step's entry process gets SIGINT, then
//! SIGTERM 7.5 s later, then its process tree is killed 2.5 s after that. [`install`] (called by
//! [`crate::main`]) turns the first signal into a [`Cancellation`] token the networked actions
//! await next to their work, with the deadline by which they must have finished cleaning up and
//! reported. An action that never looks at the token runs to its end (ticgen and
//! required-ci-check take milliseconds).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// From the first signal to the runner's kill of the process tree (SIGINT + 7.5 s + 2.5 s).
pub const KILL_AFTER: Duration = Duration::from_secs(10);
/// Kept free before the kill for the final report (outputs, summary, the `::error`).
pub const REPORT_MARGIN: Duration = Duration::from_millis(1_500);

/// The signal that cancelled the step, and when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub signal: &'static str,
    pub at: Instant,
}

/// A cancellation token: cheap to clone, awaitable from any runtime.
#[derive(Debug, Clone)]
pub struct Cancellation {
    state: Arc<watch::Sender<Option<Received>>>,
}

impl Default for Cancellation {
    fn default() -> Self {
        Self {
            state: Arc::new(watch::channel(None).0),
        }
    }
}

impl Cancellation {
    /// Records a cancellation; only the first one counts.
    pub fn cancel(&self, signal: &'static str) {
        self.state.send_if_modified(|state| {
            if state.is_some() {
                return false;
            }
            *state = Some(Received {
                signal,
                at: Instant::now(),
            });
            true
        });
    }

    /// The first signal, once one arrived.
    pub fn received(&self) -> Option<Received> {
        *self.state.borrow()
    }

    pub fn is_cancelled(&self) -> bool {
        self.received().is_some()
    }

    /// Resolves once the step is cancelled; pending for ever otherwise.
    pub async fn cancelled(&self) {
        let mut receiver = self.state.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = receiver.wait_for(Option::is_some).await;
    }

    /// When clean-up must be over so the report still gets out before the runner's kill.
    pub fn deadline(&self) -> Option<Instant> {
        self.received()
            .map(|received| received.at + KILL_AFTER.saturating_sub(REPORT_MARGIN))
    }

    /// Runs `work` unless the step is cancelled first; `None` when it was (the work is dropped
    /// at its next await point: use this for reads and waits, never around a write).
    pub async fn unless_cancelled<F: Future>(&self, work: F) -> Option<F::Output> {
        tokio::select! {
            output = work => Some(output),
            () = self.cancelled() => None,
        }
    }

    /// Runs a write that must not be cut in half: to its end, or, once the step is cancelled,
    /// until the deadline. `None` when the deadline came first (the write's outcome is unknown).
    pub async fn finish_within_window<F: Future>(&self, work: F) -> Option<F::Output> {
        let mut work = std::pin::pin!(work);
        tokio::select! {
            output = &mut work => return Some(output),
            () = self.cancelled() => {}
        }
        let deadline = self.deadline()?;
        tokio::time::timeout_at(deadline.into(), work).await.ok()
    }

    /// The failure that reports a cancellation: `cancelled (SIGINT): <what>`.
    pub fn error(&self, what: impl std::fmt::Display) -> anyhow::Error {
        let signal = self
            .received()
            .map_or("cancellation", |received| received.signal);
        anyhow::anyhow!("cancelled ({signal}): {what}")
    }
}

/// The process's token: the one [`install`] set up, else one that is never cancelled.
pub fn token() -> Cancellation {
    PROCESS.get().cloned().unwrap_or_default()
}

static PROCESS: OnceLock<Cancellation> = OnceLock::new();

/// Catches SIGINT and SIGTERM for the rest of the process (a second signal changes nothing: the
/// first one's deadline stands) and returns the process's token. Idempotent.
pub fn install() -> std::io::Result<Cancellation> {
    if let Some(token) = PROCESS.get() {
        return Ok(token.clone());
    }
    let token = Cancellation::default();
    listen(token.clone())?;
    Ok(PROCESS.get_or_init(|| token).clone())
}

#[cfg(unix)]
fn listen(token: Cancellation) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    // Registered here, before `main` goes on, so no signal can find the default handler.
    let (mut interrupt, mut terminate) = {
        let _entered = runtime.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            runtime.block_on(async {
                loop {
                    let signal = tokio::select! {
                        _ = interrupt.recv() => "SIGINT",
                        _ = terminate.recv() => "SIGTERM",
                    };
                    token.cancel(signal);
                }
            });
        })?;
    Ok(())
}

#[cfg(not(unix))]
fn listen(token: Cancellation) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let mut ctrl_c = {
        let _entered = runtime.enter();
        tokio::signal::windows::ctrl_c()?
    };
    std::thread::Builder::new()
        .name("signals".to_owned())
        .spawn(move || {
            runtime.block_on(async {
                while ctrl_c.recv().await.is_some() {
                    token.cancel("CTRL_C");
                }
            });
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_counts_and_wakes_every_waiter() {
        let token = Cancellation::default();
        assert!(!token.is_cancelled());
        assert_eq!(token.deadline(), None);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let waiter = token.clone();
        let woke = runtime.block_on(async {
            let wait = tokio::spawn(async move { waiter.cancelled().await });
            tokio::task::yield_now().await;
            token.cancel("SIGINT");
            token.cancel("SIGTERM");
            wait.await.is_ok()
        });
        assert!(woke);
        let received = token.received().unwrap();
        assert_eq!(received.signal, "SIGINT");
        assert_eq!(
            token.deadline(),
            Some(received.at + Duration::from_millis(8_500))
        );
        assert_eq!(
            token.error("nothing was changed").to_string(),
            "cancelled (SIGINT): nothing was changed"
        );
    }

    #[test]
    fn reads_stop_at_a_cancellation_and_writes_finish_within_the_window() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let token = Cancellation::default();
        token.cancel("SIGINT");
        runtime.block_on(async {
            assert_eq!(
                token.unless_cancelled(std::future::pending::<()>()).await,
                None
            );
            assert_eq!(token.finish_within_window(async { 7 }).await, Some(7));
        });
        let fresh = Cancellation::default();
        runtime.block_on(async {
            assert_eq!(fresh.unless_cancelled(async { 1 }).await, Some(1));
        });
    }
}
