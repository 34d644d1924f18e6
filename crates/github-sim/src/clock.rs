//! Simulated time: it runs at a configurable rate from a configurable start and can be advanced
//! by tests, so "a check completes after 2 s" needs neither sleeping nor real waiting.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The simulator's clock, read in unix milliseconds.
#[derive(Clone, Debug)]
pub struct Clock {
    real_origin: Instant,
    sim_origin_ms: i64,
    scale: f64,
    offset_ms: i64,
}

impl Clock {
    /// A clock starting at `start_ms` (unix ms; wall clock when `None`) that runs at `scale`
    /// simulated seconds per real second (0 freezes it; then only [`Clock::advance`] moves it).
    pub fn new(start_ms: Option<i64>, scale: f64) -> Clock {
        let start = start_ms.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        });
        Clock {
            real_origin: Instant::now(),
            sim_origin_ms: start,
            scale: if scale.is_finite() && scale >= 0.0 {
                scale
            } else {
                1.0
            },
            offset_ms: 0,
        }
    }

    /// Simulated now, in unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let real = self.real_origin.elapsed().as_secs_f64() * 1000.0 * self.scale;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "simulated ms fit in i64 for millennia"
        )]
        let real = real as i64;
        self.sim_origin_ms + real + self.offset_ms
    }

    /// Simulated seconds per real second (0: frozen).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Simulated now, in unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves simulated time forward.
    pub fn advance(&mut self, by: Duration) {
        self.offset_ms += i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
    }
}

/// Formats unix seconds as GitHub does: `2017-10-10T16:00:00Z`.
pub fn iso(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&f).unwrap_or_default()
}

/// Formats unix seconds as an HTTP `Date` header: `Tue, 10 Oct 2017 16:00:00 GMT`.
pub fn http_date(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.format(&f).unwrap_or_default()
}

/// Parses `2017-10-10T16:00:00Z` (RFC 3339) into unix milliseconds.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_only_moves_when_advanced() {
        let mut c = Clock::new(Some(1_000_000), 0.0);
        assert_eq!(c.now_ms(), 1_000_000);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now_ms(), 1_001_500);
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(http_date(1_507_651_200), "Tue, 10 Oct 2017 16:00:00 GMT");
        assert_eq!(parse_iso_ms("1970-01-01T00:00:01Z"), Some(1000));
    }
}
