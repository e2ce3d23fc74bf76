//! Live playback through the system's audio output, with [cpal].
//!
//! ```text
//!  control thread                                  audio thread (cpal's)
//!  OutputDevice::open ─ native rate ─▶ new_engine
//!  EngineHandle ── commands ─────────────────────▶ Renderer::render() into a
//!               ◀─ telemetry ───────────────────    preallocated f32 scratch,
//!  LiveOutput   ◀─ stream events (errors, loss) ─   converted to the device's format
//!  Recorder     ◀─ played samples (RecordTap) ───   (no allocation, locks or I/O)
//!    └ writer thread: WavSink
//! ```
//!
//! 1. [`OutputDevice::open`] picks a device ([`DeviceChoice`]) and reads its native
//!    sample rate, sample format and channel count.
//! 2. Build the engine at that rate with [`crate::new_engine`].
//! 3. Optionally start a [`Recorder`] at that rate; its [`RecordTap`] goes to the stream.
//! 4. [`LiveOutput::start`] opens the stream and plays the [`crate::Renderer`].
//! 5. Steer with the [`crate::EngineHandle`]; watch [`LiveOutput::next_event`]; if the device
//!    is lost, [`LiveOutput::reopen`] moves the same renderer to another device.
//! 6. Fade out, [`LiveOutput::stop`], then [`Recorder::finish`].
//!
//! [`LiveOutput::play`] does steps 1, 2 and 4 in one call.
//!
//! Everything here is for the control thread except [`RecordTap::push`], which the
//! stream's callback calls on the audio thread. Calls that reach into the audio system
//! (opening, querying, closing) give up after a few seconds rather than hang when a
//! sound server stops answering.
//!
//! [cpal]: https://docs.rs/cpal

mod callback;
mod device;
mod output;
mod recorder;
mod timeout;

pub use device::{list_output_devices, DeviceChoice, DeviceInfo, OutputDevice};
pub use output::{
    playback_event, BufferGrowth, BufferInfo, LiveEvent, LiveOptions, LiveOutput,
    DEFAULT_BUFFER_FRAMES, MAX_GROWN_BUFFER_FRAMES, UNDERRUNS_TO_GROW, UNDERRUN_SPAN,
};
pub use recorder::{RecordOutcome, RecordTap, Recorder, DEFAULT_RING_SECONDS};

/// Re-export of the cpal version this module is built on.
pub use cpal;

/// Why live playback could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The audio system itself is unavailable (no host, no server).
    #[error("no audio output available: {0}")]
    Host(String),
    /// No device has the requested id or name.
    #[error("no output device `{wanted}` (available: {available}); `isochord devices` lists them")]
    NoSuchDevice {
        /// What was asked for.
        wanted: String,
        /// The ids that exist, comma-separated.
        available: String,
    },
    /// The system has no default output device.
    #[error("no default output device (is a sound card or sound server present?)")]
    NoDefaultDevice,
    /// The device could not be queried or opened.
    #[error("output device `{device}`: {message}")]
    Device {
        /// The device's id.
        device: String,
        /// What went wrong.
        message: String,
    },
    /// The device's sample format cannot be fed (for example DSD).
    #[error("output device `{device}`: unsupported sample format {format}")]
    UnsupportedFormat {
        /// The device's id.
        device: String,
        /// The format it asked for.
        format: String,
    },
    /// The device cannot run at the engine's sample rate.
    #[error("output device `{device}` cannot play at {rate} Hz")]
    SampleRate {
        /// The device's id.
        device: String,
        /// The rate needed.
        rate: u32,
    },
    /// The audio thread did not hand the renderer back after its stream stopped.
    #[error("the audio stream did not stop in time")]
    StopTimeout,
    /// The audio system did not answer in time (a frozen sound server).
    #[error("{what}: the audio system did not answer within {seconds} s")]
    NoAnswer {
        /// What was being done.
        what: String,
        /// The time limit.
        seconds: u64,
    },
    /// The recording could not be created or written.
    #[error("recording: {0}")]
    Record(#[from] crate::wav::WavError),
    /// The recording's writer thread failed.
    #[error("recording: {0}")]
    Recorder(String),
}

impl LiveError {
    pub(crate) fn no_answer(what: impl Into<String>) -> Self {
        LiveError::NoAnswer {
            what: what.into(),
            seconds: timeout::AUDIO_CALL_LIMIT.as_secs(),
        }
    }

    pub(crate) fn device(device: &str, err: impl std::fmt::Display) -> Self {
        LiveError::Device {
            device: device.to_string(),
            message: err.to_string(),
        }
    }
}
