//! Calendar dates from Unix time, for the dates written into sealed migrations and the
//! history table (UTC, no time-zone database needed).

/// A UTC date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: i64,
    /// Day of the month, 1–31.
    pub day: i64,
    /// Hour, 0–23.
    pub hour: i64,
    /// Minute, 0–59.
    pub minute: i64,
    /// Second, 0–59.
    pub second: i64,
}

impl Civil {
    /// The UTC date and time `secs` seconds after 1970-01-01T00:00:00Z (Howard Hinnant's
    /// days-to-civil algorithm).
    pub fn from_unix(secs: i64) -> Civil {
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil { year, month, day, hour: rem / 3600, minute: rem % 3600 / 60, second: rem % 60 }
    }

    /// `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(Civil::from_unix(0).date(), "1970-01-01");
        assert_eq!(Civil::from_unix(951_782_400).date(), "2000-02-29");
        let c = Civil::from_unix(1_795_312_496);
        assert_eq!((c.date(), c.hour, c.minute, c.second), ("2026-11-22".to_string(), 1, 54, 56));
    }
}
