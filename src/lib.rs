//! Isochord: a real-time adaptive audio synthesis engine for therapeutic soundscapes.
//!
//! - [`dsp`] is what runs on the audio thread: the [`Soundscape`] and its parts.
//! - [`engine`] is the control side: [`Preset`]s, automation, the control tick and the
//!   [`OfflineSession`] renderer with its [`WavSink`].
//!
//! Render ten seconds of the `relax` preset into memory:
//!
//! ```
//! use isochord::{Preset, Soundscape};
//! let preset = Preset::find("relax").unwrap();
//! let mut scape = Soundscape::new(&preset.sound, 48_000.0, 7);
//! let mut buf = vec![0.0f32; 2 * 480]; // 10 ms, interleaved stereo
//! for _ in 0..1000 {
//!     scape.render(&mut buf);
//! }
//! assert!(buf.iter().all(|s| s.is_finite()));
//! ```
#![warn(missing_docs)]

pub use isochord_dsp as dsp;
pub use isochord_engine as engine;
/// Live playback on the system's audio output (the `cpal` feature, on by default).
#[cfg(feature = "cpal")]
pub use isochord_engine::live;
/// Sessions: a plan run offline, on the sound card or in the host's own audio callback,
/// steered by biometrics the host pushes.
pub use isochord_engine::session;

pub use isochord_dsp::{
    Command, Content, Key, Layer, Meter, Param, Scale, Soundscape, SoundscapeConfig, MAX_BLOCK,
};
pub use isochord_engine::content::{ContentLibrary, LoadedContent};
pub use isochord_engine::{
    new_engine, new_engine_with_content, parse_duration, Automation, AutomationController,
    Controller, EngineHandle, Goal, LiveSession, OfflineSession, Preset, RenderOutcome, Renderer,
    SampleFormat, SessionPlan, SourceError, Static, Telemetry, WavSink, CONTROL_RATE_HZ,
};
#[cfg(feature = "cpal")]
pub use isochord_engine::{DeviceChoice, LiveError, LiveEvent, LiveOptions, LiveOutput, Recorder};
