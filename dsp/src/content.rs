//! Curated content the soundscape plays: sampled instruments and recorded loops.
//!
//! Everything here arrives ready to play: decoded, resampled to the engine's rate and
//! loudness-normalised off the audio thread (the engine's content loader does that). The
//! soundscape holds it for its whole life, so the audio thread never frees it.

use crate::music::{transposition, Key, Scale};
use crate::stream::StreamOpener;
use std::sync::Arc;

/// Interleaved stereo audio at the engine's sample rate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Audio {
    samples: Box<[f32]>,
}

impl Audio {
    /// Audio from interleaved stereo samples (an odd trailing sample is dropped).
    pub fn from_interleaved(mut samples: Vec<f32>) -> Self {
        samples.truncate(samples.len() / 2 * 2);
        Self {
            samples: samples.into_boxed_slice(),
        }
    }

    /// Length in frames.
    pub fn frames(&self) -> usize {
        self.samples.len() / 2
    }

    /// The interleaved samples.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.samples.len() * core::mem::size_of::<f32>()
    }

    /// Frame `i` as (left, right); silence outside the audio.
    #[inline]
    pub fn frame(&self, i: isize) -> (f32, f32) {
        if i < 0 || i as usize >= self.frames() {
            (0.0, 0.0)
        } else {
            let k = 2 * i as usize;
            (self.samples[k], self.samples[k + 1])
        }
    }
}

/// One sampled note of an instrument and the noise of its key's release.
#[derive(Clone, Debug)]
pub struct Zone {
    /// The pitch recorded, Hz.
    pub hz: f32,
    /// How hard it was played, 0..1 (MIDI velocity / 127; the same for every zone of an
    /// instrument recorded at one velocity).
    pub velocity: f32,
    /// The note, from its onset.
    pub audio: Audio,
    /// What the instrument sounds like when the note is let go (a damper's thud), if
    /// recorded.
    pub release: Option<Audio>,
}

/// Semitones of transposition that weigh as much as a whole velocity range when choosing
/// a zone: a zone a quarter of the range softer or louder costs as much as one six
/// semitones away.
const VELOCITY_SEMITONES: f32 = 24.0;

/// A sampled instrument: zones at recorded pitches (and velocities, if it has several
/// layers); any note plays from the nearest.
#[derive(Clone, Debug, Default)]
pub struct Instrument {
    /// Where it came from (the content library's id).
    pub id: String,
    /// Zones, by velocity and then pitch.
    pub zones: Vec<Zone>,
}

impl Instrument {
    /// The index of the zone nearest to a note at `hz` played at `velocity` (0..1): the
    /// least transposition, a velocity layer's distance weighing as a transposition (see
    /// `VELOCITY_SEMITONES`), so a dynamic layer with fewer notes is still used near
    /// them. None if there are no zones. Audio thread: no allocation.
    pub fn nearest(&self, hz: f32, velocity: f32) -> Option<usize> {
        let target = hz.max(1e-3).log2();
        let cost = |z: &Zone| {
            12.0 * (z.hz.log2() - target).abs() + VELOCITY_SEMITONES * (z.velocity - velocity).abs()
        };
        self.zones
            .iter()
            .enumerate()
            .min_by(|(_, a), (_, b)| cost(a).total_cmp(&cost(b)))
            .map(|(i, _)| i)
    }

    /// Bytes of audio held.
    pub fn bytes(&self) -> usize {
        self.zones
            .iter()
            .map(|z| z.audio.bytes() + z.release.as_ref().map_or(0, Audio::bytes))
            .sum()
    }
}

/// How a loop follows the soundscape's tempo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// Each beat's slice starts on the soundscape's beat at its recorded pitch (for tuned
    /// material): faster tempos cut slices short with a crossfade; at slower ones a
    /// slice's last stretch plays back and forth, decaying, until the next beat.
    Slices,
    /// Played faster or slower through a variable-ratio resampler, pitch moving with
    /// tempo (for untuned material: percussion, noise, field recordings).
    Varispeed,
    /// No beat: loops at its recorded speed whatever the tempo (textures).
    Free,
}

/// A recorded loop or texture.
#[derive(Clone, Debug)]
pub struct LoopItem {
    /// Where it came from (the content library's id).
    pub id: String,
    /// The recording.
    pub audio: Audio,
    /// First frame of the loop.
    pub start: usize,
    /// One past the last frame of the loop.
    pub end: usize,
    /// Beats between `start` and `end` (0 for a texture).
    pub beats: u32,
    /// How it follows tempo.
    pub follow: Follow,
    /// How bright it sounds, 0..1 (from the library).
    pub brightness: f32,
    /// How energetic it sounds, 0..1 (from the library).
    pub energy: f32,
    /// For tuned material: the key it sounds in as loaded (after any transposition), and
    /// its scale if known. `None` for untuned material, which fits any key.
    pub key: Option<(Key, Option<Scale>)>,
    /// For a long recording: where it streams from (`audio` is then empty, the item
    /// plays [`Follow::Free`] from its loop start, and only the stream's ring is held).
    pub stream: Option<Arc<dyn StreamOpener>>,
}

impl LoopItem {
    /// Whether it may sound in `key` and `scale`: untuned material always, tuned
    /// material where it would need no transposing ([`transposition`] gives 0).
    pub fn fits(&self, key: Key, scale: Scale) -> bool {
        self.key
            .is_none_or(|(k, s)| transposition(k, s, key, scale) == 0)
    }

    /// Whether it sits well over a chord whose pitch classes are the bits of
    /// `chord_mask` (bit 0 = C): none of its scale's notes lies a semitone above a chord
    /// tone (a minor ninth against the chord). Untuned material, and tuned material
    /// whose scale is not known, always fits.
    pub fn fits_chord(&self, chord_mask: u16) -> bool {
        let Some((key, Some(scale))) = self.key else {
            return true;
        };
        scale.steps().iter().all(|&d| {
            let pc = (key.pitch_class() as i32 + d).rem_euclid(12);
            chord_mask & (1 << (pc - 1).rem_euclid(12)) == 0
        })
    }

    /// Frames per beat at the recorded tempo (the whole loop for a texture).
    pub fn beat_frames(&self) -> f64 {
        let len = (self.end - self.start) as f64;
        if self.beats == 0 {
            len
        } else {
            len / self.beats as f64
        }
    }
}

/// The content a soundscape was built with. Cloning shares the audio.
#[derive(Clone, Debug, Default)]
pub struct Content {
    /// Sampled instrument for the pulse (the synthesised bell when absent).
    pub pulse: Option<Arc<Instrument>>,
    /// Sampled instrument for the melody (the synthesised bell when absent).
    pub melody: Option<Arc<Instrument>>,
    /// Loops and textures for the loops layer.
    pub loops: Vec<Arc<LoopItem>>,
    /// The application's own layers (fundsp graphs), at most
    /// [`crate::custom::MAX_CUSTOM_LAYERS`] (more are left out). A soundscape built with
    /// this content plays a clone of each (sharing its control and steering), and its
    /// loudness calibration hears them.
    pub custom: Vec<crate::custom::CustomLayer>,
}

impl Content {
    /// No content: every layer synthesised.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether there is nothing recorded in it (custom layers are not recordings).
    pub fn is_empty(&self) -> bool {
        self.pulse.is_none() && self.melody.is_none() && self.loops.is_empty()
    }

    /// The same content without streamed items (for a throwaway soundscape that should
    /// not open streams, such as a loudness calibration probe).
    pub fn without_streams(&self) -> Self {
        Self {
            loops: self
                .loops
                .iter()
                .filter(|l| l.stream.is_none())
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    /// Bytes of audio held (instruments shared by pulse and melody counted once).
    pub fn bytes(&self) -> usize {
        let mut total = self.loops.iter().map(|l| l.audio.bytes()).sum();
        if let Some(p) = &self.pulse {
            total += p.bytes();
        }
        if let Some(m) = &self.melody {
            if !self.pulse.as_ref().is_some_and(|p| Arc::ptr_eq(p, m)) {
                total += m.bytes();
            }
        }
        total
    }
}
