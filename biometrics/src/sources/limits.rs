//! Plausibility limits applied when a value is parsed, before it reaches any feature.
//!
//! These are wide *physiological* bounds that only catch garbage (a NaN, a unit mix-up, a
//! sensor reporting 0 bpm); artifact rejection proper (e.g. RR outside 300–2000 ms, ectopic
//! beats) happens later, in the features. Runs on the input or control thread.

use crate::signal::Value;

/// Heart rate, bpm: `[min, max]`.
pub const HEART_RATE_BPM: (f32, f32) = (20.0, 250.0);
/// RR (inter-beat) interval, ms: `[min, max]`.
pub const RR_MS: (f32, f32) = (200.0, 3000.0);
/// Skin conductance, µS: `[min, max]`.
pub const EDA_US: (f32, f32) = (0.0, 100.0);
/// Respiration rate, breaths per minute: `[min, max]`.
pub const RESP_RATE_BPM: (f32, f32) = (1.0, 80.0);
/// Skin temperature, °C: `[min, max]` (wide: a wrist sensor off the skin reads the room).
pub const TEMP_C: (f32, f32) = (0.0, 50.0);
/// Largest plausible acceleration on any axis, g.
pub const ACC_G: f32 = 16.0;

/// A value refused at parsing: not a number, or outside its plausible range.
#[derive(Clone, Debug, PartialEq)]
pub enum Implausible {
    /// Not finite.
    NotANumber {
        /// What was read ("heart rate", "sample", "time", …).
        what: String,
        /// The value read.
        value: f64,
    },
    /// Finite but outside the plausible range.
    OutOfRange {
        /// What was read.
        what: String,
        /// The value read.
        value: f32,
        /// Its unit.
        unit: &'static str,
        /// Lowest plausible value.
        lo: f32,
        /// Highest plausible value.
        hi: f32,
    },
}

impl std::fmt::Display for Implausible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Implausible::NotANumber { what, value } => write!(f, "{what} is {value}, not a number"),
            Implausible::OutOfRange {
                what,
                value,
                unit,
                lo,
                hi,
            } => write!(
                f,
                "{what} {value} {unit} is outside the plausible range {lo}–{hi} {unit}"
            ),
        }
    }
}

impl std::error::Error for Implausible {}

fn finite(what: &str, v: f64) -> Result<(), Implausible> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Implausible::NotANumber {
            what: what.to_string(),
            value: v,
        })
    }
}

fn within(name: &str, unit: &'static str, v: f32, (lo, hi): (f32, f32)) -> Result<(), Implausible> {
    finite(name, v as f64)?;
    if v < lo || v > hi {
        return Err(Implausible::OutOfRange {
            what: name.to_string(),
            value: v,
            unit,
            lo,
            hi,
        });
    }
    Ok(())
}

/// Checks that `value` is finite and physiologically plausible; the error says why not.
pub fn check_value(value: &Value) -> Result<(), Implausible> {
    match *value {
        Value::HeartRate(v) => within("heart rate", "bpm", v, HEART_RATE_BPM),
        Value::Rr(v) => within("RR interval", "ms", v, RR_MS),
        Value::Eda(v) => within("EDA", "µS", v, EDA_US),
        Value::RespRate(v) => within("respiration rate", "/min", v, RESP_RATE_BPM),
        Value::Resp(v) => finite("respiration", v as f64),
        Value::Temp(v) => within("temperature", "°C", v, TEMP_C),
        Value::Acc(a) => {
            for (axis, v) in ["x", "y", "z"].iter().zip(a) {
                within(&format!("acceleration {axis}"), "g", v, (-ACC_G, ACC_G))?;
            }
            Ok(())
        }
        Value::ContactLost => Ok(()),
    }
}

/// Checks one waveform sample (finite only: waveforms have arbitrary units).
pub fn check_sample(v: f32) -> Result<(), Implausible> {
    finite("sample", v as f64)
}

/// Checks a time stamp (finite).
pub fn check_time(t: f64) -> Result<(), Implausible> {
    finite("time", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_keeps_plausible_values() {
        assert!(check_value(&Value::HeartRate(72.0)).is_ok());
        assert_eq!(
            check_value(&Value::HeartRate(19.0))
                .unwrap_err()
                .to_string(),
            "heart rate 19 bpm is outside the plausible range 20–250 bpm"
        );
        assert_eq!(
            check_sample(f32::NAN).unwrap_err().to_string(),
            "sample is NaN, not a number"
        );
        assert!(check_value(&Value::HeartRate(19.0)).is_err());
        assert!(check_value(&Value::HeartRate(251.0)).is_err());
        assert!(check_value(&Value::HeartRate(f32::NAN)).is_err());
        assert!(check_value(&Value::Rr(199.0)).is_err());
        assert!(check_value(&Value::Rr(3001.0)).is_err());
        assert!(check_value(&Value::Rr(800.0)).is_ok());
        assert!(check_value(&Value::Eda(-0.1)).is_err());
        assert!(check_value(&Value::Eda(100.5)).is_err());
        assert!(check_value(&Value::Eda(0.0)).is_ok());
        assert!(check_value(&Value::Resp(f32::INFINITY)).is_err());
        assert!(check_value(&Value::Acc([0.0, 1.0, f32::NAN])).is_err());
        assert!(check_value(&Value::Acc([0.0, 1.0, -17.0])).is_err());
        assert!(check_value(&Value::Acc([0.0, 1.0, -1.0])).is_ok());
        assert!(check_value(&Value::Temp(33.0)).is_ok());
        assert!(check_value(&Value::Temp(60.0)).is_err());
        let e = check_value(&Value::HeartRate(300.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("300") && e.contains("20–250"), "{e}");
        assert!(check_sample(f32::NAN).is_err());
        assert!(check_time(f64::INFINITY).is_err());
    }
}
