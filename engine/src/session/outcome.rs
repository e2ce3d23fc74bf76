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
    /// The resting feature baseline this session measured over its first minutes (not
    /// a prior it was given), when it measured one.
    pub resting_baseline: Option<crate::biometrics::baseline::BaselineStats>,
    /// Share of the weekly sound allowance used.
    pub allowance_used: f64,
    /// Equivalent continuous level, dB SPL.
    pub leq_db: Option<f64>,
    /// Readings and waveform chunks the input delivered and the session used (waveform
    /// samples the features rejected are subtracted).
    pub input_items: u64,
    /// Input items rejected: by the source (malformed, implausible, unreadable) and by
    /// the features (out of range, out of order beyond the windows' reach).
    pub input_rejected: u64,
    /// Input items well formed but not used (unknown columns, keys, addresses).
    pub input_ignored: u64,
    /// Input items lost before the session could use them: dropped because the input
    /// thread's channel was full, or lost in the kernel (an OSC flood).
    pub input_lost: u64,
    /// Why the session log could not be written (the first error), if it could not: the
    /// run must fail, since the log is the session's record.
    pub log_error: Option<String>,
}

impl SessionOutcome {
    /// The session's reward for the palette bandit: how far arousal moved toward the goal
    /// once the session had had two minutes to act, on the 0 (calm) .. 1 (stressed)
    /// scale, so it lies in -1..1, the scale the bandit's prior is set for
    /// ([`crate::personal::bandit`]). For calming goals (sleep, relaxation) it is the
    /// arousal over the first two minutes of estimates minus the mean arousal after them
    /// (to the end, or the fade); for uplift the reverse; for focus the fall in distance
    /// from `goal_arousal`. `None` without enough usable estimates.
    pub fn reward(&self, goal: crate::preset::Goal, goal_arousal: f64) -> Option<f64> {
        use crate::preset::Goal;
        let (s, a) = (self.arousal_start?, self.arousal_after_start?);
        if !(s.is_finite() && a.is_finite()) {
            return None;
        }
        Some(match goal {
            Goal::Sleep | Goal::Relaxation => s - a,
            Goal::Uplift => a - s,
            Goal::Focus => (s - goal_arousal).abs() - (a - goal_arousal).abs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Goal;

    fn outcome(start: f64, after: f64) -> SessionOutcome {
        SessionOutcome {
            arousal_start: Some(start),
            arousal_end: Some(after),
            arousal_after_start: Some(after),
            usable_estimates: (10, 10),
            escalations: 0,
            events: 0,
            breath_baseline: None,
            resting_baseline: None,
            allowance_used: 0.0,
            leq_db: None,
            input_items: 0,
            input_rejected: 0,
            input_ignored: 0,
            input_lost: 0,
            log_error: None,
        }
    }

    #[test]
    fn the_reward_stays_on_the_scale_the_bandit_prior_is_set_for() {
        // a calm start that ends stressed: the worst session, not -9
        let worst = outcome(0.05, 0.95).reward(Goal::Relaxation, 0.2).unwrap();
        assert!((worst + 0.9).abs() < 1e-12, "{worst}");
        assert!((outcome(0.8, 0.3).reward(Goal::Sleep, 0.2).unwrap() - 0.5).abs() < 1e-12);
        assert!((outcome(0.1, 0.4).reward(Goal::Uplift, 0.6).unwrap() - 0.3).abs() < 1e-12);
        assert!((outcome(0.9, 0.5).reward(Goal::Focus, 0.4).unwrap() - 0.4).abs() < 1e-12);
        for (s, a) in [(0.0, 1.0), (1.0, 0.0), (0.02, 0.98), (0.5, 0.5)] {
            for goal in [Goal::Sleep, Goal::Relaxation, Goal::Uplift, Goal::Focus] {
                let r = outcome(s, a).reward(goal, 0.3).unwrap();
                assert!((-1.0..=1.0).contains(&r), "{goal:?} {s} → {a}: {r}");
            }
        }
        assert_eq!(outcome(f64::NAN, 0.5).reward(Goal::Sleep, 0.2), None);
    }
}
