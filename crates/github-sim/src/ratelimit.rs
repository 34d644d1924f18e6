//! Primary rate limits: an hourly budget per token, reported in `x-ratelimit-*` headers and
//! enforced with GitHub's 403; conditional requests answered with 304 spend nothing.

use std::collections::HashMap;

/// The state of one token's hourly window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub limit: u32,
    pub used: u32,
    /// Unix seconds when the window resets.
    pub reset: i64,
}

impl Budget {
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

/// Budgets of every token seen so far.
#[derive(Default)]
pub struct RateLimiter {
    budgets: HashMap<String, Budget>,
}

impl RateLimiter {
    /// The current window for `token`, opening a new one when the last has expired.
    pub fn peek(&mut self, token: &str, limit: u32, now: i64) -> Budget {
        let b = self.budgets.entry(token.to_owned()).or_insert(Budget {
            limit,
            used: 0,
            reset: now + 3600,
        });
        if now >= b.reset {
            *b = Budget {
                limit,
                used: 0,
                reset: now + 3600,
            };
        }
        b.limit = limit;
        *b
    }

    /// Spends one request.
    pub fn spend(&mut self, token: &str) -> Option<Budget> {
        let b = self.budgets.get_mut(token)?;
        b.used = b.used.saturating_add(1);
        Some(*b)
    }

    /// Forgets all windows (used when a new world is loaded).
    pub fn reset(&mut self) {
        self.budgets.clear();
    }
}
