//! Personalisation across sessions: learning which of a preset's timbre palettes calms a
//! particular listener most, and keeping what is learnt in a small per-listener profile.
//!
//! # What is rewarded
//!
//! A session's reward is how far arousal moved toward the preset's goal,
//! [`SessionOutcome::reward`](crate::session::SessionOutcome::reward): for calming goals
//! the arousal estimated over its first two minutes minus the mean arousal after them,
//! both on the 0 (calm) .. 1 (stressed) scale of [`crate::mood`]. It lies in -1..1 (the
//! scale the bandit's prior is set for) and is positive when the listener ended calmer
//! than they began. [`arousal_reduction`] is the same difference for a start and an end
//! value. It is noisy: a listener's arousal drifts for
//! reasons no palette controls. Sessions without both estimates carry no reward, and
//! sessions driven by simulated biometrics are recorded but never rewarded
//! ([`PresetHistory::record`]), so a demo cannot teach the profile anything about the
//! listener.
//!
//! # How the palette is chosen
//!
//! [`choose`] (in [`bandit`]) treats each palette as an arm of a bandit: every palette is
//! tried once, then Thompson sampling under a Gaussian model with unknown mean and
//! variance picks the next one, mostly the palette that has calmed this listener most,
//! sometimes one that might still prove better. The prior and the measured behaviour on a
//! simulated listener are documented in [`bandit`]. The returned [`Choice`] carries a
//! sentence saying why, for the listener or a log.
//!
//! # What the profile holds
//!
//! A [`Profile`] is one JSON file per listener (see [`profile`] for versioning, recovery
//! of corrupt files and atomic saving). For each preset it keeps:
//!
//! - per-palette reward statistics ([`ArmStats`]: session count, mean reward and the sum
//!   of squared deviations);
//! - the listener's breathing baseline, breaths per minute;
//! - summaries of the last [`MAX_SESSIONS`] sessions ([`SessionRecord`]: when it
//!   finished, the palette, its length, arousal at start and end, the reward and whether
//!   the biometrics were simulated).
//!
//! It holds no raw biometric data: no heart beats, skin conductance, breathing or other
//! signal samples and no feature windows, only the numbers above.
//!
//! Everything here runs on the control thread, before and after a session (loading,
//! choosing, recording, saving touch the file system); nothing is fit for the audio
//! thread.
//!
//! # Example
//!
//! ```
//! use isochord_engine::personal::{self, ProfileLoad, SessionRecord};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("profile.json");
//! let (mut profile, can_save) = match personal::load(&path) {
//!     ProfileLoad::New(p) | ProfileLoad::Loaded(p) => (p, true),
//!     ProfileLoad::Recovered { profile, .. } => (profile, true),
//!     ProfileLoad::NewerVersion { .. } | ProfileLoad::Unreadable { .. } => {
//!         (personal::Profile::new(), false)
//!     }
//! };
//!
//! let palettes = vec!["warm".to_owned(), "glass".to_owned()];
//! let history = profile.preset_mut("relax");
//! let choice = history.choose_palette(&palettes, 1_700_000_000).unwrap();
//! assert_eq!(choice.reason, "palette 'warm' tried: no sessions yet");
//!
//! // ... the session plays; arousal went from 0.7 to 0.45 ...
//! history.record(SessionRecord {
//!     finished_unix_s: 1_700_001_200,
//!     palette: choice.name,
//!     duration_s: 1200.0,
//!     arousal_start: Some(0.7),
//!     arousal_end: Some(0.45),
//!     reward: personal::arousal_reduction(Some(0.7), Some(0.45)),
//!     ..SessionRecord::default()
//! });
//! if can_save {
//!     profile.save(&path).unwrap();
//! }
//! ```

pub mod bandit;
pub mod profile;

pub use bandit::{choose, ArmStats, Choice};
pub use profile::{
    load, FeatureStats, PresetHistory, Profile, ProfileLoad, RestingBaseline, SessionRecord,
    MAX_SESSIONS, PROFILE_VERSION,
};

use serde::{Deserialize, Deserializer};

/// A session's reward: arousal at its start minus arousal at its end (both 0..1), so
/// positive when the listener ended calmer. `None` unless both are known and finite.
pub fn arousal_reduction(arousal_start: Option<f64>, arousal_end: Option<f64>) -> Option<f64> {
    match (arousal_start, arousal_end) {
        (Some(start), Some(end)) if start.is_finite() && end.is_finite() => Some(start - end),
        _ => None,
    }
}

/// Reads a number that may be `null`, which is how serde_json writes a NaN, as NaN, so that
/// a profile holding one still loads.
fn f64_or_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_is_the_arousal_reduction() {
        assert_eq!(arousal_reduction(Some(0.75), Some(0.5)), Some(0.25));
        assert_eq!(arousal_reduction(Some(0.25), Some(0.5)), Some(-0.25));
        assert_eq!(arousal_reduction(None, Some(0.5)), None);
        assert_eq!(arousal_reduction(Some(0.5), None), None);
        assert_eq!(arousal_reduction(Some(f64::NAN), Some(0.5)), None);
    }
}
