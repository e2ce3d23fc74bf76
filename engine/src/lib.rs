//! Isochord's control side: presets, automation, the control tick, sessions (offline, on
//! the sound card, in the host's callback), offline rendering and WAV, FLAC and Ogg Opus output.
//!
//! Almost everything here runs on the control thread. Three parts run on the audio
//! thread and are real-time safe (no allocation, freeing, locks, blocking, I/O or
//! logging): the [`Renderer`] ([`realtime`]), the stream callback that drives it on a
//! sound card (`live`, with the `cpal` feature), and the [`session::SessionAudio`] a
//! host's own callback renders a session through. What they touch of the DSP is an
//! [`isochord_dsp::Soundscape`] and the [`isochord_dsp::Command`]s sent to it.
#![warn(missing_docs)]

pub mod allowance;
pub mod automation;
pub mod batch;
pub use isochord_biometrics as biometrics;
pub mod content;
pub mod control;
pub mod encode;
pub use isochord_report::duration;
#[cfg(feature = "cpal")]
pub mod live;
pub use isochord_mood as mood;
pub mod offline;
pub use isochord_report::output;
pub mod personal;
pub mod policy;
pub mod preset;
pub mod protocol;
pub mod realtime;
pub use isochord_report as report;
pub mod session;
pub mod simulation;
pub use isochord_biometrics::source_error;
pub mod wav;

pub use automation::Automation;
pub use control::{AutomationController, Controller, Static, CONTROL_RATE_HZ};
pub use duration::{format_duration, parse_duration};
pub use encode::{AudioSink, Encoding};
#[cfg(feature = "cpal")]
pub use live::{
    DeviceChoice, LiveError, LiveEvent, LiveOptions, LiveOutput, OutputDevice, Recorder,
};
pub use offline::{OfflineSession, RenderOutcome};
pub use preset::{Goal, Preset};
pub use realtime::{new_engine, new_engine_with_content, EngineHandle, Renderer, Telemetry};
pub use session::{LiveSession, SessionPlan};
pub use source_error::SourceError;
pub use wav::{SampleFormat, WavSink};
