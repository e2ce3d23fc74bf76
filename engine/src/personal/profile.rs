//! The per-listener profile: a versioned JSON file.
//!
//! # Versions
//!
//! The file carries a `version` ([`PROFILE_VERSION`]). Within one version, changes are
//! additive: a missing field takes its default, and a field this release does not know
//! is kept (in the `extra` maps) and written back unchanged, so a file touched by an
//! older release loses nothing a newer one wrote. A file from a newer version is left
//! untouched ([`ProfileLoad::NewerVersion`]) and the session runs without saving;
//! [`Profile::save`] refuses to replace it.
//!
//! # Damaged files
//!
//! A file that is not a valid profile (not JSON, truncated, empty, wrong types) is never
//! deleted or overwritten: it is renamed to `<stem>.corrupt-<unix seconds>.json` (with
//! `-1`, `-2`, … appended to the seconds if that name is taken) next to it, and a fresh
//! profile is returned ([`ProfileLoad::Recovered`]). A file that cannot be read, or that
//! is damaged but cannot be moved aside, is left alone ([`ProfileLoad::Unreadable`]).
//!
//! # Saving
//!
//! [`Profile::save`] writes a temporary file in the target's directory, flushes it to
//! disk, then renames it over the target (and, on unix, flushes the directory), so a crash
//! leaves either the old file or the new one, never a mix. On unix the file is readable
//! by its owner only.
//!
//! Numbers are written in their shortest exact form but read back by serde_json's default
//! float parser, which is correct to about one unit in the last place, not always exact;
//! irrelevant for statistics, but a load-save cycle may change a last digit.
//!
//! Runs on the control thread; loading and saving do blocking file I/O.

use super::bandit::{self, ArmStats, Choice};
use crate::biometrics::baseline::BaselineStats;
use crate::biometrics::feature_types::{Feature, FEATURE_COUNT};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Version of the profile format this release reads and writes.
pub const PROFILE_VERSION: u32 = 1;

/// Session summaries kept per preset; older ones are dropped.
pub const MAX_SESSIONS: usize = 100;

/// Temporary files of an interrupted save older than this are removed by the next save.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// One listener's profile.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Profile {
    /// Format version ([`PROFILE_VERSION`] when written by this release).
    pub version: u32,
    /// History per preset name.
    #[serde(default)]
    pub presets: BTreeMap<String, PresetHistory>,
    /// Fields written by a newer release of the same version, kept across a rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What the profile knows about one preset.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct PresetHistory {
    /// Reward statistics per palette name.
    pub palettes: BTreeMap<String, ArmStats>,
    /// The listener's resting breathing rate, breaths per minute, when known.
    pub breathing_baseline_per_min: Option<f64>,
    /// The listener's resting feature baseline from the last measured session, when
    /// known: the next session judges its first minutes against it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resting_baseline: Option<RestingBaseline>,
    /// Summaries of the most recent sessions, oldest first (at most [`MAX_SESSIONS`]).
    pub sessions: Vec<SessionRecord>,
    /// Fields written by a newer release of the same version, kept across a rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A resting baseline kept between sessions: each feature's mean and SD over a measured
/// session's baseline period (its first minutes).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct RestingBaseline {
    /// When it was measured (the session's end), seconds since the Unix epoch.
    pub measured_unix_s: u64,
    /// Statistics per feature name (features without enough values are left out).
    pub features: BTreeMap<String, FeatureStats>,
    /// Fields written by a newer release of the same version, kept across a rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One feature's resting statistics.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
#[serde(default)]
pub struct FeatureStats {
    /// Mean over the baseline windows.
    pub mean: f64,
    /// Standard deviation over them (ddof = 1).
    pub sd: f64,
    /// Windows that went into them.
    pub n: usize,
}

impl RestingBaseline {
    /// From a session's measured baseline; `None` when no feature had enough values.
    pub fn from_stats(stats: &BaselineStats, measured_unix_s: u64) -> Option<Self> {
        let features: BTreeMap<String, FeatureStats> = Feature::ALL
            .into_iter()
            .filter_map(|f| {
                let i = f as usize;
                let (mean, sd) = (stats.mean[i]?, stats.sd[i].unwrap_or(0.0));
                (mean.is_finite() && sd.is_finite()).then(|| {
                    (
                        f.name().to_string(),
                        FeatureStats {
                            mean,
                            sd,
                            n: stats.n[i],
                        },
                    )
                })
            })
            .collect();
        (!features.is_empty()).then(|| Self {
            measured_unix_s,
            features,
            extra: BTreeMap::new(),
        })
    }

    /// As baseline statistics (names this release does not know, and values that are
    /// not finite, are left out); `None` when nothing usable remains.
    pub fn to_stats(&self) -> Option<BaselineStats> {
        let mut s = BaselineStats {
            mean: [None; FEATURE_COUNT],
            sd: [None; FEATURE_COUNT],
            n: [0; FEATURE_COUNT],
        };
        let mut any = false;
        for (name, v) in &self.features {
            let Some(f) = Feature::from_name(name) else {
                continue;
            };
            if v.mean.is_finite() && v.sd.is_finite() && v.sd >= 0.0 {
                let i = f as usize;
                s.mean[i] = Some(v.mean);
                s.sd[i] = Some(v.sd);
                s.n[i] = v.n;
                any = true;
            }
        }
        any.then_some(s)
    }
}

/// Summary of one finished session. No raw biometric data.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(default)]
pub struct SessionRecord {
    /// When the session finished, seconds since the Unix epoch.
    pub finished_unix_s: u64,
    /// The palette it played.
    pub palette: String,
    /// How long it played, seconds.
    #[serde(deserialize_with = "super::f64_or_null")]
    pub duration_s: f64,
    /// Arousal (0 calm .. 1 stressed) estimated near its start.
    pub arousal_start: Option<f64>,
    /// Arousal estimated near its end.
    pub arousal_end: Option<f64>,
    /// Its reward ([`crate::session::SessionOutcome::reward`]), when known.
    pub reward: Option<f64>,
    /// Whether the biometrics were simulated (such sessions are never rewarded).
    pub simulated: bool,
    /// Fields written by a newer release of the same version, kept across a rewrite.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The outcome of [`load`].
#[derive(Clone, Debug, PartialEq)]
pub enum ProfileLoad {
    /// There is no file yet: a fresh profile (the file is created by the first save).
    New(Profile),
    /// The file was read.
    Loaded(Profile),
    /// The file was damaged. It was renamed to `backup`, its content intact, and a fresh
    /// profile is returned.
    Recovered {
        /// A fresh profile.
        profile: Profile,
        /// Where the damaged file now is.
        backup: PathBuf,
        /// What was wrong with it: the file, and for JSON errors the line and column.
        why: String,
    },
    /// The file was written by a newer release. It is left untouched; run the session
    /// without saving.
    NewerVersion {
        /// The version found in the file (saturated at `u32::MAX`).
        found: u32,
    },
    /// The file could not be read (permissions, a directory in its place, …), or is
    /// damaged and could not be moved aside. It is left untouched; run the session
    /// without saving.
    Unreadable {
        /// What went wrong, naming the file.
        why: String,
    },
}

impl Default for Profile {
    fn default() -> Self {
        Self::new()
    }
}

impl Profile {
    /// An empty profile of the current version.
    pub fn new() -> Self {
        Self {
            version: PROFILE_VERSION,
            presets: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }

    /// The history of `preset`, if it has one.
    pub fn preset(&self, preset: &str) -> Option<&PresetHistory> {
        self.presets.get(preset)
    }

    /// The history of `preset`, created empty if it has none.
    pub fn preset_mut(&mut self, preset: &str) -> &mut PresetHistory {
        self.presets.entry(preset.to_owned()).or_default()
    }

    /// Writes the profile to `path` atomically: to a temporary file in the same directory,
    /// flushed to disk, then renamed over `path`; on unix the directory is then flushed
    /// too (best effort). The directory is created if missing. A crash at any point leaves
    /// the previous file intact. Temporary files that an interrupted save left behind for
    /// more than ten minutes are removed.
    ///
    /// A file at `path` from a newer version ([`ProfileLoad::NewerVersion`]) is never
    /// replaced: that is an error of kind [`io::ErrorKind::InvalidData`].
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a file", path.display()),
            )
        })?;
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        fs::create_dir_all(dir)?;
        if let Some(found) = newer_version_at(path) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is a version {found} profile, newer than this release's \
                     {PROFILE_VERSION}; it is not overwritten",
                    path.display()
                ),
            ));
        }

        let mut json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        json.push(b'\n');

        let (temp_path, mut file) = create_temp(dir, name)?;
        let written = file
            .write_all(&json)
            .and_then(|()| file.sync_all())
            .and_then(|()| {
                drop(file);
                fs::rename(&temp_path, path)
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&temp_path);
            return Err(e);
        }
        sync_dir(dir);
        remove_stale_temps(dir, name);
        Ok(())
    }
}

impl PresetHistory {
    /// Records a finished session: appends its summary (dropping the oldest beyond
    /// [`MAX_SESSIONS`]) and, if it has a finite reward and its biometrics were not
    /// simulated, counts the reward for its palette.
    pub fn record(&mut self, session: SessionRecord) {
        if let Some(reward) = session.reward.filter(|r| r.is_finite()) {
            if !session.simulated {
                self.palettes
                    .entry(session.palette.clone())
                    .or_default()
                    .update(reward);
            }
        }
        self.sessions.push(session);
        if self.sessions.len() > MAX_SESSIONS {
            let excess = self.sessions.len() - MAX_SESSIONS;
            self.sessions.drain(..excess);
        }
    }

    /// Chooses the palette for the next session among `palettes` (the preset's palette
    /// names, in order) from this history; see [`bandit::choose`].
    pub fn choose_palette(&self, palettes: &[String], seed: u64) -> Option<Choice> {
        bandit::choose(palettes, &self.palettes, seed)
    }
}

/// Reads the profile at `path`. Never panics and never deletes anything; see
/// [`ProfileLoad`] for what each outcome means and what the caller should do.
pub fn load(path: &Path) -> ProfileLoad {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return ProfileLoad::New(Profile::new()),
        Err(e) => {
            return ProfileLoad::Unreadable {
                why: format!("cannot read the profile {}: {e}", path.display()),
            }
        }
    };
    match parse(&bytes) {
        Ok(profile) => ProfileLoad::Loaded(profile),
        Err(Invalid::Newer(found)) => ProfileLoad::NewerVersion { found },
        Err(Invalid::Corrupt(what)) => {
            let why = format!("the profile {} is not valid: {what}", path.display());
            match move_aside(path) {
                Ok(backup) => ProfileLoad::Recovered {
                    profile: Profile::new(),
                    backup,
                    why,
                },
                Err(e) => ProfileLoad::Unreadable {
                    why: format!(
                        "{why}; it could not be moved aside ({e}), so it is left as it is"
                    ),
                },
            }
        }
    }
}

/// The version of the profile at `path` if it is readable JSON from a newer version.
fn newer_version_at(path: &Path) -> Option<u64> {
    let bytes = fs::read(path).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    let version = value.get("version")?.as_u64()?;
    (version > u64::from(PROFILE_VERSION)).then_some(version)
}

/// Why a file's content is not a profile this release can use.
enum Invalid {
    /// From a newer version.
    Newer(u32),
    /// Damaged; the text says how.
    Corrupt(String),
}

fn parse(bytes: &[u8]) -> Result<Profile, Invalid> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Invalid::Corrupt("the file is empty".to_owned()));
    }
    // Parse untyped first: the version decides how the rest is read.
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| Invalid::Corrupt(e.to_string()))?;
    let Value::Object(fields) = &value else {
        return Err(Invalid::Corrupt(format!(
            "expected a JSON object at the top level, found {}",
            kind_of(&value)
        )));
    };
    let version = match fields.get("version") {
        None => return Err(Invalid::Corrupt("it has no \"version\" field".to_owned())),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| Invalid::Corrupt(format!("\"version\" is {v}, not a whole number")))?,
    };
    if version > u64::from(PROFILE_VERSION) {
        return Err(Invalid::Newer(u32::try_from(version).unwrap_or(u32::MAX)));
    }
    if version == 0 {
        return Err(Invalid::Corrupt(
            "\"version\" is 0, which never existed".to_owned(),
        ));
    }
    // Typed from the text again (not from the value) so errors carry line and column.
    serde_json::from_slice(bytes).map_err(|e| Invalid::Corrupt(e.to_string()))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Renames a damaged profile to `<stem>.corrupt-<unix seconds>[-n].json` beside it.
fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let stem = path
        .file_stem()
        .unwrap_or_else(|| OsStr::new("profile"))
        .to_string_lossy();
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for n in 0u32..1000 {
        let name = if n == 0 {
            format!("{stem}.corrupt-{seconds}.json")
        } else {
            format!("{stem}.corrupt-{seconds}-{n}.json")
        };
        let backup = path.with_file_name(name);
        // `rename` would replace an existing backup; never do that.
        if fs::symlink_metadata(&backup).is_ok() {
            continue;
        }
        fs::rename(path, &backup)?;
        return Ok(backup);
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free name for a backup",
    ))
}

/// Prefix of the temporary files a save of `name` writes: `.<name>.tmp-`.
fn temp_prefix(name: &OsStr) -> String {
    format!(".{}.tmp-", name.to_string_lossy())
}

/// Creates a new, uniquely named temporary file in `dir` for a save of `name`.
fn create_temp(dir: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut attempts = 0;
    loop {
        attempts += 1;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(
            "{}{}-{nanos}-{n}",
            temp_prefix(name),
            std::process::id()
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Flushes the directory entry of a rename to disk (unix; best effort).
#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Directories cannot be flushed this way here; the rename alone has to do.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

/// Removes temporary files of earlier, interrupted saves of `name` (best effort). Recent
/// ones are left: they may belong to a save in progress elsewhere.
fn remove_stale_temps(dir: &Path, name: &OsStr) {
    let prefix = temp_prefix(name);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE_TEMP_AGE));
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_profile() -> Profile {
        let mut p = Profile::new();
        let h = p.preset_mut("relax");
        h.breathing_baseline_per_min = Some(13.5);
        for (i, (palette, start, end)) in
            [("warm", 0.7, 0.5), ("glass", 0.6, 0.62), ("warm", 0.8, 0.4)]
                .iter()
                .enumerate()
        {
            h.record(SessionRecord {
                finished_unix_s: 1_700_000_000 + i as u64 * 3600,
                palette: (*palette).to_owned(),
                duration_s: 900.0,
                arousal_start: Some(*start),
                arousal_end: Some(*end),
                reward: super::super::arousal_reduction(Some(*start), Some(*end)),
                simulated: false,
                extra: BTreeMap::new(),
            });
        }
        p
    }

    /// Asserts that `path` loads as `expected`. serde_json's default float parsing is
    /// correct to about one unit in the last place, not always exact, so numbers are
    /// compared with a relative tolerance of 1e-15.
    fn assert_loads_as(path: &Path, expected: &Profile) {
        let ProfileLoad::Loaded(got) = load(path) else {
            panic!("{} did not load", path.display());
        };
        let got = serde_json::to_value(&got).unwrap();
        let expected = serde_json::to_value(expected).unwrap();
        if let Some(diff) = difference(&got, &expected, "profile") {
            panic!("{} loads differently: {diff}", path.display());
        }
    }

    /// Where `a` and `b` differ by more than float rounding, if anywhere.
    fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64()?, y.as_f64()?);
                ((x - y).abs() > 1e-15 * x.abs().max(y.abs())).then(|| format!("{at}: {x} vs {y}"))
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| difference(p, q, &format!("{at}[{i}]"))),
            (Value::Object(x), Value::Object(y)) if x.keys().eq(y.keys()) => x
                .iter()
                .find_map(|(k, v)| difference(v, &y[k], &format!("{at}.{k}"))),
            _ => (a != b).then(|| format!("{at}: {a} vs {b}")),
        }
    }

    #[test]
    fn the_comparison_tolerates_only_rounding() {
        let p = serde_json::to_value(sample_profile()).unwrap();
        let mut q = sample_profile();
        q.preset_mut("relax").sessions[1].duration_s = 900.000001;
        let q = serde_json::to_value(q).unwrap();
        assert_eq!(difference(&p, &p, "profile"), None);
        assert_eq!(
            difference(&p, &q, "profile").as_deref(),
            Some("profile.presets.relax.sessions[1].duration_s: 900 vs 900.000001")
        );
        let mut r = p.clone();
        r["presets"]["relax"]["breathing_baseline_per_min"] = json!(13.500000000000002);
        assert_eq!(difference(&p, &r, "profile"), None, "one ulp apart");
    }

    #[test]
    fn a_resting_baseline_survives_a_round_trip_and_unknown_features_are_skipped() {
        let mut stats = BaselineStats {
            mean: [None; FEATURE_COUNT],
            sd: [None; FEATURE_COUNT],
            n: [0; FEATURE_COUNT],
        };
        stats.mean[Feature::MeanHr as usize] = Some(63.5);
        stats.sd[Feature::MeanHr as usize] = Some(2.25);
        stats.n[Feature::MeanHr as usize] = 49;
        stats.mean[Feature::Rmssd as usize] = Some(f64::NAN);
        let r = RestingBaseline::from_stats(&stats, 1_700_000_000).unwrap();
        assert_eq!(r.features.len(), 1, "the NaN feature is left out");
        let mut p = Profile::new();
        p.preset_mut("relax").resting_baseline = Some(r.clone());
        let text = serde_json::to_string(&p).unwrap();
        let back: Profile = serde_json::from_str(&text).unwrap();
        assert_eq!(back.preset("relax").unwrap().resting_baseline, Some(r));
        let s = back
            .preset("relax")
            .unwrap()
            .resting_baseline
            .as_ref()
            .unwrap()
            .to_stats()
            .unwrap();
        assert_eq!(s.mean_of(Feature::MeanHr), Some(63.5));
        assert_eq!(s.n[Feature::MeanHr as usize], 49);
        // a feature a newer release measures is kept in the file but not used
        let mut v: Value = serde_json::from_str(&text).unwrap();
        v["presets"]["relax"]["resting_baseline"]["features"]["future_feature"] =
            json!({"mean": 1.0, "sd": 0.1, "n": 3});
        let newer: Profile = serde_json::from_value(v).unwrap();
        let rb = newer
            .preset("relax")
            .unwrap()
            .resting_baseline
            .clone()
            .unwrap();
        assert_eq!(rb.features.len(), 2);
        assert_eq!(rb.to_stats().unwrap().mean.iter().flatten().count(), 1);
        // a profile without one writes none
        assert!(!serde_json::to_string(&Profile::new())
            .unwrap()
            .contains("resting_baseline"));
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn missing_file_gives_a_new_profile() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load(&dir.path().join("profile.json")),
            ProfileLoad::New(Profile::new())
        );
        assert!(files_in(dir.path()).is_empty());
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let p = sample_profile();
        p.save(&path).unwrap();
        assert_loads_as(&path, &p);
        assert_eq!(
            files_in(dir.path()),
            ["profile.json"],
            "no temporary file left"
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"version\": 1,\n"), "{text}");
    }

    #[test]
    fn record_updates_stats_and_keeps_the_last_sessions() {
        let p = sample_profile();
        let h = p.preset("relax").unwrap();
        assert_eq!(h.palettes["warm"].sessions, 2);
        assert!((h.palettes["warm"].mean_reward - 0.3).abs() < 1e-12);
        assert_eq!(h.palettes["glass"].sessions, 1);

        let mut h = h.clone();
        let simulated = SessionRecord {
            palette: "glass".into(),
            reward: Some(0.9),
            simulated: true,
            ..SessionRecord::default()
        };
        h.record(simulated);
        assert_eq!(
            h.palettes["glass"].sessions, 1,
            "simulated sessions are not rewarded"
        );
        h.record(SessionRecord {
            palette: "dusk".into(),
            ..SessionRecord::default()
        });
        assert!(!h.palettes.contains_key("dusk"), "no reward, no statistics");
        assert_eq!(h.sessions.len(), 5);

        for i in 0..150 {
            h.record(SessionRecord {
                finished_unix_s: i,
                ..SessionRecord::default()
            });
        }
        assert_eq!(h.sessions.len(), MAX_SESSIONS);
        assert_eq!(h.sessions[0].finished_unix_s, 50);
        assert_eq!(h.sessions.last().unwrap().finished_unix_s, 149);
    }

    /// Writes `content` as the profile, loads it, and checks it was moved aside intact.
    fn assert_recovered(content: &[u8], why_contains: &[&str]) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        fs::write(&path, content).unwrap();
        let ProfileLoad::Recovered {
            profile,
            backup,
            why,
        } = load(&path)
        else {
            panic!("not recovered: {:?}", String::from_utf8_lossy(content));
        };
        assert_eq!(profile, Profile::new());
        assert!(!path.exists());
        assert_eq!(fs::read(&backup).unwrap(), content, "backup content intact");
        assert_eq!(backup.parent(), Some(dir.path()));
        let backup_name = backup.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            backup_name.starts_with("profile.corrupt-") && backup_name.ends_with(".json"),
            "{backup_name}"
        );
        assert!(why.contains(&path.display().to_string()), "{why}");
        for part in why_contains {
            assert!(why.contains(part), "{why:?} lacks {part:?}");
        }
        // A fresh profile can be saved in its place, and the backup stays.
        profile.save(&path).unwrap();
        assert!(matches!(load(&path), ProfileLoad::Loaded(_)));
        assert_eq!(fs::read(&backup).unwrap(), content);
    }

    #[test]
    fn garbage_is_moved_aside() {
        assert_recovered(b"this is not json\n", &["line 1 column 2"]);
        assert_recovered(&[0xff, 0xfe, 0x00, 0x12, 0x80], &["line 1"]);
    }

    #[test]
    fn truncated_json_is_moved_aside() {
        let full = serde_json::to_vec_pretty(&sample_profile()).unwrap();
        let cut = &full[..full.len() * 2 / 3];
        let lines = cut.iter().filter(|&&b| b == b'\n').count() + 1;
        assert_recovered(cut, &["EOF", &format!("line {lines}")]);
    }

    #[test]
    fn empty_file_is_moved_aside() {
        assert_recovered(b"", &["empty"]);
        assert_recovered(b"  \n", &["empty"]);
    }

    #[test]
    fn wrong_types_are_moved_aside() {
        assert_recovered(b"[1, 2]", &["top level", "an array"]);
        assert_recovered(b"{\"presets\": {}}", &["version"]);
        assert_recovered(b"{\"version\": \"one\"}", &["version"]);
        assert_recovered(b"{\"version\": 0}", &["version"]);
        assert_recovered(b"{\"version\": 1, \"presets\": []}", &["line 1 column"]);
        assert_recovered(
            b"{\n  \"version\": 1,\n  \"presets\": {\n    \"relax\": {\n      \"palettes\": {\n        \"warm\": {\"sessions\": \"three\"}\n      }\n    }\n  }\n}\n",
            &["line 6"],
        );
    }

    #[test]
    fn backups_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let mut backups = Vec::new();
        for i in 0..3 {
            let content = format!("broken {i}");
            fs::write(&path, &content).unwrap();
            let ProfileLoad::Recovered { backup, .. } = load(&path) else {
                panic!()
            };
            backups.push((backup, content));
        }
        for (backup, content) in &backups {
            assert_eq!(&fs::read_to_string(backup).unwrap(), content);
        }
        assert_eq!(files_in(dir.path()).len(), 3);
    }

    #[test]
    fn newer_version_is_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let content = b"{\"version\": 2, \"presets\": \"a shape this release does not know\"}";
        fs::write(&path, content).unwrap();
        assert_eq!(load(&path), ProfileLoad::NewerVersion { found: 2 });
        assert_eq!(fs::read(&path).unwrap(), content);
        assert_eq!(files_in(dir.path()), ["profile.json"]);

        // Saving over it by mistake is refused.
        let refused = Profile::new().save(&path).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidData);
        assert!(refused.to_string().contains("version 2"), "{refused}");
        assert_eq!(fs::read(&path).unwrap(), content);
        assert_eq!(files_in(dir.path()), ["profile.json"]);

        fs::write(&path, b"{\"version\": 99999999999}").unwrap();
        assert_eq!(load(&path), ProfileLoad::NewerVersion { found: u32::MAX });
    }

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let written_by_newer_release = json!({
            "version": 1,
            "listener_note": {"chronotype": "late"},
            "presets": {
                "relax": {
                    "palettes": {"warm": {"sessions": 2, "mean_reward": 0.3, "m2": 0.02, "prior": "x"}},
                    "breathing_baseline_per_min": 12.0,
                    "sessions": [{
                        "finished_unix_s": 5, "palette": "warm", "duration_s": 60.0,
                        "arousal_start": 0.5, "arousal_end": 0.3, "reward": 0.2,
                        "simulated": false, "hrv_summary": [1, 2, 3]
                    }],
                    "tempo_bias": -0.1
                }
            }
        });
        fs::write(
            &path,
            serde_json::to_vec(&written_by_newer_release).unwrap(),
        )
        .unwrap();
        let ProfileLoad::Loaded(mut p) = load(&path) else {
            panic!()
        };
        assert_eq!(p.preset("relax").unwrap().palettes["warm"].sessions, 2);
        p.preset_mut("relax").record(SessionRecord {
            palette: "warm".into(),
            reward: Some(0.1),
            ..SessionRecord::default()
        });
        p.save(&path).unwrap();

        let back: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(back["listener_note"], json!({"chronotype": "late"}));
        assert_eq!(back["presets"]["relax"]["tempo_bias"], json!(-0.1));
        assert_eq!(
            back["presets"]["relax"]["palettes"]["warm"]["prior"],
            json!("x")
        );
        assert_eq!(
            back["presets"]["relax"]["palettes"]["warm"]["sessions"],
            json!(3)
        );
        assert_eq!(
            back["presets"]["relax"]["sessions"][0]["hrv_summary"],
            json!([1, 2, 3])
        );
        assert_eq!(
            back["presets"]["relax"]["sessions"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn missing_fields_take_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        fs::write(
            &path,
            br#"{"version": 1, "presets": {"relax": {"sessions": [{"palette": "warm"}]}}}"#,
        )
        .unwrap();
        let ProfileLoad::Loaded(p) = load(&path) else {
            panic!()
        };
        let h = p.preset("relax").unwrap();
        assert!(h.palettes.is_empty());
        assert_eq!(h.sessions[0].palette, "warm");
        assert_eq!(h.sessions[0].reward, None);
    }

    #[test]
    fn non_finite_numbers_still_load() {
        // serde_json writes NaN as null; such a profile must not read back as damaged.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let mut p = sample_profile();
        p.preset_mut("relax").sessions[0].duration_s = f64::NAN;
        p.preset_mut("relax").palettes.get_mut("warm").unwrap().m2 = f64::INFINITY;
        p.save(&path).unwrap();
        let ProfileLoad::Loaded(back) = load(&path) else {
            panic!()
        };
        let h = back.preset("relax").unwrap();
        assert!(h.sessions[0].duration_s.is_nan());
        assert!(h.palettes["warm"].m2.is_nan());
        let arms = vec!["warm".to_owned(), "glass".to_owned()];
        assert!(h
            .choose_palette(&arms, 1)
            .unwrap()
            .sampled
            .iter()
            .all(|x| x.is_finite()));
    }

    #[test]
    fn interrupted_save_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let old = sample_profile();
        old.save(&path).unwrap();

        // A save that crashed after writing part of its temporary file.
        let mut newer = old.clone();
        newer.preset_mut("focus").breathing_baseline_per_min = Some(11.0);
        let full = serde_json::to_vec_pretty(&newer).unwrap();
        let temp = dir.path().join(".profile.json.tmp-4242-17-0");
        fs::write(&temp, &full[..full.len() / 2]).unwrap();

        assert_loads_as(&path, &old);

        // The next save succeeds; a fresh leftover is kept (it could be a save in progress).
        newer.save(&path).unwrap();
        assert_loads_as(&path, &newer);
        assert!(temp.exists());

        // Once it is old, the next save clears it.
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        File::options()
            .write(true)
            .open(&temp)
            .unwrap()
            .set_modified(an_hour_ago)
            .unwrap();
        newer.save(&path).unwrap();
        assert_eq!(files_in(dir.path()), ["profile.json"]);
        assert_loads_as(&path, &newer);
    }

    #[test]
    fn failed_save_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        let old = sample_profile();
        old.save(&path).unwrap();
        // Saving to a path occupied by a non-empty directory fails at the rename.
        let blocked = dir.path().join("blocked.json");
        fs::create_dir(&blocked).unwrap();
        fs::write(blocked.join("inside"), b"x").unwrap();
        assert!(Profile::new().save(&blocked).is_err());
        assert_eq!(files_in(dir.path()), ["blocked.json", "profile.json"]);
        assert_loads_as(&path, &old);
    }

    #[test]
    fn save_creates_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("isochord")
            .join("listeners")
            .join("profile.json");
        let p = sample_profile();
        p.save(&path).unwrap();
        assert_loads_as(&path, &p);
    }

    #[test]
    fn unreadable_file_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be cannot be read as one.
        let path = dir.path().join("profile.json");
        fs::create_dir(&path).unwrap();
        let ProfileLoad::Unreadable { why } = load(&path) else {
            panic!()
        };
        assert!(why.contains(&path.display().to_string()), "{why}");
        assert!(path.is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn saved_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profile.json");
        Profile::new().save(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
