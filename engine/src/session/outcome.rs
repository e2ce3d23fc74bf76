//! What a finished adaptive session measured: for the profile, the summary and the log.
//! Its own module, so that the session log and the controller both use it without
//! importing each other.

/// What a finished session measured, for the profile and the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionOutcome {
    /// Mean usable arousal over the first `span` of estimates (minutes 1-3).
    pub arousal_start: Option<f64>,
    /// Mean usable arousal over the last `span` before the end (or the fade).
    pub arousal_end: Option<f64>,
    /// Mean usable arousal from the end of the first 2 minutes of estimates to the end
    /// (or the fade): how soon and how far the listener moved.
    pub arousal_after_start: Option<f64>,
    /// Usable estimates / all estimates.
    pub usable_estimates: (usize, usize),
    /// Escalations raised.
    pub escalations: u32,
    /// Events, all of them.
    pub events: usize,
    /// Breathing baseline measured, breaths/min.
    pub breath_baseline: Option<f64>,
    /// Share of the weekly sound allowance used.
    pub allowance_used: f64,
    /// Equivalent continuous level, dB SPL.
    pub leq_db: Option<f64>,
}

impl SessionOutcome {
    /// The session's reward for the palette bandit: how far and how soon arousal moved
    /// toward the goal, relative to where it started. For calming goals (sleep,
    /// relaxation) it is (start - mean after the first 2 minutes) / start; for uplift
    /// the reverse; for focus the fall in distance from the goal arousal. `None` without
    /// enough usable estimates.
    pub fn reward(&self, goal: crate::preset::Goal, goal_arousal: f64) -> Option<f64> {
        use crate::preset::Goal;
        let (s, a) = (self.arousal_start?, self.arousal_after_start?);
        let scale = |x: f64| x.abs().max(0.1);
        Some(match goal {
            Goal::Sleep | Goal::Relaxation => (s - a) / scale(s),
            Goal::Uplift => (a - s) / scale(1.0 - s),
            Goal::Focus => {
                let (ds, da) = ((s - goal_arousal).abs(), (a - goal_arousal).abs());
                (ds - da) / scale(ds)
            }
        })
    }
}
