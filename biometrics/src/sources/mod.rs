//! Biometric sources: everything that turns a file, a stream, a socket or a model into
//! typed [`SensorData`](crate::SensorData).
//!
//! * [`Source`] is the common interface: [`Source::pull`] yields items, or
//!   [`SourceIssue`]s that do not stop the stream unless fatal; [`SourceStats`] counts what
//!   was delivered and rejected.
//! * Pacing: file sources are instant; [`Replay`] releases their items when a [`Clock`]
//!   reaches their time — a [`WallClock`] live, a [`VirtualClock`] offline.
//! * [`SourceThread`] runs any source on its own input thread, feeding a bounded
//!   crossbeam channel that the control thread drains; the producer never blocks for long.
//! * Formats: [`CsvSource`] and [`JsonLinesSource`] (named fields, also live from stdin),
//!   [`E4Source`] (Empatica E4 export folders), [`WaveformCsvSource`] (raw ECG/PPG/
//!   respiration), [`OscSource`] (OSC over UDP, EmotiBit and heart-rate-app presets),
//!   [`decode_heart_rate_measurement`] and [`BleHeartRateSource`] (Bluetooth GATT 0x2A37),
//!   and the [`Simulator`] (always labelled simulated).
//! * Values are checked against [`limits`] when parsed: NaN, infinite and implausible
//!   values are rejected with an error naming the file, line, column and field.
//!
//! Threads: sources are pulled on input threads or, offline, on the control thread; none
//! of this ever runs on the audio thread.

pub mod ble_hr;
pub mod csv;
pub mod e4;
pub mod fields;
pub mod jsonl;
pub mod limits;
mod line_source;
mod lines;
#[cfg(feature = "osc")]
pub mod osc;
pub mod replay;
pub mod simulator;
pub mod source;
pub mod thread;
pub mod time_base;
pub mod waveform_csv;

pub use ble_hr::{
    decode_heart_rate_measurement, BleError, BleHeartRateSource, BlePacket, Contact,
    HeartRateMeasurement,
};
pub use csv::{CsvOptions, CsvSource};
pub use e4::{E4File, E4FileReader, E4Options, E4Source};
pub use fields::Field;
pub use jsonl::{JsonLinesOptions, JsonLinesSource};
#[cfg(feature = "osc")]
pub use osc::{AddressMap, OscConfig, OscCounters, OscDecoder, OscRoute, OscSource, OscTarget};
pub use replay::{ready_at, Clock, Replay, VirtualClock, WallClock};
pub use simulator::{
    ArousalScript, KeyframeError, SimOptions, SimParams, Simulator, SimulatorHandle,
};
pub use source::{
    Counted, IssueKind, Items, Pull, Source, SourceInfo, SourceIssue, SourceStats, VecSource,
};
pub use thread::{SourceItem, SourceThread, ThreadOptions};
pub use time_base::{TimeBase, TimeStampError, TimeUnit};
pub use waveform_csv::{WaveformCsvOptions, WaveformCsvSource};
