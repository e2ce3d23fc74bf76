//! Closed-loop simulated sessions, without audio: the session's control side steers a
//! model of the sound (each parameter slewing at the soundscape's own rate limits), a
//! simulated [`Listener`] hears it, and the biometric
//! [`Simulator`](crate::biometrics::sources::Simulator) turns the listener's arousal into
//! the heart, skin and breathing data the session reads. **Simulation only.**

use super::listener::{Listener, ListenerParams};
use crate::allowance::AllowanceConfig;
use crate::biometrics::sources::{ArousalScript, SimOptions, Simulator};
use crate::control::{Controller, CONTROL_RATE_HZ};
use crate::mood::{ArousalEstimator, RuleEstimator};
use crate::policy::SessionEvent;
use crate::preset::Preset;
use crate::protocol::SoundPoint;
use crate::session::SessionError;
use crate::session::{
    session_features, AdaptiveController, AdaptiveSetup, ReplayFeed, SessionOutcome,
};
use isochord_dsp::{Command, Param, PARAM_COUNT};

/// How the sound is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// The adaptive policy.
    Adaptive,
    /// The preset as written, unchanging (a static playlist of the same preset).
    Static,
}

/// A simulated session.
pub struct SimSession {
    /// The preset (must have a protocol).
    pub preset: Preset,
    /// Length, s.
    pub duration_s: f64,
    /// Palette index played.
    pub palette: usize,
    /// The listener.
    pub listener: ListenerParams,
    /// Seed of the listener and the physiology.
    pub seed: u64,
    /// How the sound is chosen.
    pub strategy: Strategy,
    /// The estimator (default: the rule-based one).
    pub estimator: Option<Box<dyn ArousalEstimator>>,
}

/// What a simulated session did.
#[derive(Clone, Debug)]
pub struct SimResult {
    /// True (simulated) arousal every 10 s: (time, arousal).
    pub arousal: Vec<(f64, f64)>,
    /// Mean true arousal over the last 5 minutes before the fade.
    pub final_arousal: f64,
    /// First time the true arousal stayed below `0.4` for a minute.
    pub calm_at: Option<f64>,
    /// The session's own (estimated) outcome.
    pub outcome: SessionOutcome,
    /// The session's events.
    pub events: Vec<SessionEvent>,
}

/// The sound as the soundscape would play it: every parameter slews toward its target at
/// its [`Param::max_rate`].
struct SoundModel {
    value: [f32; PARAM_COUNT],
    target: [f32; PARAM_COUNT],
    faded_at: Option<f64>,
    fade_s: f64,
}

impl SoundModel {
    fn new(preset: &Preset) -> Self {
        let v = core::array::from_fn(|i| preset.sound.start_value(Param::ALL[i]));
        Self {
            value: v,
            target: v,
            faded_at: None,
            fade_s: 0.0,
        }
    }
    fn apply(&mut self, c: &Command, time: f64) {
        match c {
            Command::Set(p, v) => self.target[p.index()] = *v,
            Command::FadeOut(s) => {
                if self.faded_at.is_none() {
                    self.faded_at = Some(time);
                    self.fade_s = *s as f64;
                }
            }
            Command::Key(..) => {}
        }
    }
    fn step(&mut self, dt: f64) {
        for (i, p) in Param::ALL.iter().enumerate() {
            let step = p.max_rate() * dt as f32;
            self.value[i] += (self.target[i] - self.value[i]).clamp(-step, step);
        }
    }
    fn point(&self) -> SoundPoint {
        let g = |p: Param| self.value[p.index()];
        SoundPoint {
            tempo: g(Param::Tempo),
            brightness: g(Param::Brightness),
            density: g(Param::Density),
            energy: g(Param::Energy),
            reverb: g(Param::Reverb),
        }
    }
    fn audible(&self, time: f64) -> bool {
        self.faded_at.is_none_or(|t| time < t + self.fade_s)
    }
}

/// Runs a simulated session.
pub fn simulate(s: SimSession) -> Result<SimResult, SessionError> {
    let protocol = s.preset.protocol.clone().ok_or_else(|| {
        SessionError::Invalid(format!("preset {} has no protocol", s.preset.name))
    })?;
    let sound = protocol.apply_palette(&s.preset.sound, s.palette)?;
    let sim = Simulator::new(SimOptions {
        seed: s.seed,
        duration: Some(s.duration_s + 60.0),
        script: ArousalScript::constant(s.listener.initial_arousal),
        ..Default::default()
    });
    let handle = sim.handle();
    let mut listener = Listener::new(s.listener.clone(), s.seed);
    handle.set_arousal(listener.arousal());
    let setup = AdaptiveSetup {
        protocol: protocol.clone(),
        sound,
        duration_s: s.duration_s,
        features: session_features(),
        estimator: s
            .estimator
            .unwrap_or_else(|| Box::new(RuleEstimator::default())),
        allowance: AllowanceConfig::default(),
        breath_baseline: None,
        startup_events: Vec::new(),
    };
    let mut ctl = AdaptiveController::new(setup, Box::new(ReplayFeed::new(Box::new(sim))), None)
        .map_err(|e| SessionError::Invalid(e.to_string()))?;
    let mut model = SoundModel::new(&s.preset);
    let static_breath = s.preset.sound.start.breath_rate as f64;
    let dt = 1.0 / CONTROL_RATE_HZ;
    let ticks = (s.duration_s * CONTROL_RATE_HZ).round() as u64;
    let mut cmds = Vec::new();
    let mut events = Vec::new();
    let mut trace = Vec::new();
    let mut below_since: Option<f64> = None;
    let mut calm_at = None;
    for k in 0..=ticks {
        let t = k as f64 * dt;
        cmds.clear();
        ctl.tick(t, &mut cmds);
        events.extend(ctl.take_events());
        if s.strategy == Strategy::Adaptive {
            for c in &cmds {
                model.apply(c, t);
            }
        }
        model.step(dt);
        let guide = match s.strategy {
            Strategy::Adaptive => model.value[Param::BreathRate.index()] as f64,
            Strategy::Static => static_breath,
        };
        listener.hear(
            t,
            &protocol,
            &model.point(),
            guide,
            s.palette,
            model.audible(t),
        );
        handle.set_arousal(listener.arousal());
        handle.set_breath_pace(listener.breath_pace());
        let a = listener.arousal();
        if k % (10 * CONTROL_RATE_HZ as u64) == 0 {
            trace.push((t, a));
        }
        if a < 0.4 {
            let since = *below_since.get_or_insert(t);
            if calm_at.is_none() && t - since >= 60.0 {
                calm_at = Some(since);
            }
        } else {
            below_since = None;
        }
    }
    let outcome = ctl.finish_session();
    let fade = protocol
        .timeline(s.duration_s)
        .last()
        .filter(|p| protocol.phases[p.index].kind == crate::protocol::PhaseKind::Fade)
        .map_or(s.duration_s, |p| p.start);
    let last: Vec<f64> = trace
        .iter()
        .filter(|(t, _)| *t >= fade - 300.0 && *t <= fade)
        .map(|p| p.1)
        .collect();
    let final_arousal = last.iter().sum::<f64>() / last.len().max(1) as f64;
    Ok(SimResult {
        arousal: trace,
        final_arousal,
        calm_at,
        outcome,
        events,
    })
}
