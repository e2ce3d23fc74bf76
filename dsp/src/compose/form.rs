//! Form over minutes: sections in which layers enter and leave and register, figure and
//! motif change, with returns to the opening section.

use crate::params::Layer;
use crate::rng::Rng;

/// The kinds of section a form moves between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// Everything plays: the opening and the section the form returns to.
    Theme,
    /// The melody an octave up over an opened pad, a new figure and motif.
    Lift,
    /// The pulse rests; the melody alone over the pad, loops thinned.
    Sparse,
    /// The melody rests; the pulse carries the line at half time.
    Still,
}

impl SectionKind {
    /// A short name for logs and tests.
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Theme => "theme",
            SectionKind::Lift => "lift",
            SectionKind::Sparse => "sparse",
            SectionKind::Still => "still",
        }
    }
}

/// What a section asks of the layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrangement {
    /// Which section.
    pub kind: SectionKind,
    /// How present each layer is (0..1), indexed by [`Layer::index`]; the soundscape
    /// fades between sections' values.
    pub presence: [f32; Layer::ALL.len()],
    /// Octaves the melody moves from its preset octave.
    pub melody_octave: i32,
    /// Which of the melody's motifs the section plays.
    pub motif: usize,
    /// Semitones the pad's upper voices' range moves (an open voicing higher up).
    pub register: i32,
    /// Whether the pulse plays at half its rate.
    pub half_time: bool,
    /// The section's number since the start (0 = the opening theme).
    pub number: u32,
}

impl Arrangement {
    fn of(kind: SectionKind, number: u32) -> Self {
        // pad, pulse, melody, noise, breath, loops
        let (presence, melody_octave, motif, register, half_time) = match kind {
            SectionKind::Theme => ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 0, 0, 0, false),
            SectionKind::Lift => ([1.0, 0.85, 1.0, 1.0, 1.0, 0.8], 1, 1, 5, false),
            SectionKind::Sparse => ([1.0, 0.0, 1.0, 1.0, 1.0, 0.6], 0, 2, -2, false),
            SectionKind::Still => ([1.0, 0.9, 0.0, 1.0, 1.0, 1.0], 0, 0, 3, true),
        };
        Self {
            kind,
            presence,
            melody_octave,
            motif,
            register,
            half_time,
            number,
        }
    }

    /// Every layer fully present: the arrangement of a soundscape without form.
    pub fn full() -> Self {
        Self::of(SectionKind::Theme, 0)
    }
}

/// Moves from section to section on bar lines: a theme first, then contrasting
/// sections chosen at random with frequent returns to the theme, each lasting a random
/// number of bars in the preset's range. Deterministic for its generator; audio thread.
#[derive(Clone, Debug)]
pub struct Form {
    enabled: bool,
    bars: (u32, u32),
    current: Arrangement,
    bars_left: u32,
    rng: Rng,
}

impl Form {
    /// A form whose sections last `bars` (min, max) bars; a disabled form stays in the
    /// theme with every layer present.
    pub fn new(enabled: bool, bars: (u32, u32), mut rng: Rng) -> Self {
        let bars = (bars.0.max(2), bars.1.max(bars.0.max(2)));
        let first = bars.0 + rng.below(bars.1 - bars.0 + 1);
        Self {
            enabled,
            bars,
            current: Arrangement::full(),
            bars_left: first,
            rng,
        }
    }

    /// The arrangement now.
    pub fn arrangement(&self) -> &Arrangement {
        &self.current
    }

    /// Called at each bar line; returns true when a new section starts.
    pub fn bar(&mut self) -> bool {
        if !self.enabled {
            return false;
        }
        self.bars_left = self.bars_left.saturating_sub(1);
        if self.bars_left > 0 {
            return false;
        }
        use SectionKind::*;
        let from = self.current.kind;
        // weights to theme, lift, sparse, still
        let w: [f32; 4] = match from {
            Theme => [0.0, 0.4, 0.35, 0.25],
            Lift => [0.55, 0.0, 0.25, 0.2],
            Sparse => [0.5, 0.3, 0.0, 0.2],
            Still => [0.6, 0.25, 0.15, 0.0],
        };
        let mut r = self.rng.uniform() * w.iter().sum::<f32>();
        let mut next = Theme;
        for (k, x) in [Theme, Lift, Sparse, Still].into_iter().zip(w) {
            if r < x {
                next = k;
                break;
            }
            r -= x;
        }
        self.current = Arrangement::of(next, self.current.number + 1);
        self.bars_left = self.bars.0 + self.rng.below(self.bars.1 - self.bars.0 + 1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_change_within_their_length_and_return_to_the_theme() {
        let mut f = Form::new(true, (8, 16), Rng::new(5, 9));
        assert_eq!(f.arrangement().kind, SectionKind::Theme);
        let mut since = 0;
        let mut kinds = [0u32; 4];
        for _ in 0..2000 {
            since += 1;
            if f.bar() {
                assert!((8..=16).contains(&since), "{since}");
                since = 0;
                kinds[f.arrangement().kind as usize] += 1;
            }
        }
        assert!(kinds.iter().all(|k| *k > 0), "{kinds:?}");
        assert!(kinds[0] >= kinds[1] && kinds[0] >= kinds[2], "{kinds:?}");
        let mut off = Form::new(false, (8, 16), Rng::new(5, 9));
        assert!((0..100).all(|_| !off.bar()));
    }
}
