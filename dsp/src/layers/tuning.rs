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

    /// Frequency of scale degree `degree` (may be negative or beyond the octave), Hz.
    pub fn hz(&self, degree: i32) -> f32 {
        midi_hz((self.tonic + self.scale.degree(degree)) as f32)
    }
}
