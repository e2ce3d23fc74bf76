//! Arousal model cost on the control thread: one estimate (the bundled ONNX model through
//! tract, from a feature window to class probabilities) and loading the model (parse,
//! check the contract, optimise, one test run). Targets: < 100 µs per estimate, < 200 ms
//! to load. Prints medians; the rule-based estimator is shown for scale.
//!
//! `cargo bench --bench mood`

use isochord_engine::biometrics::features::{Feature, FeatureVector, FeatureWindow};
use isochord_engine::mood::{ArousalEstimator, OnnxEstimator, RuleEstimator, BUNDLED_MODEL};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn window(i: usize) -> FeatureWindow {
    let mut features = FeatureVector::default();
    let mut relative = FeatureVector::default();
    let z = (i % 17) as f64 / 4.0 - 2.0;
    for (f, v, r) in [
        (Feature::MeanHr, 74.0, z),
        (Feature::EdaTonic, 1.2, -z / 2.0),
        (Feature::ScrRate, 2.0, z / 3.0),
        (Feature::Rmssd, 38.0, -z),
    ] {
        features.set(f, Some(v));
        relative.set(f, Some(r));
    }
    FeatureWindow {
        start: 300.0 + 5.0 * i as f64,
        end: 360.0 + 5.0 * i as f64,
        features,
        relative: Some(relative),
        quality: 0.9,
        cardiac_quality: Some(0.9),
        eda_quality: Some(1.0),
        beats: 70,
        rejected_beats: 1,
        rejected_samples: 0,
        contact_lost_s: 0.0,
        rr_source: None,
        resp_source: None,
    }
}

fn per_call(est: &mut dyn ArousalEstimator, windows: &[FeatureWindow]) -> Duration {
    let mut runs = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for w in windows {
            black_box(est.estimate(black_box(w)));
        }
        runs.push(t.elapsed() / windows.len() as u32);
    }
    median(runs)
}

fn main() {
    let mut loads = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        black_box(OnnxEstimator::from_bytes(black_box(BUNDLED_MODEL), "bench").unwrap());
        loads.push(t.elapsed());
    }
    let windows: Vec<FeatureWindow> = (0..1000).map(window).collect();
    let mut model = OnnxEstimator::bundled().unwrap();
    let name = model.name();
    let onnx = per_call(&mut model, &windows);
    let rules = per_call(&mut RuleEstimator::default(), &windows);
    println!(
        "{name}: load + check + optimise {:.2} ms (median of 15; target < 200 ms)",
        median(loads).as_secs_f64() * 1e3
    );
    println!(
        "{name}: one estimate {:.1} µs (median of 15 × 1000 windows; target < 100 µs)",
        onnx.as_secs_f64() * 1e6
    );
    println!("rules: one estimate {:.2} µs", rules.as_secs_f64() * 1e6);
}
