//! On a real recording (Stress-Predict subject S02, Empatica E4 wrist data, bundled in
//! assets/demo with its licence), the adaptive relax session's reactions line up with
//! the labelled stress and rest phases: arousal is estimated higher during the stress
//! tasks, and the policy pauses its lead or goes back to meet the listener mostly while
//! a task is running.

use isochord::engine::biometrics::sources::{E4Options, E4Source};
use isochord::engine::mood::RuleEstimator;
use isochord::engine::policy::EventKind;
use isochord::engine::session::{session_features, AdaptiveController, AdaptiveSetup, ReplayFeed};
use isochord::{Controller, Preset, CONTROL_RATE_HZ};

/// Stress tasks of S02, minutes from the start (tags_S02.csv and the per-second labels).
const STRESS: [(f64, f64); 3] = [(10.2, 16.5), (21.0, 31.9), (37.0, 39.1)];
const MINUTES: f64 = 40.0;

fn stressed(t: f64) -> bool {
    STRESS.iter().any(|(a, b)| t >= a * 60.0 && t < b * 60.0)
}

#[test]
fn policy_reactions_line_up_with_the_labelled_stress_tasks() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/demo/stress-predict-S02"
    );
    let source = E4Source::open(dir, E4Options::default()).unwrap();
    let preset = Preset::find("relax").unwrap();
    let setup = AdaptiveSetup {
        protocol: preset.protocol.clone().unwrap(),
        sound: preset.sound.clone(),
        duration_s: MINUTES * 60.0,
        features: session_features(),
        estimator: Box::new(RuleEstimator::default()),
        allowance: Default::default(),
        breath_baseline: None,
        startup_events: Vec::new(),
    };
    let mut ctl =
        AdaptiveController::new(setup, Box::new(ReplayFeed::new(Box::new(source))), None).unwrap();
    let mut cmds = Vec::new();
    let (mut a_stress, mut a_rest) = (Vec::new(), Vec::new());
    let (mut react_stress, mut react_rest) = (0usize, 0usize);
    let (mut secs_stress, mut secs_rest) = (0.0, 0.0);
    let mut last_window = f64::NEG_INFINITY;
    let ticks = (MINUTES * 60.0 * CONTROL_RATE_HZ) as u64;
    for k in 0..ticks {
        let t = k as f64 / CONTROL_RATE_HZ;
        cmds.clear();
        ctl.tick(t, &mut cmds);
        for e in Controller::take_events(&mut ctl) {
            let reaction = e.kind == EventKind::Decision
                && (e.message.contains("going back to meet")
                    || e.message.contains("holding tempo"))
                && !e.message.contains("abstains");
            if reaction && e.time >= 300.0 {
                println!(
                    "{:5.1} min {} {}",
                    e.time / 60.0,
                    if stressed(e.time) { "S" } else { " " },
                    e.message
                );
                if stressed(e.time) {
                    react_stress += 1;
                } else {
                    react_rest += 1;
                }
            }
        }
        if t >= 300.0 {
            if stressed(t) {
                secs_stress += 0.1;
            } else {
                secs_rest += 0.1;
            }
        }
        if let Some(est) = ctl.latest_estimate() {
            // windows are 60 s long: label a window by its middle
            if est.time > last_window && est.usable() && est.time >= 330.0 {
                last_window = est.time;
                if stressed(est.time - 30.0) {
                    a_stress.push(est.arousal);
                } else {
                    a_rest.push(est.arousal);
                }
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (rs, rr) = (
        react_stress as f64 / (secs_stress / 60.0),
        react_rest as f64 / (secs_rest / 60.0),
    );
    println!(
        "S02 after minute 5: arousal {:.3} during stress tasks ({} windows) vs {:.3} at rest ({}); pauses and re-meetings {:.2}/min during tasks ({react_stress}) vs {:.2}/min at rest ({react_rest})",
        mean(&a_stress),
        a_stress.len(),
        mean(&a_rest),
        a_rest.len(),
        rs,
        rr
    );
    assert!(mean(&a_stress) > mean(&a_rest) + 0.05);
    assert!(rs > 1.5 * rr, "{rs} vs {rr}");
}
