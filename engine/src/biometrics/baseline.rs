//! Per-person baseline: features expressed relative to the wearer's own resting period.
//!
//! Tonic EDA ranges from 0.14 to 5 µS between people and resting HRV varies as much
//! (docs/domain.md, "Detecting arousal"), so a model should see *changes* from the person's
//! own state. The baseline is the first `duration_s` of the session (default 5 minutes):
//! every window lying entirely inside it with quality at least `min_quality` contributes
//! its feature values; when the period ends, each feature's mean and standard deviation
//! across those windows are frozen (a feature needs `min_windows` values). From then on
//! every window also carries its features relative to the baseline ([`BaselineMode`];
//! z-scores by default). A baseline from an earlier session can be supplied instead
//! ([`Baseline::from_stats`]).
//!
//! Windows overlap (5 s hop over 60 s windows), so the SD across them understates the
//! between-minute variability; to keep z-scores from exploding on a very steady baseline
//! the SD is floored at 5 % of |mean| (and at 1e-9).
//!
//! Runs on the control thread.

use super::feature_types::{Feature, FeatureVector, FeatureWindow, FEATURE_COUNT};

/// How a value is compared with the baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BaselineMode {
    /// (value - mean) / max(sd, 5 % of |mean|).
    #[default]
    ZScore,
    /// value / mean (for positive features; `None` when the mean is not positive).
    Ratio,
    /// value - mean, in the feature's unit.
    Difference,
}

/// Baseline settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BaselineConfig {
    /// Length of the baseline period from the session origin, seconds (0 disables).
    pub duration_s: f64,
    /// Windows below this quality do not count.
    pub min_quality: f64,
    /// Values needed for a feature to have a baseline.
    pub min_windows: usize,
    /// How relative values are expressed.
    pub mode: BaselineMode,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            duration_s: 300.0,
            min_quality: 0.5,
            min_windows: 3,
            mode: BaselineMode::ZScore,
        }
    }
}

/// Frozen per-feature baseline statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineStats {
    /// Mean per feature (in [`Feature::ALL`] order), `None` without enough values.
    pub mean: [Option<f64>; FEATURE_COUNT],
    /// Standard deviation per feature (ddof = 1).
    pub sd: [Option<f64>; FEATURE_COUNT],
    /// Values that went into each.
    pub n: [usize; FEATURE_COUNT],
}

impl BaselineStats {
    /// Baseline mean of one feature.
    pub fn mean_of(&self, f: Feature) -> Option<f64> {
        self.mean[f as usize]
    }
}

/// Collects the baseline and expresses windows against it.
#[derive(Clone, Debug)]
pub struct Baseline {
    cfg: BaselineConfig,
    end: f64,
    n: [usize; FEATURE_COUNT],
    sum: [f64; FEATURE_COUNT],
    sq: [f64; FEATURE_COUNT],
    stats: Option<BaselineStats>,
}

impl Baseline {
    /// A baseline collected over `[origin, origin + cfg.duration_s)`.
    pub fn new(cfg: BaselineConfig, origin: f64) -> Self {
        Self {
            end: origin + cfg.duration_s,
            cfg,
            n: [0; FEATURE_COUNT],
            sum: [0.0; FEATURE_COUNT],
            sq: [0.0; FEATURE_COUNT],
            stats: None,
        }
    }

    /// A baseline known in advance (e.g. stored from an earlier session).
    pub fn from_stats(stats: BaselineStats, mode: BaselineMode) -> Self {
        Self {
            cfg: BaselineConfig {
                duration_s: 0.0,
                mode,
                ..BaselineConfig::default()
            },
            end: f64::NEG_INFINITY,
            n: [0; FEATURE_COUNT],
            sum: [0.0; FEATURE_COUNT],
            sq: [0.0; FEATURE_COUNT],
            stats: Some(stats),
        }
    }

    /// The frozen statistics, once the baseline period is over.
    pub fn stats(&self) -> Option<&BaselineStats> {
        self.stats.as_ref()
    }

    /// Takes in a window (in time order) and, once the baseline is known, returns the
    /// window's features relative to it.
    pub fn observe(&mut self, w: &FeatureWindow) -> Option<FeatureVector> {
        if self.stats.is_none() {
            if w.end <= self.end + 1e-9 {
                if w.start >= self.end - self.cfg.duration_s - 1e-9
                    && w.quality >= self.cfg.min_quality
                {
                    for (f, v) in w.features.iter() {
                        if let Some(v) = v {
                            let i = f as usize;
                            self.n[i] += 1;
                            self.sum[i] += v;
                            self.sq[i] += v * v;
                        }
                    }
                }
                return None;
            }
            self.freeze();
        }
        self.relative(&w.features)
    }

    fn freeze(&mut self) {
        let mut s = BaselineStats {
            mean: [None; FEATURE_COUNT],
            sd: [None; FEATURE_COUNT],
            n: self.n,
        };
        for i in 0..FEATURE_COUNT {
            let n = self.n[i];
            if n >= self.cfg.min_windows.max(1) {
                let nf = n as f64;
                let m = self.sum[i] / nf;
                s.mean[i] = Some(m);
                s.sd[i] = if n > 1 {
                    Some(((self.sq[i] - nf * m * m) / (nf - 1.0)).max(0.0).sqrt())
                } else {
                    Some(0.0)
                };
            }
        }
        self.stats = Some(s);
    }

    /// `v` relative to the baseline (`None` before it is known).
    pub fn relative(&self, v: &FeatureVector) -> Option<FeatureVector> {
        let s = self.stats.as_ref()?;
        let mut out = FeatureVector::default();
        for (f, x) in v.iter() {
            let i = f as usize;
            let (Some(x), Some(m)) = (x, s.mean[i]) else {
                continue;
            };
            let r = match self.cfg.mode {
                BaselineMode::ZScore => {
                    let sd = s.sd[i].unwrap_or(0.0).max(0.05 * m.abs()).max(1e-9);
                    Some((x - m) / sd)
                }
                BaselineMode::Ratio => (m > 0.0).then(|| x / m),
                BaselineMode::Difference => Some(x - m),
            };
            out.set(f, r);
        }
        Some(out)
    }
}
