//! The period the keys cover, `[since, until)`, from `--since`/`--until` (a date, meaning
//! 00:00 UTC that day, or an RFC 3339 time) or `--days N` (the N days up to `--until`, or up to
//! now).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// A half-open interval of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
}

/// An option whose value is not a time, or a period that is empty.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error(
        "--{option} `{value}` is not a date: give YYYY-MM-DD (00:00 UTC that day) or an RFC 3339 time such as 2026-11-01T09:30:00Z"
    )]
    NotATime { option: &'static str, value: String },
    #[error("--days must be a whole number of days from 1 to 3650, not `{0}`")]
    Days(String),
    #[error("give at most two of --since, --until and --days")]
    TooMany,
    #[error("the period is empty: --since {since} is not before --until {until}")]
    Empty { since: String, until: String },
}

impl Period {
    /// The period the options name; `now` ends it when neither `--until` nor `--since` is given
    /// with `--days`, and `--since` alone runs to `now`.
    pub fn from_options(
        since: Option<&str>,
        until: Option<&str>,
        days: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Period, PeriodError> {
        let until = until.map(|v| parse_time("until", v)).transpose()?;
        let since = since.map(|v| parse_time("since", v)).transpose()?;
        let days = days
            .map(|v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|d| (1..=3650).contains(d))
                    .map(Duration::days)
                    .ok_or_else(|| PeriodError::Days(v.to_owned()))
            })
            .transpose()?;
        let (since, until) = match (since, until, days) {
            (Some(since), until, None) => (since, until.unwrap_or(now)),
            (Some(since), None, Some(days)) => (since, since + days),
            (None, until, days) => {
                let until = until.unwrap_or(now);
                (until - days.unwrap_or(Duration::days(30)), until)
            }
            (Some(_), Some(_), Some(_)) => return Err(PeriodError::TooMany),
        };
        if since >= until {
            return Err(PeriodError::Empty {
                since: format_time(since),
                until: format_time(until),
            });
        }
        Ok(Period { since, until })
    }

    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.since <= at && at < self.until
    }

    /// Its length in days (fractional).
    pub fn days(&self) -> f64 {
        (self.until - self.since).as_seconds_f64() / 86_400.0
    }
}

/// A date (00:00 UTC) or an RFC 3339 time, in UTC.
pub fn parse_time(option: &'static str, value: &str) -> Result<OffsetDateTime, PeriodError> {
    let bad = || PeriodError::NotATime {
        option,
        value: value.to_owned(),
    };
    if let Ok(date) = Date::parse(value, format_description!("[year]-[month]-[day]")) {
        return Ok(date.midnight().assume_utc());
    }
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|_| bad())
}

/// RFC 3339 in UTC, whole seconds (`2026-11-01T09:30:00Z`).
pub fn format_time(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::{Period, PeriodError};

    const NOW: time::OffsetDateTime = datetime!(2026-12-06 20:00 UTC);

    #[test]
    fn dates_mean_midnight_utc_and_the_period_is_half_open() {
        let p = Period::from_options(Some("2026-11-01"), Some("2026-11-15"), None, NOW).unwrap();
        assert_eq!(p.since, datetime!(2026-11-01 00:00 UTC));
        assert_eq!(p.until, datetime!(2026-11-15 00:00 UTC));
        assert!((p.days() - 14.0).abs() < 1e-9);
        assert!(p.contains(p.since));
        assert!(!p.contains(p.until));
        let p = Period::from_options(Some("2026-11-01T10:00:00+02:00"), None, None, NOW).unwrap();
        assert_eq!(p.since, datetime!(2026-11-01 08:00 UTC));
        assert_eq!(p.until, NOW);
    }

    #[test]
    fn days_count_back_from_until_or_now_or_forward_from_since() {
        let p = Period::from_options(None, None, Some("7"), NOW).unwrap();
        assert_eq!((p.since, p.until), (datetime!(2026-11-29 20:00 UTC), NOW));
        let p = Period::from_options(None, Some("2026-12-01"), Some("1"), NOW).unwrap();
        assert_eq!(p.since, datetime!(2026-11-30 00:00 UTC));
        let p = Period::from_options(Some("2026-12-01"), None, Some("2"), NOW).unwrap();
        assert_eq!(p.until, datetime!(2026-12-03 00:00 UTC));
        let p = Period::from_options(None, None, None, NOW).unwrap();
        assert_eq!(
            p.since,
            datetime!(2026-11-06 20:00 UTC),
            "30 days by default"
        );
    }

    #[test]
    fn bad_values_name_the_option() {
        let error = Period::from_options(Some("last tuesday"), None, None, NOW).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("--since `last tuesday` is not a date")
        );
        let error = Period::from_options(None, Some("2026-13-01"), None, NOW).unwrap_err();
        assert!(matches!(
            error,
            PeriodError::NotATime {
                option: "until",
                ..
            }
        ));
        for days in ["0", "-3", "1.5", "x"] {
            assert_eq!(
                Period::from_options(None, None, Some(days), NOW).unwrap_err(),
                PeriodError::Days(days.to_owned())
            );
        }
        assert_eq!(
            Period::from_options(Some("2026-12-01"), Some("2026-12-02"), Some("1"), NOW),
            Err(PeriodError::TooMany)
        );
        let error = Period::from_options(Some("2026-12-02"), Some("2026-12-01"), None, NOW);
        assert_eq!(
            error.unwrap_err().to_string(),
            "the period is empty: --since 2026-12-02T00:00:00Z is not before --until 2026-12-01T00:00:00Z"
        );
    }
}
