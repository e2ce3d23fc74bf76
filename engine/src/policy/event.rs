//! Session events: every decision the session takes, with its reason, for the status line
//! and the log.

use serde::Serialize;
use std::fmt;

/// What an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A protocol phase began.
    Phase,
    /// What the policy does with the sound, and why.
    Decision,
    /// What the breath guide does, and why.
    Breath,
    /// About the arousal estimates (abstaining, estimator in use).
    Estimate,
    /// Sensor lost or back, bad input from a source.
    Sensor,
    /// Something a human should review; the sound grounds.
    Escalation,
    /// Listening safety (allowance, level caps).
    Safety,
    /// Personalisation (palette chosen, profile read or written).
    Personalisation,
    /// Recorded content: what was loaded, what was left out and why.
    Content,
    /// Live playback: underruns (gaps the listener heard), the output buffer growing,
    /// the output device lost and reopened.
    Playback,
    /// A parameter the host app set itself ([`crate::session::LiveSession::set_param`]).
    Host,
}

impl EventKind {
    /// Stable lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Phase => "phase",
            EventKind::Decision => "decision",
            EventKind::Breath => "breath",
            EventKind::Estimate => "estimate",
            EventKind::Sensor => "sensor",
            EventKind::Escalation => "escalation",
            EventKind::Safety => "safety",
            EventKind::Personalisation => "personalisation",
            EventKind::Content => "content",
            EventKind::Playback => "playback",
            EventKind::Host => "host",
        }
    }
}

/// One event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionEvent {
    /// Session time, seconds.
    pub time: f64,
    /// What it is about.
    pub kind: EventKind,
    /// What happened and why, in a sentence.
    pub message: String,
    /// Flagged for a human to review.
    pub review: bool,
}

impl SessionEvent {
    /// An event at `time`.
    pub fn new(time: f64, kind: EventKind, message: impl Into<String>) -> Self {
        Self {
            time,
            kind,
            message: message.into(),
            review: false,
        }
    }

    /// The same event, flagged for review.
    pub fn for_review(mut self) -> Self {
        self.review = true;
        self
    }
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.time.max(0.0) as u64;
        write!(
            f,
            "{:02}:{:02} {}{}: {}",
            t / 60,
            t % 60,
            self.kind.name(),
            if self.review { " [review]" } else { "" },
            self.message
        )
    }
}
