//! Output metering.

/// Peak, energy and safety counters of the output since the meter was last taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Meter {
    /// Largest absolute sample.
    pub peak: f32,
    /// Sum of squares over both channels.
    pub sum_sq: f64,
    /// Stereo frames counted.
    pub frames: u64,
    /// Blocks silenced because they held NaN or infinity.
    pub nan_blocks: u32,
    /// Smallest limiter gain applied (1 = never limited).
    pub limiter_min_gain: f32,
}

impl Default for Meter {
    fn default() -> Self {
        Self {
            peak: 0.0,
            sum_sq: 0.0,
            frames: 0,
            nan_blocks: 0,
            limiter_min_gain: 1.0,
        }
    }
}

impl Meter {
    /// Adds a block of output.
    pub fn add(&mut self, left: &[f32], right: &[f32]) {
        let mut peak = self.peak;
        let mut sum = 0.0f32;
        for (l, r) in left.iter().zip(right) {
            peak = peak.max(l.abs()).max(r.abs());
            sum += l * l + r * r;
        }
        self.peak = peak;
        self.sum_sq += sum as f64;
        self.frames += left.len() as u64;
    }

    /// Adds another meter's counts to this one.
    pub fn merge(&mut self, other: &Meter) {
        self.peak = self.peak.max(other.peak);
        self.sum_sq += other.sum_sq;
        self.frames += other.frames;
        self.nan_blocks += other.nan_blocks;
        self.limiter_min_gain = self.limiter_min_gain.min(other.limiter_min_gain);
    }

    /// RMS over both channels (linear).
    pub fn rms(&self) -> f32 {
        if self.frames == 0 {
            0.0
        } else {
            (self.sum_sq / (2 * self.frames) as f64).sqrt() as f32
        }
    }

    /// RMS in dBFS (−inf for silence).
    pub fn rms_dbfs(&self) -> f32 {
        20.0 * self.rms().log10()
    }

    /// Peak in dBFS (−inf for silence).
    pub fn peak_dbfs(&self) -> f32 {
        20.0 * self.peak.log10()
    }
}
