//! Keys, scales, chords and pitches.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A musical key: the pitch class of the tonic, 0 = C … 11 = B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key(u8);

const NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

impl Key {
    /// The key with tonic pitch class `pc` (taken modulo 12).
    pub fn new(pc: u8) -> Self {
        Key(pc % 12)
    }

    /// Pitch class of the tonic, 0 = C.
    pub fn pitch_class(self) -> u8 {
        self.0
    }

    /// MIDI note number of the tonic in `octave` (scientific pitch: C4 = 60).
    pub fn midi(self, octave: i32) -> i32 {
        (octave + 1) * 12 + self.0 as i32
    }
}

impl Default for Key {
    fn default() -> Self {
        Key(2)
    }
}

impl FromStr for Key {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let mut chars = t.chars();
        let letter = chars.next().map(|c| c.to_ascii_uppercase());
        let base = match letter {
            Some('C') => 0,
            Some('D') => 2,
            Some('E') => 4,
            Some('F') => 5,
            Some('G') => 7,
            Some('A') => 9,
            Some('B') => 11,
            _ => return Err(format!("`{s}` is not a key (expected C, C#, Db, D, … B)")),
        };
        let acc = match chars.as_str() {
            "" => 0,
            "#" | "♯" | "s" => 1,
            "b" | "♭" => -1,
            _ => return Err(format!("`{s}` is not a key (expected C, C#, Db, D, … B)")),
        };
        Ok(Key(((base + acc + 12) % 12) as u8))
    }
}

impl TryFrom<String> for Key {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Key> for String {
    fn from(k: Key) -> String {
        k.to_string()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NAMES[self.0 as usize])
    }
}

/// A scale (mode), as semitone steps from the tonic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Major pentatonic: 0 2 4 7 9 (the default: no semitone clashes).
    #[default]
    PentatonicMajor,
    /// Minor pentatonic: 0 3 5 7 10.
    PentatonicMinor,
    /// Ionian.
    Major,
    /// Aeolian.
    Minor,
    /// Dorian.
    Dorian,
    /// Lydian.
    Lydian,
    /// Mixolydian.
    Mixolydian,
}

impl Scale {
    /// Semitones of the scale's degrees within one octave.
    pub fn steps(self) -> &'static [i32] {
        match self {
            Scale::PentatonicMajor => &[0, 2, 4, 7, 9],
            Scale::PentatonicMinor => &[0, 3, 5, 7, 10],
            Scale::Major => &[0, 2, 4, 5, 7, 9, 11],
            Scale::Minor => &[0, 2, 3, 5, 7, 8, 10],
            Scale::Dorian => &[0, 2, 3, 5, 7, 9, 10],
            Scale::Lydian => &[0, 2, 4, 6, 7, 9, 11],
            Scale::Mixolydian => &[0, 2, 4, 5, 7, 9, 10],
        }
    }

    /// Every scale, for listings.
    pub const ALL: [Scale; 7] = [
        Scale::PentatonicMajor,
        Scale::PentatonicMinor,
        Scale::Major,
        Scale::Minor,
        Scale::Dorian,
        Scale::Lydian,
        Scale::Mixolydian,
    ];

    /// The name used in presets.
    pub fn name(self) -> &'static str {
        match self {
            Scale::PentatonicMajor => "pentatonic_major",
            Scale::PentatonicMinor => "pentatonic_minor",
            Scale::Major => "major",
            Scale::Minor => "minor",
            Scale::Dorian => "dorian",
            Scale::Lydian => "lydian",
            Scale::Mixolydian => "mixolydian",
        }
    }

    /// Semitones above the tonic of scale degree `degree` (0 = tonic; negative and
    /// beyond-the-octave degrees wrap into other octaves).
    pub fn degree(self, degree: i32) -> i32 {
        let steps = self.steps();
        let n = steps.len() as i32;
        let octave = degree.div_euclid(n);
        steps[degree.rem_euclid(n) as usize] + 12 * octave
    }

    /// The scale tone nearest to `semitones` above the tonic (the lower on a tie).
    pub fn snap(self, semitones: i32) -> i32 {
        let mut best = i32::MIN / 2;
        for d in -12..24 {
            let s = self.degree(d);
            if (s - semitones).abs() < (best - semitones).abs() {
                best = s;
            }
        }
        best
    }

    /// The pad's chord tones in the order they enter as harmonic density rises: tonic
    /// and fifth first (the bare fifth at density 0), then the octave, third, seventh,
    /// ninth, upper fifth, sixth/thirteenth… each snapped into the scale, never repeated.
    pub fn chord_tones(self) -> [i32; 8] {
        const WANTED: [i32; 14] = [0, 7, 12, 4, 11, 14, 19, 9, 16, 24, 21, 26, 28, 31];
        let mut out = [0i32; 8];
        let mut n = 0;
        for w in WANTED {
            let s = self.snap(w);
            if !out[..n].contains(&s) {
                out[n] = s;
                n += 1;
                if n == out.len() {
                    break;
                }
            }
        }
        out
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Scale::ALL
            .into_iter()
            .find(|sc| sc.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Scale::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "`{s}` is not a scale (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// Semitones (−6..=5) to move material in key `from` (and scale `from_scale`, if known)
/// so it fits key `to` and scale `to_scale`. Without its scale: tonic to tonic, the
/// shortest way. With it: where the most of its scale's notes lie in the target scale;
/// among equals, tonic on tonic first, then its tonic on a note of the target scale (a
/// relative key), then the smallest move.
pub fn transposition(from: Key, from_scale: Option<Scale>, to: Key, to_scale: Scale) -> i32 {
    let shift = |t: i32| (t + 6).rem_euclid(12) - 6;
    let tonic_to_tonic = shift(to.pitch_class() as i32 - from.pitch_class() as i32);
    let Some(from_scale) = from_scale else {
        return tonic_to_tonic;
    };
    let in_target = |pitch: i32| {
        let degree = (pitch - to.pitch_class() as i32).rem_euclid(12);
        to_scale.steps().contains(&degree)
    };
    (-6..=5)
        .max_by_key(|&t| {
            let from_tonic = from.pitch_class() as i32 + t;
            let fits = from_scale
                .steps()
                .iter()
                .filter(|&&d| in_target(from_tonic + d))
                .count();
            (
                fits,
                t == tonic_to_tonic,
                in_target(from_tonic),
                core::cmp::Reverse(t.abs()),
            )
        })
        .unwrap_or(tonic_to_tonic)
}

/// Frequency in Hz of a (fractional) MIDI note number, A4 = 69 = 440 Hz.
#[inline]
pub fn midi_hz(note: f32) -> f32 {
    440.0 * ((note - 69.0) / 12.0).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_tonic_to_tonic_the_shortest_way_without_a_scale() {
        let k = |s: &str| s.parse::<Key>().unwrap();
        let any = Scale::Minor;
        assert_eq!(transposition(k("D"), None, k("D"), any), 0);
        assert_eq!(transposition(k("D"), None, k("F"), any), 3);
        assert_eq!(transposition(k("D"), None, k("A"), any), -5);
        assert_eq!(transposition(k("D"), None, k("G"), any), 5);
        assert_eq!(transposition(k("C"), None, k("F#"), any), -6);
    }

    /// The notes of `scale` on `key`, moved by `t` semitones, outside `to`/`to_scale`.
    fn clashes(key: &str, scale: Scale, t: i32, to: &str, to_scale: Scale) -> usize {
        let (k, to) = (
            key.parse::<Key>().unwrap().pitch_class() as i32,
            to.parse::<Key>().unwrap().pitch_class() as i32,
        );
        scale
            .steps()
            .iter()
            .filter(|&&d| !to_scale.steps().contains(&(k + t + d - to).rem_euclid(12)))
            .count()
    }

    #[test]
    fn with_its_scale_material_moves_to_where_its_notes_fit() {
        let k = |s: &str| s.parse::<Key>().unwrap();
        use Scale::*;
        // same key and scale: stays
        assert_eq!(
            transposition(k("D"), Some(PentatonicMajor), k("D"), PentatonicMajor),
            0
        );
        // a major loop under a minor preset goes to the relative major (C under A minor),
        // where tonic to tonic (A major) would put C# and F# against C and F
        let t = transposition(k("D"), Some(PentatonicMajor), k("A"), Minor);
        assert_eq!(t, -2);
        assert_eq!(clashes("D", PentatonicMajor, t, "A", Minor), 0);
        assert_eq!(clashes("D", PentatonicMajor, -5, "A", Minor), 2);
        // a minor loop under a major preset: the relative minor (A minor under C major)
        assert_eq!(transposition(k("E"), Some(Minor), k("C"), Major), 5);
        // tonic to tonic when it fits as well as anything
        assert_eq!(transposition(k("D"), Some(Major), k("F"), Major), 3);
        // D major pentatonic fits A dorian where it stands
        assert_eq!(
            transposition(k("D"), Some(PentatonicMajor), k("A"), Dorian),
            0
        );
        // every key and scale pair: never more clashes than tonic to tonic
        let keys = || (0..12).map(Key::new);
        for from in keys() {
            for fs in Scale::ALL {
                for to in keys() {
                    for ts in Scale::ALL {
                        let name = |k: Key| k.to_string();
                        let best = transposition(from, Some(fs), to, ts);
                        let plain = transposition(from, None, to, ts);
                        assert!(
                            clashes(&name(from), fs, best, &name(to), ts)
                                <= clashes(&name(from), fs, plain, &name(to), ts)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn keys_parse_and_print() {
        assert_eq!("D".parse::<Key>().unwrap().pitch_class(), 2);
        assert_eq!("Db".parse::<Key>().unwrap().pitch_class(), 1);
        assert_eq!("f#".parse::<Key>().unwrap().pitch_class(), 6);
        assert!("H".parse::<Key>().is_err());
        assert_eq!(Key::new(10).to_string(), "Bb");
        assert_eq!(Key::new(9).midi(4), 69);
    }

    #[test]
    fn chords_start_with_a_bare_fifth_and_stay_in_scale() {
        for sc in Scale::ALL {
            let c = sc.chord_tones();
            assert_eq!(&c[..2], &[0, 7], "{sc}");
            let mut sorted = c.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 8, "{sc}: {c:?}");
            for t in c {
                assert!(sc.steps().contains(&t.rem_euclid(12)), "{sc}: {t}");
            }
        }
        assert_eq!(Scale::Minor.chord_tones()[3], 3, "minor third in minor");
        assert_eq!(Scale::Major.chord_tones()[3], 4);
    }

    #[test]
    fn a4_is_440() {
        assert!((midi_hz(69.0) - 440.0).abs() < 1e-3);
        assert!((midi_hz(57.0) - 220.0).abs() < 1e-3);
    }
}
