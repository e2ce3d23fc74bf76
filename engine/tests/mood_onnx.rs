//! The ONNX arousal model: tract agrees with the training pipeline, the contract is read
//! from the metadata, broken files are refused clearly and a session goes on with the
//! rule-based estimator.

use isochord_engine::biometrics::features::{Feature, FeatureConfig, FeatureExtractor};
use isochord_engine::biometrics::features::{FeatureVector, FeatureWindow};
use isochord_engine::biometrics::sources::{E4Options, E4Source, Source};
use isochord_engine::mood::{
    load_estimator, Abstain, ArousalEstimator, ModelError, Normalisation, OnnxEstimator,
};
use std::path::{Path, PathBuf};

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mood")
        .join(rel)
}

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/models/stress-lr.onnx")
}

fn window(rel: Option<[f64; 3]>, quality: f64) -> FeatureWindow {
    let mut features = FeatureVector::default();
    features.set(Feature::MeanHr, Some(72.0));
    features.set(Feature::EdaTonic, Some(1.0));
    features.set(Feature::ScrRate, Some(2.0));
    features.set(Feature::SkinTemp, Some(33.0));
    let relative = rel.map(|z| {
        let mut v = FeatureVector::default();
        for (f, x) in [Feature::MeanHr, Feature::EdaTonic, Feature::ScrRate]
            .into_iter()
            .zip(z)
        {
            v.set(f, Some(x));
        }
        v
    });
    FeatureWindow {
        start: 300.0,
        end: 360.0,
        features,
        relative,
        quality,
        cardiac_quality: Some(quality),
        eda_quality: Some(1.0),
        beats: 60,
        rejected_beats: 0,
        rejected_samples: 0,
        contact_lost_s: 0.0,
        rr_source: None,
        resp_source: None,
    }
}

#[test]
fn tract_matches_the_training_pipeline_within_1e_5() {
    let text = std::fs::read_to_string(data("vectors.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for model in [
        OnnxEstimator::bundled().unwrap(),
        OnnxEstimator::load(&shipped()).unwrap(),
    ] {
        let c = model.contract();
        let names: Vec<&str> = c.features.iter().map(|f| f.name()).collect();
        assert_eq!(
            &header[..names.len()],
            &names[..],
            "vector columns = model inputs"
        );
        let mut worst = 0f64;
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let v: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
            let (x, expected) = v.split_at(names.len());
            let x32: Vec<f32> = x.iter().map(|v| *v as f32).collect();
            let p = model.predict(&x32).unwrap();
            assert_eq!(p.len(), expected.len());
            for (a, b) in p.iter().zip(expected) {
                worst = worst.max((*a as f64 - b).abs());
            }
            rows += 1;
        }
        assert!(rows >= 40, "{rows} vectors");
        eprintln!(
            "{}: max |tract - training| = {worst:.2e} over {rows} vectors",
            model.origin()
        );
        assert!(worst <= 1e-5, "max error {worst}");
    }
}

#[test]
fn the_contract_comes_from_the_metadata() {
    let m = OnnxEstimator::bundled().unwrap();
    let c = m.contract();
    assert_eq!(c.name, "stress-lr");
    assert!(!c.version.is_empty());
    assert_eq!(
        c.features,
        [Feature::MeanHr, Feature::EdaTonic, Feature::ScrRate]
    );
    assert_eq!(c.units, ["/min", "uS", "/min"]);
    assert_eq!(c.normalisation, Normalisation::BaselineZScore);
    assert_eq!(c.classes, ["calm", "aroused"]);
    assert_eq!(c.class_arousal, [0.0, 1.0]);
    assert_eq!(c.aroused_class(), 1);
    assert!(c.get("isochord.metrics_loso").unwrap().contains("AUC"));
    assert!(c
        .get("isochord.intended_use")
        .unwrap()
        .contains("not a diagnostic"));
    assert_eq!(m.name(), format!("stress-lr {}", c.version));
}

#[test]
fn estimates_follow_the_inputs_and_abstain_when_they_should() {
    let mut m = OnnxEstimator::bundled().unwrap();
    let calm = m.estimate(&window(Some([-1.0, -1.0, -1.0]), 0.9));
    let aroused = m.estimate(&window(Some([3.0, 3.0, 3.0]), 0.9));
    for e in [&calm, &aroused] {
        let sum: f64 = e.probabilities.iter().map(|p| p.1).sum();
        assert!((sum - 1.0).abs() < 1e-5);
        assert!((e.arousal - e.probabilities[1].1).abs() < 1e-9);
        assert!((e.confidence - (2.0 * e.arousal - 1.0).abs()).abs() < 1e-6);
        assert_eq!(e.time, 360.0);
        assert!(e.estimator.starts_with("stress-lr"));
    }
    // a weak model: the direction, more than the size, is what can be asserted
    assert!(
        aroused.arousal > 0.6 && calm.arousal < 0.3,
        "{aroused:?} {calm:?}"
    );
    assert!(aroused.usable(), "{aroused:?}");

    // before the baseline is known: the model abstains and says which inputs it lacks
    let e = m.estimate(&window(None, 0.9));
    match &e.abstain {
        Some(Abstain::MissingFeatures(names)) => {
            assert_eq!(names.len(), 3);
            assert!(names[0].contains("mean_hr") && names[0].contains("no baseline"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.confidence, 0.0);
    // one input missing
    let mut w = window(Some([1.0, 1.0, 1.0]), 0.9);
    let mut rel = w.relative.unwrap();
    rel.set(Feature::ScrRate, None);
    w.relative = Some(rel);
    match m.estimate(&w).abstain {
        Some(Abstain::MissingFeatures(names)) => {
            assert_eq!(names, ["scr_rate (baseline z-score)"])
        }
        other => panic!("{other:?}"),
    }
    // poor signal
    let e = m.estimate(&window(Some([3.0, 3.0, 3.0]), 0.1));
    assert!(
        matches!(e.abstain, Some(Abstain::LowQuality { .. })),
        "{e:?}"
    );
    // indifferent: find inputs where P(aroused) is near 1/2 (the inputs all push upwards)
    let (mut lo, mut hi) = (-5.0f32, 5.0f32);
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if m.predict(&[mid; 3]).unwrap()[1] < 0.5 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let z = lo as f64;
    let near = m.estimate(&window(Some([z, z, z]), 0.9));
    assert!((near.arousal - 0.5).abs() < 0.01, "{near:?}");
    assert!(
        matches!(near.abstain, Some(Abstain::LowConfidence { .. })),
        "{near:?}"
    );
}

#[test]
fn broken_model_files_are_refused_with_what_was_expected() {
    let cases: [(&str, &str); 6] = [
        ("garbage.onnx", "not a usable ONNX model"),
        ("truncated.onnx", "not a usable ONNX model"),
        ("missing_metadata.onnx", "missing isochord.name"),
        (
            "wrong_width.onnx",
            "metadata lists 2 features (expected [1, 2])",
        ),
        ("wrong_classes.onnx", "metadata lists 3 classes"),
        ("wrong_unit.onnx", "engine computes it in `/min`"),
    ];
    for (file, expect) in cases {
        let path = data("bad").join(file);
        let err = OnnxEstimator::load(&path).expect_err(file);
        let msg = err.to_string();
        assert!(msg.contains(file), "{file}: names the file: {msg}");
        assert!(msg.contains(expect), "{file}: {msg}");
        eprintln!("{msg}");
    }
    let err = OnnxEstimator::load(Path::new("/nonexistent/model.onnx")).unwrap_err();
    assert!(matches!(err, ModelError::Read { .. }), "{err:?}");
    let err = OnnxEstimator::from_bytes(&[], "empty.onnx").unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    // too many inputs for predict
    let m = OnnxEstimator::bundled().unwrap();
    assert!(matches!(
        m.predict(&[0.0; 4]),
        Err(ModelError::Inference(_))
    ));
}

#[test]
fn the_loader_falls_back_to_the_rules_with_a_warning() {
    let (m, warnings) = load_estimator(None);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(m.name().starts_with("stress-lr"));
    let (m, warnings) = load_estimator(Some(&shipped()));
    assert!(warnings.is_empty() && m.name().starts_with("stress-lr"));
    for file in [
        "garbage.onnx",
        "truncated.onnx",
        "wrong_width.onnx",
        "missing_metadata.onnx",
    ] {
        let path = data("bad").join(file);
        let (m, warnings) = load_estimator(Some(&path));
        assert_eq!(m.name(), "rules", "{file}");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains(file), "{}", warnings[0]);
        assert!(warnings[0].contains("rule-based"), "{}", warnings[0]);
    }
}

/// A recording through the features into both estimators, as a session runs them: with
/// the model, and with the fallback after a broken model.
#[test]
fn a_session_runs_on_the_model_or_on_the_fallback() {
    let mut source = E4Source::open(data("S05_excerpt"), E4Options::default()).unwrap();
    let mut ex = FeatureExtractor::new(FeatureConfig::default()).unwrap();
    let mut windows = Vec::new();
    while let Some(item) = source.next() {
        if let Ok(d) = item {
            windows.extend(ex.push(&d));
        }
    }
    windows.extend(ex.finish());
    assert!(windows.len() > 200, "{} windows", windows.len());

    let (mut model, w1) = load_estimator(None);
    let (mut fallback, w2) = load_estimator(Some(&data("bad/garbage.onnx")));
    assert!(w1.is_empty() && w2.len() == 1);
    let (mut usable, mut missing) = (0, 0);
    for w in &windows {
        let e = model.estimate(w);
        assert!((0.0..=1.0).contains(&e.arousal) && (0.0..=1.0).contains(&e.confidence));
        match &e.abstain {
            Some(Abstain::MissingFeatures(_)) => {
                missing += 1;
                assert!(w.relative.is_none() || w.end <= 300.0 + 1e-9);
            }
            Some(Abstain::Failed(why)) => panic!("{why}"),
            None => usable += 1,
            _ => {}
        }
        let r = fallback.estimate(w);
        assert_eq!(r.estimator, "rules");
        assert!((0.0..=1.0).contains(&r.arousal));
    }
    assert!(missing > 0, "the first 5 minutes have no baseline");
    assert!(usable > 0, "some estimates are confident enough");
}
