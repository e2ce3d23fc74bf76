//! `isochord model info` and `isochord model eval`: an arousal model's contract, and its
//! scores on labelled data through the Rust features and Rust inference.

use crate::features::{align_labels, extract, BaselineArgs, Extraction, Format, Labels};
use crate::Failure;
use clap::{Args, Subcommand};
use isochord_engine::biometrics::features::{Feature, FeatureVector, FeatureWindow};
use isochord_engine::mood::{
    Abstain, ArousalEstimator, ModelContract, OnnxEstimator, RuleEstimator,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Print a model's contract (inputs, normalisation, classes) and card summary.
    Info(InfoArgs),
    /// Score a model on labelled data: AUC, balanced accuracy, F1, calibration error.
    Eval(EvalArgs),
}

#[derive(Args)]
struct InfoArgs {
    /// An ONNX model file (default: the bundled model).
    path: Option<PathBuf>,
}

#[derive(Args)]
struct EvalArgs {
    /// The model (default: the bundled model).
    #[arg(long, conflicts_with = "rules")]
    model: Option<PathBuf>,
    /// Score the rule-based fallback estimator instead of a model.
    #[arg(long)]
    rules: bool,
    /// Labelled data: a feature table (CSV from `isochord features --labels`), an E4
    /// folder, or a folder of E4 folders. Each E4 folder holds its labels in `labels.csv`
    /// unless --labels is given.
    #[arg(long)]
    data: PathBuf,
    /// One label file for all E4 folders; its `subject`/`participant` column is matched
    /// to each folder's name or to the number in it (S02 ↔ 2).
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Only windows whose label covers at least this share of them.
    #[arg(long, default_value_t = 0.99)]
    min_purity: f64,
    /// Window length, seconds (E4 data).
    #[arg(long, default_value_t = 60.0)]
    window: f64,
    /// Time between windows, seconds (E4 data).
    #[arg(long, default_value_t = 5.0)]
    hop: f64,
    #[command(flatten)]
    baseline: BaselineArgs,
}

pub fn run(args: ModelArgs) -> Result<ExitCode, Failure> {
    match args.command {
        ModelCommand::Info(a) => info(a),
        ModelCommand::Eval(a) => eval(a),
    }
}

fn load(path: Option<&Path>) -> Result<OnnxEstimator, Failure> {
    match path {
        Some(p) => OnnxEstimator::load(p),
        None => OnnxEstimator::bundled(),
    }
    .map_err(Failure::input)
}

fn info(args: InfoArgs) -> Result<ExitCode, Failure> {
    let m = load(args.path.as_deref())?;
    let c = m.contract();
    let meta = |k: &str| c.get(k).unwrap_or("(not stated)").to_string();
    println!("model        {} {}", c.name, c.version);
    println!("file         {}", m.origin());
    println!(
        "inputs       {} features, float32 [1, {}]",
        c.features.len(),
        c.features.len()
    );
    for (i, (f, u)) in c.features.iter().zip(&c.units).enumerate() {
        println!(
            "  {i:>2}  {:<12} {:<6} {}",
            f.name(),
            u,
            f.info().description
        );
    }
    println!(
        "normalisation {}{}",
        c.normalisation.name(),
        match c.get("isochord.baseline") {
            Some(b) => format!(" (baseline: {b})"),
            None => String::new(),
        }
    );
    println!(
        "windows      {} s every {} s",
        meta("isochord.window_s"),
        meta("isochord.hop_s")
    );
    let classes: Vec<String> = c
        .classes
        .iter()
        .zip(&c.class_arousal)
        .map(|(n, a)| format!("{n} (arousal {a})"))
        .collect();
    println!("classes      {}", classes.join(", "));
    println!(
        "abstains     when quality < {} or confidence < {}; when an input is missing ({})",
        c.min_quality,
        c.min_confidence,
        meta("isochord.missing")
    );
    println!("training     {}", meta("isochord.training"));
    println!("metrics      {}", meta("isochord.metrics_loso"));
    println!("intended use {}", meta("isochord.intended_use"));
    println!("card         {}", meta("isochord.card"));
    if !c.doc.is_empty() {
        println!("summary      {}", c.doc);
    }
    Ok(ExitCode::SUCCESS)
}

/// One scored window.
struct Scored {
    subject: String,
    aroused: bool,
    p: f64,
    usable: bool,
}

fn is_e4(dir: &Path) -> bool {
    [
        "EDA.csv", "HR.csv", "IBI.csv", "TEMP.csv", "BVP.csv", "ACC.csv",
    ]
    .iter()
    .any(|f| dir.join(f).is_file())
}

/// Positive-class index and class names of the estimator's output.
fn classes(contract: Option<&ModelContract>) -> (Vec<String>, usize) {
    match contract {
        Some(c) => (c.classes.clone(), c.aroused_class()),
        None => (vec!["calm".into(), "aroused".into()], 1),
    }
}

fn class_of(label: &str, names: &[String]) -> Option<usize> {
    names
        .iter()
        .position(|n| n == label)
        .or_else(|| label.parse::<usize>().ok().filter(|k| *k < names.len()))
}

fn score(
    est: &mut dyn ArousalEstimator,
    w: &FeatureWindow,
    label: &str,
    names: &[String],
    positive: usize,
    subject: &str,
) -> Result<Option<Scored>, Failure> {
    let class = class_of(label, names).ok_or_else(|| {
        Failure::input(format!(
            "label `{label}` is neither a class of the model ({}) nor a class number",
            names.join(", ")
        ))
    })?;
    let e = est.estimate(w);
    if matches!(
        e.abstain,
        Some(Abstain::MissingFeatures(_)) | Some(Abstain::Failed(_))
    ) {
        return Ok(None);
    }
    let p = e.probabilities.get(positive).map_or(e.arousal, |x| x.1);
    Ok(Some(Scored {
        subject: subject.to_string(),
        aroused: class == positive,
        p,
        usable: e.abstain.is_none(),
    }))
}

fn table_window(cols: &[String], cells: &[&str]) -> (FeatureWindow, Option<String>, f64, String) {
    let get = |name: &str| {
        cols.iter()
            .position(|c| c == name)
            .and_then(|i| cells.get(i))
            .and_then(|c| c.trim().parse::<f64>().ok())
    };
    let text = |name: &str| {
        cols.iter()
            .position(|c| c == name)
            .and_then(|i| cells.get(i))
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
    };
    let mut features = FeatureVector::default();
    let mut relative = FeatureVector::default();
    let mut any_rel = false;
    for f in Feature::ALL {
        features.set(f, get(f.name()));
        if let Some(v) = get(&format!("rel_{}", f.name())) {
            relative.set(f, Some(v));
            any_rel = true;
        }
    }
    let w = FeatureWindow {
        start: get("start_s").unwrap_or(0.0),
        end: get("end_s").unwrap_or(0.0),
        features,
        relative: any_rel.then_some(relative),
        quality: get("quality").unwrap_or(1.0),
        cardiac_quality: None,
        eda_quality: None,
        beats: get("beats").unwrap_or(0.0) as usize,
        rejected_beats: get("rejected_beats").unwrap_or(0.0) as usize,
        rejected_samples: get("rejected_samples").unwrap_or(0.0) as u64,
        contact_lost_s: 0.0,
        rr_source: None,
        resp_source: None,
    };
    let subject = text("subject").unwrap_or_else(|| "all".into());
    (
        w,
        text("label"),
        get("label_purity").unwrap_or(1.0),
        subject,
    )
}

/// Labels for an E4 folder: `--labels` matched by subject, or the folder's labels.csv.
fn folder_labels(dir: &Path, labels: Option<&Path>) -> Result<Labels, Failure> {
    let Some(file) = labels else {
        let own = dir.join("labels.csv");
        if !own.is_file() {
            return Err(Failure::input(format!(
                "{}: no labels.csv (a `time,label` CSV) here, and no --labels given",
                dir.display()
            )));
        }
        return Labels::load(&own, None);
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
    let number = digits.trim_start_matches('0').to_string();
    let first = Labels::load(file, Some(&name));
    if first.is_ok() || number.is_empty() {
        return first;
    }
    Labels::load(file, Some(&number))
}

fn eval(args: EvalArgs) -> Result<ExitCode, Failure> {
    if !(0.0..=1.0).contains(&args.min_purity) {
        return Err(Failure::input("--min-purity must lie in 0..1"));
    }
    let model = if args.rules {
        None
    } else {
        Some(load(args.model.as_deref())?)
    };
    let (names, positive) = classes(model.as_ref().map(|m| m.contract()));
    let mut est: Box<dyn ArousalEstimator> = match model.clone() {
        Some(m) => Box::new(m),
        None => Box::new(RuleEstimator::default()),
    };
    let mut scored: Vec<Scored> = Vec::new();
    let mut skipped = 0usize;
    let data = &args.data;
    if data.is_file() {
        let text = std::fs::read_to_string(data)
            .map_err(|e| Failure::input(format!("{}: {e}", data.display())))?;
        let mut lines = text.lines();
        let cols: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(|c| c.trim().to_string())
            .collect();
        if !cols.iter().any(|c| c == "label") {
            return Err(Failure::input(format!(
                "{}: a feature table needs a `label` column (write one with `isochord features --labels`)",
                data.display()
            )));
        }
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let cells: Vec<&str> = line.split(',').collect();
            let (w, label, purity, subject) = table_window(&cols, &cells);
            match label {
                Some(l) if purity >= args.min_purity => {
                    match score(est.as_mut(), &w, &l, &names, positive, &subject)? {
                        Some(s) => scored.push(s),
                        None => skipped += 1,
                    }
                }
                _ => {}
            }
        }
    } else if data.is_dir() {
        let folders: Vec<PathBuf> = if is_e4(data) {
            vec![data.clone()]
        } else {
            let mut v: Vec<PathBuf> = std::fs::read_dir(data)
                .map_err(|e| Failure::input(format!("{}: {e}", data.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_dir() && is_e4(p))
                .collect();
            v.sort();
            v
        };
        if folders.is_empty() {
            return Err(Failure::input(format!(
                "{}: neither an E4 folder nor a folder of E4 folders",
                data.display()
            )));
        }
        for dir in &folders {
            let subject = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut labels = match folder_labels(dir, args.labels.as_deref()) {
                Ok(l) => l,
                Err(e) if folders.len() > 1 => {
                    eprintln!("warning: {}; {subject} skipped", e.message);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let x = Extraction {
                input: dir,
                format: Format::E4,
                rate: None,
                window: args.window,
                hop: args.hop,
                baseline: args.baseline,
                warn: false,
            };
            let mut windows = Vec::new();
            let (start, _) = extract(&x, |w| {
                windows.push(w);
                Ok(())
            })?;
            align_labels(&mut labels, start, dir)?;
            for w in &windows {
                if let Some((l, purity)) = labels.window(w.start, w.end) {
                    if purity >= args.min_purity {
                        match score(est.as_mut(), w, l, &names, positive, &subject)? {
                            Some(s) => scored.push(s),
                            None => skipped += 1,
                        }
                    }
                }
            }
        }
    } else {
        return Err(Failure::input(format!(
            "{}: no such file or folder",
            data.display()
        )));
    }
    if scored.is_empty() {
        return Err(Failure::input(format!(
            "{}: no labelled window the estimator could score ({skipped} lacked its inputs)",
            data.display()
        )));
    }
    report(&args, est.name(), &names[positive], &scored, skipped);
    Ok(ExitCode::SUCCESS)
}

fn report(args: &EvalArgs, name: String, positive: &str, scored: &[Scored], skipped: usize) {
    let mut subjects: Vec<&str> = scored.iter().map(|s| s.subject.as_str()).collect();
    subjects.sort();
    subjects.dedup();
    println!(
        "{name} on {} ({} windows, {} subjects; label purity ≥ {}; {skipped} windows without the model's inputs left out)",
        args.data.display(),
        scored.len(),
        subjects.len(),
        args.min_purity
    );
    println!(
        "positive class `{positive}`; threshold 0.5; ECE over {ECE_BINS} equal-width bins. \
         These are in-sample numbers unless the data are people the model was not trained on."
    );
    println!(
        "{:<12} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>8}",
        "subject", "windows", "aroused", "AUC", "bal.acc.", "F1", "ECE", "usable"
    );
    let line = |label: &str, s: &[&Scored]| {
        let m = Metrics::of(s);
        let f = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
        println!(
            "{:<12} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>7.1}%",
            label,
            s.len(),
            s.iter().filter(|x| x.aroused).count(),
            f(m.auc),
            f(m.balanced_accuracy),
            format!("{:.3}", m.f1),
            format!("{:.3}", m.ece),
            100.0 * s.iter().filter(|x| x.usable).count() as f64 / s.len() as f64
        );
    };
    if subjects.len() > 1 {
        for sub in &subjects {
            let s: Vec<&Scored> = scored.iter().filter(|x| x.subject == *sub).collect();
            line(sub, &s);
        }
    }
    let all: Vec<&Scored> = scored.iter().collect();
    line("pooled", &all);
    let usable: Vec<&Scored> = scored.iter().filter(|s| s.usable).collect();
    if !usable.is_empty() && usable.len() < scored.len() {
        line("usable only", &usable);
    }
}

const ECE_BINS: usize = 10;

/// Binary scores of P(positive).
#[derive(Debug, PartialEq)]
struct Metrics {
    auc: Option<f64>,
    balanced_accuracy: Option<f64>,
    f1: f64,
    ece: f64,
}

impl Metrics {
    fn of(s: &[&Scored]) -> Metrics {
        let pos = s.iter().filter(|x| x.aroused).count();
        let neg = s.len() - pos;
        // AUC: Mann-Whitney U with mid-ranks for ties
        let auc = (pos > 0 && neg > 0).then(|| {
            let mut v: Vec<(f64, bool)> = s.iter().map(|x| (x.p, x.aroused)).collect();
            v.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut rank_sum = 0.0;
            let mut i = 0;
            while i < v.len() {
                let mut j = i;
                while j + 1 < v.len() && v[j + 1].0 == v[i].0 {
                    j += 1;
                }
                let mid = (i + j) as f64 / 2.0 + 1.0;
                rank_sum += mid * v[i..=j].iter().filter(|x| x.1).count() as f64;
                i = j + 1;
            }
            let (p, n) = (pos as f64, neg as f64);
            (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
        });
        let tp = s.iter().filter(|x| x.aroused && x.p >= 0.5).count() as f64;
        let tn = s.iter().filter(|x| !x.aroused && x.p < 0.5).count() as f64;
        let fp = neg as f64 - tn;
        let fnn = pos as f64 - tp;
        let balanced_accuracy =
            (pos > 0 && neg > 0).then(|| (tp / pos as f64 + tn / neg as f64) / 2.0);
        let f1 = if tp > 0.0 {
            2.0 * tp / (2.0 * tp + fp + fnn)
        } else {
            0.0
        };
        let mut bins = [(0usize, 0.0f64, 0.0f64); ECE_BINS];
        for x in s {
            let b = ((x.p * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
            bins[b].0 += 1;
            bins[b].1 += x.p;
            bins[b].2 += if x.aroused { 1.0 } else { 0.0 };
        }
        let ece = bins
            .iter()
            .filter(|b| b.0 > 0)
            .map(|b| b.0 as f64 / s.len() as f64 * ((b.1 - b.2) / b.0 as f64).abs())
            .sum();
        Metrics {
            auc,
            balanced_accuracy,
            f1,
            ece,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: f64, aroused: bool) -> Scored {
        Scored {
            subject: "a".into(),
            aroused,
            p,
            usable: true,
        }
    }

    #[test]
    fn metrics_on_known_cases() {
        let v = [s(0.1, false), s(0.38, false), s(0.35, true), s(0.8, true)];
        let r: Vec<&Scored> = v.iter().collect();
        let m = Metrics::of(&r);
        assert!((m.auc.unwrap() - 0.75).abs() < 1e-12);
        assert!((m.balanced_accuracy.unwrap() - 0.75).abs() < 1e-12);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-12);
        // bins [0.1, 0.2): 0.1 (y 0); [0.3, 0.4): 0.35 and 0.38 (y 1, 0); [0.8, 0.9): 0.8 (y 1)
        let ece = 0.25 * 0.1 + 0.5 * (0.365f64 - 0.5).abs() + 0.25 * 0.2;
        assert!((m.ece - ece).abs() < 1e-12, "{}", m.ece);
        let ties = [s(0.5, false), s(0.5, true)];
        let r: Vec<&Scored> = ties.iter().collect();
        assert_eq!(Metrics::of(&r).auc, Some(0.5));
    }
}
