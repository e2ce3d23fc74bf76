//! A transparent rule-based arousal estimator, used when no model is given or a model
//! fails to load.
//!
//! Each available feature becomes a signed score in standard-deviation units, pointing
//! up with arousal:
//!
//! | feature | with a baseline (z-score) | without one (absolute anchor) |
//! |---|---|---|
//! | `mean_hr` | +z | +(HR - 76 bpm) / 12 |
//! | `rmssd` | -z | -(ln RMSSD - ln 30 ms) / 0.5 |
//! | `eda_tonic` | +z | not used (0.14-5 µS between people) |
//! | `scr_rate` | +z | +(rate - 3 /min) / 2 |
//! | `resp_rate` | +z | +(rate - 15 /min) / 4 |
//!
//! Higher heart rate, lower vagal HRV (RMSSD), higher skin conductance and more
//! skin-conductance responses and faster breathing all go with sympathetic arousal
//! (DOMAIN.md, "Detecting arousal"). The scores are averaged with the weights of
//! [`RuleConfig`] and passed through a logistic: arousal = 1 / (1 + e^(-gain × score)).
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
use crate::biometrics::features::{Feature, FeatureWindow};

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

    /// Weighted mean score and the share of total weight it used, or `None` when no
    /// feature was available.
    fn score(&self, w: &FeatureWindow) -> (Option<f64>, f64, bool) {
        let c = &self.cfg;
        let abs = &w.features;
        let rel = w.relative.as_ref();
        let z = |f: Feature| rel.and_then(|r| r.get(f));
        let total = c.w_hr + c.w_rmssd + c.w_eda + c.w_scr + c.w_resp;
        let mut terms: Vec<(f64, f64)> = Vec::with_capacity(5);
        let has_baseline = rel.is_some();
        let hr = z(Feature::MeanHr).or_else(|| abs.get(Feature::MeanHr).map(|h| (h - 76.0) / 12.0));
        if let Some(s) = hr {
            terms.push((c.w_hr, s));
        }
        let rmssd = z(Feature::Rmssd).map(|v| -v).or_else(|| {
            abs.get(Feature::Rmssd)
                .filter(|r| *r > 0.0)
                .map(|r| -(r.ln() - 30f64.ln()) / 0.5)
        });
        if let Some(s) = rmssd {
            terms.push((c.w_rmssd, s));
        }
        if let Some(s) = z(Feature::EdaTonic) {
            terms.push((c.w_eda, s));
        }
        let scr =
            z(Feature::ScrRate).or_else(|| abs.get(Feature::ScrRate).map(|r| (r - 3.0) / 2.0));
        if let Some(s) = scr {
            terms.push((c.w_scr, s));
        }
        let resp =
            z(Feature::RespRate).or_else(|| abs.get(Feature::RespRate).map(|r| (r - 15.0) / 4.0));
        if let Some(s) = resp {
            terms.push((c.w_resp, s));
        }
        let used: f64 = terms.iter().map(|t| t.0).sum();
        if used <= 0.0 {
            return (None, 0.0, has_baseline);
        }
        // clamp each score so one wild feature cannot dominate
        let s = terms
            .iter()
            .map(|(w, s)| w * s.clamp(-4.0, 4.0))
            .sum::<f64>()
            / used;
        (Some(s), used / total, has_baseline)
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
        } else if w.quality < self.cfg.min_quality {
            Some(Abstain::LowQuality { quality: w.quality })
        } else if confidence < self.cfg.min_confidence {
            Some(Abstain::LowConfidence { confidence })
        } else {
            None
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
