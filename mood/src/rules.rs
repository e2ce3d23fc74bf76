//! A transparent rule-based arousal estimator, used when no model is given or a model
//! fails to load.
//!
//! Each available feature becomes a signed score in standard-deviation units, pointing
//! up with arousal, once against population anchors (absolute) and, when the person's
//! baseline is known, once as a z-score against it (relative):
//!
//! | feature | relative (z-score) | absolute (anchor) |
//! |---|---|---|
//! | `mean_hr` | +z | +(HR - 76 bpm) / 12 |
//! | `rmssd` | -z | -(ln RMSSD - ln 30 ms) / 0.5 |
//! | `eda_tonic` | +z | not used (0.14-5 µS between people) |
//! | `scr_rate` | +z | +(rate - 3 /min) / 2 |
//! | `resp_rate` | +z | +(rate - 15 /min) / 4 |
//!
//! Higher heart rate, lower vagal HRV (RMSSD), higher skin conductance and more
//! skin-conductance responses and faster breathing all go with sympathetic arousal
//! (docs/domain.md, "Detecting arousal"). The scores are averaged with the weights of
//! [`RuleConfig`] (absolute and relative separately; the score is the mean of the two when
//! both exist, so the level keeps its population meaning while the person's own changes
//! sharpen it) and passed through a logistic: arousal = 1 / (1 + e^(-gain × score)).
//! The absolute anchors describe a seated adult at rest, neither calm nor stressed (heart
//! rate 76 bpm, RMSSD 30 ms, 3 SCRs and 15 breaths a minute), who scores 0.5. They are
//! population rules of thumb, so without a baseline the confidence
//! is scaled down ([`RuleConfig::no_baseline_confidence`]).
//!
//! Confidence = window quality × share of the total weight that was available ×
//! (1, or the no-baseline factor). The estimator abstains when quality is below
//! `min_quality`, when neither cardiac nor EDA features exist, or when the confidence is
//! below `min_confidence`.
//!
//! Runs on the control thread.

use super::estimate::{Abstain, ArousalEstimate, ArousalEstimator};
use isochord_biometrics::features::{Feature, FeatureWindow};

/// Weights and thresholds of the [`RuleEstimator`].
#[derive(Clone, Debug, PartialEq)]
pub struct RuleConfig {
    /// Weight of mean heart rate.
    pub w_hr: f64,
    /// Weight of RMSSD (sign inverted).
    pub w_rmssd: f64,
    /// Weight of tonic EDA (only relative to a baseline).
    pub w_eda: f64,
    /// Weight of the SCR rate.
    pub w_scr: f64,
    /// Weight of the respiration rate.
    pub w_resp: f64,
    /// Logistic gain applied to the weighted mean score.
    pub gain: f64,
    /// Window quality below which the estimator abstains.
    pub min_quality: f64,
    /// Confidence below which the estimator abstains.
    pub min_confidence: f64,
    /// Confidence factor when no baseline is known yet.
    pub no_baseline_confidence: f64,
}

impl Default for RuleConfig {
    fn default() -> Self {
        Self {
            w_hr: 1.0,
            w_rmssd: 0.6,
            w_eda: 0.8,
            w_scr: 0.5,
            w_resp: 0.4,
            gain: 1.2,
            min_quality: 0.4,
            min_confidence: 0.25,
            no_baseline_confidence: 0.6,
        }
    }
}

/// The rule-based estimator (see the module documentation for the rules).
#[derive(Clone, Debug, Default)]
pub struct RuleEstimator {
    cfg: RuleConfig,
}

impl RuleEstimator {
    /// An estimator with these weights.
    pub fn new(cfg: RuleConfig) -> Self {
        Self { cfg }
    }

    /// Weighted mean of the absolute scores and of the baseline-relative ones, and the
    /// share of the total weight available.
    fn score(&self, w: &FeatureWindow) -> (Option<f64>, f64, bool) {
        let c = &self.cfg;
        let abs = &w.features;
        let total = c.w_hr + c.w_rmssd + c.w_eda + c.w_scr + c.w_resp;
        let absolute = [
            (c.w_hr, abs.get(Feature::MeanHr).map(|h| (h - 76.0) / 12.0)),
            (
                c.w_rmssd,
                abs.get(Feature::Rmssd)
                    .filter(|r| *r > 0.0)
                    .map(|r| -(r.ln() - 30f64.ln()) / 0.5),
            ),
            (c.w_eda, None),
            (c.w_scr, abs.get(Feature::ScrRate).map(|r| (r - 3.0) / 2.0)),
            (
                c.w_resp,
                abs.get(Feature::RespRate).map(|r| (r - 15.0) / 4.0),
            ),
        ];
        let z = |f: Feature| w.relative.as_ref().and_then(|r| r.get(f));
        let relative = [
            (c.w_hr, z(Feature::MeanHr)),
            (c.w_rmssd, z(Feature::Rmssd).map(|v| -v)),
            (c.w_eda, z(Feature::EdaTonic)),
            (c.w_scr, z(Feature::ScrRate)),
            (c.w_resp, z(Feature::RespRate)),
        ];
        // clamp each score so one wild feature cannot dominate
        let mean = |terms: &[(f64, Option<f64>); 5]| {
            let used: f64 = terms.iter().filter(|t| t.1.is_some()).map(|t| t.0).sum();
            (used > 0.0).then(|| {
                terms
                    .iter()
                    .filter_map(|(w, s)| s.map(|s| w * s.clamp(-4.0, 4.0)))
                    .sum::<f64>()
                    / used
            })
        };
        let coverage = (0..5)
            .filter(|&i| absolute[i].1.is_some() || relative[i].1.is_some())
            .map(|i| absolute[i].0)
            .sum::<f64>()
            / total;
        let (a, r) = (mean(&absolute), mean(&relative));
        let score = match (a, r) {
            (Some(a), Some(r)) => Some(0.5 * (a + r)),
            (a, r) => a.or(r),
        };
        (score, coverage, r.is_some())
    }
}

impl ArousalEstimator for RuleEstimator {
    fn estimate(&mut self, w: &FeatureWindow) -> ArousalEstimate {
        let (score, coverage, has_baseline) = self.score(w);
        let arousal = score.map_or(0.5, |s| 1.0 / (1.0 + (-self.cfg.gain * s).exp()));
        let factor = if has_baseline {
            1.0
        } else {
            self.cfg.no_baseline_confidence
        };
        let confidence = (w.quality.clamp(0.0, 1.0) * coverage * factor).clamp(0.0, 1.0);
        let cardiac = w.features.get(Feature::MeanHr).is_some();
        let eda = w.features.get(Feature::EdaTonic).is_some()
            || w.features.get(Feature::ScrRate).is_some();
        let abstain = if !cardiac && !eda {
            Some(Abstain::MissingFeatures(vec![
                Feature::MeanHr.name().to_string(),
                Feature::EdaTonic.name().to_string(),
            ]))
        } else {
            Abstain::below_floors(
                w.quality,
                self.cfg.min_quality,
                confidence,
                self.cfg.min_confidence,
            )
        };
        ArousalEstimate {
            time: w.end,
            arousal,
            confidence,
            probabilities: vec![("calm".into(), 1.0 - arousal), ("aroused".into(), arousal)],
            abstain,
            estimator: self.name(),
        }
    }

    fn name(&self) -> String {
        "rules".into()
    }
}
