//! Typed biometric samples, each stamped with session time.

/// One reading from a sensor at a moment of the session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// Session time, seconds (file sources: from the recording's start; live sources:
    /// from the session's start). Sources may deliver out of order, with gaps or in bursts.
    pub time: f64,
    /// What was measured.
    pub value: Value,
}

/// A measured quantity, in the units the field uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// Heart rate, beats per minute.
    HeartRate(f32),
    /// Inter-beat (RR) interval ending at this reading's time, milliseconds.
    Rr(f32),
    /// Electrodermal activity (skin conductance), microsiemens.
    Eda(f32),
    /// Respiration rate, breaths per minute.
    RespRate(f32),
    /// Raw respiration signal (arbitrary units, e.g. belt stretch).
    Resp(f32),
    /// Skin temperature, °C.
    Temp(f32),
    /// Acceleration x, y, z in g.
    Acc([f32; 3]),
    /// The sensor reports it has lost contact with the skin.
    ContactLost,
}

/// The kind of a sampled waveform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaveKind {
    /// Electrocardiogram (any unit; mV usually).
    Ecg,
    /// Photoplethysmogram / blood-volume pulse.
    Ppg,
    /// Respiration belt or similar.
    Resp,
}

/// A run of evenly sampled waveform.
#[derive(Clone, Debug, PartialEq)]
pub struct Waveform {
    /// What it is.
    pub kind: WaveKind,
    /// Session time of the first sample, seconds.
    pub start: f64,
    /// Samples per second.
    pub rate: f64,
    /// The samples.
    pub samples: Vec<f32>,
}

/// What a source delivers.
#[derive(Clone, Debug, PartialEq)]
pub enum SensorData {
    /// A single reading.
    Reading(Reading),
    /// A chunk of waveform.
    Waveform(Waveform),
}

impl SensorData {
    /// Session time of the (first) sample.
    pub fn time(&self) -> f64 {
        match self {
            SensorData::Reading(r) => r.time,
            SensorData::Waveform(w) => w.start,
        }
    }
}
