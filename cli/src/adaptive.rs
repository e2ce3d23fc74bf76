//! Adaptive sessions from the command line: options shared by `render` and `play`,
//! the listener profile and palette choice, and what is written when a session ends.

use crate::input::{simulator, InputSpec};
use crate::Failure;
use clap::Args;
use isochord_engine::allowance::{AllowanceConfig, Listener as Who, ASSUMED_CALIBRATION_DB};
use isochord_engine::biometrics::sources::{SimulatorHandle, Source};
use isochord_engine::mood::{load_estimator, ArousalEstimator, WithFallback};
use isochord_engine::personal::{self, Profile, ProfileLoad, SessionRecord};

use isochord_dsp::SoundscapeConfig;
use isochord_engine::policy::{EventKind, SessionEvent};
use isochord_engine::preset::Goal;
use isochord_engine::session::{
    session_features, AdaptiveController, AdaptiveSetup, Feed, SessionLog, SessionOutcome,
};
use isochord_engine::simulation::{Listener, ListenerParams, ListeningLoop};
use isochord_engine::{Controller, Preset};
use serde_json::{json, Map};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Options of adaptive sessions.
#[derive(Args, Clone, Debug, Default)]
pub struct AdaptiveArgs {
    /// Mood model (ONNX) estimating arousal (default: the bundled model; the rule-based
    /// estimator stands in when a model cannot be used).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Listener profile (JSON): remembers which timbre palette calmed this listener best
    /// and their breathing rate. Created if missing.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Timbre palette to play (default: chosen by the profile, else the preset's first).
    #[arg(long)]
    pub palette: Option<String>,
    /// dB SPL at the ear produced by a 0 dBFS RMS signal on this output (for the
    /// WHO-ITU H.870 sound allowance; without it 100 dB SPL is assumed).
    #[arg(long, value_parser = parse_db)]
    pub calibration: Option<f64>,
    /// Who is listening: adult (80 dB(A) for 40 h a week) or child (75 dB(A)).
    #[arg(long, default_value = "adult", value_parser = ["adult", "child"])]
    pub listener: String,
    /// Hard cap on the level, dB SPL (default for a child: 75).
    #[arg(long, value_parser = parse_db)]
    pub cap_db: Option<f64>,
    /// Session log: JSON Lines, one record per second (features, model output, policy
    /// decisions with reasons, parameters, level, allowance).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Replace output files that already exist (--out, --record, --log); without it an
    /// existing file is refused. Devices and FIFOs are always written into.
    #[arg(long)]
    pub force: bool,
}

impl AdaptiveArgs {
    /// For `--report DIR`: creates the folder and, unless `--log` names another file,
    /// sends the session log to DIR/session.jsonl.
    pub fn log_into_report(&mut self, dir: Option<&std::path::Path>) -> Result<(), Failure> {
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
            self.log.get_or_insert_with(|| dir.join("session.jsonl"));
        }
        Ok(())
    }
}

fn parse_db(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(20.0..=140.0).contains(&v) {
        return Err(format!("{v} dB is outside 20..=140"));
    }
    Ok(v)
}

/// A plan, its input, and the file or simulated source already opened (`None` for live
/// inputs, which open when the session clock starts).
pub type Prepared = (Plan, InputSpec, Option<Box<dyn Source>>);

/// Parses `spec`, builds the plan and opens a file or simulated input (live inputs open
/// when the session clock starts: the third element is then `None`).
pub fn prepare(
    preset: &Preset,
    duration_s: f64,
    spec: &str,
    args: &AdaptiveArgs,
    seed: u64,
) -> Result<Prepared, Failure> {
    let input: InputSpec = spec.parse().map_err(Failure::input)?;
    let mut plan = Plan::new(preset, duration_s, &input, spec, args, seed)?;
    plan.notes.extend(input.warnings());
    let source = match &input {
        InputSpec::Simulator => Some(plan.simulated_source(seed)),
        InputSpec::E4(_) | InputSpec::File(_) => Some(input.open_file().map_err(Failure::input)?),
        _ => None,
    };
    Ok((plan, input, source))
}

/// An adaptive session ready to start once its feed exists.
pub struct Plan {
    /// The sound to play (palette applied, level capped).
    pub sound: SoundscapeConfig,
    setup: Option<AdaptiveSetup>,
    log: Option<SessionLog>,
    /// Notes to show before the session starts.
    pub notes: Vec<String>,
    palette: (usize, String),
    finisher: Finisher,
    simulated_listener: Option<SimulatorHandle>,
}

/// What happens when the session ends: the profile is updated.
pub struct Finisher {
    slot: Option<Arc<Mutex<Option<SessionOutcome>>>>,
    profile: Option<(PathBuf, Profile)>,
    preset: String,
    goal: Goal,
    palette: String,
    simulated: bool,
    duration_s: f64,
}

impl Plan {
    /// Builds the plan for `preset` over `input`.
    pub fn new(
        preset: &Preset,
        duration_s: f64,
        input: &InputSpec,
        source_name: &str,
        args: &AdaptiveArgs,
        seed: u64,
    ) -> Result<Plan, Failure> {
        let protocol = preset.protocol.clone().ok_or_else(|| {
            Failure::input(format!(
                "preset {} has no [protocol] table: adaptive sessions need one (see presets/relax.toml)",
                preset.name
            ))
        })?;
        let mut events = Vec::new();
        let mut notes = Vec::new();
        let simulated = matches!(input, InputSpec::Simulator);

        // Profile.
        let profile = match &args.profile {
            None => None,
            Some(path) => match personal::load(path) {
                ProfileLoad::New(p) => {
                    events.push(personal_event(format!(
                        "new profile {} (it will be written at the end)",
                        path.display()
                    )));
                    Some((path.clone(), p))
                }
                ProfileLoad::Loaded(p) => {
                    events.push(personal_event(format!("profile {} read", path.display())));
                    Some((path.clone(), p))
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
                    Some((path.clone(), profile))
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
                    let m =
                        format!("profile cannot be used ({why}): this session is not remembered");
                    notes.push(format!("warning: {m}"));
                    events.push(personal_event(m));
                    None
                }
            },
        };
        let history = profile.as_ref().and_then(|(_, p)| p.preset(&preset.name));

        // Palette.
        let names: Vec<String> = protocol.palettes.iter().map(|p| p.name.clone()).collect();
        let (index, reason) = if let Some(want) = &args.palette {
            let i = names.iter().position(|n| n == want).ok_or_else(|| {
                Failure::input(format!(
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
        let mut sound = protocol
            .apply_palette(&preset.sound, index)
            .map_err(Failure::input)?;
        let who = if args.listener == "child" {
            Who::Child
        } else {
            Who::Adult
        };
        let allowance = AllowanceConfig {
            calibration_db: args.calibration.unwrap_or(ASSUMED_CALIBRATION_DB),
            calibrated: args.calibration.is_some(),
            listener: who,
            cap_db_spl: args
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
        let (estimator, warnings) = estimator(args.model.as_deref());
        for w in warnings {
            notes.push(format!("warning: {w}"));
            events.push(SessionEvent::new(0.0, EventKind::Estimate, w));
        }

        let log = match &args.log {
            None => None,
            Some(path) => {
                let existing = isochord_engine::output::Existing::from_force(args.force);
                let (file, _) = isochord_engine::output::open_direct(path, existing)
                    .map_err(|e| Failure::input(format!("cannot write the log: {e}")))?;
                let mut header = Map::new();
                header.insert("preset".into(), json!(preset.name));
                header.insert("goal".into(), json!(preset.goal));
                header.insert("palette".into(), json!(palette_name));
                header.insert("source".into(), json!(source_name));
                header.insert("simulated".into(), json!(simulated));
                header.insert("replay".into(), json!(input.is_replay()));
                if let Some(t) = input.recording_start() {
                    header.insert("recording_started_at".into(), json!(t));
                }
                header.insert("estimator".into(), json!(estimator.name()));
                header.insert("seed".into(), json!(seed));
                header.insert("duration_s".into(), json!(duration_s));
                header.insert("allowance".into(), json!(allowance));
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
        Ok(Plan {
            sound,
            setup: Some(setup),
            log,
            notes,
            palette: (index, palette_name.clone()),
            finisher: Finisher {
                slot: None,
                profile,
                preset: preset.name.clone(),
                goal: preset.goal,
                palette: palette_name,
                simulated,
                duration_s,
            },
            simulated_listener: None,
        })
    }

    /// For `sim` inputs: a simulator whose listener hears this session. Returns the
    /// source to feed the session with.
    pub fn simulated_source(&mut self, seed: u64) -> Box<dyn Source> {
        let duration = self.finisher.duration_s;
        let (sim, handle) = simulator(seed, duration, ListenerParams::default().initial_arousal);
        self.simulated_listener = Some(handle);
        Box::new(sim)
    }

    /// Starts the controller over `feed`.
    /// Records what content the session plays and what was left out, as events at its
    /// start (in the log and the report).
    pub fn note_content(&mut self, loaded: &isochord_engine::content::LoadedContent) {
        let Some(setup) = self.setup.as_mut() else {
            return;
        };
        for i in &loaded.items {
            let credit = if i.attribution.is_empty() {
                String::new()
            } else {
                format!("; {}", i.attribution)
            };
            setup.startup_events.push(SessionEvent::new(
                0.0,
                EventKind::Content,
                format!(
                    "{} {} from {} loaded: {:.1} s, {:+.1} dB to the library's loudness{credit}",
                    i.kind, i.id, i.library, i.seconds, i.gain_db
                ),
            ));
        }
        for n in &loaded.notices {
            setup
                .startup_events
                .push(SessionEvent::new(0.0, EventKind::Content, n.to_string()).for_review());
        }
    }

    pub fn start(
        mut self,
        feed: Box<dyn Feed>,
        seed: u64,
    ) -> Result<(Box<dyn Controller>, Finisher), Failure> {
        let setup = self.setup.take().expect("started once");
        let protocol = setup.protocol.clone();
        let ctl = AdaptiveController::new(setup, feed, self.log.take()).map_err(Failure::input)?;
        self.finisher.slot = Some(ctl.outcome_slot());
        let controller: Box<dyn Controller> = match self.simulated_listener.take() {
            Some(handle) => Box::new(ListeningLoop::new(
                ctl,
                Listener::new(ListenerParams::default(), seed),
                handle,
                protocol,
                self.palette.0,
            )),
            None => Box::new(ctl),
        };
        Ok((controller, self.finisher))
    }
}

fn personal_event(message: String) -> SessionEvent {
    SessionEvent::new(0.0, EventKind::Personalisation, message)
}

/// The arousal estimator for `--model` (default: the bundled model), with the rules
/// standing in for inputs the model lacks; a model that cannot be used is replaced by the
/// rules with a warning.
pub fn estimator(model: Option<&std::path::Path>) -> (Box<dyn ArousalEstimator>, Vec<String>) {
    let (primary, warnings) = load_estimator(model);
    if warnings.is_empty() {
        (Box::new(WithFallback::new(primary)), warnings)
    } else {
        (primary, warnings)
    }
}

impl Finisher {
    /// What the session measured, once it has finished.
    pub fn outcome(&self) -> Option<SessionOutcome> {
        self.slot
            .as_ref()
            .and_then(|s| s.lock().ok().and_then(|o| o.clone()))
    }

    /// Records the session in the profile (written atomically); returns notes to show.
    pub fn finish(self, goal_arousal: f64) -> Vec<String> {
        let mut notes = Vec::new();
        let outcome = self
            .slot
            .as_ref()
            .and_then(|s| s.lock().ok().and_then(|o| o.clone()));
        let Some((path, mut profile)) = self.profile else {
            return notes;
        };
        let Some(o) = outcome else {
            notes.push("the session produced no outcome: profile not updated".into());
            return notes;
        };
        let r = o.reward(self.goal, goal_arousal);
        let finished = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let h = profile.preset_mut(&self.preset);
        if let Some(b) = o.breath_baseline {
            h.breathing_baseline_per_min = Some(b);
        }
        h.record(SessionRecord {
            finished_unix_s: finished,
            palette: self.palette.clone(),
            duration_s: self.duration_s,
            arousal_start: o.arousal_start,
            arousal_end: o.arousal_end,
            reward: r,
            simulated: self.simulated,
            ..Default::default()
        });
        match profile.save(&path) {
            Ok(()) => notes.push(format!(
                "profile {} updated: palette '{}'{}{}",
                path.display(),
                self.palette,
                match r {
                    Some(r) => format!(", reward {r:+.3}"),
                    None => ", no reward (too few usable estimates)".into(),
                },
                if self.simulated {
                    " (simulated: not counted)"
                } else {
                    ""
                }
            )),
            Err(e) => notes.push(format!(
                "warning: profile {} not written: {e}",
                path.display()
            )),
        }
        notes
    }
}
