//! The pulse: a figure over the chord's tones, or a fixed pattern of scale degrees.

use super::note_voices::{Note, NoteVoices};
use super::tuning::Tuning;
use super::Block;
use crate::compose::Score;
use crate::config::{PulseConfig, PulseMode};
use crate::content::Instrument;
use crate::music::{midi_hz, Key, Scale};
use crate::rng::Rng;
use std::sync::Arc;

/// Figures over the chord's tones (0 = root, 1 = third, 2 = fifth, 3 = the next tone up:
/// the seventh or colour tone, or the octave), one index per quarter note.
const FIGURES: [[u8; 4]; 8] = [
    [0, 1, 2, 1],
    [0, 2, 1, 2],
    [0, 1, 2, 3],
    [3, 2, 1, 0],
    [0, 2, 3, 2],
    [0, 3, 2, 1],
    [1, 2, 3, 2],
    [0, 2, 0, 3],
];

/// Bars a figure plays before it changes (it turns, or another takes its place).
const FIGURE_BARS: u64 = 8;

/// The pulse. In `chord` mode it plays a figure over the chord sounding: half notes at
/// low density, quarter notes in the middle, eighth notes at high density (so its note
/// rate follows density as well as tempo), thinned while the melody sings a phrase and
/// full while it rests (call and response). The figure changes every few bars and with
/// each section. In `pattern` mode it plays the preset's scale degrees, one per beat.
/// Velocity follows energy, attack brightness follows brightness. Played by the
/// synthesised bell or by a sampled instrument.
#[derive(Clone, Debug)]
pub struct Pulse {
    voices: NoteVoices<6, 8>,
    mode: PulseMode,
    pattern: [i32; 16],
    len: usize,
    tuning: Tuning,
    tonic: i32,
    attack_s: f32,
    decay_beats: f32,
    bell: f32,
    figure: usize,
    turn: usize,
    rate: u8,
    bars: u64,
    section: u32,
    rng: Rng,
}

impl Pulse {
    /// A pulse in `key`/`scale`, played by `instrument` if given, drawing from `rng`.
    pub fn new(
        cfg: &PulseConfig,
        key: Key,
        scale: Scale,
        instrument: Option<Arc<Instrument>>,
        sample_rate: f32,
        mut rng: Rng,
    ) -> Self {
        let mut pattern = [0i32; 16];
        let len = cfg.pattern.len().clamp(1, 16);
        for (p, d) in pattern.iter_mut().zip(&cfg.pattern) {
            *p = *d;
        }
        let figure = rng.below(FIGURES.len() as u32) as usize;
        Self {
            voices: NoteVoices::new(instrument, sample_rate),
            mode: cfg.mode,
            pattern,
            len,
            tuning: Tuning::new(key, scale, cfg.octave),
            tonic: key.midi(cfg.octave),
            attack_s: cfg.attack_ms * 0.001,
            decay_beats: cfg.decay_beats,
            bell: cfg.bell,
            figure,
            turn: 0,
            rate: 1,
            bars: 0,
            section: 0,
            rng,
        }
    }

    /// Takes a new key and scale for the notes that follow.
    pub fn change_key(&mut self, key: Key, scale: Scale) {
        self.tonic += (key.pitch_class() as i32 - self.tuning.tonic_pc() + 6).rem_euclid(12) - 6;
        self.tuning.change_key(key, scale);
    }

    /// Notes per bar now: 2, 4 or 8 (chord mode).
    pub fn notes_per_bar(&self) -> u32 {
        2 << self.rate
    }

    /// The chord tone `index` (0 root, 1 third, 2 fifth, 3 above) of the score's chord
    /// in the pulse's octave, MIDI.
    fn chord_note(&self, score: &Score, index: u8) -> f32 {
        let c = &score.chord;
        let t = c.tones();
        // root, third, fifth, then the seventh or colour tone, or the octave
        let third = t.get(2).copied().unwrap_or(t[1]);
        let above = t.get(3).copied().unwrap_or(12);
        let rel = match index {
            0 => 0,
            1 => third,
            2 => t[1],
            _ => above,
        };
        // the root kept within a fifth of the pulse's tonic
        let root = if c.root > 7 { c.root - 12 } else { c.root };
        (self.tonic + root + rel) as f32
    }

    /// Renders one block into `left`/`right` (overwriting). `melody_singing` tells
    /// whether the melody is inside a phrase.
    pub fn render(
        &mut self,
        b: &Block,
        score: &Score,
        melody_singing: bool,
        left: &mut [f32],
        right: &mut [f32],
    ) {
        let n = b.frames;
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        match self.mode {
            PulseMode::Pattern => self.pattern_note(b),
            PulseMode::Chord => self.figure_note(b, score, melody_singing),
        }
        self.voices
            .render_add(b.brightness, &mut left[..n], &mut right[..n]);
    }

    fn pattern_note(&mut self, b: &Block) {
        if let Some(beat) = b.beat {
            let degree = self.pattern[(beat % self.len as u64) as usize];
            let accent = if beat % 4 == 0 { 1.0 } else { 0.8 };
            let hz = self.tuning.hz(degree);
            self.play(b, hz, accent, 1.0, beat);
        }
    }

    fn figure_note(&mut self, b: &Block, score: &Score, melody_singing: bool) {
        let Some(eighth) = b.eighth else {
            return;
        };
        let in_bar = (eighth % 8) as usize;
        if in_bar == 0 {
            self.next_bar(b.density, score);
        }
        let arrangement = &score.arrangement;
        let mut rate = self.rate;
        if arrangement.half_time {
            rate = rate.saturating_sub(1);
        }
        // call and response: under the melody's phrases the pulse steps back (eighths
        // thin to quarters, quarters play softer) and comes forward in its rests
        let answering =
            !(melody_singing && arrangement.presence[crate::Layer::Melody.index()] > 0.0);
        if !answering && rate == 2 {
            rate = 1;
        }
        let every = 8 >> (rate + 1); // eighths between notes: 4, 2 or 1
        if !in_bar.is_multiple_of(every) {
            return;
        }
        let slot = in_bar / every;
        let fig = &FIGURES[self.figure];
        let index = match rate {
            0 => fig[(2 * slot + self.turn) % 4],
            1 => fig[(slot + self.turn) % 4],
            _ => fig[(slot + self.turn + slot / 4) % 4],
        };
        let hz = midi_hz(self.chord_note(score, index));
        // legato and even: a light lift on the downbeat, off-beat eighths softer
        let accent = if in_bar == 0 {
            0.88
        } else if in_bar.is_multiple_of(2) {
            0.8
        } else {
            0.68
        };
        let accent = if answering { accent } else { 0.85 * accent };
        // played, not sequenced: each note a little softer or firmer
        let accent = accent * (0.85 + 0.2 * self.rng.uniform());
        let length = 2.0 / (1 << rate) as f32; // beats between notes
        self.play(b, hz, accent, length.max(1.0), eighth);
    }

    /// A bar line: density picks the rate (with a margin against flapping), the figure
    /// turns or changes every few bars and with each section.
    fn next_bar(&mut self, density: f32, score: &Score) {
        let up = [0.35, 0.65];
        let margin = 0.04;
        self.rate = if self.bars == 0 {
            // the first bar: straight from density
            (density > up[0]) as u8 + (density > up[1]) as u8
        } else {
            match self.rate {
                0 if density > up[0] + margin => 1,
                1 if density < up[0] - margin => 0,
                1 if density > up[1] + margin => 2,
                2 if density < up[1] - margin => 1,
                r => r,
            }
        };
        self.bars += 1;
        let section = score.arrangement.number;
        if section != self.section {
            self.section = section;
            self.figure = (self.figure + 1 + self.rng.below(FIGURES.len() as u32 - 1) as usize)
                % FIGURES.len();
            self.turn = 0;
        } else if score.bar.is_multiple_of(FIGURE_BARS) && score.bar > 0 {
            if self.rng.uniform() < 0.5 {
                self.turn = (self.turn + 1) % 4;
            } else {
                self.figure = (self.figure + 1 + self.rng.below(FIGURES.len() as u32 - 1) as usize)
                    % FIGURES.len();
            }
        }
    }

    fn play(&mut self, b: &Block, hz: f32, accent: f32, beats: f32, count: u64) {
        let velocity = (0.45 + 0.55 * b.energy) * accent;
        let amp = 0.3 * velocity;
        let beat_s = 60.0 / b.tempo.max(1.0);
        let decay = (self.decay_beats * beats * beat_s).clamp(0.15, 6.0);
        let pan = if count.is_multiple_of(2) { -0.15 } else { 0.15 };
        self.voices.play(
            b.sample_rate,
            Note {
                hz,
                amp,
                velocity,
                attack_s: self.attack_s,
                length_s: decay,
                pan,
                bell_index: self.bell * (0.15 + 0.85 * b.brightness),
            },
        );
    }

    /// Silences every note.
    pub fn reset(&mut self) {
        self.voices.reset();
    }
}
