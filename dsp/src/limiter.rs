//! The safety stage: a look-ahead peak limiter with a hard ceiling and a NaN guard.

/// Stereo-linked look-ahead limiter. The gain each sample needs to stay under the
/// ceiling is held at its minimum over the look-ahead window and then averaged over the
/// same window, so the gain has finished falling when the peak arrives: no sample leaves
/// above the ceiling and the gain never steps (it moves at most 1/window per sample).
/// Release is a one-pole back toward unity. A final clamp catches rounding.
///
/// Buffers are allocated at construction; audio thread; no allocation after that.
#[derive(Clone, Debug)]
pub struct Limiter {
    ceiling: f32,
    window: usize,
    delay_l: Vec<f32>,
    delay_r: Vec<f32>,
    pos: usize,
    // monotonic queue (indices into a running sample count) for the sliding minimum
    q_val: Vec<f32>,
    q_idx: Vec<u64>,
    q_head: usize,
    q_len: usize,
    n: u64,
    box_buf: Vec<f32>,
    box_sum: f64,
    released: f32,
    release: f32,
    min_gain: f32,
}

impl Limiter {
    /// A limiter with a ceiling in linear amplitude, `lookahead_s` of delay and release
    /// time constant `release_s`.
    pub fn new(sample_rate: f32, ceiling: f32, lookahead_s: f32, release_s: f32) -> Self {
        let window = ((lookahead_s * sample_rate) as usize).max(1);
        Self {
            ceiling,
            window,
            delay_l: vec![0.0; window],
            delay_r: vec![0.0; window],
            pos: 0,
            q_val: vec![0.0; window + 1],
            q_idx: vec![0; window + 1],
            q_head: 0,
            q_len: 0,
            n: 0,
            box_buf: vec![1.0; window],
            box_sum: window as f64,
            released: 1.0,
            release: 1.0 - (-1.0 / (release_s.max(0.001) * sample_rate)).exp(),
            min_gain: 1.0,
        }
    }

    /// Latency in samples.
    pub fn latency(&self) -> usize {
        self.window
    }

    /// The ceiling (linear).
    pub fn ceiling(&self) -> f32 {
        self.ceiling
    }

    /// The smallest gain applied since the last call (1 = untouched), then resets it.
    pub fn take_min_gain(&mut self) -> f32 {
        core::mem::replace(&mut self.min_gain, 1.0)
    }

    /// Clears all state.
    pub fn reset(&mut self) {
        self.delay_l.iter_mut().for_each(|v| *v = 0.0);
        self.delay_r.iter_mut().for_each(|v| *v = 0.0);
        self.box_buf.iter_mut().for_each(|v| *v = 1.0);
        self.box_sum = self.window as f64;
        self.q_len = 0;
        self.released = 1.0;
    }

    /// Limits `left` and `right` in place (output delayed by [`Self::latency`]).
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32]) {
        let cap = self.window + 1;
        for (l, r) in left.iter_mut().zip(right.iter_mut()) {
            let peak = l.abs().max(r.abs());
            let need = if peak > self.ceiling {
                self.ceiling / peak
            } else {
                1.0
            };
            // push into the sliding-minimum queue
            while self.q_len > 0 {
                let back = (self.q_head + self.q_len - 1) % cap;
                if self.q_val[back] >= need {
                    self.q_len -= 1;
                } else {
                    break;
                }
            }
            let slot = (self.q_head + self.q_len) % cap;
            self.q_val[slot] = need;
            self.q_idx[slot] = self.n;
            self.q_len += 1;
            let w = self.window as u64;
            while self.q_idx[self.q_head] + w <= self.n {
                self.q_head = (self.q_head + 1) % cap;
                self.q_len -= 1;
            }
            let held = self.q_val[self.q_head];
            self.released = if held < self.released {
                held
            } else {
                self.released + (held - self.released) * self.release
            };
            // box average over the window
            let bpos = (self.n % w) as usize;
            self.box_sum += self.released as f64 - self.box_buf[bpos] as f64;
            self.box_buf[bpos] = self.released;
            let gain = ((self.box_sum / w as f64) as f32).min(1.0);
            self.min_gain = self.min_gain.min(gain);
            self.n += 1;
            // delay the audio by the window
            let dl = core::mem::replace(&mut self.delay_l[self.pos], *l);
            let dr = core::mem::replace(&mut self.delay_r[self.pos], *r);
            self.pos = (self.pos + 1) % self.window;
            *l = (dl * gain).clamp(-self.ceiling, self.ceiling);
            *r = (dr * gain).clamp(-self.ceiling, self.ceiling);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_are_held_under_the_ceiling_without_steps() {
        let sr = 48_000.0;
        let mut lim = Limiter::new(sr, 0.5, 0.002, 0.1);
        let n = 48_000;
        // a smooth burst (Hann-shaped, 0.3 → 3.0 → 0.3) so the input has no step of its own
        let amp = |i: usize| {
            if (20_000..20_400).contains(&i) {
                let x = (i - 20_000) as f32 / 400.0;
                0.3 + 2.7 * (0.5 - 0.5 * (core::f32::consts::TAU * x).cos())
            } else {
                0.3
            }
        };
        let mut l: Vec<f32> = (0..n).map(|i| (i as f32 * 0.05).sin() * amp(i)).collect();
        let mut r = l.clone();
        lim.process(&mut l, &mut r);
        assert!(l.iter().all(|v| v.abs() <= 0.5));
        // quiet parts pass unchanged (delayed)
        let lat = lim.latency();
        assert!((l[1000 + lat] - (1000.0f32 * 0.05).sin() * 0.3).abs() < 1e-6);
        // no step in the output bigger than the loud signal's own slope (3 × 0.05)
        let max_step = l
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0, f32::max);
        assert!(max_step < 0.16, "{max_step}");
    }
}
