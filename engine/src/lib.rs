//! Isochord's control side: presets, automation, the control tick, offline rendering and
//! WAV output. Nothing here runs on the audio thread; the audio thread only ever sees an
//! [`isochord_dsp::Soundscape`] and the [`isochord_dsp::Command`]s sent to it.
#![warn(missing_docs)]

pub mod allowance;
pub mod automation;
pub mod biometrics;
pub mod content;
pub mod control;
pub mod duration;
#[cfg(feature = "cpal")]
pub mod live;
pub mod mood;
pub mod offline;
pub mod output;
pub mod personal;
pub mod policy;
pub mod preset;
pub mod protocol;
pub mod realtime;
pub mod report;
pub mod session;
pub mod simulation;
pub mod source_error;
pub mod wav;

pub use automation::Automation;
pub use control::{AutomationController, Controller, Static, CONTROL_RATE_HZ};
pub use duration::{format_duration, parse_duration};
#[cfg(feature = "cpal")]
pub use live::{
    DeviceChoice, LiveError, LiveEvent, LiveOptions, LiveOutput, OutputDevice, Recorder,
};
pub use offline::{OfflineSession, RenderOutcome};
pub use preset::{Goal, Preset};
pub use realtime::{new_engine, new_engine_with_content, EngineHandle, Renderer, Telemetry};
pub use source_error::SourceError;
pub use wav::{SampleFormat, WavSink};
