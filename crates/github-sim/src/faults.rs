//! Fault injection: rules matching method and path pattern, applied a fixed number of times or
//! with a probability drawn from a seeded RNG, so flaky-network tests are reproducible.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What happens to a request a fault rule catches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status (500, 502, 503…) and a GitHub-style error body.
    Status { status: u16 },
    /// Run the request (the write is applied), then answer with this status (502, 504…)
    /// instead of the real answer: GitHub committed the change but the client never hears so.
    StatusAfterApply { status: u16 },
    /// A secondary rate limit: 403 or 429 with `retry-after` seconds.
    SecondaryRateLimit { status: u16, retry_after: u64 },
    /// Serve normally after a real delay (make it longer than the client's timeout to simulate
    /// a response that never arrives in time).
    Latency { ms: u64 },
    /// Reset the connection (TCP RST) without any response.
    ConnectionReset,
    /// Send the headers and half of the body, then close the connection.
    CloseMidBody,
}

impl FaultAction {
    /// A short label for the request log.
    pub fn label(&self) -> String {
        match self {
            FaultAction::Status { status } => format!("status {status}"),
            FaultAction::StatusAfterApply { status } => format!("status {status} after apply"),
            FaultAction::SecondaryRateLimit {
                status,
                retry_after,
            } => {
                format!("secondary rate limit {status} retry-after {retry_after}")
            }
            FaultAction::Latency { ms } => format!("latency {ms}ms"),
            FaultAction::ConnectionReset => "connection reset".into(),
            FaultAction::CloseMidBody => "close mid-body".into(),
        }
    }
}

/// A fault rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// HTTP method to match (any when absent), case-insensitive.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern: `*` matches within one segment, `**` matches across segments
    /// (e.g. `/repos/*/*/pulls/*/merge`, `/repos/**`).
    pub path: String,
    /// Apply to the next N matching requests only (unlimited when absent).
    #[serde(default)]
    pub times: Option<u32>,
    /// Apply to each matching request with this probability (1.0 when absent).
    #[serde(default)]
    pub probability: Option<f64>,
    pub action: FaultAction,
}

impl Fault {
    /// A rule for `method path` with `action`, every time.
    pub fn new(method: &str, path: &str, action: FaultAction) -> Fault {
        Fault {
            method: Some(method.to_owned()),
            path: path.to_owned(),
            times: None,
            probability: None,
            action,
        }
    }

    /// Only the next `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// Each matching request with probability `p`.
    #[must_use]
    pub fn probability(mut self, p: f64) -> Fault {
        self.probability = Some(p);
        self
    }
}

/// The active fault rules and their RNG, and the style of secondary-limit answers.
pub struct Faults {
    rules: Vec<Fault>,
    rng: StdRng,
    pub limit_answer: crate::limits::LimitAnswer,
}

impl Faults {
    pub fn new(seed: u64) -> Faults {
        Faults {
            rules: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            limit_answer: crate::limits::LimitAnswer::default(),
        }
    }

    pub fn add(&mut self, fault: Fault) {
        self.rules.push(fault);
    }

    pub fn clear(&mut self) {
        self.rules.clear();
        self.limit_answer = crate::limits::LimitAnswer::default();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.rules.clone()
    }

    /// The action for this request, if a rule fires (first matching rule wins).
    pub fn pick(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        if self.rules.is_empty() {
            return None;
        }
        let mut fired = None;
        for rule in &mut self.rules {
            let method_ok = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method));
            if !method_ok || !glob(&rule.path, path) || rule.times == Some(0) {
                continue;
            }
            if let Some(p) = rule.probability
                && self.rng.random::<f64>() >= p
            {
                continue;
            }
            if let Some(n) = &mut rule.times {
                *n -= 1;
            }
            fired = Some(rule.action.clone());
            break;
        }
        self.rules.retain(|r| r.times != Some(0));
        fired
    }
}

/// Matches `*` (within a segment) and `**` (across segments).
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    glob_at(p, t)
}

fn glob_at(p: &[u8], t: &[u8]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => (0..=t.len()).any(|i| glob_at(&p[2..], &t[i..])),
        Some(b'*') => {
            let seg_end = t.iter().position(|c| *c == b'/').unwrap_or(t.len());
            (0..=seg_end).any(|i| glob_at(&p[1..], &t[i..]))
        }
        Some(c) => t.first() == Some(c) && glob_at(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(glob("/repos/*/*/pulls/*/merge", "/repos/o/r/pulls/1/merge"));
        assert!(!glob("/repos/*/pulls", "/repos/o/r/pulls"));
        assert!(glob("/repos/**", "/repos/o/r/git/refs/heads/x"));
        assert!(glob(
            "/repos/o/r/git/refs/**",
            "/repos/o/r/git/refs/heads/a/b"
        ));
    }

    #[test]
    fn counted_faults_run_out_and_probabilities_are_seeded() {
        let mut f = Faults::new(7);
        f.add(Fault::new("GET", "/x", FaultAction::Status { status: 502 }).times(2));
        assert!(f.pick("GET", "/x").is_some());
        assert!(f.pick("get", "/x").is_some());
        assert!(f.pick("GET", "/x").is_none());
        let draw = |seed| {
            let mut f = Faults::new(seed);
            f.add(Fault::new("GET", "/y", FaultAction::Status { status: 500 }).probability(0.5));
            (0..32)
                .map(|_| f.pick("GET", "/y").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert!(draw(42).contains(&true) && draw(42).contains(&false));
    }
}
