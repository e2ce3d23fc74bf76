//! Personalisation across sessions through the public API: load the profile, choose a
//! palette, record the session, save; again and again, as the application would.

use isochord_engine::personal::{self, ProfileLoad, SessionRecord, PROFILE_VERSION};
use std::path::Path;

const PALETTES: [&str; 3] = ["warm", "glass", "dusk"];
/// Arousal drop each palette brings this listener, on average.
const TRUE_REDUCTION: [f64; 3] = [0.05, 0.3, 0.1];

fn load_or_fresh(path: &Path) -> personal::Profile {
    match personal::load(path) {
        ProfileLoad::New(p) | ProfileLoad::Loaded(p) => p,
        other => panic!("unexpected {other:?}"),
    }
}

/// A small deterministic noise source for the listener, uniform in -0.1..0.1.
fn noise(i: u64) -> f64 {
    let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    (x >> 11) as f64 / (1u64 << 53) as f64 * 0.2 - 0.1
}

#[test]
fn a_listener_is_learnt_across_saved_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listeners").join("profile.json");
    let palettes: Vec<String> = PALETTES.iter().map(|s| (*s).to_owned()).collect();
    let mut played = Vec::new();

    for session in 0..30u64 {
        let mut profile = load_or_fresh(&path);
        let start_time = 1_700_000_000 + session * 86_400;
        let history = profile.preset_mut("relax");
        let choice = history.choose_palette(&palettes, start_time).unwrap();
        assert!(!choice.reason.is_empty());

        let arousal_start = 0.7;
        let arousal_end = arousal_start - TRUE_REDUCTION[choice.index] - noise(session);
        history.record(SessionRecord {
            finished_unix_s: start_time + 1200,
            palette: choice.name.clone(),
            duration_s: 1200.0,
            arousal_start: Some(arousal_start),
            arousal_end: Some(arousal_end),
            reward: personal::arousal_reduction(Some(arousal_start), Some(arousal_end)),
            ..SessionRecord::default()
        });
        profile.save(&path).unwrap();
        played.push(choice.index);
    }

    println!("palettes played: {played:?}");
    assert_eq!(&played[..3], &[0, 1, 2], "each palette is tried once first");
    let best_late = played[20..].iter().filter(|&&i| i == 1).count();
    assert!(
        best_late >= 8,
        "the best palette in {best_late} of sessions 21-30: {played:?}"
    );

    let profile = load_or_fresh(&path);
    assert_eq!(profile.version, PROFILE_VERSION);
    let history = profile.preset("relax").unwrap();
    assert_eq!(history.sessions.len(), 30);
    let total: u32 = history.palettes.values().map(|s| s.sessions).sum();
    assert_eq!(total, 30);
    let glass = &history.palettes["glass"];
    assert!((glass.mean_reward - 0.3).abs() < 0.1, "{glass:?}");

    // A demo session on simulated biometrics is recorded but teaches nothing.
    let mut profile = profile;
    let before = profile.preset("relax").unwrap().palettes.clone();
    profile.preset_mut("relax").record(SessionRecord {
        palette: "warm".into(),
        reward: Some(0.9),
        simulated: true,
        ..SessionRecord::default()
    });
    profile.save(&path).unwrap();
    let profile = load_or_fresh(&path);
    assert_eq!(profile.preset("relax").unwrap().sessions.len(), 31);
    let after = &profile.preset("relax").unwrap().palettes;
    assert_eq!(after["warm"].sessions, before["warm"].sessions);

    // Only the profile is in the directory: no temporary files or backups.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["profile.json"]);
}
