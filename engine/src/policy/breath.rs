//! Breath pacing: the breath-guide swell starts at the listener's own breathing rate and
//! leads it, gradually, toward max(resonance ≈ 6/min, 75 % of the baseline rate),
//! holding whenever breathing does not follow.
//!
//! Loudness swells at 75 % of a listener's baseline breathing rate slowed breathing more
//! than a fixed 6/min, and EDA and heart rate fell with it (Leslie et al. 2019);
//! resonance breathing is about 6/min (docs/domain.md). The baseline is the median respiration
//! rate of the windows measured during the first [`BreathPacing::baseline`] of the session
//! (from a respiration signal, or derived from RR or PPG by the feature extractor), or a
//! listener's remembered baseline.
//!
//! Runs on the control thread.

use super::event::{EventKind, SessionEvent};
use crate::protocol::BreathPacing;

/// Breathing rates taken as measurements of spontaneous breathing, breaths/min.
pub const PLAUSIBLE_PER_MIN: std::ops::RangeInclusive<f64> = 7.0..=35.0;

/// What the guide is doing (for events: each change is reported once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreathState {
    /// At the preset's rate, no baseline known yet.
    Waiting,
    /// Moving to, or at, the listener's baseline rate.
    Matching,
    /// Slowing toward the target.
    Leading,
    /// Breathing is not following: the guide waits.
    Holding,
    /// The target is reached.
    AtTarget,
    /// Held because the sensor is lost or the session is fading.
    Frozen,
    /// Going to the grounding rate during an escalation.
    Grounding,
    /// Breath pacing is off: the preset's rate.
    Off,
}

/// The breath pacer.
#[derive(Clone, Debug)]
pub struct BreathPacer {
    cfg: BreathPacing,
    guide: f64,
    samples: Vec<f64>,
    baseline: Option<f64>,
    measured: Option<f64>,
    state: BreathState,
    remembered: bool,
}

impl BreathPacer {
    /// A pacer whose guide starts at the preset's rate `start_per_min`; `remembered` is
    /// a baseline from the listener's earlier sessions, used until this session has its own.
    pub fn new(cfg: BreathPacing, start_per_min: f64, remembered: Option<f64>) -> Self {
        Self {
            cfg,
            guide: start_per_min,
            samples: Vec::new(),
            baseline: remembered.filter(|b| b.is_finite() && (3.0..=40.0).contains(b)),
            measured: None,
            state: if cfg.enabled {
                BreathState::Waiting
            } else {
                BreathState::Off
            },
            remembered: remembered.is_some(),
        }
    }

    /// A window's respiration rate (breaths/min) ending at `time`. Rates outside
    /// [`PLAUSIBLE_PER_MIN`] are not taken as spontaneous breathing (at rest adults breathe
    /// 12-20 times a minute; estimates at the edges of the band come from noisy intervals).
    pub fn observe(&mut self, time: f64, resp_per_min: Option<f64>) {
        let Some(r) = resp_per_min.filter(|r| PLAUSIBLE_PER_MIN.contains(r)) else {
            return;
        };
        self.measured = Some(r);
        if time <= self.cfg.baseline.as_secs_f64().max(60.0) || self.samples.is_empty() {
            self.samples.push(r);
        }
    }

    /// The baseline breathing rate, once known.
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// The latest measured breathing rate.
    pub fn measured(&self) -> Option<f64> {
        self.measured
    }

    /// The rate the guide leads toward, once the baseline is known.
    pub fn target(&self) -> Option<f64> {
        self.baseline.map(|b| {
            (b * self.cfg.fraction_of_baseline)
                .max(self.cfg.floor_per_min)
                .min(b)
        })
    }

    /// The guide's current rate, breaths/min.
    pub fn guide(&self) -> f64 {
        self.guide
    }

    /// What the guide is doing.
    pub fn state(&self) -> BreathState {
        self.state
    }

    /// Advances by `dt` seconds at `time`. `leading` is true in lead and sustain phases;
    /// `frozen` holds the guide (sensor lost, fading); `grounding` sends it to the
    /// grounding rate. Events go to `events`.
    pub fn tick(
        &mut self,
        time: f64,
        dt: f64,
        leading: bool,
        frozen: bool,
        grounding: Option<f64>,
        events: &mut Vec<SessionEvent>,
    ) -> f64 {
        if !self.cfg.enabled {
            return self.guide;
        }
        let fresh = self.baseline.is_none() || self.remembered;
        if fresh && time >= self.cfg.baseline.as_secs_f64() && !self.samples.is_empty() {
            let mut s = self.samples.clone();
            s.sort_by(f64::total_cmp);
            let median = s[s.len() / 2];
            self.baseline = Some(median);
            self.remembered = false;
            let t = self.target().unwrap_or(median);
            events.push(SessionEvent::new(
                time,
                EventKind::Breath,
                format!(
                    "baseline breathing {median:.1}/min (median of {} windows): guide will lead to {t:.1}/min",
                    s.len()
                ),
            ));
        }
        // Where the listener breathes: the baseline once known, else the latest rate.
        let listener = self.baseline.or(self.measured);
        let (state, goal, rate, why) = if let Some(g) = grounding {
            (
                BreathState::Grounding,
                g,
                self.cfg.match_per_min,
                String::new(),
            )
        } else if frozen {
            (BreathState::Frozen, self.guide, 0.0, String::new())
        } else if let (Some(b), Some(target), true) = (self.baseline, self.target(), leading) {
            let not_following = self
                .measured
                .is_some_and(|m| m > self.guide + self.cfg.tolerance_per_min);
            // Leading means moving away from the listener's own rate toward the target;
            // a guide on the far side of the target first comes back at the matching rate.
            let away = (target - self.guide) * (target - b) > 0.0
                && (self.guide - b).abs() < (target - b).abs();
            if (self.guide - target).abs() < 0.05 {
                (
                    BreathState::AtTarget,
                    target,
                    self.cfg.lead_per_min,
                    String::new(),
                )
            } else if !away && (self.guide - b).abs() >= (target - b).abs() {
                (
                    BreathState::Matching,
                    target,
                    self.cfg.match_per_min,
                    String::new(),
                )
            } else if not_following {
                let m = self.measured.unwrap_or(0.0);
                (
                    BreathState::Holding,
                    self.guide,
                    0.0,
                    format!(
                        "breathing {m:.1}/min is not following the guide at {:.1}/min: holding the pace",
                        self.guide
                    ),
                )
            } else {
                (
                    BreathState::Leading,
                    target,
                    self.cfg.lead_per_min,
                    String::new(),
                )
            }
        } else if let Some(l) = listener {
            (
                BreathState::Matching,
                l,
                self.cfg.match_per_min,
                String::new(),
            )
        } else {
            (BreathState::Waiting, self.guide, 0.0, String::new())
        };
        let step = rate / 60.0 * dt;
        self.guide += (goal - self.guide).clamp(-step, step);
        if state != self.state {
            let message = match state {
                BreathState::Holding => why,
                BreathState::Leading => format!(
                    "leading the breath guide from {:.1} toward {:.1}/min at {:.1}/min per minute",
                    self.guide, goal, self.cfg.lead_per_min
                ),
                BreathState::Matching => {
                    format!("breath guide matches the listener's breathing ({goal:.1}/min)")
                }
                BreathState::AtTarget => {
                    format!("breath guide reached its target of {goal:.1}/min")
                }
                BreathState::Frozen => format!("breath guide held at {:.1}/min", self.guide),
                BreathState::Grounding => {
                    format!("breath guide going to the grounding pace of {goal:.1}/min")
                }
                BreathState::Waiting => format!(
                    "no breathing rate measured yet: breath guide stays at {:.1}/min",
                    self.guide
                ),
                BreathState::Off => String::new(),
            };
            events.push(SessionEvent::new(time, EventKind::Breath, message));
            self.state = state;
        }
        self.guide
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut BreathPacer, from: f64, to: f64, leading: bool, resp: Option<f64>) {
        let mut ev = Vec::new();
        let mut t = from;
        while t < to {
            if (t * 10.0).round() as i64 % 50 == 0 {
                p.observe(t, resp.or(Some(p.guide())));
            }
            p.tick(t, 0.1, leading, false, None, &mut ev);
            t += 0.1;
        }
    }

    #[test]
    fn leads_to_75_percent_of_baseline_and_holds_when_not_followed() {
        let mut p = BreathPacer::new(BreathPacing::default(), 6.0, None);
        run(&mut p, 0.0, 120.1, false, Some(16.0));
        assert_eq!(p.baseline(), Some(16.0));
        assert_eq!(p.target(), Some(12.0));
        // matching: the guide moved from 6 to 16 at 2/min per minute... only after the
        // baseline was known (at 120 s)
        run(&mut p, 120.1, 420.2, false, Some(16.0));
        assert!((p.guide() - 16.0).abs() < 0.01, "{}", p.guide());
        // leading while breathing follows: 0.5/min per minute
        run(&mut p, 420.0, 660.0, true, None);
        assert!((p.guide() - 14.0).abs() < 0.05, "{}", p.guide());
        // breathing stays at 16: more than 1.5 above the guide → hold
        run(&mut p, 660.0, 900.0, true, Some(16.0));
        assert!((p.guide() - 14.0).abs() < 0.6, "{}", p.guide());
        assert_eq!(p.state(), BreathState::Holding);
        // follows again → reaches the target and stays
        run(&mut p, 900.0, 1800.0, true, None);
        assert!((p.guide() - 12.0).abs() < 1e-9, "{}", p.guide());
    }

    #[test]
    fn resonance_floor_and_slow_breathers() {
        let mut p = BreathPacer::new(BreathPacing::default(), 6.0, Some(7.0));
        assert_eq!(p.target(), Some(6.0));
        p.observe(10.0, Some(6.1));
        assert_eq!(
            p.measured(),
            None,
            "implausibly slow for spontaneous breathing"
        );
        let mut p2 = BreathPacer::new(BreathPacing::default(), 6.0, Some(5.0));
        assert_eq!(p2.target(), Some(5.0), "never speeds breathing up");
        run(&mut p, 0.0, 10.0, false, None);
        let _ = &mut p2;
    }
}
