//! R-peak and pulse-peak detection on real recordings against expert annotations and
//! NeuroKit2 0.2.13. Run with `--nocapture` to see the measured numbers.

mod biometrics_common;

use biometrics_common::*;
use isochord_engine::biometrics::ecg_peaks::{detect_r_peaks, match_beats};
use isochord_engine::biometrics::ppg_peaks::detect_pulse_peaks;
use isochord_engine::biometrics::wfdb;

#[test]
fn mitbih_100_sensitivity_and_ppv_reach_99_3_percent() {
    let rec = wfdb::read_record(&data("mitbih/100.hea")).unwrap();
    assert_eq!(rec.header.fs, 360.0);
    let mlii = rec.signal("MLII").unwrap();
    assert_eq!(mlii.len(), 650_000);
    // first samples of the PhysioNet CSV export of lead MLII (mV, 3 decimals)
    for (i, want) in [-0.145f32, -0.145, -0.145].iter().enumerate() {
        assert!((mlii[i] - want).abs() < 5e-4, "sample {i}: {}", mlii[i]);
    }
    let ann = wfdb::read_annotations(&data("mitbih/100.atr")).unwrap();
    let beats: Vec<u64> = ann
        .iter()
        .filter(|a| a.is_beat())
        .map(|a| a.sample)
        .collect();
    let count = |s: &str| ann.iter().filter(|a| a.symbol == s).count();
    assert_eq!(
        (beats.len(), count("N"), count("A"), count("V")),
        (2273, 2239, 33, 1)
    );

    let t0 = std::time::Instant::now();
    let peaks = detect_r_peaks(mlii, 360.0).unwrap();
    let took = t0.elapsed();
    let tol = (0.150f64 * 360.0).round() as u64;
    let (tp, fn_, fp) = match_beats(&beats, &peaks, tol);
    let se = tp as f64 / beats.len() as f64;
    let ppv = tp as f64 / peaks.len() as f64;
    println!(
        "MIT-BIH 100 MLII: {} annotated beats, {} detected, TP {tp} FN {fn_} FP {fp}: \
         sensitivity {:.3} %, PPV {:.3} % (NeuroKit2's detector: 99.868 % / 100.000 %, its \
         corrected peaks: 99.252 % / 99.339 %); {:?} (test profile)",
        beats.len(),
        peaks.len(),
        100.0 * se,
        100.0 * ppv,
        took
    );
    assert!(se >= 0.993 && ppv >= 0.993);
}

/// NeuroKit2's R-peaks (`rpeaks_<name>`, corrected by `ecg_process`) or its detector's
/// own (`rpeaks_uncorrected_<name>`).
fn nk_reference_peaks(name: &str) -> Vec<u64> {
    columns(&format!("reference/rpeaks_{name}.csv"))["peak_sample"]
        .iter()
        .map(|&v| v as u64)
        .collect()
}

/// Detector against detector: our R-peaks against NeuroKit2's before its artifact
/// correction (which moves, inserts and deletes beats; the corrected peaks are printed
/// too).
#[test]
fn neurokit_ecg_records_agree_with_neurokit_peaks() {
    for (name, file, col, fs) in [
        (
            "nk_bio_resting_5min_100hz_ECG",
            "neurokit/bio_resting_5min_100hz.csv",
            "ECG",
            100.0,
        ),
        (
            "nk_bio_eventrelated_100hz_ECG",
            "neurokit/bio_eventrelated_100hz.csv",
            "ECG",
            100.0,
        ),
        ("nk_ecg_1000hz", "neurokit/ecg_1000hz.csv", "ECG", 1000.0),
    ] {
        let x: Vec<f32> = columns(file)[col].iter().map(|&v| v as f32).collect();
        let peaks = detect_r_peaks(&x, fs).unwrap();
        let tol = (0.05 * fs) as u64;
        let corrected = nk_reference_peaks(name);
        let (ctp, cfn, cfp) = match_beats(&corrected, &peaks, tol);
        let reference = nk_reference_peaks(&format!("uncorrected_{name}"));
        let (tp, fn_, fp) = match_beats(&reference, &peaks, tol);
        let exact = match_beats(&reference, &peaks, 0).0;
        println!(
            "{name}: NeuroKit2's detector {} peaks, ours {}: matched within 50 ms {tp}, missed {fn_}, \
             extra {fp}, same sample {exact} (its corrected peaks: {ctp} matched, {cfn} missed, \
             {cfp} extra)",
            reference.len(),
            peaks.len()
        );
        // the differences: NeuroKit2 cannot report a first beat, and the two detectors
        // place beats differently in the resting record's motion artifacts
        assert!(tp as f64 >= 0.98 * reference.len() as f64, "{name}");
        assert!(fp as f64 <= 0.02 * reference.len() as f64 + 1.0, "{name}");
    }
}

#[test]
fn ppg_pulse_peaks_match_neurokit_elgendi() {
    let x: Vec<f32> = columns("neurokit/bio_resting_5min_100hz.csv")["PPG"]
        .iter()
        .map(|&v| v as f32)
        .collect();
    let peaks = detect_pulse_peaks(&x, 100.0).unwrap();
    let reference = nk_reference_peaks("nk_bio_resting_5min_100hz_PPG");
    let exact = match_beats(&reference, &peaks, 0).0;
    let (tp, fn_, fp) = match_beats(&reference, &peaks, 5);
    println!(
        "PPG 5 min 100 Hz: NeuroKit2 {} peaks, ours {}: same sample {exact}, within 50 ms {tp} \
         (missed {fn_}, extra {fp})",
        reference.len(),
        peaks.len()
    );
    assert!(exact as f64 >= 0.99 * reference.len() as f64);
    assert!(fn_ + fp <= 2);
}
