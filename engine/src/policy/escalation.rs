//! Escalation: conditions a human should review (sustained high heart rate, sustained
//! high arousal estimated with confidence, a lost sensor, a collapse of signal quality).
//! While any holds, the session grounds on a neutral sound; it resumes once every
//! condition has been clear for [`Escalation::clear_for`].
//!
//! Runs on the control thread.

use super::event::{EventKind, SessionEvent};
use crate::protocol::Escalation;

/// The conditions, in reporting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Heart rate at or above the limit.
    HighHeartRate,
    /// Arousal at or above the limit with enough confidence.
    HighArousal,
    /// No data from the sensor.
    SensorLost,
    /// Data arrive but their quality is too low.
    QualityCollapse,
}

const CONDITIONS: usize = 4;

/// Watches the conditions.
#[derive(Clone, Debug)]
pub struct EscalationMonitor {
    cfg: Escalation,
    since: [Option<f64>; CONDITIONS],
    raised: [bool; CONDITIONS],
    active: bool,
    clear_since: Option<f64>,
    count: u32,
}

impl EscalationMonitor {
    /// A monitor with these thresholds.
    pub fn new(cfg: Escalation) -> Self {
        Self {
            cfg,
            since: [None; CONDITIONS],
            raised: [false; CONDITIONS],
            active: false,
            clear_since: None,
            count: 0,
        }
    }

    fn set(&mut self, c: Condition, on: bool, time: f64) {
        let i = c as usize;
        if on {
            self.since[i].get_or_insert(time);
        } else {
            self.since[i] = None;
            self.raised[i] = false;
        }
    }

    /// A feature window ending at `time`: its mean heart rate and quality.
    pub fn observe_window(&mut self, time: f64, heart_rate: Option<f64>, quality: f64) {
        let hr = heart_rate.is_some_and(|h| h >= self.cfg.heart_rate_bpm);
        self.set(Condition::HighHeartRate, hr, time);
        self.set(
            Condition::QualityCollapse,
            quality < self.cfg.quality_below,
            time,
        );
    }

    /// A usable arousal estimate at `time`.
    pub fn observe_estimate(&mut self, time: f64, arousal: f64, confidence: f64) {
        let high = arousal >= self.cfg.arousal && confidence >= self.cfg.confidence;
        self.set(Condition::HighArousal, high, time);
    }

    /// Whether the sensor is lost at `time` (the session decides).
    pub fn sensor(&mut self, time: f64, lost: bool) {
        self.set(Condition::SensorLost, lost, time);
        if lost {
            // no data: quality and heart-rate conditions are unknown, not held
            self.set(Condition::QualityCollapse, false, time);
            self.set(Condition::HighHeartRate, false, time);
        }
    }

    /// Whether the session is grounding.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Escalations raised so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Checks the durations at `time`, pushing escalation events; returns whether the
    /// session should ground.
    pub fn tick(&mut self, time: f64, events: &mut Vec<SessionEvent>) -> bool {
        let c = &self.cfg;
        let need = [
            c.heart_rate_for.as_secs_f64(),
            c.arousal_for.as_secs_f64(),
            c.sensor_lost_for.as_secs_f64(),
            c.quality_for.as_secs_f64(),
        ];
        let mut any = false;
        for (i, need) in need.iter().enumerate() {
            let Some(since) = self.since[i] else { continue };
            let held = time - since;
            if held < *need {
                continue;
            }
            any = true;
            if !self.raised[i] {
                self.raised[i] = true;
                self.count += 1;
                let what = match i {
                    0 => format!(
                        "heart rate at or above {:.0} bpm for {:.0} s",
                        c.heart_rate_bpm, held
                    ),
                    1 => format!(
                        "arousal at or above {:.2} (confidence ≥ {:.2}) for {:.0} s",
                        c.arousal, c.confidence, held
                    ),
                    2 => format!("sensor lost for {held:.0} s"),
                    _ => format!(
                        "signal quality below {:.2} for {:.0} s",
                        c.quality_below, held
                    ),
                };
                let action = if self.active {
                    "still grounding"
                } else {
                    "switching gradually to the grounding sound"
                };
                events.push(
                    SessionEvent::new(time, EventKind::Escalation, format!("{what}: {action}"))
                        .for_review(),
                );
            }
        }
        if any {
            self.active = true;
            self.clear_since = None;
        } else if self.active {
            let since = *self.clear_since.get_or_insert(time);
            if time - since >= c.clear_for.as_secs_f64() {
                self.active = false;
                self.clear_since = None;
                events.push(
                    SessionEvent::new(
                        time,
                        EventKind::Escalation,
                        format!(
                            "conditions clear for {:.0} s: leaving the grounding sound",
                            c.clear_for.as_secs_f64()
                        ),
                    )
                    .for_review(),
                );
            }
        }
        self.active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_once_grounds_and_clears() {
        let mut m = EscalationMonitor::new(Escalation::default());
        let mut ev = Vec::new();
        for i in 0..60 {
            let t = i as f64 * 5.0;
            m.observe_window(t, Some(140.0), 0.9);
            m.tick(t, &mut ev);
        }
        assert!(m.active());
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert!(ev[0].review && ev[0].message.contains("heart rate"));
        for i in 60..120 {
            let t = i as f64 * 5.0;
            m.observe_window(t, Some(80.0), 0.9);
            m.tick(t, &mut ev);
        }
        assert!(!m.active());
        assert_eq!(ev.len(), 2);
        assert_eq!(m.count(), 1);
    }
}
