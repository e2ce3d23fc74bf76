//! Where a note layer's pitches come from.

use crate::music::{midi_hz, Key, Scale};

/// A tonic in an octave and a scale: scale degree → frequency. Note layers keep one
/// and swap key and scale at a bar line.
#[derive(Clone, Copy, Debug)]
pub struct Tuning {
    tonic: i32,
    octave: i32,
    scale: Scale,
}

impl Tuning {
    /// Degree 0 is `key`'s tonic in `octave`.
    pub fn new(key: Key, scale: Scale, octave: i32) -> Self {
        Self {
            tonic: key.midi(octave),
            octave,
            scale,
        }
    }

    /// Takes a new key and scale, keeping the octave.
    pub fn change_key(&mut self, key: Key, scale: Scale) {
        *self = Self::new(key, scale, self.octave);
    }

    /// Pitch class of the tonic, 0 = C.
    pub fn tonic_pc(&self) -> i32 {
        self.tonic.rem_euclid(12)
    }

    /// MIDI note of the tonic.
    pub fn tonic(&self) -> i32 {
        self.tonic
    }

    /// The scale.
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// Semitones above the tonic of scale degree `degree`.
    pub fn semitones(&self, degree: i32) -> i32 {
        self.scale.degree(degree)
    }

    /// Frequency of scale degree `degree` (may be negative or beyond the octave), Hz.
    pub fn hz(&self, degree: i32) -> f32 {
        midi_hz((self.tonic + self.scale.degree(degree)) as f32)
    }
}
