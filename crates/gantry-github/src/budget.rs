//! The write budget: keeps this client's requests under GitHub's documented secondary limits (80
//! content-generating requests a minute, 500 an hour, 900 points a minute), so a deploy's dozen
//! writes go out at once and only a long burst is paced; and how long a rate-limit answer says to
//! wait. Other processes sharing the token are invisible here: their writes show up as GitHub's
//! 403s, which [`limit_wait`] turns into waits that hold every request of this client.
//!
//! A sliding window over the last hour's request times (at most 500 writes, and the last minute's
//! reads), not a token bucket: it follows the documented "per minute" and "per hour" wording
//! exactly, with no refill rate to tune. Time is passed in, so the arithmetic is tested without
//! clocks.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::RequestLine;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

/// GitHub's documented secondary limits for one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub content_per_minute: usize,
    pub content_per_hour: usize,
    /// GitHub counts points per endpoint; counting all endpoints together is stricter and needs
    /// no table of GitHub's route templates (one action never nears 900 points a minute).
    pub points_per_minute: u32,
}

impl Limits {
    pub(crate) const GITHUB: Limits = Limits {
        content_per_minute: 80,
        content_per_hour: 500,
        points_per_minute: 900,
    };
}

/// The requests this client started, by time since the client was made.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: Limits,
    /// Start times of writes (POST, PATCH, PUT, DELETE) within the last hour, in order.
    writes: VecDeque<Duration>,
    /// Start times and points of every request within the last minute, in order.
    points: VecDeque<(Duration, u32)>,
    /// Nothing starts before this (a rate-limit answer said to wait).
    held_until: Duration,
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            writes: VecDeque::new(),
            points: VecDeque::new(),
            held_until: Duration::ZERO,
        }
    }

    /// Books a request at the earliest time from `now` on that keeps within every limit and
    /// returns that time (the caller sleeps until then).
    pub(crate) fn reserve(&mut self, now: Duration, writes: bool) -> Duration {
        let cost = if writes { 5 } else { 1 };
        let last = self.points.back().map_or(Duration::ZERO, |(t, _)| *t);
        let mut at = now.max(self.held_until).max(last);
        if writes {
            at = at.max(self.frees(at, MINUTE, self.limits.content_per_minute));
            at = at.max(self.frees(at, HOUR, self.limits.content_per_hour));
        }
        at = at.max(self.points_free(at, cost));
        if writes {
            self.writes.push_back(at);
        }
        self.points.push_back((at, cost));
        self.forget_before(now);
        at
    }

    /// Holds every request until `until` (GitHub answered with a rate limit).
    pub(crate) fn hold(&mut self, until: Duration) {
        self.held_until = self.held_until.max(until);
    }

    /// When one more write fits in `window` holding at most `max`, looking from `at`.
    fn frees(&self, at: Duration, window: Duration, max: usize) -> Duration {
        let inside: Vec<Duration> = self
            .writes
            .iter()
            .copied()
            .filter(|t| *t + window > at)
            .collect();
        if inside.len() < max.max(1) {
            return at;
        }
        inside[inside.len() - max.max(1)] + window
    }

    /// When `cost` more points fit in the minute, looking from `at`.
    fn points_free(&self, at: Duration, cost: u32) -> Duration {
        let inside: Vec<(Duration, u32)> = self
            .points
            .iter()
            .copied()
            .filter(|(t, _)| *t + MINUTE > at)
            .collect();
        let mut spent: u32 = inside.iter().map(|(_, p)| p).sum();
        let mut free = at;
        for (t, p) in inside {
            if spent + cost <= self.limits.points_per_minute {
                break;
            }
            spent -= p;
            free = t + MINUTE;
        }
        free
    }

    fn forget_before(&mut self, now: Duration) {
        while self.writes.front().is_some_and(|t| *t + HOUR <= now) {
            self.writes.pop_front();
        }
        while self.points.front().is_some_and(|(t, _)| *t + MINUTE <= now) {
            self.points.pop_front();
        }
    }
}

/// Which limit an answer reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// The hourly request budget (`x-ratelimit-remaining: 0`, GitHub's "API rate limit exceeded").
    Primary,
    /// A secondary rate limit (GitHub's "You have exceeded a secondary rate limit").
    Secondary,
}

/// How long a rate-limit answer says to wait, and which header said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LimitWait {
    pub limit: Limit,
    pub wait: Duration,
    pub source: &'static str,
}

/// What a 403/429 rate-limit answer carried.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LimitAnswer {
    pub retry_after: Option<Duration>,
    /// `x-ratelimit-remaining: 0` with the wait until `x-ratelimit-reset`.
    pub reset: Option<Duration>,
    /// The message says "secondary rate limit".
    pub secondary: bool,
}

/// GitHub's rules: `retry-after` when present; else, with `x-ratelimit-remaining: 0`, until
/// `x-ratelimit-reset`; else (a secondary limit) at least a minute, doubling with each further
/// refusal of the same request (`refused` counts them, from 1).
pub(crate) fn limit_wait(answer: LimitAnswer, refused: u32) -> LimitWait {
    let limit = if answer.secondary || answer.reset.is_none() {
        Limit::Secondary
    } else {
        Limit::Primary
    };
    if let Some(wait) = answer.retry_after {
        return LimitWait {
            limit,
            wait,
            source: "retry-after",
        };
    }
    if let Some(wait) = answer.reset {
        return LimitWait {
            limit,
            wait,
            source: "x-ratelimit-reset",
        };
    }
    let doublings = refused.saturating_sub(1).min(6);
    LimitWait {
        limit: Limit::Secondary,
        wait: MINUTE * 2u32.pow(doublings),
        source: "no retry-after: a minute, doubling",
    }
}

/// A wait logged for people: "GitHub secondary rate limit on PUT /repos/o/r/pulls/3/merge:
/// waiting 12 s (retry-after)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitWait {
    pub request: RequestLine,
    pub secondary: bool,
    pub wait: Duration,
    pub source: &'static str,
}

impl RateLimitWait {
    pub(crate) fn new(request: &RequestLine, wait: LimitWait) -> Self {
        Self {
            request: request.clone(),
            secondary: wait.limit == Limit::Secondary,
            wait: wait.wait,
            source: wait.source,
        }
    }
}

/// The waits a client logged, shared with whoever prints them (the client has no console).
#[derive(Debug, Clone, Default)]
pub struct RateLimitLog(Arc<Mutex<Vec<RateLimitWait>>>);

impl RateLimitLog {
    pub(crate) fn push(&self, wait: RateLimitWait) {
        self.0.lock().expect("rate-limit log").push(wait);
    }

    /// The waits logged since the last call, oldest first.
    pub fn take(&self) -> Vec<RateLimitWait> {
        std::mem::take(&mut *self.0.lock().expect("rate-limit log"))
    }

    /// Writes the waits logged since the last call as warnings (the token is never in them).
    pub fn warn(&self, console: &mut gantry_runner::Console<'_>) {
        for wait in self.take() {
            console.warning(
                &wait.to_string(),
                &gantry_runner::Annotation::titled("GitHub rate limit"),
            );
        }
    }
}

impl fmt::Display for RateLimitWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = if self.secondary {
            "secondary rate limit"
        } else {
            "rate limit (hourly budget used up)"
        };
        write!(
            f,
            "GitHub {limit} on {}: waiting {} s ({})",
            self.request,
            self.wait.as_secs_f64().ceil(),
            self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    #[test]
    fn a_deploys_writes_go_at_once() {
        let mut b = Budget::new(Limits::GITHUB);
        for _ in 0..20 {
            assert_eq!(b.reserve(s(5), true), s(5));
            assert_eq!(b.reserve(s(5), false), s(5));
        }
    }

    #[test]
    fn writes_beyond_the_minute_wait_for_the_oldest_to_leave_it() {
        let mut b = Budget::new(Limits {
            content_per_minute: 3,
            ..Limits::GITHUB
        });
        assert_eq!(b.reserve(s(0), true), s(0));
        assert_eq!(b.reserve(s(10), true), s(10));
        assert_eq!(b.reserve(s(20), true), s(20));
        assert_eq!(b.reserve(s(21), true), s(60));
        assert_eq!(b.reserve(s(21), true), s(70));
        // Reads are no content: they go now, only ordered after what was booked.
        assert_eq!(b.reserve(s(21), false), s(70));
    }

    #[test]
    fn the_hour_and_the_points_pace_too() {
        let mut b = Budget::new(Limits {
            content_per_hour: 2,
            ..Limits::GITHUB
        });
        assert_eq!(b.reserve(s(0), true), s(0));
        assert_eq!(b.reserve(s(100), true), s(100));
        assert_eq!(b.reserve(s(200), true), s(3600));
        let mut p = Budget::new(Limits {
            points_per_minute: 7,
            ..Limits::GITHUB
        });
        assert_eq!(p.reserve(s(0), false), s(0));
        assert_eq!(p.reserve(s(1), true), s(1));
        assert_eq!(p.reserve(s(2), false), s(2));
        // 5 more points do not fit until the write (5) and the first read (1) left the minute.
        assert_eq!(p.reserve(s(3), true), s(61));
    }

    #[test]
    fn a_hold_delays_everything() {
        let mut b = Budget::new(Limits::GITHUB);
        b.hold(s(30));
        assert_eq!(b.reserve(s(1), false), s(30));
        b.hold(s(10));
        assert_eq!(b.reserve(s(31), true), s(31));
    }

    #[test]
    fn limit_answers_wait_as_github_says() {
        let retry = LimitAnswer {
            retry_after: Some(s(12)),
            secondary: true,
            ..LimitAnswer::default()
        };
        assert_eq!(
            limit_wait(retry, 1),
            LimitWait {
                limit: Limit::Secondary,
                wait: s(12),
                source: "retry-after"
            }
        );
        let primary = LimitAnswer {
            reset: Some(s(300)),
            ..LimitAnswer::default()
        };
        assert_eq!(limit_wait(primary, 1).limit, Limit::Primary);
        assert_eq!(limit_wait(primary, 1).wait, s(300));
        let bare = LimitAnswer {
            secondary: true,
            ..LimitAnswer::default()
        };
        assert_eq!(limit_wait(bare, 1).wait, s(60));
        assert_eq!(limit_wait(bare, 2).wait, s(120));
        assert_eq!(limit_wait(bare, 3).wait, s(240));
        let line = RateLimitWait::new(
            &RequestLine {
                method: "PUT".into(),
                path: "/repos/o/r/pulls/3/merge".into(),
            },
            limit_wait(retry, 1),
        );
        assert_eq!(
            line.to_string(),
            "GitHub secondary rate limit on PUT /repos/o/r/pulls/3/merge: waiting 12 s (retry-after)"
        );
    }
}
