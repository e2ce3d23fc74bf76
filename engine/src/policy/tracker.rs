//! What the policy knows of the listener's arousal: a smoothed level, its trend and how
//! long it has stayed high or calm. Fed with usable estimates only.

use std::collections::VecDeque;

/// Smoothed arousal, trend and durations.
#[derive(Clone, Debug)]
pub struct ArousalTracker {
    tau_s: f64,
    span_s: f64,
    high: f64,
    smoothed: Option<f64>,
    last_time: f64,
    history: VecDeque<(f64, f64)>,
    high_since: Option<f64>,
}

impl ArousalTracker {
    /// Smoothing time constant `tau_s`, trend span `span_s`, "high" threshold `high`.
    pub fn new(tau_s: f64, span_s: f64, high: f64) -> Self {
        Self {
            tau_s: tau_s.max(0.0),
            span_s: span_s.max(1.0),
            high,
            smoothed: None,
            last_time: 0.0,
            history: VecDeque::new(),
            high_since: None,
        }
    }

    /// Adds a usable estimate `arousal` at `time`.
    pub fn push(&mut self, time: f64, arousal: f64) {
        let a = arousal.clamp(0.0, 1.0);
        let s = match self.smoothed {
            None => a,
            Some(s) => {
                let dt = (time - self.last_time).max(0.0);
                let k = if self.tau_s > 0.0 {
                    1.0 - (-dt / self.tau_s).exp()
                } else {
                    1.0
                };
                s + (a - s) * k
            }
        };
        self.smoothed = Some(s);
        self.last_time = time;
        self.history.push_back((time, a));
        while self
            .history
            .front()
            .is_some_and(|(t, _)| *t < time - self.span_s)
        {
            self.history.pop_front();
        }
        if s >= self.high {
            self.high_since.get_or_insert(time);
        } else {
            self.high_since = None;
        }
    }

    /// Forgets the trend (after a gap in the data the old points say nothing).
    pub fn reset_trend(&mut self) {
        self.history.clear();
        self.high_since = None;
    }

    /// The smoothed arousal, once an estimate has come.
    pub fn level(&self) -> Option<f64> {
        self.smoothed
    }

    /// Least-squares slope of arousal over the trend span, per minute; `None` with fewer
    /// than three points or less than half the span covered.
    pub fn trend_per_min(&self) -> Option<f64> {
        let n = self.history.len();
        if n < 3 {
            return None;
        }
        let (t0, t1) = (self.history[0].0, self.history[n - 1].0);
        if t1 - t0 < self.span_s * 0.5 {
            return None;
        }
        let mt = self.history.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let ma = self.history.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (t, a) in &self.history {
            sxy += (t - mt) * (a - ma);
            sxx += (t - mt) * (t - mt);
        }
        (sxx > 0.0).then(|| 60.0 * sxy / sxx)
    }

    /// Seconds the smoothed arousal has stayed at or above the high threshold, at `time`.
    pub fn high_for(&self, time: f64) -> f64 {
        self.high_since.map_or(0.0, |t| time - t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_and_high_duration() {
        let mut t = ArousalTracker::new(10.0, 60.0, 0.85);
        for i in 0..=12 {
            let time = i as f64 * 5.0;
            t.push(time, 0.5 + 0.005 * time); // +0.3 per minute
        }
        let slope = t.trend_per_min().unwrap();
        assert!((slope - 0.3).abs() < 1e-9, "{slope}");
        assert_eq!(t.high_for(60.0), 0.0);
        for i in 13..40 {
            t.push(i as f64 * 5.0, 0.9);
        }
        assert!(t.high_for(195.0) > 60.0);
        assert!(t.level().unwrap() > 0.85);
    }
}
