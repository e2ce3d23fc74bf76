//! The adaptive session's control side: feed → features → arousal estimate → policy →
//! parameter targets, with the allowance meter, events and the session log. One
//! implementation for live and offline sessions: both call [`Controller::tick`] at
//! [`CONTROL_RATE_HZ`](crate::CONTROL_RATE_HZ) with the session time.
//!
//! Runs on the control thread (offline: the rendering thread, against the virtual clock).

use super::feed::Feed;
use super::log::{LogRecord, RawSummary, SessionLog};
use super::outcome::SessionOutcome;
use crate::allowance::{AllowanceConfig, SoundAllowance};
use crate::biometrics::baseline::{Baseline, BaselineStats};
use crate::biometrics::features::{
    FeatureConfig, FeatureConfigError, FeatureExtractor, FeatureWindow,
};
use crate::biometrics::sources::{IssueKind, SourceInfo, SourceItem};
use crate::control::Controller;
use crate::mood::{ArousalEstimate, ArousalEstimator};
use crate::policy::{EventKind, Policy, PolicyStatus, SessionEvent};
use crate::protocol::Protocol;
use isochord_dsp::{Command, SoundscapeConfig};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Seconds between two reports of lost input.
pub const LOSS_REPORT_S: f64 = 10.0;

/// Everything an adaptive session needs besides its feed.
pub struct AdaptiveSetup {
    /// The protocol (from the preset).
    pub protocol: Protocol,
    /// The sound being played (palette applied).
    pub sound: SoundscapeConfig,
    /// Session length, seconds.
    pub duration_s: f64,
    /// Feature windows.
    pub features: FeatureConfig,
    /// The arousal estimator.
    pub estimator: Box<dyn ArousalEstimator>,
    /// Allowance meter setup.
    pub allowance: AllowanceConfig,
    /// The listener's remembered breathing baseline.
    pub breath_baseline: Option<f64>,
    /// Events that happened before the session started (estimator warnings, profile
    /// notices, palette choice); logged at time 0.
    pub startup_events: Vec<SessionEvent>,
}

/// The adaptive controller.
pub struct AdaptiveController {
    feed: Box<dyn Feed>,
    info: SourceInfo,
    extractor: FeatureExtractor,
    estimator: Box<dyn ArousalEstimator>,
    policy: Policy,
    allowance: SoundAllowance,
    log: Option<SessionLog>,
    items: Vec<SourceItem>,
    pending: Vec<SessionEvent>,
    unseen: Vec<SessionEvent>,
    second: RawSummary,
    latest_window: Option<FeatureWindow>,
    latest_estimate: Option<ArousalEstimate>,
    new_window: bool,
    next_log: f64,
    issues_reported: HashMap<String, u64>,
    input_counts: (u64, u64, u64),
    /// (lost so far, lost not yet reported, when the next report may be made)
    input_lost: (u64, u64, f64),
    estimates: Vec<(f64, f64, bool)>,
    out_second: (f64, f64, f32),
    events_total: usize,
    ended_reported: bool,
    time: f64,
    fade_start: Option<f64>,
    outcome: Arc<Mutex<Option<SessionOutcome>>>,
    abstaining: u32,
    abstain_reported: bool,
    stream_failures: crate::content::StreamFailures,
}

impl AdaptiveController {
    /// A session over `feed`. `log` receives one JSON record per second.
    pub fn new(
        setup: AdaptiveSetup,
        feed: Box<dyn Feed>,
        log: Option<SessionLog>,
    ) -> Result<Self, FeatureConfigError> {
        let extractor = FeatureExtractor::new(setup.features)?;
        let policy = Policy::new(
            setup.protocol,
            &setup.sound,
            setup.duration_s,
            setup.breath_baseline,
        );
        let info = feed.info();
        let mut s = Self {
            feed,
            info,
            extractor,
            estimator: setup.estimator,
            policy,
            allowance: SoundAllowance::new(setup.allowance),
            log,
            items: Vec::with_capacity(1024),
            pending: Vec::new(),
            unseen: Vec::new(),
            second: RawSummary::default(),
            latest_window: None,
            latest_estimate: None,
            new_window: false,
            next_log: 1.0,
            issues_reported: HashMap::new(),
            input_counts: (0, 0, 0),
            input_lost: (0, 0, 0.0),
            estimates: Vec::new(),
            out_second: (0.0, 0.0, 0.0),
            events_total: 0,
            ended_reported: false,
            time: 0.0,
            fade_start: None,
            outcome: Arc::new(Mutex::new(None)),
            abstaining: 0,
            abstain_reported: false,
            stream_failures: crate::content::StreamFailures::none(),
        };
        if s.info.simulated {
            s.event(SessionEvent::new(
                0.0,
                EventKind::Sensor,
                format!("input {} is SIMULATED, not measured", s.info.name),
            ));
        }
        s.event(SessionEvent::new(
            0.0,
            EventKind::Estimate,
            format!("arousal estimator: {}", s.estimator.name()),
        ));
        for e in setup.startup_events {
            s.event(e);
        }
        Ok(s)
    }

    /// Streamed recordings that stopped since the last tick become events for review.
    fn note_stream_failures(&mut self, time: f64) {
        for f in self.stream_failures.take_new() {
            self.event(SessionEvent::new(time, EventKind::Content, f.to_string()).for_review());
        }
    }

    fn event(&mut self, e: SessionEvent) {
        self.events_total += 1;
        self.unseen.push(e.clone());
        self.pending.push(e);
    }

    /// The policy's status.
    pub fn status(&self) -> PolicyStatus {
        self.policy.status()
    }

    /// The latest arousal estimate.
    pub fn latest_estimate(&self) -> Option<&ArousalEstimate> {
        self.latest_estimate.as_ref()
    }

    /// The latest feature window.
    pub fn latest_window(&self) -> Option<&FeatureWindow> {
        self.latest_window.as_ref()
    }

    /// The allowance meter.
    pub fn allowance(&self) -> &SoundAllowance {
        &self.allowance
    }

    /// What the input is.
    pub fn source_info(&self) -> &SourceInfo {
        &self.info
    }

    fn ingest(&mut self, time: f64) {
        self.items.clear();
        self.feed.drain(time, &mut self.items);
        let items = std::mem::take(&mut self.items);
        for item in &items {
            match item {
                Ok(data) => {
                    self.input_counts.0 += 1;
                    self.second.add(data);
                    self.policy.data_seen(data.time().min(time));
                    let windows = self.extractor.push(data);
                    for w in windows {
                        self.window(w);
                    }
                }
                Err(issue) => {
                    self.second.issues += 1;
                    if issue.kind == IssueKind::Unused {
                        self.input_counts.2 += 1;
                    } else {
                        self.input_counts.1 += 1;
                    }
                    // report the first of each kind and field, then every 100th
                    let key = format!(
                        "{:?}:{}",
                        issue.kind,
                        issue.error.field.as_deref().unwrap_or("")
                    );
                    let n = {
                        let n = self.issues_reported.entry(key).or_insert(0);
                        *n += 1;
                        *n
                    };
                    if n == 1 || n % 100 == 0 || issue.fatal {
                        let what = if issue.kind == IssueKind::Unused {
                            "ignored"
                        } else {
                            "rejected"
                        };
                        self.event(SessionEvent::new(
                            time,
                            EventKind::Sensor,
                            format!("{what} input ({} so far): {issue}", n),
                        ));
                    }
                }
            }
        }
        self.items = items;
        self.note_losses(time);
        if self.feed.finished() && !self.ended_reported {
            self.ended_reported = true;
            self.event(SessionEvent::new(
                time,
                EventKind::Sensor,
                format!("input {} ended", self.info.name),
            ));
        }
    }

    /// Input lost before it reached the session (a full channel, a UDP flood): counted,
    /// and logged as an event at most every [`LOSS_REPORT_S`] seconds.
    fn note_losses(&mut self, time: f64) {
        let Some(st) = self.feed.stats() else { return };
        let lost = st.dropped + st.lost;
        if lost > self.input_lost.0 {
            self.input_lost.1 += lost - self.input_lost.0;
            self.input_lost.0 = lost;
        }
        if self.input_lost.1 > 0 && time >= self.input_lost.2 {
            let new = std::mem::take(&mut self.input_lost.1);
            self.input_lost.2 = time + LOSS_REPORT_S;
            let arrived = st.delivered + lost;
            self.event(SessionEvent::new(
                time,
                EventKind::Sensor,
                format!(
                    "{new} input items lost ({lost} in all, {:.1} % of what arrived: {} dropped by a full input queue, {} by the system's receive buffer): the input came faster than it could be read",
                    100.0 * lost as f64 / arrived.max(1) as f64,
                    st.dropped,
                    st.lost
                ),
            ));
        }
    }

    fn window(&mut self, w: FeatureWindow) {
        let est = self.estimator.estimate(&w);
        let usable = est.usable();
        // Abstentions are reported once they last two windows, so that an estimate
        // flickering around a threshold does not fill the log (the policy still holds on
        // every abstaining window).
        if usable {
            if self.abstain_reported {
                self.event(SessionEvent::new(
                    w.end,
                    EventKind::Estimate,
                    format!(
                        "estimates usable again (arousal {:.2}, confidence {:.2})",
                        est.arousal, est.confidence
                    ),
                ));
            }
            self.abstaining = 0;
            self.abstain_reported = false;
        } else {
            self.abstaining += 1;
            if self.abstaining == 2 {
                self.abstain_reported = true;
                let why = est
                    .abstain
                    .as_ref()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                self.event(SessionEvent::new(
                    w.end,
                    EventKind::Estimate,
                    format!("{} abstains: {why}", est.estimator),
                ));
            }
        }
        let switched = self
            .latest_estimate
            .as_ref()
            .is_some_and(|e| e.estimator != est.estimator);
        if usable && switched {
            self.event(SessionEvent::new(
                w.end,
                EventKind::Estimate,
                format!("estimates now from {}", est.estimator),
            ));
        }
        self.estimates.push((w.end, est.arousal, usable));
        self.policy.observe(&w, &est);
        self.latest_window = Some(w);
        self.latest_estimate = Some(est);
        self.new_window = true;
    }

    /// Takes the events not yet taken (for a live display).
    pub fn take_events(&mut self) -> Vec<SessionEvent> {
        std::mem::take(&mut self.unseen)
    }

    /// Where the outcome appears when the session finishes (read it after an offline
    /// render, which consumes the controller).
    pub fn outcome_slot(&self) -> Arc<Mutex<Option<SessionOutcome>>> {
        self.outcome.clone()
    }

    /// Reports the failures of `streams` (the session's streamed recordings) as events
    /// for review, from now on. Control thread.
    pub fn watch_streams(&mut self, streams: &crate::content::StreamSet) {
        self.stream_failures = streams.failures();
    }

    /// Judges the session's first minutes against `prior` (a resting baseline from an
    /// earlier session of the same listener) until its own baseline is measured, so
    /// that estimates can start with the first window. Call before the first tick.
    /// Control thread.
    pub fn start_from_baseline(&mut self, prior: BaselineStats) {
        let cfg = self.extractor.config();
        let baseline = Baseline::with_prior(cfg.baseline, cfg.origin_s, prior);
        self.extractor.set_baseline(baseline);
    }

    /// Ends the session: flushes the log with a summary and returns what it measured.
    pub fn finish_session(&mut self) -> SessionOutcome {
        let end = self.fade_start.unwrap_or(self.time);
        let mean = |from: f64, to: f64| {
            let v: Vec<f64> = self
                .estimates
                .iter()
                .filter(|(t, _, u)| *u && *t >= from && *t <= to)
                .map(|(_, a, _)| *a)
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let first = self.estimates.iter().find(|e| e.2).map(|e| e.0);
        let outcome = SessionOutcome {
            arousal_start: first.and_then(|t| mean(t, t + 120.0)),
            arousal_end: mean(end - 120.0, end),
            arousal_after_start: first.and_then(|t| mean(t + 120.0, end)),
            usable_estimates: (
                self.estimates.iter().filter(|e| e.2).count(),
                self.estimates.len(),
            ),
            escalations: self.policy.status().escalations,
            events: self.events_total,
            breath_baseline: self.policy.breath().baseline(),
            resting_baseline: self
                .extractor
                .baseline()
                .stats()
                .filter(|s| s.n.iter().any(|n| *n > 0))
                .cloned(),
            allowance_used: self.allowance.used(),
            leq_db: self.allowance.leq_db(),
            input_items: self
                .input_counts
                .0
                .saturating_sub(self.extractor.rejected_total()),
            input_rejected: self.input_counts.1 + self.extractor.rejected_total(),
            input_ignored: self.input_counts.2,
            input_lost: self.input_lost.0,
            log_error: None,
        };
        let mut outcome = outcome;
        if let Some(log) = self.log.as_mut() {
            let pending = std::mem::take(&mut self.pending);
            log.summary(self.time, &outcome, &self.allowance, &pending);
            log.flush();
            outcome.log_error = log.error().map(str::to_string);
        }
        if let Ok(mut slot) = self.outcome.lock() {
            *slot = Some(outcome.clone());
        }
        outcome
    }

    fn write_log(&mut self, time: f64) {
        let Some(log) = self.log.as_mut() else {
            self.pending.clear();
            return;
        };
        let status = self.policy.status();
        let (secs, energy, peak) = self.out_second;
        let rms = (secs > 0.0).then(|| (energy / secs).sqrt());
        let record = LogRecord {
            time,
            raw: &self.second,
            window: if self.new_window {
                self.latest_window.as_ref()
            } else {
                None
            },
            estimate: self.latest_estimate.as_ref(),
            status: &status,
            events: &self.pending,
            output_rms: rms,
            output_peak: (secs > 0.0).then_some(peak as f64),
            allowance: &self.allowance,
        };
        log.write(&record);
        self.pending.clear();
        self.new_window = false;
        self.second = RawSummary::default();
        self.out_second = (0.0, 0.0, 0.0);
    }
}

impl Controller for AdaptiveController {
    fn tick(&mut self, time: f64, out: &mut Vec<Command>) {
        self.time = time;
        self.ingest(time);
        let mut events = Vec::new();
        let before = out.len();
        self.policy.tick(time, out, &mut events);
        if self.fade_start.is_none()
            && out[before..]
                .iter()
                .any(|c| matches!(c, Command::FadeOut(_)))
        {
            self.fade_start = Some(time);
        }
        for e in events {
            self.event(e);
        }
        self.note_stream_failures(time);
        while time + 1e-9 >= self.next_log {
            let t = self.next_log;
            self.write_log(t);
            self.next_log += 1.0;
        }
    }

    fn take_events(&mut self) -> Vec<SessionEvent> {
        AdaptiveController::take_events(self)
    }

    fn note(&mut self, event: SessionEvent) {
        self.event(event);
    }

    fn keeps_notes(&self) -> bool {
        true
    }

    fn status_text(&self) -> Option<String> {
        let s = self.policy.status();
        let est = self.latest_estimate.as_ref();
        let arousal = match (s.arousal, est) {
            (_, Some(e)) if !e.usable() => "abstain".to_string(),
            (Some(a), Some(e)) => {
                let arrow = match s.trend_per_min {
                    Some(t) if t > 0.02 => "↑",
                    Some(t) if t < -0.02 => "↓",
                    _ => "",
                };
                format!("{a:.2}{arrow} conf {:.2}", e.confidence)
            }
            _ => "--".to_string(),
        };
        let breath = match s.breath_target {
            Some(t) => format!("{:.1}→{t:.1}/min", s.breath_guide),
            None => format!("{:.1}/min", s.breath_guide),
        };
        Some(format!(
            "{} · {} · arousal {} · breath {} · allowance {:.2} %{}{}",
            s.phase,
            s.action.name(),
            arousal,
            breath,
            100.0 * self.allowance.used(),
            if self.input_lost.0 > 0 {
                format!(" · input lost {}", self.input_lost.0)
            } else {
                String::new()
            },
            if self.info.simulated {
                " · SIMULATED"
            } else {
                ""
            }
        ))
    }

    fn finish(&mut self, time: f64) {
        self.time = self.time.max(time);
        if self.outcome.lock().map(|o| o.is_none()).unwrap_or(true) {
            self.finish_session();
        }
    }

    fn output(&mut self, seconds: f64, mean_square: f64, peak: f32) {
        self.allowance.add(seconds, mean_square.max(0.0).sqrt());
        self.out_second.0 += seconds;
        self.out_second.1 += mean_square * seconds;
        self.out_second.2 = self.out_second.2.max(peak);
    }
}
