//! The mix's tone: a three-band equaliser and a mono low end.

use crate::biquad::{Biquad, Coefficients};
use crate::config::MasterConfig;

/// Shapes the mix before the limiter: a low shelf at 120 Hz, a bell at 320 Hz (the
/// low mids, where pads and low piano notes turn muddy) and a high shelf at 4 kHz, then
/// the side signal high-passed (fourth-order Butterworth) below `mono_below_hz`, so the
/// bass is the same in both ears: wide, uncorrelated bass sounds diffuse on headphones
/// and collapses on phone speakers. Audio thread after construction.
#[derive(Clone, Debug)]
pub struct MasterTone {
    eq: [Coefficients; 3],
    eq_state: [[Biquad; 3]; 2],
    side_hp: Option<Coefficients>,
    side_state: [Biquad; 2],
    side: [f32; crate::MAX_BLOCK],
}

impl MasterTone {
    /// The stage for `cfg` at `sample_rate`.
    pub fn new(cfg: &MasterConfig, sample_rate: f32) -> Self {
        Self {
            eq: [
                Coefficients::shelf(120.0, cfg.low_db, false, sample_rate),
                Coefficients::peak(320.0, 0.9, cfg.low_mid_db, sample_rate),
                Coefficients::shelf(4000.0, cfg.high_db, true, sample_rate),
            ],
            eq_state: Default::default(),
            side_hp: (cfg.mono_below_hz > 0.0).then(|| {
                Coefficients::high_pass(
                    cfg.mono_below_hz,
                    core::f32::consts::FRAC_1_SQRT_2,
                    sample_rate,
                )
            }),
            side_state: Default::default(),
            side: [0.0; crate::MAX_BLOCK],
        }
    }

    /// Processes one block of at most [`crate::MAX_BLOCK`] frames in place.
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        for (ch, x) in [&mut *left, &mut *right].into_iter().enumerate() {
            for (k, f) in self.eq.iter().zip(self.eq_state[ch].iter_mut()) {
                if !k.is_identity() {
                    f.process(k, x);
                }
            }
        }
        if let Some(k) = &self.side_hp {
            let n = left.len();
            let side = &mut self.side[..n];
            for ((s, l), r) in side.iter_mut().zip(left.iter()).zip(right.iter()) {
                *s = 0.5 * (l - r);
            }
            for f in self.side_state.iter_mut() {
                f.process(k, side);
            }
            for ((s, l), r) in side.iter().zip(left.iter_mut()).zip(right.iter_mut()) {
                let mid = 0.5 * (*l + *r);
                *l = mid + s;
                *r = mid - s;
            }
        }
    }

    /// Clears the filters' state.
    pub fn reset(&mut self) {
        for ch in self.eq_state.iter_mut() {
            for f in ch.iter_mut() {
                f.reset();
            }
        }
        for f in self.side_state.iter_mut() {
            f.reset();
        }
    }
}
