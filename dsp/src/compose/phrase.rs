//! Melodic phrases built from motifs: a motif is stated, then repeated, varied or
//! sequenced, and the phrase closes on a held cadence note before a rest.

use crate::rng::Rng;

/// The most notes in a motif.
pub const MAX_MOTIF: usize = 5;
/// The most notes in a phrase.
pub const MAX_PHRASE: usize = 24;

/// One note of a motif.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MotifNote {
    /// Eighths from the motif's start.
    pub at: u8,
    /// Length in eighths.
    pub len: u8,
    /// Scale steps from the previous note (the first note's is 0).
    pub step: i8,
}

/// A short figure of 3 to 5 notes within one bar: the cell a phrase is grown from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Motif {
    notes: [MotifNote; MAX_MOTIF],
    len: usize,
}

/// Rhythms of one-bar motifs, as (start, length) in eighths.
const RHYTHMS: [&[(u8, u8)]; 8] = [
    &[(0, 2), (2, 2), (4, 4)],
    &[(0, 3), (3, 1), (4, 4)],
    &[(0, 2), (2, 1), (3, 1), (4, 4)],
    &[(0, 4), (4, 2), (6, 2)],
    &[(0, 1), (1, 1), (2, 2), (4, 4)],
    &[(0, 2), (2, 2), (4, 2), (6, 2)],
    &[(2, 2), (4, 2), (6, 2)],
    &[(0, 3), (3, 1), (4, 2), (6, 2)],
];

impl Motif {
    /// A new motif: a rhythm from a small set of one-bar figures and a contour (an arch,
    /// a rise, a fall or a dip) with repeated notes and the occasional leap, each leap
    /// answered by a step the other way.
    pub fn random(rng: &mut Rng) -> Self {
        let rhythm = RHYTHMS[rng.below(RHYTHMS.len() as u32) as usize];
        let contour = rng.below(4);
        let mut notes = [MotifNote::default(); MAX_MOTIF];
        let len = rhythm.len().min(MAX_MOTIF);
        let mut last_leap = 0i8;
        for (i, (&(at, l), n)) in rhythm.iter().zip(notes.iter_mut()).enumerate() {
            let step = if i == 0 {
                0
            } else if last_leap != 0 {
                // a leap is resolved by step in the other direction
                -last_leap.signum()
            } else {
                let dir: i8 = match contour {
                    0 => {
                        if 2 * i < len {
                            1
                        } else {
                            -1
                        }
                    }
                    1 => 1,
                    2 => -1,
                    _ => {
                        if 2 * i < len {
                            -1
                        } else {
                            1
                        }
                    }
                };
                let r = rng.uniform();
                if r < 0.2 {
                    0
                } else if r < 0.65 {
                    dir
                } else if r < 0.8 {
                    2 * dir
                } else {
                    (3 + rng.below(2) as i8) * dir
                }
            };
            last_leap = if step.abs() >= 3 { step } else { 0 };
            *n = MotifNote { at, len: l, step };
        }
        Self { notes, len }
    }

    /// The notes.
    pub fn notes(&self) -> &[MotifNote] {
        &self.notes[..self.len]
    }

    /// Turned upside down: every step the other way.
    pub fn inverted(&self) -> Self {
        let mut m = *self;
        for n in m.notes[..m.len].iter_mut() {
            n.step = -n.step;
        }
        m
    }

    /// A close variant: one step changed, or the rhythm of two notes swapped.
    pub fn mutated(&self, rng: &mut Rng) -> Self {
        let mut m = *self;
        if m.len < 2 {
            return m;
        }
        let i = 1 + rng.below(m.len as u32 - 1) as usize;
        if rng.uniform() < 0.6 {
            let delta = if rng.uniform() < 0.5 { -1 } else { 1 };
            m.notes[i].step = (m.notes[i].step + delta).clamp(-4, 4);
        } else {
            // merge a short note into the one before, or split a long one
            let n = m.notes[i];
            if n.len >= 2 && m.len < MAX_MOTIF && n.at + n.len / 2 < 8 {
                let half = n.len / 2;
                m.notes[i].len = half;
                for k in (i + 1..m.len + 1).rev() {
                    m.notes[k] = m.notes[k - 1];
                }
                m.notes[i + 1] = MotifNote {
                    at: n.at + half,
                    len: n.len - half,
                    step: 0,
                };
                m.len += 1;
            } else {
                m.notes[i].step = -m.notes[i].step;
            }
        }
        m
    }
}

/// One note of a phrase.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhraseNote {
    /// Eighths from the phrase's start.
    pub at: u16,
    /// Length in eighths.
    pub len: u8,
    /// Scale steps from the phrase's anchor, before the motif's statement is moved onto
    /// the chord sounding when it starts.
    pub degree: i16,
    /// The first note of a statement of the motif: the statement moves so that this note
    /// lands on a chord tone.
    pub head: bool,
    /// The phrase's closing note: it lands on a chord tone.
    pub cadence: bool,
    /// 0..1.
    pub velocity: f32,
}

/// A phrase: a few bars of notes, then a rest. Audio thread (fixed size).
#[derive(Clone, Copy, Debug)]
pub struct Phrase {
    notes: [PhraseNote; MAX_PHRASE],
    len: usize,
    /// Eighths the phrase lasts, its rest included (whole bars).
    pub span: u16,
    /// Eighths until the last note has started and been held.
    pub sounding: u16,
}

/// How a later bar of a phrase treats the motif.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Treatment {
    Repeat,
    Sequence(i16),
    Invert,
    Vary,
}

impl Phrase {
    /// An empty phrase of `bars` bars of rest.
    pub fn rest(bars: u16) -> Self {
        Self {
            notes: [PhraseNote::default(); MAX_PHRASE],
            len: 0,
            span: 8 * bars.max(1),
            sounding: 0,
        }
    }

    /// A phrase of `bars` bars (2 or 4) grown from `motif`, followed by `rest_bars` bars
    /// of rest. The first bar states the motif; the next repeat, sequence, invert or vary
    /// it; the last ends on a held cadence note. `dense` fills long notes with a
    /// passing note (a busier line).
    pub fn grow(motif: &Motif, bars: u16, rest_bars: u16, dense: bool, rng: &mut Rng) -> Self {
        let bars = if bars >= 4 { 4 } else { 2 };
        let mut p = Self::rest(bars + rest_bars);
        let mut level = 0i16;
        for bar in 0..bars {
            let treatment = if bar == 0 {
                Treatment::Repeat
            } else {
                match rng.below(10) {
                    0..=2 => Treatment::Repeat,
                    3..=5 => Treatment::Sequence(if rng.uniform() < 0.6 { 1 } else { -1 }),
                    6..=7 => Treatment::Invert,
                    _ => Treatment::Vary,
                }
            };
            let m = match treatment {
                Treatment::Invert => motif.inverted(),
                Treatment::Vary => motif.mutated(rng),
                _ => *motif,
            };
            if let Treatment::Sequence(s) = treatment {
                level += s;
            } else if bar > 0 && treatment != Treatment::Repeat {
                level = 0;
            }
            let last_bar = bar == bars - 1;
            let mut degree = level;
            let notes = m.notes();
            for (i, n) in notes.iter().enumerate() {
                degree += n.step as i16;
                let at = 8 * bar + n.at as u16;
                let mut len = n.len;
                let closing = last_bar && i == notes.len() - 1;
                if closing {
                    // the cadence note is held to the end of the bar, at least a half note
                    len = (8 - n.at).max(4);
                }
                if p.len >= MAX_PHRASE {
                    break;
                }
                // an arch of loudness over the phrase, the cadence softer
                let x = at as f32 / (8.0 * bars as f32);
                let velocity = if closing {
                    0.7
                } else {
                    0.75 + 0.25 * (core::f32::consts::PI * x).sin()
                };
                p.notes[p.len] = PhraseNote {
                    at,
                    len,
                    degree,
                    head: i == 0,
                    cadence: closing,
                    velocity,
                };
                p.len += 1;
                // a passing note in the second half of a long note
                if dense && !closing && len >= 4 && p.len < MAX_PHRASE {
                    let next_step = notes.get(i + 1).map_or(1, |x| x.step.signum()) as i16;
                    p.notes[p.len - 1].len = len / 2;
                    p.notes[p.len] = PhraseNote {
                        at: at + (len / 2) as u16,
                        len: len - len / 2,
                        degree: degree + if next_step == 0 { 1 } else { next_step },
                        head: false,
                        cadence: false,
                        velocity: velocity * 0.85,
                    };
                    p.len += 1;
                }
            }
        }
        p.sounding = p.notes[..p.len]
            .iter()
            .map(|n| n.at + n.len as u16)
            .max()
            .unwrap_or(0);
        p
    }

    /// The notes, in time order.
    pub fn notes(&self) -> &[PhraseNote] {
        &self.notes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn motifs_have_repeats_leaps_and_resolve_their_leaps() {
        let mut rng = Rng::new(11, 2);
        let (mut repeats, mut leaps, mut steps) = (0, 0, 0);
        for _ in 0..500 {
            let m = Motif::random(&mut rng);
            assert!((3..=5).contains(&m.notes().len()));
            let n = m.notes();
            for w in n.windows(2) {
                assert!(w[1].at >= w[0].at + w[0].len, "overlap: {n:?}");
                if w[0].step.abs() >= 3 {
                    assert_eq!(w[1].step, -w[0].step.signum(), "{n:?}");
                }
            }
            for x in &n[1..] {
                steps += 1;
                repeats += (x.step == 0) as u32;
                leaps += (x.step.abs() >= 3) as u32;
            }
            assert!(n.last().map_or(0, |x| x.at + x.len) <= 8);
        }
        let share = (repeats + leaps) as f32 / steps as f32;
        assert!(share > 0.2 && share < 0.6, "{repeats} {leaps} {steps}");
    }

    #[test]
    fn phrases_end_on_a_held_cadence_and_rest() {
        let mut rng = Rng::new(3, 4);
        for _ in 0..200 {
            let m = Motif::random(&mut rng);
            let dense = rng.uniform() < 0.5;
            let p = Phrase::grow(&m, 4, 2, dense, &mut rng);
            assert_eq!(p.span, 48);
            let last = p.notes().last().unwrap();
            assert!(last.cadence && last.len >= 4);
            assert!(p.notes().iter().filter(|n| n.cadence).count() == 1);
            assert!(p.sounding <= 36, "{}", p.sounding);
            for w in p.notes().windows(2) {
                assert!(w[1].at >= w[0].at + w[0].len as u16, "{:?}", p.notes());
            }
        }
    }
}
