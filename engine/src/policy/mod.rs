//! The policy that closes the loop: from arousal estimates to the sound, following a
//! preset's [`Protocol`].
//!
//! * **Iso principle** (Altshuler 1948): the sound sits at a *sound arousal* level between
//!   the protocol's calm and aroused sounds. While matching, the level follows the
//!   measured arousal; while leading, it moves toward the goal at the lead rate, never more
//!   than [`Protocol::max_lead`] ahead of the listener.
//! * **Feedback**: arousal moving against the goal faster than the feedback threshold
//!   pauses the lead; arousal staying high slows it. Nothing ever makes the lead faster.
//! * **Abstention**: when the estimator abstains or signal quality is poor the sound holds,
//!   and an event says why.
//! * **Sensor loss**: no data for [`SensorLoss::after`](crate::protocol::SensorLoss) →
//!   hold; after the hold time, drift slowly back to the preset's own sound.
//! * **Escalation**: see [`EscalationMonitor`]; the sound moves to the grounding point.
//! * **Breath pacing**: see [`BreathPacer`].
//! * Every change of what the policy does is a [`SessionEvent`] with its reason.
//!
//! The sound the policy asks for moves at most at the matching rate (in each parameter's
//! share of the calm–aroused span), so even a switch to grounding is gradual; the
//! soundscape's own smoothers bound every parameter again.
//!
//! Runs on the control thread, deterministically: the same estimates at the same times
//! give the same decisions, live or offline.

mod breath;
mod escalation;
mod event;
mod tracker;

pub use breath::{BreathPacer, BreathState, PLAUSIBLE_PER_MIN};
pub use escalation::{Condition, EscalationMonitor};
pub use event::{EventKind, SessionEvent};
pub use tracker::ArousalTracker;

use crate::biometrics::features::{Feature, FeatureWindow};
use crate::mood::ArousalEstimate;
use crate::protocol::{PhaseKind, PhaseSpan, Protocol, SoundPoint};
use isochord_dsp::{Command, Param, SoundscapeConfig};

/// What the policy is doing with the sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// No usable estimate yet: the preset's own sound.
    Waiting,
    /// Following the measured arousal.
    Matching,
    /// Moving toward the goal.
    Leading,
    /// Leading at a reduced rate: arousal stays high.
    Slowed,
    /// Lead paused: arousal moves against the goal.
    Paused,
    /// The sound is as far ahead of the listener as the protocol allows.
    Waiting4Listener,
    /// At the goal.
    AtGoal,
    /// Going back to meet a listener whose arousal moved away from the goal.
    Rematching,
    /// Holding: the estimator abstains or quality is poor.
    Holding,
    /// Holding: the sensor is lost.
    SensorHold,
    /// Drifting back to the preset's sound after a long sensor loss.
    Drifting,
    /// On the grounding sound (escalation).
    Grounding,
    /// The session is fading out.
    Fading,
}

impl Action {
    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Waiting => "waiting",
            Action::Matching => "matching",
            Action::Leading => "leading",
            Action::Slowed => "slowed",
            Action::Paused => "paused",
            Action::Waiting4Listener => "waiting_for_listener",
            Action::AtGoal => "at_goal",
            Action::Rematching => "rematching",
            Action::Holding => "holding",
            Action::SensorHold => "sensor_hold",
            Action::Drifting => "drifting",
            Action::Grounding => "grounding",
            Action::Fading => "fading",
        }
    }
}

/// A snapshot of the policy for status lines and logs.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyStatus {
    /// Current phase name.
    pub phase: String,
    /// Current phase kind.
    pub phase_kind: PhaseKind,
    /// What the policy does.
    pub action: Action,
    /// Why, in a sentence.
    pub reason: String,
    /// Sound arousal level 0..1.
    pub level: f64,
    /// Smoothed measured arousal, once known.
    pub arousal: Option<f64>,
    /// Arousal trend per minute, once known.
    pub trend_per_min: Option<f64>,
    /// Breath guide rate, breaths/min.
    pub breath_guide: f64,
    /// Baseline breathing rate, once known.
    pub breath_baseline: Option<f64>,
    /// Target breathing rate, once known.
    pub breath_target: Option<f64>,
    /// Sound the policy asks for.
    pub sound: SoundPoint,
    /// Grounding after an escalation.
    pub grounding: bool,
    /// Seconds since the last data arrived (when lost).
    pub sensor_lost_s: Option<f64>,
    /// Escalations raised.
    pub escalations: u32,
}

/// The adaptive policy.
#[derive(Clone, Debug)]
pub struct Policy {
    protocol: Protocol,
    timeline: Vec<PhaseSpan>,
    duration: f64,
    neutral: f64,
    level: f64,
    out: SoundPoint,
    sent: [f32; 6],
    tracker: ArousalTracker,
    breath: BreathPacer,
    escalation: EscalationMonitor,
    latest: Option<ArousalEstimate>,
    last_quality: Option<f64>,
    last_data: Option<f64>,
    lost_since: Option<f64>,
    calm_since: Option<f64>,
    phase: usize,
    fade_at: Option<f64>,
    action: Action,
    reason: String,
    last_tick: Option<f64>,
}

const FADE_EPS: f64 = 1e-9;

impl Policy {
    /// A policy for a session of `duration_s` seconds over `config` (the sound actually
    /// played, palette applied). `breath_baseline` is the listener's remembered breathing
    /// rate, if any.
    pub fn new(
        protocol: Protocol,
        config: &SoundscapeConfig,
        duration_s: f64,
        breath_baseline: Option<f64>,
    ) -> Self {
        let neutral = protocol.neutral_level(config);
        let start = SoundPoint {
            tempo: config.start.tempo,
            brightness: config.start.brightness,
            density: config.start.density,
            energy: config.start.energy,
            reverb: config.start.reverb,
        };
        let f = protocol.feedback;
        Self {
            timeline: protocol.timeline(duration_s),
            duration: duration_s,
            neutral,
            level: neutral,
            out: start,
            sent: [f32::NAN; 6],
            tracker: ArousalTracker::new(
                f.smoothing.as_secs_f64(),
                f.trend_span.as_secs_f64(),
                f.high,
            ),
            breath: BreathPacer::new(
                protocol.breath,
                config.start.breath_rate as f64,
                breath_baseline,
            ),
            escalation: EscalationMonitor::new(protocol.escalation),
            latest: None,
            last_quality: None,
            last_data: None,
            lost_since: None,
            calm_since: None,
            phase: usize::MAX,
            fade_at: None,
            action: Action::Waiting,
            reason: "waiting for the first arousal estimate".into(),
            last_tick: None,
            protocol,
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> &Protocol {
        &self.protocol
    }

    /// Data arrived from a sensor at session time `time`.
    pub fn data_seen(&mut self, time: f64) {
        self.last_data = Some(self.last_data.map_or(time, |t| t.max(time)));
    }

    /// A feature window and its estimate.
    pub fn observe(&mut self, window: &FeatureWindow, estimate: &ArousalEstimate) {
        let t = window.end;
        self.last_quality = Some(window.quality);
        self.escalation
            .observe_window(t, window.features.get(Feature::MeanHr), window.quality);
        self.breath
            .observe(t, window.features.get(Feature::RespRate));
        if estimate.usable() {
            self.tracker.push(t, estimate.arousal);
            self.escalation
                .observe_estimate(t, estimate.arousal, estimate.confidence);
            let calm = self
                .fade_phase()
                .and_then(|p| p.early_when_calm)
                .is_some_and(|e| self.tracker.level().is_some_and(|a| a < e.below));
            if calm {
                self.calm_since.get_or_insert(t);
            } else {
                self.calm_since = None;
            }
        } else {
            self.calm_since = None;
        }
        self.latest = Some(estimate.clone());
    }

    fn fade_phase(&self) -> Option<&crate::protocol::Phase> {
        self.protocol
            .phases
            .last()
            .filter(|p| p.kind == PhaseKind::Fade)
    }

    /// The current status.
    pub fn status(&self) -> PolicyStatus {
        let phase = self.protocol.phases.get(self.phase);
        PolicyStatus {
            phase: phase.map_or_else(String::new, |p| p.name.clone()),
            phase_kind: phase.map_or(PhaseKind::Match, |p| p.kind),
            action: self.action,
            reason: self.reason.clone(),
            level: self.level,
            arousal: self.tracker.level(),
            trend_per_min: self.tracker.trend_per_min(),
            breath_guide: self.breath.guide(),
            breath_baseline: self.breath.baseline(),
            breath_target: self.breath.target(),
            sound: self.out,
            grounding: self.escalation.active(),
            sensor_lost_s: self
                .lost_since
                .map(|s| self.last_tick.unwrap_or(s) - self.last_data.unwrap_or(0.0)),
            escalations: self.escalation.count(),
        }
    }

    /// The breath pacer (baseline and measured rates).
    pub fn breath(&self) -> &BreathPacer {
        &self.breath
    }

    fn decide(
        &mut self,
        action: Action,
        reason: String,
        time: f64,
        events: &mut Vec<SessionEvent>,
    ) {
        if action != self.action {
            events.push(SessionEvent::new(time, EventKind::Decision, reason.clone()));
        }
        self.action = action;
        self.reason = reason;
    }

    fn toward(value: f64, goal: f64, per_min: f64, dt: f64) -> f64 {
        let step = per_min / 60.0 * dt;
        value + (goal - value).clamp(-step, step)
    }

    /// One control tick at session time `time`: decides, and pushes the commands that
    /// change the sound to `out` and what happened to `events`.
    pub fn tick(&mut self, time: f64, out: &mut Vec<Command>, events: &mut Vec<SessionEvent>) {
        let dt = self.last_tick.map_or(0.0, |t| (time - t).max(0.0));
        self.last_tick = Some(time);

        // Phase: by the timeline, or a fade started early.
        let mut idx = self
            .timeline
            .iter()
            .rev()
            .find(|s| s.start <= time + FADE_EPS)
            .map_or(0, |s| s.index);
        let fade = self.fade_phase().map(|p| (p.early_when_calm, p.duration));
        if let (Some((Some(e), fade_len)), Some(since)) = (fade, self.calm_since) {
            {
                if self.fade_at.is_none()
                    && time >= e.not_before.as_secs_f64()
                    && time - since >= e.sustained.as_secs_f64()
                    && !self.escalation.active()
                {
                    self.fade_at = Some(time);
                    let secs = fade_len.as_secs_f64().min(self.duration - time).max(1.0);
                    events.push(SessionEvent::new(
                        time,
                        EventKind::Decision,
                        format!(
                            "listener calm (arousal below {:.2}) for {:.0} s: starting the {:.0}-s fade early",
                            e.below,
                            time - since,
                            secs
                        ),
                    ));
                    out.push(Command::FadeOut(secs as f32));
                }
            }
        }
        if self.fade_at.is_some() {
            idx = self.protocol.phases.len() - 1;
        }
        if idx != self.phase {
            let p = &self.protocol.phases[idx];
            events.push(SessionEvent::new(
                time,
                EventKind::Phase,
                format!("phase {} ({:?})", p.name, p.kind).to_lowercase(),
            ));
            if p.kind == PhaseKind::Fade && self.fade_at.is_none() {
                self.fade_at = Some(time);
                let secs = (self.duration - time).max(1.0);
                out.push(Command::FadeOut(secs as f32));
            }
            self.phase = idx;
        }
        let kind = self.protocol.phases[idx].kind;

        // Sensor.
        let lost_after = self.protocol.sensor_loss.after.as_secs_f64();
        let silent_for = time - self.last_data.unwrap_or(0.0);
        let lost = silent_for >= lost_after;
        if lost && self.lost_since.is_none() {
            self.lost_since = Some(time);
            self.tracker.reset_trend();
            events.push(SessionEvent::new(
                time,
                EventKind::Sensor,
                format!("no sensor data for {silent_for:.0} s: holding the sound"),
            ));
        } else if !lost && self.lost_since.is_some() {
            self.lost_since = None;
            events.push(SessionEvent::new(
                time,
                EventKind::Sensor,
                "sensor data again: resuming",
            ));
        }
        self.escalation.sensor(time, lost);
        let grounding = self.escalation.tick(time, events);

        // The sound level.
        let loss = self.protocol.sensor_loss;
        let match_per_min = self.protocol.match_per_min;
        let (action, reason) = if grounding {
            (
                Action::Grounding,
                "escalation raised: on the neutral grounding sound until conditions clear"
                    .to_string(),
            )
        } else if kind == PhaseKind::Fade {
            (
                Action::Fading,
                "fading out to the end of the session".to_string(),
            )
        } else if let Some(since) = self.lost_since {
            let hold = loss.hold.as_secs_f64();
            if time - since < hold {
                (
                    Action::SensorHold,
                    format!("sensor lost: holding the sound for {hold:.0} s"),
                )
            } else {
                self.level = Self::toward(self.level, self.neutral, loss.drift_per_min, dt);
                (
                    Action::Drifting,
                    format!(
                        "sensor lost for over {hold:.0} s: drifting back to the preset's own sound"
                    ),
                )
            }
        } else if let Some(est) = self.latest.as_ref().filter(|e| !e.usable()) {
            let why = est
                .abstain
                .as_ref()
                .map(|a| a.to_string())
                .unwrap_or_default();
            (
                Action::Holding,
                format!(
                    "{} abstains ({why}): holding tempo at {:.0} BPM",
                    est.estimator, self.out.tempo
                ),
            )
        } else if let Some(a) = self.tracker.level() {
            match kind {
                PhaseKind::Match => {
                    self.level = Self::toward(self.level, a, match_per_min, dt);
                    (
                        Action::Matching,
                        format!("matching the listener's arousal {a:.2}"),
                    )
                }
                PhaseKind::Lead | PhaseKind::Sustain => {
                    self.lead(a, time, dt, kind == PhaseKind::Sustain)
                }
                PhaseKind::Fade => unreachable!(),
            }
        } else {
            (
                Action::Waiting,
                "waiting for the first arousal estimate: the preset's own sound".to_string(),
            )
        };
        self.decide(action, reason, time, events);

        // Breath.
        let p = &self.protocol;
        let leading = matches!(kind, PhaseKind::Lead | PhaseKind::Sustain);
        let frozen = self.lost_since.is_some() || kind == PhaseKind::Fade;
        let grounding_breath = grounding.then_some(p.escalation.grounding_breath_per_min);
        let breath = self
            .breath
            .tick(time, dt, leading, frozen, grounding_breath, events);

        // The sound: toward the desired point, at most at the matching rate.
        let desired = if grounding {
            p.escalation.grounding
        } else if self.action == Action::Waiting {
            self.out
        } else {
            p.sound_at(self.level)
        };
        let rate = p.match_per_min / 60.0 * dt;
        let (calm, aroused) = (p.calm.values(), p.aroused.values());
        let mut cur = self.out.values();
        for (i, d) in desired.values().iter().enumerate() {
            let span = ((aroused[i] - calm[i]).abs() as f64).max(match i {
                0 => 10.0,
                _ => 0.1,
            });
            let step = (span * rate) as f32;
            cur[i] += (d - cur[i]).clamp(-step, step);
        }
        self.out = SoundPoint {
            tempo: cur[0],
            brightness: cur[1],
            density: cur[2],
            energy: cur[3],
            reverb: cur[4],
        };

        // Commands for what changed enough to matter.
        let params = [
            Param::Tempo,
            Param::Brightness,
            Param::Density,
            Param::Energy,
            Param::Reverb,
            Param::BreathRate,
        ];
        let values = [cur[0], cur[1], cur[2], cur[3], cur[4], breath as f32];
        for (i, (param, v)) in params.iter().zip(values).enumerate() {
            let eps = match param {
                Param::Tempo => 0.05,
                Param::BreathRate => 0.01,
                _ => 0.001,
            };
            // a NaN (nothing sent yet) always sends
            if (v - self.sent[i]).abs() >= eps || self.sent[i].is_nan() {
                self.sent[i] = v;
                out.push(Command::Set(*param, v));
            }
        }
    }

    fn lead(&mut self, a: f64, time: f64, dt: f64, sustain: bool) -> (Action, String) {
        let p = &self.protocol;
        let goal = p.goal_arousal;
        let dir = (goal - self.level).signum();
        let trend = self.tracker.trend_per_min();
        let tempo = self.out.tempo;
        // The listener moved away from the goal, far from the sound: meet them again.
        let away = (self.level - a) * (goal - a).signum();
        if away > p.rematch_gap || (self.action == Action::Rematching && away > p.max_lead + 0.01) {
            let meet = a + p.max_lead * (goal - a).signum();
            self.level = Self::toward(self.level, meet, p.match_per_min, dt);
            return (
                Action::Rematching,
                format!(
                    "arousal {a:.2} moved {away:.2} away from the sound: going back to meet the listener (tempo {tempo:.0} BPM)"
                ),
            );
        }
        if (goal - self.level).abs() < 1e-3 {
            self.level = goal;
            return (
                Action::AtGoal,
                format!("at the goal (sound arousal {goal:.2}); listener at {a:.2}"),
            );
        }
        // Arousal moving against the goal pauses the lead.
        if let Some(tr) = trend {
            if tr * dir < 0.0 && tr.abs() > p.feedback.against_per_min {
                let arrow = if tr > 0.0 { "↑" } else { "↓" };
                return (
                    Action::Paused,
                    format!(
                        "arousal {a:.2} {arrow} ({tr:+.2}/min over {:.0} s): holding tempo at {tempo:.0} BPM",
                        p.feedback.trend_span.as_secs_f64()
                    ),
                );
            }
        }
        // Stay within reach of the listener.
        let bound = if dir < 0.0 {
            goal.max(a - p.max_lead)
        } else {
            goal.min(a + p.max_lead)
        };
        if (bound - self.level) * dir <= 0.0 {
            return (
                Action::Waiting4Listener,
                format!(
                    "sound {:.2} is {:.2} ahead of the listener ({a:.2}): waiting for them at {tempo:.0} BPM",
                    self.level, p.max_lead
                ),
            );
        }
        let high_for = self.tracker.high_for(time);
        let slowed = high_for >= p.feedback.high_for.as_secs_f64();
        let mut rate = p.lead_per_min;
        if slowed {
            rate *= p.feedback.slow_factor;
        }
        if sustain {
            rate *= 0.5;
        }
        self.level = Self::toward(self.level, bound, rate, dt);
        if slowed {
            (
                Action::Slowed,
                format!(
                    "arousal {a:.2} high for {high_for:.0} s: leading at {:.0} % speed, tempo {tempo:.0} BPM",
                    100.0 * rate / p.lead_per_min
                ),
            )
        } else {
            (
                Action::Leading,
                format!(
                    "leading from {:.2} toward {goal:.2} at {rate:.3}/min; listener at {a:.2}, tempo {tempo:.0} BPM",
                    self.level
                ),
            )
        }
    }
}
