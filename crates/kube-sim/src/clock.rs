//! Simulated time: wall-clock time scaled by a factor, plus manual advances, so that a 600 s
//! progress deadline can pass in seconds.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// A clock whose simulated time runs `scale` times faster than real time and can be pushed forward.
#[derive(Debug)]
pub struct SimClock {
    origin_real: Instant,
    origin_sim: OffsetDateTime,
    scale: f64,
    advanced: Mutex<Duration>,
}

impl SimClock {
    pub fn new(scale: f64) -> Self {
        let now = OffsetDateTime::now_utc();
        let origin_sim = now.replace_nanosecond(0).unwrap_or(now);
        Self {
            origin_real: Instant::now(),
            origin_sim,
            scale: if scale > 0.0 { scale } else { 1.0 },
            advanced: Mutex::new(Duration::ZERO),
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Simulated time elapsed since the simulator started.
    pub fn elapsed(&self) -> Duration {
        let real = self.origin_real.elapsed().mul_f64(self.scale);
        real + *self
            .advanced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Current simulated wall time.
    pub fn now(&self) -> OffsetDateTime {
        self.origin_sim + self.elapsed()
    }

    /// Moves simulated time forward without waiting.
    pub fn advance(&self, by: Duration) {
        *self
            .advanced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }

    /// How long to wait in real time for `sim` of simulated time to pass.
    pub fn real_duration(&self, sim: Duration) -> Duration {
        sim.div_f64(self.scale)
    }
}

/// RFC 3339 with second precision, as the API server writes `metav1.Time`.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses a `metav1.Time` string.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Kubernetes' short human age, as in the AGE column (`5s`, `3m2s`, `4h`, `2d`).
pub fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    if s < 120 {
        format!("{s}s")
    } else if s < 600 {
        let m = s / 60;
        let rem = s % 60;
        if rem == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{rem}s")
        }
    } else if s < 3 * 3600 {
        let h = s / 3600;
        let m = (s % 3600) / 60;
        if h == 0 {
            format!("{m}m")
        } else if m == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{m}m")
        }
    } else if s < 48 * 3600 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86400)
    }
}
