//! Durations as people write them: `90s`, `10m`, `1h30m`, `1h 30m 15s`, `2.5m`, `45`.

use std::time::Duration;

/// Text that is not a duration, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

/// Parses a duration. A bare number is seconds; otherwise a sequence of numbers each
/// followed by `h`, `m`, `s` or `ms`, largest first.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    parse(text).map_err(DurationError)
}

fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration (write e.g. 90s, 10m or 1h30m)".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return seconds(secs, text);
    }
    let mut total = 0.0f64;
    let mut rest = t;
    let mut last_rank = usize::MAX;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!(
                "`{text}` is not a duration (write e.g. 90s, 10m or 1h30m)"
            ));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("`{text}`: `{}` is not a number", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let (scale, rank) = match &rest[..unit_len] {
            "h" | "hr" | "hrs" | "hour" | "hours" => (3600.0, 3),
            "m" | "min" | "mins" | "minute" | "minutes" => (60.0, 2),
            "s" | "sec" | "secs" | "second" | "seconds" => (1.0, 1),
            "ms" => (0.001, 0),
            "" => {
                return Err(format!(
                    "`{text}`: a unit (h, m, s or ms) must follow {value}"
                ))
            }
            u => return Err(format!("`{text}`: `{u}` is not a unit (use h, m, s or ms)")),
        };
        if rank >= last_rank {
            return Err(format!("`{text}`: units must go from largest to smallest"));
        }
        last_rank = rank;
        total += value * scale;
        rest = &rest[unit_len..];
    }
    seconds(total, text)
}

fn seconds(secs: f64, text: &str) -> Result<Duration, String> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{text}` is not a duration"));
    }
    if secs > 7.0 * 24.0 * 3600.0 {
        return Err(format!("`{text}` is longer than a week"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Formats a duration as `1h02m03s`, `4m05s` or `12.5s`.
pub fn format_duration(d: Duration) -> String {
    let total = d.as_secs_f64();
    let h = (total / 3600.0).floor() as u64;
    let m = ((total - h as f64 * 3600.0) / 60.0).floor() as u64;
    let s = total - h as f64 * 3600.0 - m as f64 * 60.0;
    if h > 0 {
        format!("{h}h{m:02}m{:02}s", s.round() as u64)
    } else if m > 0 {
        format!("{m}m{:02}s", s.round() as u64)
    } else if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s:.1}s")
    }
}

/// Serde helpers: a [`Duration`] written as text (`"90s"`, `"10m"`, `"1h30m"`).
pub mod as_text {
    use super::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Reads a duration from text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map_err(serde::de::Error::custom)
    }

    /// Writes a duration as text.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_people_write() {
        let secs = |t: &str| parse_duration(t).unwrap().as_secs_f64();
        assert_eq!(secs("90s"), 90.0);
        assert_eq!(secs("10m"), 600.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("1h 30m 15s"), 5415.0);
        assert_eq!(secs("2.5m"), 150.0);
        assert_eq!(secs("45"), 45.0);
        assert_eq!(secs("250ms"), 0.25);
    }

    #[test]
    fn refuses_nonsense_with_a_reason() {
        for bad in [
            "",
            "ten minutes",
            "10x",
            "m5",
            "30s1m",
            "-3s",
            "1.2.3s",
            "5 m x",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("9999h").unwrap_err().0.contains("week"));
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h02m03s");
        assert_eq!(format_duration(Duration::from_secs(245)), "4m05s");
        assert_eq!(format_duration(Duration::from_millis(12_500)), "12.5s");
    }
}
