//! Turning the time stamps found in files and streams into session time.
//!
//! A time column may hold seconds from some start, unix seconds or unix milliseconds. The
//! unit is detected from the first value:
//!
//! * below 10⁸ (about three years in seconds): seconds from the start of the recording;
//! * from 10⁸ to 10¹¹: unix seconds (1973 to 5138);
//! * from 10¹¹: unix milliseconds.
//!
//! In a file, unix times become seconds since the first row (the first row is session
//! time 0); relative seconds are kept as they are, so a file that starts at 5 s keeps its
//! offset. In a live stream (stdin) the first time stamp is pinned to the session time at
//! which it arrived and later ones follow at the data's own pace. Every later value must
//! look like the same unit. Runs on the input or control thread.

/// How a time column counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds from the start of the recording.
    Relative,
    /// Seconds since 1970-01-01 UTC.
    UnixSeconds,
    /// Milliseconds since 1970-01-01 UTC.
    UnixMillis,
}

impl TimeUnit {
    /// The unit a single time stamp looks like.
    pub fn classify(t: f64) -> TimeUnit {
        if t >= 1e11 {
            TimeUnit::UnixMillis
        } else if t >= 1e8 {
            TimeUnit::UnixSeconds
        } else {
            TimeUnit::Relative
        }
    }

    fn describe(self) -> &'static str {
        match self {
            TimeUnit::Relative => "seconds from the start",
            TimeUnit::UnixSeconds => "unix seconds",
            TimeUnit::UnixMillis => "unix milliseconds",
        }
    }

    fn seconds(self, t: f64) -> f64 {
        match self {
            TimeUnit::UnixMillis => t / 1000.0,
            _ => t,
        }
    }
}

/// Converts raw time stamps of one file or stream to session seconds.
#[derive(Clone, Debug)]
pub struct TimeBase {
    unit: Option<TimeUnit>,
    /// The first raw value, in seconds.
    origin: f64,
    /// `Some(t)`: the first stamp maps to session time `t` whatever its unit (live).
    anchor: Option<f64>,
}

impl Default for TimeBase {
    fn default() -> Self {
        Self::for_file()
    }
}

impl TimeBase {
    /// For a file: unix times count from the first row, relative times are kept.
    pub fn for_file() -> Self {
        Self {
            unit: None,
            origin: 0.0,
            anchor: None,
        }
    }

    /// For a live stream: the first stamp maps to session time `anchor`.
    pub fn anchored(anchor: f64) -> Self {
        Self {
            unit: None,
            origin: 0.0,
            anchor: Some(anchor),
        }
    }

    /// The detected unit, once a stamp has been seen.
    pub fn unit(&self) -> Option<TimeUnit> {
        self.unit
    }

    /// Whether a first stamp has been seen.
    pub fn started(&self) -> bool {
        self.unit.is_some()
    }

    /// Sets the anchor of a live stream whose first stamp has not been seen yet.
    pub fn set_anchor(&mut self, anchor: f64) {
        if self.unit.is_none() {
            self.anchor = Some(anchor);
        }
    }

    /// The session time of raw stamp `raw`; an error if it is not finite or its unit
    /// differs from the first stamp's.
    pub fn to_session(&mut self, raw: f64) -> Result<f64, TimeStampError> {
        if !raw.is_finite() {
            return Err(TimeStampError::NotANumber(raw));
        }
        let unit = TimeUnit::classify(raw);
        match self.unit {
            None => {
                self.unit = Some(unit);
                self.origin = unit.seconds(raw);
            }
            Some(u) if u != unit => {
                return Err(TimeStampError::UnitChanged {
                    raw,
                    unit,
                    first: u,
                })
            }
            Some(_) => {}
        }
        let secs = unit.seconds(raw);
        Ok(match (self.anchor, unit) {
            (Some(a), _) => a + (secs - self.origin),
            (None, TimeUnit::Relative) => secs,
            (None, _) => secs - self.origin,
        })
    }
}

/// A time stamp [`TimeBase::to_session`] cannot place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeStampError {
    /// Not finite.
    NotANumber(f64),
    /// In another unit than the stream's first stamp.
    UnitChanged {
        /// The stamp.
        raw: f64,
        /// The unit it looks like.
        unit: TimeUnit,
        /// The unit of the first stamp.
        first: TimeUnit,
    },
}

impl std::fmt::Display for TimeStampError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeStampError::NotANumber(raw) => write!(f, "time is {raw}, not a number"),
            TimeStampError::UnitChanged { raw, unit, first } => write!(
                f,
                "time {raw} looks like {} but the first time stamp was in {}",
                unit.describe(),
                first.describe()
            ),
        }
    }
}

impl std::error::Error for TimeStampError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_units_and_converts_to_session_time() {
        let mut tb = TimeBase::for_file();
        assert_eq!(tb.to_session(1_560_279_825.0).unwrap(), 0.0);
        assert_eq!(tb.to_session(1_560_279_826.5).unwrap(), 1.5);
        assert_eq!(tb.unit(), Some(TimeUnit::UnixSeconds));
        let e = tb.to_session(3.0).unwrap_err().to_string();
        assert!(
            e.contains("seconds from the start") && e.contains("unix seconds"),
            "{e}"
        );

        let mut ms = TimeBase::for_file();
        assert_eq!(ms.to_session(1_560_279_825_000.0).unwrap(), 0.0);
        assert_eq!(ms.to_session(1_560_279_825_250.0).unwrap(), 0.25);

        let mut rel = TimeBase::for_file();
        assert_eq!(rel.to_session(5.0).unwrap(), 5.0);
        assert_eq!(rel.to_session(6.0).unwrap(), 6.0);
        assert!(rel.to_session(f64::NAN).is_err());

        let mut live = TimeBase::anchored(10.0);
        assert_eq!(live.to_session(100.0).unwrap(), 10.0);
        assert_eq!(live.to_session(101.0).unwrap(), 11.0);
    }
}
