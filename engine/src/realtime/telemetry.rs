//! What the audio thread reports back.

use isochord_dsp::{Key, Scale, PARAM_COUNT};

/// A report from the audio thread, sent every ~50 ms of audio. `Copy`, so it travels
/// through a lock-free ring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Telemetry {
    /// Frames rendered since the engine started.
    pub frames: u64,
    /// Sample peak of the output over this report's span.
    pub peak: f32,
    /// RMS of the output over this report's span.
    pub rms: f32,
    /// Longest single `render` call in this span, in nanoseconds.
    pub render_ns_max: u32,
    /// Mean cost per frame in this span, nanoseconds.
    pub render_ns_per_frame: f32,
    /// Commands applied since the engine started.
    pub commands_applied: u64,
    /// Underruns the host reported since the engine started.
    pub underruns: u32,
    /// Blocks silenced for NaN or infinity since the engine started.
    pub nan_blocks: u32,
    /// Frames of streamed recordings that had not arrived when due (played as silence)
    /// since the engine started.
    pub stream_missing_frames: u64,
    /// Smallest limiter gain in this span (1 = untouched).
    pub limiter_gain: f32,
    /// The current smoothed value of every parameter, by [`isochord_dsp::Param::index`].
    pub values: [f32; PARAM_COUNT],
    /// Key and scale sounding.
    pub key: (Key, Scale),
    /// Whether a preset crossfade is running.
    pub switching: bool,
    /// Whether a fade-out has reached silence.
    pub faded_out: bool,
}
