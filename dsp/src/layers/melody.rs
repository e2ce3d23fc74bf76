//! The melody: phrases grown from motifs, following the chords.

use super::note_voices::{Note, NoteVoices};
use super::tuning::Tuning;
use super::Block;
use crate::compose::{Motif, Phrase, Score};
use crate::config::MelodyConfig;
use crate::content::Instrument;
use crate::music::{midi_hz, Key, Scale};
use crate::rng::Rng;
use std::sync::Arc;

/// Motifs the melody keeps: one per kind of section, so a section's return brings its
/// motif back.
const MOTIFS: usize = 3;

/// Sings phrases of two or four bars grown from a motif (stated, then repeated,
/// sequenced, inverted or varied; see [`Phrase::grow`]), each closing on a held chord
/// tone, with rests between phrases. Each statement of the motif moves so that its first
/// note lands on a chord tone of the chord sounding, and every note on a strong beat is a
/// chord tone, so the line follows the harmony; the closing note rests on the chord's
/// root, third or fifth. Density sets phrase length, rests and
/// passing notes, so the note rate follows density as well as tempo; the section picks
/// the motif and the register. Motifs drift by small mutations when their section
/// returns. Played by the synthesised bell or by a sampled instrument.
#[derive(Clone, Debug)]
pub struct Melody {
    voices: NoteVoices<8, 12>,
    rng: Rng,
    motifs: [Motif; MOTIFS],
    phrase: Phrase,
    /// Eighths since the phrase started.
    pos: u16,
    next: usize,
    /// Scale degree the phrase is built around, and the shift of the statement sounding.
    anchor: i32,
    shift: i32,
    range: i32,
    tuning: Tuning,
    notes_per_beat: f32,
    decay_s: f32,
    bell: f32,
    section: u32,
    last_degree: i32,
    started: bool,
}

impl Melody {
    /// A melody in `key`/`scale` drawing from `rng`, played by `instrument` if given.
    pub fn new(
        cfg: &MelodyConfig,
        key: Key,
        scale: Scale,
        mut rng: Rng,
        instrument: Option<Arc<Instrument>>,
        sample_rate: f32,
    ) -> Self {
        let motifs = core::array::from_fn(|_| Motif::random(&mut rng));
        let range = cfg.range.max(2);
        Self {
            voices: NoteVoices::new(instrument, sample_rate),
            rng,
            motifs,
            // one bar of silence before the first phrase
            phrase: Phrase::rest(1),
            pos: 0,
            next: 0,
            anchor: range / 2,
            shift: 0,
            range,
            tuning: Tuning::new(key, scale, cfg.octave),
            notes_per_beat: cfg.notes_per_beat,
            decay_s: cfg.decay_s,
            bell: cfg.bell,
            section: 0,
            last_degree: range / 2,
            started: false,
        }
    }

    /// Takes a new key and scale for the notes that follow.
    pub fn change_key(&mut self, key: Key, scale: Scale) {
        self.tuning.change_key(key, scale);
    }

    /// Whether a phrase is sounding (its notes have not all been held yet).
    pub fn singing(&self) -> bool {
        self.started && self.pos < self.phrase.sounding
    }

    /// The scale degree nearest `degree` whose note is a tone of the score's chord.
    fn on_chord(&self, score: &Score, degree: i32) -> i32 {
        for d in [0, -1, 1, -2, 2, -3, 3] {
            let semis = self.tuning.semitones(degree + d);
            if score.chord.contains(semis) {
                return degree + d;
            }
        }
        degree
    }

    /// The scale degree nearest `degree` that is the root, third or fifth of the score's
    /// chord, for a cadence: a phrase comes to rest on the chord's core, not on an added
    /// ninth or a suspension (those only colour it). Falls back to any chord tone.
    fn on_chord_core(&self, score: &Score, degree: i32) -> i32 {
        let chord = &score.chord;
        for d in [0, -1, 1, -2, 2, -3, 3] {
            let semis = self.tuning.semitones(degree + d);
            let rel = (semis - chord.root).rem_euclid(12);
            if matches!(rel, 0 | 3 | 4 | 7) && chord.contains(semis) {
                return degree + d;
            }
        }
        self.on_chord(score, degree)
    }

    fn new_phrase(&mut self, b: &Block, score: &Score) {
        let a = &score.arrangement;
        if a.number != self.section {
            self.section = a.number;
            // a returning section brings its motif back, sometimes a little changed
            if self.rng.uniform() < 0.35 {
                let m = a.motif % MOTIFS;
                self.motifs[m] = self.motifs[m].mutated(&mut self.rng);
            }
        }
        let d = b.density.clamp(0.0, 1.0);
        let busy = (self.notes_per_beat / 0.5).clamp(0.25, 2.0);
        let bars = if self.rng.uniform() < 0.25 + 0.6 * d {
            4
        } else {
            2
        };
        // rests: 3–4 bars when sparse, 0–1 when dense
        let rest = ((3.5 - 3.5 * d) / busy + self.rng.uniform() * 1.2)
            .round()
            .clamp(0.0, 6.0) as u16;
        let dense = d > 0.65 && self.rng.uniform() < d;
        let motif = self.motifs[a.motif % MOTIFS];
        self.phrase = Phrase::grow(&motif, bars, rest, dense, &mut self.rng);
        // the phrase starts near where the last one ended, pulled toward the middle
        let centre = self.range / 2;
        self.anchor = (self.last_degree + centre) / 2 + self.rng.below(3) as i32 - 1;
        self.shift = 0;
        self.pos = 0;
        self.next = 0;
        self.started = true;
    }

    /// Renders one block into `left`/`right` (overwriting).
    pub fn render(&mut self, b: &Block, score: &Score, left: &mut [f32], right: &mut [f32]) {
        let n = b.frames;
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        if let Some(eighth) = b.eighth {
            if self.started {
                self.pos += 1;
            }
            if (!self.started || self.pos >= self.phrase.span) && eighth % 8 == 0 {
                self.new_phrase(b, score);
            }
            while let Some(note) = self.phrase.notes().get(self.next).copied() {
                if note.at > self.pos {
                    break;
                }
                self.next += 1;
                if note.at < self.pos {
                    continue;
                }
                let mut degree = self.anchor + self.shift + note.degree as i32;
                if note.head {
                    let landed = self.on_chord(score, degree);
                    self.shift += landed - degree;
                    degree = landed;
                }
                // keep within the range, by octaves
                let len = self.tuning.scale().steps().len() as i32;
                while degree > self.range {
                    degree -= len;
                    self.shift -= len;
                }
                while degree < 0 {
                    degree += len;
                    self.shift += len;
                }
                // the cadence rests on the chord's core; notes on strong beats are chord
                // tones
                let strong = (note.at % 4) == 0;
                if note.cadence {
                    degree = self.on_chord_core(score, degree);
                } else if strong {
                    degree = self.on_chord(score, degree);
                }
                self.last_degree = degree;
                let octave = 12 * score.arrangement.melody_octave;
                let midi = self.tuning.tonic() + self.tuning.semitones(degree) + octave;
                let velocity = note.velocity * (0.55 + 0.45 * b.energy);
                let beat_s = 60.0 / b.tempo.max(1.0);
                let held = note.len as f32 * 0.5 * beat_s;
                let length = if note.cadence {
                    self.decay_s * 1.5
                } else {
                    self.decay_s.min(held + 0.5 * self.decay_s)
                };
                let pan = 0.5 * self.rng.bipolar();
                self.voices.play(
                    b.sample_rate,
                    Note {
                        hz: midi_hz(midi as f32),
                        amp: 0.22 * velocity,
                        velocity,
                        attack_s: 0.012,
                        length_s: length,
                        pan,
                        bell_index: self.bell * (0.1 + 0.9 * b.brightness),
                    },
                );
            }
        }
        self.voices
            .render_add(b.brightness, &mut left[..n], &mut right[..n]);
    }

    /// Silences every note.
    pub fn reset(&mut self) {
        self.voices.reset();
    }
}
