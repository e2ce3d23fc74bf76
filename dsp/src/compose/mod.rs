//! The composer: harmony, voicing and form, advanced on the beat clock. It decides what
//! the layers play (the chord, its voicing, the section's arrangement); the layers decide
//! how. Built off the audio thread; everything it does on a beat is allocation-free and
//! deterministic for the seed.

pub mod form;
pub mod harmony;
pub mod phrase;
pub mod voicing;

pub use form::{Arrangement, Form, SectionKind};
pub use harmony::{harmony_scale, Chord, HarmonyStyle, Progression};
pub use phrase::{Motif, Phrase, PhraseNote};
pub use voicing::{Voicing, UPPER};

use crate::config::SoundscapeConfig;
use crate::music::{Key, Scale};
use crate::rng::Rng;

/// Beats in a bar (the form, the harmony and the figures count in 4/4).
pub const BEATS_PER_BAR: u64 = 4;

/// What the layers need to know of the music at a moment.
#[derive(Clone, Copy, Debug)]
pub struct Score {
    /// Key sounding.
    pub key: Key,
    /// The preset's scale (the melody's).
    pub scale: Scale,
    /// The chord sounding.
    pub chord: Chord,
    /// The chord that follows it.
    pub next: Chord,
    /// The pad's voicing of the chord.
    pub voicing: Voicing,
    /// The section's arrangement.
    pub arrangement: Arrangement,
    /// Bars since the start.
    pub bar: u64,
}

impl Score {
    /// The chord's pitch classes as bits (bit 0 = C).
    pub fn chord_mask(&self) -> u16 {
        let mut mask = 0;
        for t in self.chord.tones() {
            let pc = (self.key.pitch_class() as i32 + self.chord.root + t).rem_euclid(12);
            mask |= 1 << pc;
        }
        mask
    }
}

/// Chord complexity for harmonic density `density`: 0 an open fifth … 4 ninths and
/// suspensions (see [`Chord::build`]).
pub fn complexity(density: f32) -> u8 {
    (density.clamp(0.0, 1.0) * 5.0).min(4.0) as u8
}

/// Upper pad voices for harmonic density `density`: 2 at 0 … 6 at 1.
pub fn upper_voices(density: f32) -> usize {
    2 + (density.clamp(0.0, 1.0) * 4.0).round() as usize
}

/// Walks the harmony and the form on bar lines. See the module documentation.
#[derive(Clone, Debug)]
pub struct Composer {
    key: Key,
    scale: Scale,
    hscale: Scale,
    style: HarmonyStyle,
    progression: Progression,
    chord: Chord,
    bars: (f32, f32),
    chord_bars: u32,
    bars_in_chord: u32,
    complexity: u8,
    suspend: bool,
    voicing: Voicing,
    /// The tonic of the pad's bass octave, MIDI.
    bass_home: i32,
    /// The lowest note of the upper voices' range, MIDI, before the section's register.
    upper_lo: i32,
    range: i32,
    form: Form,
    rng: Rng,
    bar: u64,
    pending_key: Option<(Key, Scale)>,
}

/// What changed at a bar line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BarEvents {
    /// A new chord started.
    pub chord: bool,
    /// The pad's voicing changed (a new chord, or a new density).
    pub voicing: bool,
    /// A new section started.
    pub section: bool,
    /// The key changed.
    pub key: bool,
}

impl Composer {
    /// A composer for `cfg` at harmonic density `density`, deterministic for `seed`.
    pub fn new(cfg: &SoundscapeConfig, density: f32, seed: u64) -> Self {
        let mut rng = Rng::new(seed, 40);
        let hscale = harmony_scale(cfg.scale);
        let h = &cfg.harmony;
        let progression = Progression::new(
            h.style,
            hscale,
            h.progression as usize,
            h.repeats,
            Rng::new(seed, 41),
        );
        let bass_home = cfg.key.midi(cfg.octave);
        let upper_lo = bass_home + h.upper_from;
        let form = Form::new(
            cfg.form.enabled,
            (cfg.form.section_bars_min, cfg.form.section_bars_max),
            Rng::new(seed, 42),
        );
        let complexity = complexity(density);
        let chord = Chord::build(hscale, 0, complexity, false, h.style.pedal());
        let voicing = voicing::lead(
            &chord,
            upper_voices(density),
            &voicing::initial(bass_home, upper_lo),
            bass_home,
            upper_lo,
            upper_lo + h.upper_span,
        );
        let mut c = Self {
            key: cfg.key,
            scale: cfg.scale,
            hscale,
            style: h.style,
            progression,
            chord,
            bars: (h.bars_calm, h.bars_aroused),
            chord_bars: 1,
            bars_in_chord: 0,
            complexity,
            suspend: false,
            voicing,
            bass_home,
            upper_lo,
            range: h.upper_span,
            form,
            rng: Rng::new(rng.next_u32() as u64, 43),
            bar: 0,
            pending_key: None,
        };
        c.chord_bars = c.chord_length(density);
        c
    }

    /// Bars the next chord lasts at `density`: from the preset's calm length at 0 to its
    /// aroused length at 1, give or take a bar, longer on the tonic.
    fn chord_length(&mut self, density: f32) -> u32 {
        let (calm, aroused) = self.bars;
        let base = calm + (aroused - calm) * density.clamp(0.0, 1.0);
        let jitter = if base >= 3.0 {
            self.rng.below(3) as f32 - 1.0
        } else {
            0.0
        };
        let tonic = if self.progression.position() == 0 && base >= 2.0 {
            1.0
        } else {
            0.0
        };
        (base + jitter + tonic).round().max(1.0) as u32
    }

    /// Asks for a new key and scale from the next bar line on: the progression starts
    /// again on the new tonic. Audio thread.
    pub fn change_key(&mut self, key: Key, scale: Scale) {
        self.pending_key = Some((key, scale));
    }

    /// Under a pedal (the drone style), the bass note for the section, semitones above
    /// the tonic: the tonic in most sections, the fifth in a lift, the fourth in a still
    /// one (where the scale has them perfect), so the drone moves with the form and
    /// returns home with the theme.
    fn pedal_bass(&self) -> i32 {
        let (fourth, fifth) = (self.hscale.degree(3), self.hscale.degree(4));
        match self.form.arrangement().kind {
            SectionKind::Lift if fifth == 7 => 7,
            SectionKind::Still if fourth == 5 => 5,
            _ => 0,
        }
    }

    /// The score now.
    pub fn score(&self) -> Score {
        let mut next = Chord::build(
            self.hscale,
            self.progression.peek(),
            self.complexity,
            false,
            self.style.pedal(),
        );
        if self.style.pedal() {
            next.bass = self.pedal_bass();
        }
        Score {
            key: self.key,
            scale: self.scale,
            chord: self.chord,
            next,
            voicing: self.voicing,
            arrangement: *self.form.arrangement(),
            bar: self.bar,
        }
    }

    /// The pad's voicing now.
    pub fn voicing(&self) -> &Voicing {
        &self.voicing
    }

    /// The chord sounding.
    pub fn chord(&self) -> &Chord {
        &self.chord
    }

    /// The section's arrangement.
    pub fn arrangement(&self) -> &Arrangement {
        self.form.arrangement()
    }

    /// Called on each bar line with the harmonic density now: moves the form and the
    /// harmony on and re-voices the pad when the chord or the density asks for it. Audio
    /// thread; no allocation.
    pub fn bar(&mut self, density: f32) -> BarEvents {
        let mut ev = BarEvents::default();
        self.bar += 1;
        ev.section = self.form.bar();
        self.bars_in_chord += 1;
        if let Some((key, scale)) = self.pending_key.take() {
            let shift =
                (key.pitch_class() as i32 - self.key.pitch_class() as i32 + 6).rem_euclid(12) - 6;
            self.key = key;
            self.scale = scale;
            self.hscale = harmony_scale(scale);
            self.bass_home += shift;
            self.upper_lo += shift;
            self.progression.change_scale(self.hscale);
            ev.key = true;
            ev.chord = true;
        } else if self.bars_in_chord >= self.chord_bars {
            self.progression.advance();
            ev.chord = true;
        }
        let complexity = complexity(density);
        let count = upper_voices(density);
        if ev.chord {
            self.bars_in_chord = 0;
            self.chord_bars = self.chord_length(density);
            self.suspend = complexity >= 4 && self.rng.uniform() < 0.35;
        }
        if ev.chord || ev.section || complexity != self.complexity || count != self.voicing.count {
            self.complexity = complexity;
            self.chord = Chord::build(
                self.hscale,
                self.progression.current(),
                complexity,
                self.suspend,
                self.style.pedal(),
            );
            if self.style.pedal() {
                self.chord.bass = self.pedal_bass();
            }
            let lo = self.upper_lo + self.form.arrangement().register;
            let v = voicing::lead(
                &self.chord,
                count,
                &self.voicing,
                self.bass_home,
                lo,
                lo + self.range,
            );
            ev.voicing = v != self.voicing;
            self.voicing = v;
        }
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SoundscapeConfig;

    #[test]
    fn a_drone_pedal_moves_with_the_sections_and_returns_home() {
        let mut cfg = SoundscapeConfig::default();
        cfg.harmony.style = HarmonyStyle::Drone;
        cfg.scale = Scale::Lydian;
        cfg.form.section_bars_min = 4;
        cfg.form.section_bars_max = 8;
        let mut c = Composer::new(&cfg, 0.5, 3);
        let mut seen = Vec::new();
        for _ in 0..400 {
            c.bar(0.5);
            let (kind, bass) = (c.arrangement().kind, c.chord().bass);
            let want = if kind == SectionKind::Lift { 7 } else { 0 };
            assert_eq!(bass, want, "{kind:?}");
            assert_eq!(c.score().next.bass, want);
            seen.push(bass);
        }
        // both the tonic and the fifth are heard, and the tonic comes back
        assert!(seen.contains(&7) && seen.contains(&0));
        let first_lift = seen.iter().position(|&b| b == 7).unwrap();
        assert!(seen[first_lift..].contains(&0));
    }
}
