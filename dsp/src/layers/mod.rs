//! The layers of the soundscape. Each renders one block at unit gain into stereo
//! buffers; the soundscape applies layer gains, mixes and masters.

mod breath;
mod loops;
mod melody;
mod noise_bed;
mod note_voices;
mod pad;
mod pulse;
mod sampled;
mod tuning;

pub use breath::{breath_swell, BreathGuide};
pub use loops::{Loops, MAX_ITEMS};
pub use melody::Melody;
pub use noise_bed::NoiseBed;
pub use note_voices::{Note, NoteVoices};
pub use pad::Pad;
pub use pulse::Pulse;
pub use sampled::SampledNotes;
pub use tuning::Tuning;

/// What every layer needs to know about the block being rendered.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    /// Frames in this block (≤ [`crate::MAX_BLOCK`]).
    pub frames: usize,
    /// Sample rate, Hz.
    pub sample_rate: f32,
    /// Smoothed tempo, BPM.
    pub tempo: f32,
    /// Smoothed brightness, 0..1.
    pub brightness: f32,
    /// Smoothed harmonic density, 0..1.
    pub density: f32,
    /// Smoothed energy, 0..1.
    pub energy: f32,
    /// Index of the beat that starts in this block, if one does.
    pub beat: Option<u64>,
    /// Index of the eighth note that starts in this block, if one does.
    pub eighth: Option<u64>,
    /// The beat clock at the block's end, in beats.
    pub beat_pos: f64,
}
