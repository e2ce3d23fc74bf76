//! What a session will be, decided before it starts: the preset and its sound (palette
//! applied, level capped), what steers it (nothing, an automation file, or the body
//! through an adaptive session: input, estimator with its fallback, listener profile,
//! allowance, log and report), its length and seed. Both [`crate::OfflineSession`] (via
//! [`SessionPlan::offline`]) and [`super::LiveSession`] run from a [`SessionPlan`].
//!
//! Everything here runs on the control thread.

use super::adaptive::{AdaptiveController, AdaptiveSetup};
use super::feed::{Feed, ReplayFeed};
use super::input::{simulator, InputSpec};
use super::log::{serde_name, LogHeader, SessionLog};
use super::outcome::SessionOutcome;
use super::push::{PushFeed, SampleSender};
use super::session_features;
use crate::allowance::{AllowanceConfig, Listener as Who, ASSUMED_CALIBRATION_DB};
use crate::biometrics::baseline::BaselineStats;
use crate::biometrics::sources::{SimulatorHandle, SourceInfo};
use crate::content::{ContentLibrary, LoadedContent, StreamFailure, StreamFailures, StreamSet};
use crate::control::{AutomationController, Controller, Static};
use crate::mood::{load_estimator, ArousalEstimator, WithFallback};
use crate::personal::{self, Profile, ProfileLoad, RestingBaseline, SessionRecord};
use crate::policy::{EventKind, SessionEvent};
use crate::preset::{Goal, Preset};
use crate::protocol::Protocol;
use crate::report::{ReportOptions, ReportOutput};
use crate::simulation::{Listener, ListenerParams, ListeningLoop};
use crate::{Automation, OfflineSession};
use isochord_dsp::custom::{CustomLayer, CustomLayerError, MAX_CUSTOM_LAYERS};
use isochord_dsp::SoundscapeConfig;
use isochord_report::log_schema::AllowanceSetup;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a session could not be planned or run.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Something the caller asked for cannot be done: a preset without a protocol, an
    /// unknown palette, an input that cannot be opened, a log that cannot be created.
    #[error("{0}")]
    Invalid(String),
    /// The session could not run: a thread could not start, the device failed.
    #[error("{0}")]
    Failed(String),
    /// The biometric input could not be opened.
    #[error(transparent)]
    Input(#[from] crate::session::InputError),
    /// A palette's sound does not fit the preset's.
    #[error(transparent)]
    Palette(#[from] crate::protocol::PaletteError),
    /// The sound output could not be opened or failed (live sessions on a device).
    #[cfg(feature = "cpal")]
    #[error(transparent)]
    Output(#[from] crate::live::LiveError),
}

/// Where an adaptive session's biometric data come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A named input: `sim`, a file or E4 folder, OSC or standard input (see
    /// [`InputSpec`]). `name` is how it was given, for the log.
    Spec {
        /// The parsed input.
        spec: InputSpec,
        /// The text it was parsed from.
        name: String,
    },
    /// The host pushes readings itself ([`SampleSender::push`]); `info` describes them
    /// (its name appears in the log and in events).
    Pushed {
        /// What the data are.
        info: SourceInfo,
        /// How the session paces itself against them.
        pacing: Pacing,
    },
}

impl Input {
    /// Parses a named input such as `sim`, `e4:DIR`, `file:PATH` or
    /// `osc://127.0.0.1:12345`.
    pub fn parse(text: &str) -> Result<Input, SessionError> {
        let spec: InputSpec = text.parse().map_err(SessionError::Invalid)?;
        Ok(Input::Spec {
            spec,
            name: text.to_string(),
        })
    }

    /// Readings pushed by the host, arriving as they are measured.
    pub fn pushed(name: &str) -> Input {
        Input::Pushed {
            info: SourceInfo {
                name: name.to_string(),
                format: "app",
                simulated: false,
                live: true,
            },
            pacing: Pacing::Live,
        }
    }

    fn simulated(&self) -> bool {
        match self {
            Input::Spec { spec, .. } => matches!(spec, InputSpec::Simulator),
            Input::Pushed { info, .. } => info.simulated,
        }
    }

    fn name(&self) -> &str {
        match self {
            Input::Spec { name, .. } => name,
            Input::Pushed { info, .. } => &info.name,
        }
    }
}

/// How a session with pushed readings keeps time with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pacing {
    /// Readings arrive as they are measured, stamped with session time: each control
    /// tick uses what has arrived by then and never waits for more.
    #[default]
    Live,
    /// Readings come from a recording, in time order, faster than they play: each control
    /// tick waits until a reading later than its time has arrived (or the sender was
    /// dropped). The session then takes exactly the decisions an offline render of the
    /// same recording takes.
    Recorded,
}

/// Who listens, for the sound allowance (WHO-ITU H.870).
pub use crate::allowance::Listener as ListenerKind;

/// Options of adaptive sessions.
#[derive(Clone, Debug, Default)]
pub struct AdaptiveOptions {
    /// Mood model (ONNX) estimating arousal (default: the bundled model; the rule-based
    /// estimator stands in when a model cannot be used).
    pub model: Option<PathBuf>,
    /// Listener profile (JSON): remembers which palette calmed this listener best and
    /// their breathing rate. Created if missing.
    pub profile: Option<PathBuf>,
    /// Timbre palette to play (default: chosen by the profile, else the preset's first).
    pub palette: Option<String>,
    /// dB SPL at the ear for a 0 dBFS RMS signal on this output (default: 100 assumed).
    pub calibration_db: Option<f64>,
    /// Who is listening.
    pub listener: ListenerKind,
    /// Hard cap on the level, dB SPL (default for a child: 75).
    pub cap_db: Option<f64>,
    /// Session log (JSON Lines, one record per second).
    pub log: Option<PathBuf>,
    /// Replace a log file that already exists; without it an existing file is refused.
    /// Devices and FIFOs are always written into.
    pub force: bool,
    /// Write a clinical-review report into this folder when the session ends (needs
    /// `log`).
    pub report: Option<PathBuf>,
    /// Options of that report (the WAV it links to, FHIR references).
    pub report_options: ReportOptions,
}

/// What steers a planned session.
enum Steering {
    Static,
    Automation(Automation),
    Adaptive(Box<AdaptivePlan>),
}

struct AdaptivePlan {
    setup: AdaptiveSetup,
    resting: Option<BaselineStats>,
    log: Option<SessionLog>,
    input: Input,
    palette: usize,
    simulated: Option<SimulatorHandle>,
    finisher: Finisher,
}

/// A session ready to run: see the [module documentation](crate::session).
///
/// ```
/// use isochord_engine::session::{AdaptiveOptions, Input, SessionPlan};
/// use isochord_engine::Preset;
/// use std::time::Duration;
///
/// let preset = Preset::find("relax").unwrap();
/// let plan = SessionPlan::adaptive(
///     &preset,
///     Duration::from_secs(20),
///     7,
///     Input::parse("sim").unwrap(),
///     &AdaptiveOptions::default(),
/// )
/// .unwrap();
/// let (offline, end) = plan.offline(8_000).unwrap();
/// let mut frames = 0;
/// let stop = std::sync::atomic::AtomicBool::new(false);
/// let outcome = offline
///     .render(|buf| { frames += buf.len() / 2; Ok::<(), ()>(()) }, &stop, |_, _| {})
///     .unwrap();
/// assert_eq!(frames as u64, outcome.frames);
/// let ended = end.finish(outcome.frames as f64 / 8_000.0);
/// assert!(ended.outcome.is_some());
/// ```
pub struct SessionPlan {
    /// The preset.
    pub preset: Preset,
    /// The sound to play (palette applied, level capped).
    pub sound: SoundscapeConfig,
    /// Planned length, fade-out included.
    pub duration: Duration,
    /// Seed of every random choice.
    pub seed: u64,
    /// Where recorded content comes from (`None`: every layer synthesised).
    pub content: Option<ContentLibrary>,
    steering: Steering,
    notes: Vec<String>,
    custom: Vec<CustomLayer>,
}

impl SessionPlan {
    /// A session of `preset` that nothing steers (the preset's own sound).
    pub fn fixed(preset: &Preset, duration: Duration, seed: u64) -> SessionPlan {
        SessionPlan {
            preset: preset.clone(),
            sound: preset.sound.clone(),
            duration,
            seed,
            content: Some(ContentLibrary::bundled()),
            steering: Steering::Static,
            notes: Vec::new(),
            custom: Vec::new(),
        }
    }

    /// A session of `preset` steered by an automation file.
    pub fn automated(
        preset: &Preset,
        duration: Duration,
        seed: u64,
        automation: Automation,
    ) -> SessionPlan {
        SessionPlan {
            steering: Steering::Automation(automation),
            ..SessionPlan::fixed(preset, duration, seed)
        }
    }

    /// An adaptive session of `preset` over `input`: reads the listener's profile,
    /// chooses the palette, caps the level, loads the estimator (the rules stand in when
    /// the model cannot be used) and creates the log. Named file and simulated inputs are
    /// opened here; live ones when the session starts.
    pub fn adaptive(
        preset: &Preset,
        duration: Duration,
        seed: u64,
        input: Input,
        options: &AdaptiveOptions,
    ) -> Result<SessionPlan, SessionError> {
        let duration_s = duration.as_secs_f64();
        let protocol: Protocol = preset.protocol.clone().ok_or_else(|| {
            SessionError::Invalid(format!(
                "preset {} has no [protocol] table: adaptive sessions need one (see presets/relax.toml)",
                preset.name
            ))
        })?;
        if options.report.is_some() && options.log.is_none() {
            return Err(SessionError::Invalid(
                "a report is written from the session log: give a log too".into(),
            ));
        }
        let mut events = Vec::new();
        let mut notes = Vec::new();
        let simulated = input.simulated();
        if let Input::Spec { spec, .. } = &input {
            notes.extend(spec.warnings());
        }

        let profile = options
            .profile
            .as_ref()
            .and_then(|path| read_profile(path, &mut events, &mut notes));
        let history = profile.as_ref().and_then(|(_, p)| p.preset(&preset.name));

        // Palette.
        let names: Vec<String> = protocol.palettes.iter().map(|p| p.name.clone()).collect();
        let (index, reason) = if let Some(want) = &options.palette {
            let i = names.iter().position(|n| n == want).ok_or_else(|| {
                SessionError::Invalid(format!(
                    "--palette {want}: preset {} has {}",
                    preset.name,
                    if names.is_empty() {
                        "no palettes".to_string()
                    } else {
                        format!("palettes {}", names.join(", "))
                    }
                ))
            })?;
            (i, format!("palette '{want}' chosen on the command line"))
        } else if names.is_empty() {
            (0, "the preset's own sound (it has no palettes)".to_string())
        } else if profile.is_some() && !simulated {
            let h = history.cloned().unwrap_or_default();
            match h.choose_palette(&names, seed) {
                Some(c) => (c.index, c.reason),
                None => (0, format!("palette '{}'", names[0])),
            }
        } else {
            (
                0,
                format!(
                    "palette '{}' (the preset's first; give --profile to personalise)",
                    names[0]
                ),
            )
        };
        events.push(personal_event(reason));
        let palette_name = names.get(index).cloned().unwrap_or_default();

        // Sound: palette, then the level cap.
        let mut sound = protocol.apply_palette(&preset.sound, index)?;
        let who = options.listener;
        let allowance = AllowanceConfig {
            calibration_db: options.calibration_db.unwrap_or(ASSUMED_CALIBRATION_DB),
            calibrated: options.calibration_db.is_some(),
            listener: who,
            cap_db_spl: options
                .cap_db
                .or((who == Who::Child).then_some(who.weekly_level_db())),
        };
        let (loud, ceil) = allowance.capped(sound.master.loudness_dbfs, sound.master.ceiling_dbfs);
        if (loud, ceil) != (sound.master.loudness_dbfs, sound.master.ceiling_dbfs) {
            events.push(SessionEvent::new(
                0.0,
                EventKind::Safety,
                format!(
                    "level capped at {:.0} dB SPL: loudness {:.1} → {loud:.1} dBFS, ceiling {:.1} → {ceil:.1} dBFS",
                    allowance.cap_db_spl.unwrap_or(0.0),
                    sound.master.loudness_dbfs,
                    sound.master.ceiling_dbfs
                ),
            ));
            sound.master.loudness_dbfs = loud;
            sound.master.ceiling_dbfs = ceil;
        }
        if !allowance.calibrated {
            events.push(SessionEvent::new(
                0.0,
                EventKind::Safety,
                format!(
                    "no --calibration: the sound allowance assumes {ASSUMED_CALIBRATION_DB:.0} dB SPL at 0 dBFS (an estimate)"
                ),
            ));
        }

        // Estimator.
        let (estimator, warnings) = estimator(options.model.as_deref());
        for w in warnings {
            notes.push(format!("warning: {w}"));
            events.push(SessionEvent::new(0.0, EventKind::Estimate, w));
        }
        // A returning listener's resting baseline stands in until this session's own
        // is measured (never for simulated input, which is not the listener).
        let resting = history
            .filter(|_| !simulated)
            .and_then(|h| h.resting_baseline.as_ref())
            .and_then(|r| Some((r.to_stats()?, r.measured_unix_s)));
        if let Some((stats, when)) = &resting {
            let n = stats.mean.iter().filter(|m| m.is_some()).count();
            events.push(SessionEvent::new(
                0.0,
                EventKind::Estimate,
                format!(
                    "resting baseline from an earlier session ({n} features, measured {}) until this session's own is measured",
                    super::log::format_utc(*when as i64)
                ),
            ));
        }
        let resting = resting.map(|(s, _)| s);

        let log = match &options.log {
            None => None,
            Some(path) => {
                let existing = crate::output::Existing::from_force(options.force);
                let (file, _) = crate::output::open_direct(path, existing)
                    .map_err(|e| SessionError::Invalid(format!("cannot write the log: {e}")))?;
                let (replay, recording_started_at) = match &input {
                    Input::Spec { spec, .. } => (spec.is_replay(), spec.recording_start()),
                    _ => (false, None),
                };
                let c = allowance;
                let header = LogHeader {
                    preset: Some(preset.name.clone()),
                    goal: Some(serde_name(&preset.goal)),
                    palette: Some(palette_name.clone()),
                    source: Some(input.name().to_string()),
                    simulated: Some(simulated),
                    replay: Some(replay),
                    recording_started_at,
                    estimator: Some(estimator.name()),
                    seed: Some(seed),
                    duration_s: Some(duration_s),
                    allowance: Some(AllowanceSetup {
                        calibration_db: c.calibration_db,
                        calibrated: c.calibrated,
                        listener: serde_name(&c.listener),
                        cap_db_spl: c.cap_db_spl,
                    }),
                    ..LogHeader::default()
                };
                Some(SessionLog::new(Box::new(file), header))
            }
        };
        let setup = AdaptiveSetup {
            protocol,
            sound: sound.clone(),
            duration_s,
            features: session_features(),
            estimator,
            allowance,
            breath_baseline: history.and_then(|h| h.breathing_baseline_per_min),
            startup_events: events,
        };
        let finisher = Finisher {
            slot: None,
            profile,
            preset: preset.name.clone(),
            goal: preset.goal,
            goal_arousal: setup.protocol.goal_arousal,
            palette: palette_name,
            simulated,
            report: options
                .report
                .clone()
                .zip(options.log.clone())
                .map(|(dir, log)| (dir, log, options.report_options.clone())),
        };
        Ok(SessionPlan {
            preset: preset.clone(),
            sound,
            duration,
            seed,
            content: Some(ContentLibrary::bundled()),
            steering: Steering::Adaptive(Box::new(AdaptivePlan {
                setup,
                resting,
                log,
                input,
                palette: index,
                simulated: None,
                finisher,
            })),
            notes,
            custom: Vec::new(),
        })
    }

    /// Adds the application's own layer (a fundsp graph, see
    /// [`isochord_dsp::custom`]): every soundscape this session builds (offline, live,
    /// in the host's callback) plays a clone of it, mixed, calibrated, leveled and limited
    /// with the rest; its [`CustomLayerControl`](isochord_dsp::CustomLayerControl) sets its
    /// gain and on/off while it plays. Refused, naming the layer, when the plan has
    /// [`MAX_CUSTOM_LAYERS`] already or one of the same name. Control thread.
    ///
    /// ```
    /// use isochord_dsp::custom::{CustomLayer, Steering};
    /// use isochord_dsp::fundsp::prelude32::*;
    /// use isochord_engine::{session::SessionPlan, Preset};
    /// use std::time::Duration;
    ///
    /// let preset = Preset::find("relax").unwrap();
    /// let steering = Steering::new();
    /// let cutoff = var_fn(&steering.brightness, |b| 250.0 * 16f32.powf(b));
    /// let level = var_fn(&steering.breath_swell, |w| 0.2 + 0.8 * w);
    /// let wind = ((pink() | cutoff | dc(0.55)) >> moog()) * level;
    /// let layer = CustomLayer::new("wind", Box::new(wind), &steering, 0.8).unwrap();
    /// let control = layer.control();
    /// let plan = SessionPlan::fixed(&preset, Duration::from_secs(2), 1)
    ///     .with_content(None)
    ///     .with_custom_layer(layer)
    ///     .unwrap();
    /// let (offline, _end) = plan.offline(8_000).unwrap();
    /// let stop = std::sync::atomic::AtomicBool::new(false);
    /// offline.render(|_| Ok::<(), ()>(()), &stop, |_, _| {}).unwrap();
    /// assert_eq!(control.take_meter().frames, 2 * 8_000);
    /// ```
    pub fn with_custom_layer(mut self, layer: CustomLayer) -> Result<SessionPlan, SessionError> {
        if self.custom.iter().any(|l| l.name() == layer.name()) {
            return Err(SessionError::Invalid(
                CustomLayerError::Duplicate(layer.name().to_string()).to_string(),
            ));
        }
        if self.custom.len() >= MAX_CUSTOM_LAYERS {
            return Err(SessionError::Invalid(
                CustomLayerError::TooMany {
                    name: layer.name().to_string(),
                }
                .to_string(),
            ));
        }
        self.custom.push(layer);
        Ok(self)
    }

    /// The custom layers added with [`SessionPlan::with_custom_layer`]. Control thread.
    pub fn custom_layers(&self) -> &[CustomLayer] {
        &self.custom
    }

    /// Plays recorded content from `library` (`None`: every layer synthesised). The
    /// default is the bundled library.
    pub fn with_content(mut self, library: Option<ContentLibrary>) -> SessionPlan {
        self.content = library;
        self
    }

    /// Warnings to show before the session starts (an unusable model or profile).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Whether biometrics steer the session.
    pub fn is_adaptive(&self) -> bool {
        matches!(self.steering, Steering::Adaptive(_))
    }

    /// The input of an adaptive session.
    pub fn input(&self) -> Option<&Input> {
        match &self.steering {
            Steering::Adaptive(a) => Some(&a.input),
            _ => None,
        }
    }

    /// Length of the closing fade, seconds (the preset's, at most a third of the session).
    pub fn fade_s(&self) -> f32 {
        self.sound
            .master
            .fade_out_s
            .min(self.duration.as_secs_f32() / 3.0)
    }

    /// Loads the recorded content the sound asks for at `rate`, adds the custom layers
    /// to it, and notes in the session's events what was loaded and what was left out.
    /// Control thread.
    pub fn load_content(&mut self, rate: u32) -> LoadedContent {
        let mut loaded = match &self.content {
            Some(lib) => lib.load_for(&self.sound, rate),
            None => LoadedContent::default(),
        };
        loaded.content.custom.extend(self.custom.iter().cloned());
        if let Steering::Adaptive(a) = &mut self.steering {
            let events = &mut a.setup.startup_events;
            for c in &self.custom {
                events.push(SessionEvent::new(
                    0.0,
                    EventKind::Content,
                    format!(
                        "custom layer {} added (gain {:.2})",
                        c.name(),
                        c.control().gain()
                    ),
                ));
            }
            for i in &loaded.items {
                let credit = if i.attribution.is_empty() {
                    String::new()
                } else {
                    format!("; {}", i.attribution)
                };
                events.push(SessionEvent::new(
                    0.0,
                    EventKind::Content,
                    format!(
                        "{} {} from {} loaded: {:.1} s, {:+.1} dB to the library's loudness{credit}",
                        i.kind, i.id, i.library, i.seconds, i.gain_db
                    ),
                ));
            }
            for n in &loaded.notices {
                events.push(SessionEvent::new(0.0, EventKind::Content, n.to_string()).for_review());
            }
        }
        loaded
    }

    /// Opens a file or simulated input for an offline session (live inputs cannot be
    /// rendered offline).
    fn open_offline_input(a: &mut AdaptivePlan, seed: u64) -> Result<Box<dyn Feed>, SessionError> {
        match &a.input {
            Input::Spec { spec, name } => match spec {
                InputSpec::Simulator => {
                    let (sim, handle) = simulator(
                        seed,
                        a.setup.duration_s,
                        ListenerParams::default().initial_arousal,
                    );
                    a.simulated = Some(handle);
                    Ok(Box::new(ReplayFeed::new(Box::new(sim))))
                }
                InputSpec::E4(_) | InputSpec::File(_) => {
                    let source = spec.open_file()?;
                    Ok(Box::new(ReplayFeed::new(source)))
                }
                _ => Err(SessionError::Invalid(format!(
                    "{name}: a live input cannot be rendered offline; record it to a file, or play it live"
                ))),
            },
            Input::Pushed { .. } => Err(SessionError::Invalid(
                "pushed readings need a live session (LiveSession)".into(),
            )),
        }
    }

    /// Checks the input before anything opens: a file that is missing, an OSC address
    /// that is malformed. For a file input this opens it once.
    pub fn check_input(&self) -> Result<(), SessionError> {
        if let Some(Input::Spec { spec, .. }) = self.input() {
            if matches!(spec, InputSpec::E4(_) | InputSpec::File(_)) {
                spec.open_file()?;
            }
        }
        Ok(())
    }

    /// The controller for a session whose input is `feed`, and what the session's end
    /// writes. Control thread.
    pub(crate) fn controller_with(
        self,
        streams: &StreamSet,
        feed: impl FnOnce(&mut AdaptivePlanAccess<'_>) -> Result<Box<dyn Feed>, SessionError>,
    ) -> Result<(Box<dyn Controller>, SessionEnd), SessionError> {
        let end_empty = SessionEnd {
            finisher: None,
            preset: self.preset.name.clone(),
            notes: Vec::new(),
            streams: StreamFailures::none(),
        };
        match self.steering {
            Steering::Static => Ok((Box::new(Static), end_empty)),
            Steering::Automation(a) => Ok((
                Box::new(AutomationController::new(
                    a,
                    &self.preset.sound.for_seed(self.seed),
                )),
                end_empty,
            )),
            Steering::Adaptive(mut a) => {
                let feed = feed(&mut AdaptivePlanAccess {
                    plan: &mut a,
                    seed: self.seed,
                })?;
                let protocol = a.setup.protocol.clone();
                let mut ctl = AdaptiveController::new(a.setup, feed, a.log.take())
                    .map_err(|e| SessionError::Invalid(e.to_string()))?;
                if let Some(prior) = a.resting.take() {
                    ctl.start_from_baseline(prior);
                }
                ctl.watch_streams(streams);
                a.finisher.slot = Some(ctl.outcome_slot());
                let controller: Box<dyn Controller> = match a.simulated.take() {
                    Some(handle) => Box::new(ListeningLoop::new(
                        ctl,
                        Listener::new(ListenerParams::default(), self.seed),
                        handle,
                        protocol,
                        a.palette,
                    )),
                    None => Box::new(ctl),
                };
                Ok((
                    controller,
                    SessionEnd {
                        finisher: Some(a.finisher),
                        preset: self.preset.name,
                        notes: Vec::new(),
                        streams: StreamFailures::none(),
                    },
                ))
            }
        }
    }

    /// An offline render of this session at `sample_rate` (content loaded at that rate),
    /// and what its end writes: call [`SessionEnd::finish`] with the seconds rendered
    /// once [`OfflineSession::render`] returns. Control thread.
    pub fn offline(
        mut self,
        sample_rate: u32,
    ) -> Result<(OfflineSession, SessionEnd), SessionError> {
        let loaded = self.load_content(sample_rate);
        let config = self.sound.clone();
        let (seed, duration) = (self.seed, self.duration);
        let (controller, mut end) = self.controller_with(&loaded.streams, |a| {
            SessionPlan::open_offline_input(a.plan, a.seed)
        })?;
        end.streams = loaded.streams.failures();
        end.notes = loaded
            .notices
            .iter()
            .map(|n| format!("warning: {n}"))
            .collect();
        Ok((
            OfflineSession {
                config,
                content: loaded.content,
                sample_rate,
                seed,
                duration,
                controller,
            },
            end,
        ))
    }

    /// A live controller: named inputs open on their input thread, paced by the session
    /// clock (files replay at recorded pace); pushed inputs get a [`SampleSender`].
    pub(crate) fn live_controller(
        self,
        start: std::time::Instant,
        streams: &StreamSet,
    ) -> Result<LiveParts, SessionError> {
        let mut sender = None;
        let (c, e) = self.controller_with(streams, |a| {
            use crate::biometrics::sources::{Replay, SourceThread, ThreadOptions, WallClock};
            match &a.plan.input {
                Input::Spec { spec, .. } => {
                    if matches!(spec, InputSpec::Simulator) {
                        // the simulated listener hears the session: it runs on the
                        // session clock, like offline
                        return SessionPlan::open_offline_input(a.plan, a.seed);
                    }
                    let clock = WallClock::starting_at(start);
                    let options = ThreadOptions::default();
                    let spawned = match spec {
                        InputSpec::E4(_) | InputSpec::File(_) => {
                            let source = spec.open_file()?;
                            SourceThread::spawn(Replay::new(source, clock), options)
                        }
                        _ => {
                            let source = spec.open_live(clock)?;
                            SourceThread::spawn(source, options)
                        }
                    }
                    .map_err(|e| {
                        SessionError::Failed(format!("cannot start the input thread: {e}"))
                    })?;
                    Ok(
                        Box::new(super::feed::ChannelFeed::new(spawned.0, spawned.1))
                            as Box<dyn Feed>,
                    )
                }
                Input::Pushed { info, pacing } => {
                    let (feed, tx) = PushFeed::new(info.clone(), *pacing);
                    sender = Some(tx);
                    Ok(Box::new(feed) as Box<dyn Feed>)
                }
            }
        })?;
        let (c, params) = super::params::HostParams::wrap(c);
        Ok((c, e, sender, params))
    }
}

/// A live session's controller, what its end writes, the sender of pushed readings and
/// the sender of parameters the host sets.
pub(crate) type LiveParts = (
    Box<dyn Controller>,
    SessionEnd,
    Option<SampleSender>,
    super::params::ParamSender,
);

/// Access to an adaptive plan while its feed is opened.
pub(crate) struct AdaptivePlanAccess<'a> {
    plan: &'a mut AdaptivePlan,
    seed: u64,
}

fn read_profile(
    path: &Path,
    events: &mut Vec<SessionEvent>,
    notes: &mut Vec<String>,
) -> Option<(PathBuf, Profile)> {
    match personal::load(path) {
        ProfileLoad::New(p) => {
            events.push(personal_event(format!(
                "new profile {} (it will be written at the end)",
                path.display()
            )));
            Some((path.to_path_buf(), p))
        }
        ProfileLoad::Loaded(p) => {
            events.push(personal_event(format!("profile {} read", path.display())));
            Some((path.to_path_buf(), p))
        }
        ProfileLoad::Recovered {
            profile,
            backup,
            why,
        } => {
            let m = format!(
                "profile was unreadable ({why}); it was kept as {} and a new profile is used",
                backup.display()
            );
            notes.push(format!("warning: {m}"));
            events.push(personal_event(m).for_review());
            Some((path.to_path_buf(), profile))
        }
        ProfileLoad::NewerVersion { found } => {
            let m = format!(
                "profile {} is from a newer version (format {found}): left untouched; this session is not remembered",
                path.display()
            );
            notes.push(format!("warning: {m}"));
            events.push(personal_event(m));
            None
        }
        ProfileLoad::Unreadable { why } => {
            let m = format!("profile cannot be used ({why}): this session is not remembered");
            notes.push(format!("warning: {m}"));
            events.push(personal_event(m));
            None
        }
    }
}

fn personal_event(message: String) -> SessionEvent {
    SessionEvent::new(0.0, EventKind::Personalisation, message)
}

/// The arousal estimator for `model` (default: the bundled model), with the rules
/// standing in for inputs the model lacks; a model that cannot be used is replaced by the
/// rules, with the warnings returned. Control thread.
pub fn estimator(model: Option<&Path>) -> (Box<dyn ArousalEstimator>, Vec<String>) {
    let (primary, warnings) = load_estimator(model);
    if warnings.is_empty() {
        (Box::new(WithFallback::new(primary)), warnings)
    } else {
        (primary, warnings)
    }
}

/// What happens when an adaptive session ends: the profile is updated.
struct Finisher {
    slot: Option<Arc<Mutex<Option<SessionOutcome>>>>,
    profile: Option<(PathBuf, Profile)>,
    preset: String,
    goal: Goal,
    goal_arousal: f64,
    palette: String,
    simulated: bool,
    report: Option<(PathBuf, PathBuf, ReportOptions)>,
}

/// What a session's end writes (profile update, report). Returned with the controller;
/// call [`SessionEnd::finish`] once the session has ended. Control thread.
pub struct SessionEnd {
    finisher: Option<Finisher>,
    preset: String,
    notes: Vec<String>,
    streams: StreamFailures,
}

/// What an ended session left: its outcome, notes about the profile, the report.
#[derive(Debug, Default)]
pub struct Ended {
    /// What the adaptive session measured (`None` for other sessions).
    pub outcome: Option<SessionOutcome>,
    /// How long it played, seconds (fade included).
    pub seconds: f64,
    /// Notes to show: the profile update, or why it was not written (those start with
    /// "warning").
    pub notes: Vec<String>,
    /// The report, when one was asked for.
    pub report: Option<Result<ReportOutput, crate::report::ReportError>>,
}

impl SessionEnd {
    /// Warnings from setting the session up (content left out), to show before it
    /// plays.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Streamed recordings of an offline session that stopped on an error since the
    /// last call (each is handed out once): the rendered file lacks what they were to
    /// play. Control thread.
    pub fn take_stream_failures(&mut self) -> Vec<StreamFailure> {
        self.streams.take_new()
    }

    /// The preset's name.
    pub fn preset(&self) -> &str {
        &self.preset
    }

    /// What the adaptive session measured, once it has finished.
    pub fn outcome(&self) -> Option<SessionOutcome> {
        self.finisher
            .as_ref()
            .and_then(|f| f.slot.as_ref())
            .and_then(|s| s.lock().ok().and_then(|o| o.clone()))
    }

    /// Sets the WAV the report links to (a recording of the session).
    pub fn set_report_wav(&mut self, wav: Option<PathBuf>) {
        if let Some((_, _, o)) = self.finisher.as_mut().and_then(|f| f.report.as_mut()) {
            if wav.is_some() {
                o.wav = wav;
            }
        }
    }

    /// Records the session, which played for `seconds`, in the listener's profile
    /// (written atomically) and writes the report (not when the log, which it is
    /// written from, could not be written). Control thread.
    pub fn finish(self, seconds: f64) -> Ended {
        let outcome = self.outcome();
        let mut ended = Ended {
            outcome: outcome.clone(),
            seconds,
            ..Default::default()
        };
        let Some(f) = self.finisher else {
            return ended;
        };
        if let Some((path, mut profile)) = f.profile {
            match &outcome {
                None => ended
                    .notes
                    .push("the session produced no outcome: profile not updated".into()),
                Some(o) => {
                    let r = o.reward(f.goal, f.goal_arousal);
                    let finished = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    let h = profile.preset_mut(&f.preset);
                    if let Some(b) = o.breath_baseline {
                        h.breathing_baseline_per_min = Some(b);
                    }
                    if !f.simulated {
                        if let Some(r) = o
                            .resting_baseline
                            .as_ref()
                            .and_then(|s| RestingBaseline::from_stats(s, finished))
                        {
                            h.resting_baseline = Some(r);
                        }
                    }
                    h.record(SessionRecord {
                        finished_unix_s: finished,
                        palette: f.palette.clone(),
                        duration_s: seconds,
                        arousal_start: o.arousal_start,
                        arousal_end: o.arousal_end,
                        reward: r,
                        simulated: f.simulated,
                        ..Default::default()
                    });
                    match profile.save(&path) {
                        Ok(()) => ended.notes.push(format!(
                            "profile {} updated: palette '{}'{}{}",
                            path.display(),
                            f.palette,
                            match r {
                                Some(r) => format!(", reward {r:+.3}"),
                                None => ", no reward (too few usable estimates)".into(),
                            },
                            if f.simulated {
                                " (simulated: not counted)"
                            } else {
                                ""
                            }
                        )),
                        Err(e) => ended.notes.push(format!(
                            "warning: profile {} not written: {e}",
                            path.display()
                        )),
                    }
                }
            }
        }
        // a report from a log that could not be written whole would misstate the session
        let log_failed = outcome.as_ref().is_some_and(|o| o.log_error.is_some());
        if let (Some((dir, log, options)), false) = (f.report, log_failed) {
            ended.report = Some(crate::report::write_report(&log, &dir, &options));
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn the_profile_records_how_long_a_stopped_session_played() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("me.json");
        let preset = Preset::find("relax").unwrap();
        let options = AdaptiveOptions {
            profile: Some(profile.clone()),
            ..Default::default()
        };
        // planned for 15 minutes, stopped at 42 s (then a 2 s fade)
        let plan = SessionPlan::adaptive(
            &preset,
            Duration::from_secs(900),
            3,
            Input::parse("sim").unwrap(),
            &options,
        )
        .unwrap()
        .with_content(None);
        let rate = 8_000u32;
        let (offline, end) = plan.offline(rate).unwrap();
        let stop = AtomicBool::new(false);
        let mut frames = 0u64;
        let outcome = offline
            .render(
                |buf| {
                    frames += buf.len() as u64 / 2;
                    if frames >= 42 * rate as u64 {
                        stop.store(true, Ordering::Relaxed);
                    }
                    Ok::<(), ()>(())
                },
                &stop,
                |_, _| {},
            )
            .unwrap();
        assert!(outcome.interrupted);
        let played = outcome.frames as f64 / rate as f64;
        assert!((44.0..44.2).contains(&played), "played {played} s");
        let ended = end.finish(played);
        assert!(ended.notes[0].starts_with("profile"), "{:?}", ended.notes);

        let ProfileLoad::Loaded(p) = personal::load(&profile) else {
            panic!("the profile was written");
        };
        let sessions = &p.preset("relax").unwrap().sessions;
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].duration_s, played);
    }
}
