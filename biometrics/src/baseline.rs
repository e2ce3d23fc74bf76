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
//! ([`Baseline::from_stats`]), or as a prior that stands in until this session's own
//! baseline is measured ([`Baseline::with_prior`]): a returning listener is then judged
//! against their own resting state from the first window.
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
    prior: Option<BaselineStats>,
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
            prior: None,
        }
    }

    /// A baseline collected like [`Baseline::new`], with `prior` (e.g. the resting
    /// baseline of an earlier session) standing in until this one is measured.
    pub fn with_prior(cfg: BaselineConfig, origin: f64, prior: BaselineStats) -> Self {
        Self {
            prior: Some(prior),
            ..Self::new(cfg, origin)
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
            prior: None,
        }
    }

    /// The frozen statistics, once the baseline period is over (a prior is not
    /// included: these are what this session measured, or what it was given by
    /// [`Baseline::from_stats`]).
    pub fn stats(&self) -> Option<&BaselineStats> {
        self.stats.as_ref()
    }

    /// The prior standing in until the baseline is measured, if one was given.
    pub fn prior(&self) -> Option<&BaselineStats> {
        self.prior.as_ref()
    }

    /// Whether windows are currently judged against the prior (it was given and this
    /// session's own baseline is not yet known).
    pub fn using_prior(&self) -> bool {
        self.stats.is_none() && self.prior.is_some()
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
                return self.relative(&w.features);
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

    /// `v` relative to the baseline, or to the prior before the baseline is known
    /// (`None` when neither is).
    pub fn relative(&self, v: &FeatureVector) -> Option<FeatureVector> {
        let s = self.stats.as_ref().or(self.prior.as_ref())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn window(end: f64, hr: f64) -> FeatureWindow {
        let mut features = FeatureVector::default();
        features.set(Feature::MeanHr, Some(hr));
        FeatureWindow {
            start: end - 60.0,
            end,
            features,
            relative: None,
            quality: 1.0,
            cardiac_quality: Some(1.0),
            eda_quality: None,
            beats: 60,
            rejected_beats: 0,
            rejected_samples: 0,
            contact_lost_s: 0.0,
            rr_source: None,
            resp_source: None,
        }
    }

    fn stats(mean: f64, sd: f64) -> BaselineStats {
        let mut s = BaselineStats {
            mean: [None; FEATURE_COUNT],
            sd: [None; FEATURE_COUNT],
            n: [0; FEATURE_COUNT],
        };
        let i = Feature::MeanHr as usize;
        s.mean[i] = Some(mean);
        s.sd[i] = Some(sd);
        s.n[i] = 40;
        s
    }

    fn hr_z(v: &Option<FeatureVector>) -> Option<f64> {
        v.as_ref().and_then(|v| v.get(Feature::MeanHr))
    }

    #[test]
    fn without_a_prior_nothing_is_relative_until_the_baseline_is_measured() {
        let mut b = Baseline::new(BaselineConfig::default(), 0.0);
        assert_eq!(hr_z(&b.observe(&window(60.0, 70.0))), None);
        assert!(!b.using_prior());
    }

    #[test]
    fn a_prior_stands_in_until_the_own_baseline_is_measured() {
        let mut b = Baseline::with_prior(BaselineConfig::default(), 0.0, stats(60.0, 5.0));
        assert!(b.using_prior());
        // judged against the prior from the first window: (70 - 60) / 5
        let z = hr_z(&b.observe(&window(60.0, 70.0))).unwrap();
        assert!((z - 2.0).abs() < 1e-12, "{z}");
        // the session's own baseline is still measured: 80 bpm with a little spread
        for (i, end) in (65..=300).step_by(5).enumerate() {
            b.observe(&window(end as f64, 80.0 + (i % 3) as f64 - 1.0));
        }
        let z = hr_z(&b.observe(&window(305.0, 90.0))).unwrap();
        assert!(!b.using_prior());
        let own = b.stats().unwrap().mean_of(Feature::MeanHr).unwrap();
        assert!((own - 80.0).abs() < 0.5, "{own}");
        // now against the own baseline (its small sd floored at 5 % of the mean)
        assert!((z - (90.0 - own) / (0.05 * own)).abs() < 1e-9, "{z}");
        assert_eq!(b.prior().unwrap().mean_of(Feature::MeanHr), Some(60.0));
    }
}
