//! The sound really follows the policy: an adaptive session (the simulated listener in
//! the loop) is rendered offline, and tempo, brightness and the breathing swell are
//! measured per minute from the audio and compared with the targets the session log
//! recorded for that minute.
//!
//! The session runs twice from the same seed and input, so the log and every decision
//! are identical (offline sessions are deterministic); each render solos the layers one
//! measure reads: the pulse for the onset rate, the pad and breath guide for the
//! spectral centroid and the loudness-envelope period.

mod common;
use common::*;
use isochord::engine::biometrics::sources::{ArousalScript, SimOptions, Simulator};
use isochord::engine::mood::RuleEstimator;
use isochord::engine::session::{
    session_features, AdaptiveController, AdaptiveSetup, ReplayFeed, SessionLog,
};
use isochord::engine::simulation::{Listener, ListenerParams, ListeningLoop};
use isochord::{OfflineSession, Preset};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

const MINUTES: usize = 12;

/// Renders the session with only the layers `keep` sounding; returns mono audio and
/// the log's per-second records.
fn session(solo_pulse: bool) -> (Vec<f32>, Vec<serde_json::Value>) {
    let preset = Preset::find("relax").unwrap();
    let protocol = preset.protocol.clone().unwrap();
    let mut sound = preset.sound.clone();
    sound.melody.enabled = false;
    sound.noise.enabled = false;
    // one note a beat and no sections, so the onset rate reads the tempo
    sound.pulse.mode = isochord::dsp::config::PulseMode::Pattern;
    sound.form.enabled = false;
    if solo_pulse {
        sound.pad.enabled = false;
        sound.breath.enabled = false;
        // a short room: the long one's echoes read as extra onsets
        sound.reverb.rt60_s = 0.3;
    } else {
        sound.pulse.enabled = false;
    }
    let duration = (MINUTES * 60) as f64;
    let sim = Simulator::new(SimOptions {
        seed: 7,
        duration: Some(duration + 60.0),
        script: ArousalScript::constant(0.8),
        ..Default::default()
    });
    let handle = sim.handle();
    let log_path = tempfile::NamedTempFile::new().unwrap();
    let log = SessionLog::new(
        Box::new(std::fs::File::create(log_path.path()).unwrap()),
        Default::default(),
    );
    let setup = AdaptiveSetup {
        protocol: protocol.clone(),
        sound: sound.clone(),
        duration_s: duration,
        features: session_features(),
        estimator: Box::new(RuleEstimator::default()),
        allowance: Default::default(),
        breath_baseline: None,
        startup_events: Vec::new(),
    };
    let ctl = AdaptiveController::new(setup, Box::new(ReplayFeed::new(Box::new(sim))), Some(log))
        .unwrap();
    let listener = Listener::new(
        ListenerParams {
            initial_arousal: 0.8,
            ..Default::default()
        },
        7,
    );
    let controller = Box::new(ListeningLoop::new(ctl, listener, handle, protocol, 0));
    let session = OfflineSession {
        content: isochord::Content::none(),
        config: sound,
        sample_rate: SR as u32,
        seed: 7,
        duration: Duration::from_secs_f64(duration),
        controller,
    };
    let mut audio = Vec::new();
    session
        .render(
            |b| {
                audio.extend(b.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1])));
                Ok::<(), ()>(())
            },
            &AtomicBool::new(false),
            |_, _| {},
        )
        .unwrap();
    let records = std::fs::read_to_string(log_path.path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["record"] == "second")
        .collect();
    (audio, records)
}

/// Mean of a logged parameter over minute `m`.
fn logged(records: &[serde_json::Value], m: usize, key: &str) -> f64 {
    let v: Vec<f64> = records
        .iter()
        .filter(|r| {
            let t = r["t"].as_f64().unwrap();
            t > (m * 60) as f64 && t <= ((m + 1) * 60) as f64
        })
        .map(|r| r["params"][key].as_f64().unwrap())
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn minute(x: &[f32], m: usize) -> &[f32] {
    let n = (60.0 * SR) as usize;
    &x[m * n..((m + 1) * n).min(x.len())]
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn tempo_brightness_and_breathing_swell_follow_the_logged_targets() {
    let (pulse, log_a) = session(true);
    let (pad, log_b) = session(false);
    assert_eq!(log_a.len(), log_b.len());
    for (a, b) in log_a.iter().zip(&log_b) {
        assert_eq!(
            a["params"], b["params"],
            "the two renders took different decisions at {}",
            a["t"]
        );
    }
    // minutes 1..11: the first holds the fade-in, the last the closing fade
    let minutes: Vec<usize> = (1..MINUTES - 1).collect();
    let (mut tempo, mut onsets, mut bright, mut centroid) = (vec![], vec![], vec![], vec![]);
    for &m in &minutes {
        let t = logged(&log_a, m, "tempo");
        let o = onset_rate(minute(&pulse, m)) as f64;
        let b = logged(&log_b, m, "brightness");
        let c = spectral_centroid(minute(&pad, m)) as f64;
        let breath = logged(&log_b, m, "breath_rate");
        let period = envelope_period(minute(&pad, m), 2.0, 12.0) as f64;
        println!(
            "minute {m:2}: tempo {t:5.1} BPM, onsets {o:5.1}/min | brightness {b:.3}, centroid {c:6.0} Hz | breath {breath:5.2}/min → swell period {:.2} s, measured {period:.2} s",
            60.0 / breath
        );
        assert!(
            (o - t).abs() <= 0.08 * t,
            "minute {m}: {o:.1} onsets/min for a logged tempo of {t:.1} BPM"
        );
        let expected = 60.0 / breath;
        assert!(
            (period - expected).abs() <= 0.15 * expected,
            "minute {m}: swell period {period:.2} s for a logged breath rate of {breath:.2}/min"
        );
        tempo.push(t);
        onsets.push(o);
        bright.push(b);
        centroid.push(c);
    }
    let spread = |v: &[f64]| {
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    println!(
        "tempo spread {:.1} BPM, brightness spread {:.3}; r(tempo, onsets) = {:.3}, r(brightness, centroid) = {:.3}",
        spread(&tempo),
        spread(&bright),
        correlation(&tempo, &onsets),
        correlation(&bright, &centroid)
    );
    assert!(
        spread(&tempo) >= 6.0,
        "the session hardly moved the tempo: {tempo:?}"
    );
    assert!(correlation(&tempo, &onsets) >= 0.9);
    assert!(correlation(&bright, &centroid) >= 0.8);
}
