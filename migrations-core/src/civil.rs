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

    /// Seconds since 1970-01-01T00:00:00Z (Howard Hinnant's days-from-civil).
    pub fn to_unix(&self) -> i64 {
        let y = self.year - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (self.month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + self.day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400 + self.hour * 3600 + self.minute * 60 + self.second
    }
}

/// A date and time as written in a model's default: `YYYY-MM-DD`, then optionally `T` or a
/// space, `HH:MM:SS`, a fraction, and `Z` or an offset `±HH:MM` (RFC 3339 and what SQL
/// writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeText {
    /// The date and time as written (before any offset is applied).
    pub civil: Civil,
    /// Whether a time was written.
    pub has_time: bool,
    /// The fraction of a second, digits only (empty when none).
    pub fraction: String,
    /// The offset from UTC in seconds, when one was written (`Z` is 0).
    pub offset: Option<i64>,
}

impl DateTimeText {
    /// Reads `text`; `None` when it is not a date and time of that form (or names a day or
    /// time that does not exist).
    pub fn parse(text: &str) -> Option<DateTimeText> {
        let b = text.as_bytes();
        let digits = |from: usize, len: usize| -> Option<i64> {
            let part = text.get(from..from + len)?;
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
        };
        let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
        if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
            return None;
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if day < 1 || day > month_days[usize::try_from(month - 1).ok()?] {
            return None;
        }
        let mut civil = Civil { year, month, day, hour: 0, minute: 0, second: 0 };
        if b.len() == 10 {
            return Some(DateTimeText { civil, has_time: false, fraction: String::new(), offset: None });
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
            return None;
        }
        (civil.hour, civil.minute, civil.second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
        if civil.hour > 23 || civil.minute > 59 || civil.second > 59 {
            return None;
        }
        let mut rest = &text[19..];
        let mut fraction = String::new();
        if let Some(after) = rest.strip_prefix('.') {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return None;
            }
            fraction = after[..n].to_string();
            rest = &after[n..];
        }
        let offset = match rest {
            "" => None,
            "Z" | "z" => Some(0),
            _ => {
                let sign = match rest.as_bytes()[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                // `+02:00`, or `+02` as SQL writes it.
                let h = rest.get(1..3)?.parse::<i64>().ok()?;
                let m = match rest.len() {
                    3 => 0,
                    6 if rest.as_bytes()[3] == b':' => rest.get(4..6)?.parse::<i64>().ok()?,
                    _ => return None,
                };
                if h > 23 || m > 59 {
                    return None;
                }
                Some(sign * (h * 3600 + m * 60))
            }
        };
        Some(DateTimeText { civil, has_time: true, fraction, offset })
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]`: in UTC when `to_utc` (an offset written is applied),
    /// else as written (an offset is dropped, as PostgreSQL drops it for a timestamp
    /// without time zone). The fraction is cut to microseconds.
    pub fn sql_datetime(&self, to_utc: bool) -> String {
        let civil = match self.offset {
            Some(offset) if to_utc => Civil::from_unix(self.civil.to_unix() - offset),
            _ => self.civil,
        };
        let mut s = format!("{} {:02}:{:02}:{:02}", civil.date(), civil.hour, civil.minute, civil.second);
        let fraction = self.fraction[..self.fraction.len().min(6)].trim_end_matches('0');
        if !fraction.is_empty() {
            s.push('.');
            s.push_str(fraction);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_as_written_and_in_utc() {
        let t = DateTimeText::parse("2024-02-29T23:30:00.123+02:00").expect("parses");
        assert_eq!(t.sql_datetime(true), "2024-02-29 21:30:00.123");
        assert_eq!(t.sql_datetime(false), "2024-02-29 23:30:00.123");
        let z = DateTimeText::parse("2024-12-31T23:30:00-01:00").expect("parses");
        assert_eq!(z.sql_datetime(true), "2025-01-01 00:30:00");
        assert_eq!(
            DateTimeText::parse("2024-01-01 10:00:00").expect("space").sql_datetime(true),
            "2024-01-01 10:00:00"
        );
        assert!(!DateTimeText::parse("2024-01-01").expect("date").has_time);
        let sql = DateTimeText::parse("2024-01-31 07:30:00.000000+00").expect("as PostgreSQL reports it");
        assert_eq!(sql.sql_datetime(true), "2024-01-31 07:30:00");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T25:00:00",
            "2024-01-01T10:00",
            "yesterday",
            "2024-01-01T10:00:00+2",
            "2024-01-01T10:00:00+02:0",
        ] {
            assert_eq!(DateTimeText::parse(bad), None, "{bad}");
        }
        for secs in [0, 951_782_400, 1_795_312_496, -86_400 * 400] {
            assert_eq!(Civil::from_unix(secs).to_unix(), secs);
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(Civil::from_unix(0).date(), "1970-01-01");
        assert_eq!(Civil::from_unix(951_782_400).date(), "2000-02-29");
        let c = Civil::from_unix(1_795_312_496);
        assert_eq!((c.date(), c.hour, c.minute, c.second), ("2026-11-22".to_string(), 1, 54, 56));
    }
}
