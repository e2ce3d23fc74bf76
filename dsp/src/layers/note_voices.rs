//! What plays a note layer's notes: the synthesised bell or a sampled instrument.

use super::sampled::SampledNotes;
use crate::content::Instrument;
use crate::voice::VoicePool;
use std::sync::Arc;

/// Level of a sampled note relative to the bell's amplitude, so that swapping the bell for
/// an instrument normalised to −23 LUFS keeps the layer's loudness about the same.
const SAMPLED_LEVEL: f32 = 1.6;

/// One note as a layer asks for it.
#[derive(Clone, Copy, Debug)]
pub struct Note {
    /// Pitch, Hz.
    pub hz: f32,
    /// Amplitude (the bell's scale).
    pub amp: f32,
    /// How hard it is struck, 0..1: picks a sampled instrument's velocity layer (the
    /// bell's timbre follows `bell_index` instead).
    pub velocity: f32,
    /// The bell's attack, seconds (a sampled note has its own).
    pub attack_s: f32,
    /// How long it lasts: the bell's decay to −60 dB, or how long a sampled note is held
    /// before it is let go, seconds.
    pub length_s: f32,
    /// −1 (left) … 1 (right).
    pub pan: f32,
    /// Brightness of the bell's attack (phase-modulation index); a sampled note's
    /// brightness is the layer's low-pass instead.
    pub bell_index: f32,
}

/// A note layer's voices: a pool of `B` bells, or `S` voices of a sampled instrument.
/// Audio thread after construction.
#[derive(Clone, Debug)]
pub enum NoteVoices<const B: usize, const S: usize> {
    /// The synthesised bell.
    Bell(VoicePool<B>),
    /// A sampled instrument.
    Sampled(SampledNotes<S>),
}

impl<const B: usize, const S: usize> NoteVoices<B, S> {
    /// The instrument's voices if there is one, else the bell's.
    pub fn new(instrument: Option<Arc<Instrument>>, sample_rate: f32) -> Self {
        match instrument {
            Some(i) => Self::Sampled(SampledNotes::new(i, sample_rate)),
            None => Self::Bell(VoicePool::default()),
        }
    }

    /// Starts `note`.
    pub fn play(&mut self, sample_rate: f32, note: Note) {
        match self {
            Self::Bell(pool) => pool.allocate().start(
                sample_rate,
                note.hz,
                note.amp,
                note.attack_s,
                note.length_s,
                note.pan,
                note.bell_index,
            ),
            Self::Sampled(s) => s.note(
                note.hz,
                note.velocity,
                note.amp * SAMPLED_LEVEL,
                note.length_s,
                note.pan,
            ),
        }
    }

    /// Adds the sounding notes into `left`/`right` (which must hold only this layer's
    /// sound: a sampled instrument's low-pass, set by `brightness`, runs over them).
    pub fn render_add(&mut self, brightness: f32, left: &mut [f32], right: &mut [f32]) {
        match self {
            Self::Bell(pool) => pool.render_add(left, right),
            Self::Sampled(s) => s.render_add(brightness, left, right),
        }
    }

    /// Silences a sampled instrument (the bell's voices are plain state and need not be).
    pub fn reset(&mut self) {
        if let Self::Sampled(s) = self {
            s.reset();
        }
    }
}
