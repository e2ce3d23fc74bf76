//! Chords in a key and the progressions a style walks through them.

use crate::music::Scale;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// The most tones a chord has (root, fifth, third, seventh, ninth, and a sixth or
/// eleventh).
pub const MAX_TONES: usize = 6;

/// How a preset's harmony moves: which chords follow which, by weight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarmonyStyle {
    /// I, IV, vi and ii with plagal motion (IV → I) and long holds: for sleep.
    Plagal,
    /// I, ii, iii, IV, vi and a rare V: gentle diatonic motion for relaxation.
    #[default]
    Pastoral,
    /// The mode's own colour chords (Dorian i–IV, Mixolydian I–♭VII, Aeolian
    /// i–VI–III–VII) around the tonic: for focus.
    Modal,
    /// Every consonant chord, V → I cadences and quicker changes: for uplift.
    Lively,
    /// Upper chords move over a held tonic (a pedal point), in the Eno manner.
    Drone,
}

impl HarmonyStyle {
    /// Transition weights from scale degree `from` (0..7) to each degree of the harmony
    /// scale. Degrees whose triad is not consonant are removed later.
    fn weights(self, from: usize, scale: Scale) -> [f32; 7] {
        use HarmonyStyle::*;
        match self {
            Plagal | Drone => match from {
                0 => [0.0, 0.15, 0.0, 0.5, 0.0, 0.35, 0.0],
                1 => [0.3, 0.0, 0.0, 0.4, 0.0, 0.3, 0.0],
                3 => [0.7, 0.1, 0.0, 0.0, 0.0, 0.2, 0.0],
                5 => [0.3, 0.2, 0.0, 0.5, 0.0, 0.0, 0.0],
                _ => [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            },
            Pastoral => match from {
                0 => [0.0, 0.2, 0.1, 0.35, 0.05, 0.3, 0.0],
                1 => [0.15, 0.0, 0.1, 0.35, 0.2, 0.2, 0.0],
                2 => [0.1, 0.1, 0.0, 0.3, 0.0, 0.5, 0.0],
                3 => [0.45, 0.2, 0.05, 0.0, 0.1, 0.2, 0.0],
                4 => [0.6, 0.0, 0.0, 0.1, 0.0, 0.3, 0.0],
                5 => [0.2, 0.35, 0.05, 0.4, 0.0, 0.0, 0.0],
                _ => [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            },
            Modal => {
                // the mode's characteristic chord: the one holding the note that sets the
                // mode apart (Dorian's major sixth → IV, Mixolydian's flat seventh → ♭VII,
                // Lydian's sharp fourth → II, Aeolian's flat sixth → ♭VI)
                let colour = match scale {
                    Scale::Dorian => 3,
                    Scale::Mixolydian => 6,
                    Scale::Lydian => 1,
                    Scale::Minor | Scale::PentatonicMinor => 5,
                    _ => 3,
                };
                let mut w = match from {
                    0 => [0.0, 0.1, 0.15, 0.2, 0.1, 0.2, 0.25],
                    d if d == colour => [0.6, 0.05, 0.1, 0.05, 0.05, 0.1, 0.05],
                    _ => [0.4, 0.1, 0.1, 0.1, 0.05, 0.15, 0.1],
                };
                if from != colour {
                    w[colour] += 0.5;
                }
                w[from] = 0.0;
                w
            }
            Lively => match from {
                0 => [0.0, 0.15, 0.1, 0.25, 0.25, 0.25, 0.0],
                1 => [0.05, 0.0, 0.05, 0.25, 0.55, 0.1, 0.0],
                2 => [0.05, 0.1, 0.0, 0.25, 0.1, 0.5, 0.0],
                3 => [0.3, 0.15, 0.05, 0.0, 0.35, 0.15, 0.0],
                4 => [0.55, 0.0, 0.05, 0.15, 0.0, 0.25, 0.0],
                5 => [0.1, 0.3, 0.05, 0.35, 0.2, 0.0, 0.0],
                _ => [0.7, 0.0, 0.0, 0.0, 0.0, 0.3, 0.0],
            },
        }
    }

    /// Whether the bass holds a pedal under every chord (the tonic, or in some sections
    /// the fifth or fourth: see [`crate::compose::Composer`]).
    pub fn pedal(self) -> bool {
        self == HarmonyStyle::Drone
    }
}

/// The scale chords are built in: a pentatonic scale's parent (major or natural minor),
/// any other scale itself.
pub fn harmony_scale(scale: Scale) -> Scale {
    match scale {
        Scale::PentatonicMajor => Scale::Major,
        Scale::PentatonicMinor => Scale::Minor,
        s => s,
    }
}

/// Semitones from scale degree `degree`'s note up to the note `steps` degrees above it.
fn above(scale: Scale, degree: i32, steps: i32) -> i32 {
    scale.degree(degree + steps) - scale.degree(degree)
}

/// Whether the triad on `degree` has a perfect fifth (no diminished or augmented chords).
pub fn consonant(scale: Scale, degree: usize) -> bool {
    above(scale, degree as i32, 4) == 7
}

/// A chord of the key: its root as a scale degree and in semitones above the tonic, and
/// its tones (semitones above its root) in the order they are given up: root, fifth,
/// third, then the colour tones that complexity adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord {
    /// Scale degree of the root in the harmony scale, 0..7.
    pub degree: u8,
    /// Semitones of the root above the tonic, 0..12.
    pub root: i32,
    /// Semitones above the root: `tones[..len]` sound.
    pub tones: [i32; MAX_TONES],
    /// How many tones.
    pub len: u8,
    /// Semitones above the tonic of the bass note's pitch class: the root, or the tonic
    /// under a pedal.
    pub bass: i32,
}

impl Chord {
    /// The chord on `degree` of `scale` (a heptatonic harmony scale) at `complexity`:
    /// 0 an open fifth, 1 a triad, 2 an added ninth (or sixth), 3 a seventh, 4 a ninth
    /// chord with a thirteenth (major) or eleventh (minor), or a suspended chord when
    /// `suspend` is set. `pedal` keeps the bass on
    /// the tonic.
    pub fn build(scale: Scale, degree: usize, complexity: u8, suspend: bool, pedal: bool) -> Self {
        let d = degree as i32;
        let root = scale.degree(d);
        let third = above(scale, d, 2);
        let fifth = above(scale, d, 4);
        let seventh = above(scale, d, 6);
        let ninth = above(scale, d, 8);
        let sixth = above(scale, d, 5);
        let fourth = above(scale, d, 3);
        let mut tones = [0; MAX_TONES];
        let mut len = 0;
        let mut push = |t: i32| {
            tones[len] = t;
            len += 1;
        };
        push(0);
        push(fifth);
        // a ninth a semitone above the octave rubs (minor ninth): use the sixth, or none
        let colour = if ninth == 14 {
            Some(ninth)
        } else if sixth == 9 {
            Some(sixth)
        } else {
            None
        };
        if complexity >= 1 {
            if suspend && complexity >= 4 {
                // sus2 where the second is a whole tone, else sus4 where it is perfect
                if above(scale, d, 1) == 2 {
                    push(2);
                } else if fourth == 5 {
                    push(5);
                } else {
                    push(third);
                }
            } else {
                push(third);
            }
        }
        if complexity >= 3 && seventh >= 10 {
            push(seventh);
        }
        if complexity == 2 || complexity >= 4 {
            if let Some(c) = colour {
                push(c);
            }
        }
        // the fullest chords add a thirteenth over a major third, an eleventh over a minor
        if complexity >= 4 && !suspend {
            if third == 4 && sixth == 9 && colour != Some(9) {
                push(21);
            } else if third == 3 && fourth == 5 {
                push(17);
            }
        }
        Self {
            degree: degree as u8,
            root,
            tones,
            len: len as u8,
            bass: if pedal { 0 } else { root },
        }
    }

    /// The tones sounding, semitones above the root.
    pub fn tones(&self) -> &[i32] {
        &self.tones[..self.len as usize]
    }

    /// Whether pitch class `pc` (semitones above the tonic, any octave) is a chord tone.
    pub fn contains(&self, pc: i32) -> bool {
        let rel = (pc - self.root).rem_euclid(12);
        self.tones().iter().any(|t| t.rem_euclid(12) == rel)
    }

    /// Roman-numeral name of the root degree (for logs and tests).
    pub fn numeral(&self) -> &'static str {
        ["I", "II", "III", "IV", "V", "VI", "VII"][self.degree as usize % 7]
    }
}

/// The most chords a progression holds.
pub const MAX_PROGRESSION: usize = 8;

/// Walks progressions: each cycle a progression of `length` chords starting on the tonic
/// and ending on a chord that leads home, played `repeats` times before a new one is
/// made. Deterministic for its generator. Audio thread (no allocation).
#[derive(Clone, Debug)]
pub struct Progression {
    style: HarmonyStyle,
    scale: Scale,
    degrees: [u8; MAX_PROGRESSION],
    length: usize,
    repeats: u32,
    played: u32,
    position: usize,
    rng: Rng,
}

impl Progression {
    /// Progressions of `length` chords (2..=8) in `style` over `scale` (the harmony
    /// scale), each played `repeats` times.
    pub fn new(style: HarmonyStyle, scale: Scale, length: usize, repeats: u32, rng: Rng) -> Self {
        let mut p = Self {
            style,
            scale,
            degrees: [0; MAX_PROGRESSION],
            length: length.clamp(2, MAX_PROGRESSION),
            repeats: repeats.max(1),
            played: 0,
            position: 0,
            rng,
        };
        p.compose();
        p
    }

    /// Takes a new harmony scale (a key change): the next chord starts a new progression
    /// on its tonic.
    pub fn change_scale(&mut self, scale: Scale) {
        self.scale = scale;
        self.compose();
        self.position = 0;
        self.played = 0;
    }

    fn pick(&mut self, from: usize, home: bool) -> usize {
        let mut w = self.style.weights(from, self.scale);
        for (d, x) in w.iter_mut().enumerate() {
            if !consonant(self.scale, d) {
                *x = 0.0;
            }
            // the last chord must lead home: only chords the style moves to the tonic from
            if home && (d == 0 || self.style.weights(d, self.scale)[0] < 0.25) {
                *x = 0.0;
            }
        }
        let total: f32 = w.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut r = self.rng.uniform() * total;
        for (d, x) in w.iter().enumerate() {
            if r < *x {
                return d;
            }
            r -= *x;
        }
        0
    }

    fn compose(&mut self) {
        self.degrees[0] = 0;
        for i in 1..self.length {
            let from = self.degrees[i - 1] as usize;
            let home = i == self.length - 1;
            let mut d = self.pick(from, home);
            // never the same chord twice in a row
            if d == from {
                d = self.pick(from, home);
            }
            self.degrees[i] = d as u8;
        }
    }

    /// The scale degree of the chord after the one sounding (peeks, does not advance).
    pub fn peek(&self) -> usize {
        let next = self.position + 1;
        if next < self.length {
            self.degrees[next] as usize
        } else {
            0
        }
    }

    /// The scale degree of the chord sounding.
    pub fn current(&self) -> usize {
        self.degrees[self.position] as usize
    }

    /// Moves to the next chord (a new progression after the last repeat) and returns its
    /// degree, and whether it ends the progression (the cadence chord).
    pub fn advance(&mut self) -> (usize, bool) {
        self.position += 1;
        if self.position >= self.length {
            self.position = 0;
            self.played += 1;
            if self.played >= self.repeats {
                self.played = 0;
                self.compose();
            }
        }
        (self.current(), self.position == self.length - 1)
    }

    /// Position in the progression, 0 = its first (tonic) chord.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Chords in the progression.
    pub fn length(&self) -> usize {
        self.length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chords_are_built_in_the_scale() {
        let c = Chord::build(Scale::Major, 0, 1, false, false);
        assert_eq!(c.tones(), &[0, 7, 4]);
        let c = Chord::build(Scale::Major, 1, 3, false, false);
        assert_eq!((c.root, c.tones()), (2, &[0, 7, 3, 10][..]));
        // IV add9 in major: F A C G
        let c = Chord::build(Scale::Major, 3, 2, false, false);
        assert_eq!(c.tones(), &[0, 7, 4, 14]);
        // iii has a minor ninth: the colour is dropped rather than rub
        let c = Chord::build(Scale::Major, 2, 2, false, false);
        assert_eq!(c.tones(), &[0, 7, 3]);
        assert!(!consonant(Scale::Major, 6));
        assert!(!consonant(Scale::Minor, 1));
        assert!(consonant(Scale::Dorian, 3));
        let c = Chord::build(Scale::Major, 0, 4, true, false);
        assert_eq!(c.tones(), &[0, 7, 2, 11, 14]);
        assert!(c.contains(14) && c.contains(11) && !c.contains(4));
        let c = Chord::build(Scale::Major, 0, 4, false, false);
        assert_eq!(c.tones(), &[0, 7, 4, 11, 14, 21]);
        let c = Chord::build(Scale::Major, 5, 4, false, false);
        assert_eq!(c.tones(), &[0, 7, 3, 10, 14, 17]);
        let c = Chord::build(Scale::Major, 3, 1, false, true);
        assert_eq!((c.root, c.bass), (5, 0));
    }

    #[test]
    fn progressions_start_home_end_leading_home_and_stay_consonant() {
        for style in [
            HarmonyStyle::Plagal,
            HarmonyStyle::Pastoral,
            HarmonyStyle::Modal,
            HarmonyStyle::Lively,
            HarmonyStyle::Drone,
        ] {
            for scale in [Scale::Major, Scale::Minor, Scale::Dorian, Scale::Mixolydian] {
                let mut p = Progression::new(style, scale, 4, 2, Rng::new(7, 1));
                let mut seen = [0u32; 7];
                let mut prev = p.current();
                assert_eq!(prev, 0);
                for _ in 0..400 {
                    let (d, cadence) = p.advance();
                    seen[d] += 1;
                    assert!(consonant(scale, d), "{style:?} {scale:?} {d}");
                    assert_ne!(d, prev, "{style:?} {scale:?}: a chord repeated");
                    if cadence {
                        assert!(style.weights(d, scale)[0] >= 0.25, "{style:?} {d}");
                    }
                    if p.position() == 0 {
                        assert_eq!(d, 0);
                    }
                    prev = d;
                }
                let distinct = seen.iter().filter(|n| **n > 0).count();
                assert!(distinct >= 3, "{style:?} {scale:?}: {seen:?}");
            }
        }
    }

    #[test]
    fn progressions_are_deterministic_per_seed_and_differ_across_seeds() {
        let walk = |seed| {
            let mut p = Progression::new(
                HarmonyStyle::Pastoral,
                Scale::Major,
                4,
                1,
                Rng::new(seed, 1),
            );
            (0..64).map(|_| p.advance().0).collect::<Vec<_>>()
        };
        assert_eq!(walk(3), walk(3));
        assert_ne!(walk(3), walk(4));
    }
}
