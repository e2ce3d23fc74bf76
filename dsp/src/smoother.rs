//! Bounded-slew parameter smoothing.

/// A parameter that moves toward its target at a bounded rate, with rounded corners.
///
/// Each step first limits the change to `max_rate` units per second (so a large jump
/// becomes a ramp whose duration is known), then passes the ramp through a one-pole
/// low-pass (time constant `corner_s`) so that the ramp starts and stops without a kink.
/// Runs on the audio thread; never allocates.
#[derive(Clone, Debug)]
pub struct Smoother {
    target: f32,
    ramp: f32,
    value: f32,
    max_rate: f32,
    corner: f32,
}

impl Smoother {
    /// A smoother resting at `value`, moving at most `max_rate` units per second, with a
    /// corner-rounding time constant of `corner_s` seconds.
    pub fn new(value: f32, max_rate: f32, corner_s: f32) -> Self {
        Self {
            target: value,
            ramp: value,
            value,
            max_rate: max_rate.max(0.0),
            corner: corner_s.max(0.0),
        }
    }

    /// Sets the value it moves toward. Non-finite targets are ignored.
    #[inline]
    pub fn set_target(&mut self, target: f32) {
        if target.is_finite() {
            self.target = target;
        }
    }

    /// Jumps straight to `value` (only for set-up, never while sounding).
    pub fn reset(&mut self, value: f32) {
        self.target = value;
        self.ramp = value;
        self.value = value;
    }

    /// The target.
    #[inline]
    pub fn target(&self) -> f32 {
        self.target
    }

    /// The current smoothed value.
    #[inline]
    pub fn value(&self) -> f32 {
        self.value
    }

    /// Whether the value has (to within `eps`) arrived.
    #[inline]
    pub fn settled(&self, eps: f32) -> bool {
        (self.value - self.target).abs() <= eps
    }

    /// Advances by `dt` seconds and returns the new value.
    #[inline]
    pub fn step(&mut self, dt: f32) -> f32 {
        let max_step = self.max_rate * dt;
        let delta = (self.target - self.ramp).clamp(-max_step, max_step);
        self.ramp += delta;
        if self.corner > 0.0 {
            let a = 1.0 - (-dt / self.corner).exp();
            self.value += (self.ramp - self.value) * a;
            if (self.value - self.ramp).abs() < 1e-7 {
                self.value = self.ramp;
            }
        } else {
            self.value = self.ramp;
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slew_is_bounded_and_it_arrives() {
        let mut s = Smoother::new(0.0, 2.0, 0.05);
        s.set_target(1.0);
        let dt = 1.0 / 1000.0;
        let mut prev = 0.0;
        for _ in 0..2000 {
            let v = s.step(dt);
            assert!(v - prev <= 2.0 * dt + 1e-6);
            assert!(v >= prev);
            prev = v;
        }
        assert!(s.settled(1e-4));
    }

    #[test]
    fn nan_target_is_ignored() {
        let mut s = Smoother::new(0.5, 1.0, 0.0);
        s.set_target(f32::NAN);
        assert_eq!(s.step(0.1), 0.5);
    }
}
